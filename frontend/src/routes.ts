/** Which pages each role may use; the server enforces the same rules on the API. */

export interface Route {
  path: string;
  title: string;
  roles: readonly string[] | "all";
}

export const ROUTES: Route[] = [
  { path: "/annotate", title: "Annotate", roles: "all" },
  { path: "/console", title: "Console", roles: ["admin"] },
  { path: "/training", title: "Training", roles: ["admin", "ml_engineer"] },
];

export function routesFor(role: string): Route[] {
  return ROUTES.filter((route) => route.roles === "all" || route.roles.includes(role));
}

export const ROLE_NAMES: Record<string, string> = {
  annotator: "Annotator",
  admin: "Admin",
  ml_engineer: "ML engineer",
};

/** Where a role lands after signing in when no page was asked for. */
export function homeFor(role: string): string {
  if (role === "admin") return "/console";
  if (role === "ml_engineer") return "/training";
  return "/annotate";
}

/**
 * The page a sign-in should return to, from `?next=`: only a path on this site (never
 * `//host`, a scheme or a backslash trick, which would make the sign-in page an open redirect),
 * and never the sign-in page itself.
 */
export function safeNext(search: string, origin: string = window.location.origin): string | null {
  const next = new URLSearchParams(search).get("next");
  if (!next || !next.startsWith("/") || next.startsWith("//") || /[\\\s]/.test(next)) return null;
  const url = new URL(next, origin);
  if (url.origin !== origin) return null;
  const path = url.pathname.replace(/\/+$/, "") || "/";
  if (path === "/login" || path === "/") return null;
  return url.pathname + url.search + url.hash;
}

/** True when the browser app itself shows this path (otherwise it is a server page). */
export function isAppPath(next: string, origin: string = window.location.origin): boolean {
  const path = new URL(next, origin).pathname.replace(/\/+$/, "") || "/";
  return ROUTES.some((route) => route.path === path);
}
