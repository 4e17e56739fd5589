import type { Me } from "../api/types";
import { homeFor, ROLE_NAMES, ROUTES, type Route } from "../routes";

/** "Admin" → "admins", "ML engineer" → "ML engineers". */
function pluralRole(role: string): string {
  const name = `${ROLE_NAMES[role] ?? role}s`;
  return /^[A-Z]{2}/.test(name) ? name : name.toLowerCase();
}

/** A page the signed-in role may not use: say who may, and where this user can go instead. */
export function NotAllowedPage({ route, me }: { route: Route; me: Me }) {
  const who =
    route.roles === "all" ? "everyone" : route.roles.map(pluralRole).join(" and ");
  return (
    <main id="main" className="page-message" data-testid="not-allowed">
      <h1>Not available to your role</h1>
      <p className="notice info">
        <b>
          {route.title} is for {who} only.
        </b>{" "}
        You are signed in as <b>{me.username}</b> ({ROLE_NAMES[me.role] ?? me.role}). Ask an admin if you need it.
      </p>
      <p>
        <HomeLink me={me} />
      </p>
    </main>
  );
}

/** Back to where this user works (never straight into a task they did not ask for). */
function HomeLink({ me }: { me: Me | null }) {
  if (!me) return <a href="/login">Sign in to RLHF Studio</a>;
  const home = homeFor(me.role);
  const title = ROUTES.find((route) => route.path === home)?.title ?? "RLHF Studio";
  return <a href={home}>Go to {title}</a>;
}

/** An address the app does not have (the server answers it with this page and a 404). */
export function NotFoundPage({ me }: { me: Me | null }) {
  return (
    <main id="main" className="page-message" data-testid="not-found">
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{window.location.pathname}</code>.
      </p>
      <p>
        <HomeLink me={me} />
      </p>
    </main>
  );
}
