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
