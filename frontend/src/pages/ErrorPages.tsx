import type { Me } from "../api/types";
import { ROLE_NAMES, type Route } from "../routes";

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
        <a href="/annotate">Go to your next task</a>
      </p>
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
