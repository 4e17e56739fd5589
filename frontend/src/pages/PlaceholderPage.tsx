interface Props {
  title: string;
  what: string;
}

/** Pages whose own issues are still open: say so, and point at what works today. */
export function PlaceholderPage({ title, what }: Props) {
  return (
    <main id="main" className="page-message">
      <h1>{title}</h1>
      <p>{what}</p>
      <p>Until then:</p>
      <ul>
        <li>
          <a href="/api/v1/docs/">API documentation</a> (the whole REST API, live)
        </li>
        <li>
          <a href="/admin/">Django admin</a>
        </li>
      </ul>
    </main>
  );
}

export function NotAllowedPage() {
  return (
    <main id="main" className="page-message">
      <h1>Not available to your role</h1>
      <p>Ask an admin if you need it.</p>
    </main>
  );
}

export function NotFoundPage() {
  return (
    <main id="main" className="page-message">
      <h1>Page not found</h1>
      <p>
        <a href="/annotate">Go to your next task</a>
      </p>
    </main>
  );
}
