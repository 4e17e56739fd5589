import { lazy, Suspense, useCallback, useEffect, useState, type MouseEvent } from "react";
import { api, ApiError, onSessionEnded } from "./api/client";
import type { Me } from "./api/types";
import { AnnotatePage } from "./annotate/AnnotatePage";
import { LoginPage } from "./pages/LoginPage";
import { ChunkErrorBoundary } from "./pages/ChunkErrorBoundary";
import { NotAllowedPage, NotFoundPage } from "./pages/ErrorPages";
import { homeFor, isAppPath, ROLE_NAMES, ROUTES, routesFor, safeNext } from "./routes";

// Their own chunks: raters never download the console or the training dashboard.
const ConsolePage = lazy(() => import("./console/ConsolePage"));
const TrainingPage = lazy(() => import("./training/TrainingPage"));

type Auth =
  | { state: "checking" }
  | { state: "unreachable" }
  | { state: "anonymous"; notice: string | null }
  | { state: "signed-in"; me: Me };

/** The app's pages, the sign-in page and the root; anything else is "Page not found". */
function isKnownPath(path: string): boolean {
  return path === "/" || path === "/login" || ROUTES.some((route) => route.path === path);
}

function usePath(): [string, (to: string, replace?: boolean) => void] {
  const [path, setPath] = useState(window.location.pathname);
  useEffect(() => {
    const pop = () => setPath(window.location.pathname);
    window.addEventListener("popstate", pop);
    return () => window.removeEventListener("popstate", pop);
  }, []);
  const navigate = useCallback((to: string, replace = false) => {
    const current = window.location.pathname + window.location.search;
    if (to !== current) {
      if (replace) window.history.replaceState(null, "", to);
      else window.history.pushState(null, "", to);
    }
    setPath(new URL(to, window.location.origin).pathname);
  }, []);
  return [path.replace(/\/+$/, "") || "/", navigate];
}

export function App() {
  const [auth, setAuth] = useState<Auth>({ state: "checking" });
  const [path, navigate] = usePath();

  const checkSession = useCallback(() => {
    api.me().then(
      (me) => setAuth({ state: "signed-in", me }),
      (error) =>
        setAuth(error instanceof ApiError ? { state: "anonymous", notice: null } : { state: "unreachable" }),
    );
  }, []);

  useEffect(() => {
    onSessionEnded(() =>
      setAuth({ state: "anonymous", notice: "Your session ended. Sign in again: your work in progress is kept." }),
    );
    checkSession();
    return () => onSessionEnded(null);
  }, [checkSession]);

  useEffect(() => {
    if (auth.state === "anonymous" && path !== "/login" && isKnownPath(path)) {
      // The page asked for survives the sign-in (a deep link, or a session that ended).
      const asked = window.location.pathname + window.location.search;
      navigate(path === "/" ? "/login" : `/login?${new URLSearchParams({ next: asked })}`, true);
    }
    if (auth.state === "signed-in" && (path === "/" || path === "/login")) {
      const next = safeNext(window.location.search);
      if (next && !isAppPath(next)) window.location.assign(next); // a server page: /admin/, API docs
      else navigate(next ?? homeFor(auth.me.role), true);
    }
  }, [auth, path, navigate]);

  useEffect(() => {
    const route = ROUTES.find((r) => r.path === path);
    document.title = `${auth.state === "anonymous" ? "Sign in" : (route?.title ?? "RLHF Studio")} · RLHF Studio`;
  }, [auth.state, path]);

  async function signOut() {
    try {
      await api.logout();
    } finally {
      setAuth({ state: "anonymous", notice: "You are signed out." });
    }
  }

  if (auth.state === "checking") return <p className="page-message" role="status">Loading…</p>;
  if (auth.state === "unreachable") {
    return (
      <main id="main" className="page-message">
        <h1>The server cannot be reached</h1>
        <p role="alert">Check your connection. Your work in progress is kept on this device.</p>
        <button
          type="button"
          className="button primary"
          onClick={() => {
            setAuth({ state: "checking" });
            checkSession();
          }}
        >
          Try again
        </button>
      </main>
    );
  }
  if (auth.state === "anonymous" && !isKnownPath(path)) {
    return (
      <>
        <Header me={null} path={path} navigate={navigate} onSignOut={signOut} />
        <NotFoundPage me={null} />
      </>
    );
  }
  if (auth.state === "anonymous") {
    return (
      <>
        <Header me={null} path={path} navigate={navigate} onSignOut={signOut} />
        <LoginPage notice={auth.notice} onLogin={(me) => setAuth({ state: "signed-in", me })} />
      </>
    );
  }
  const { me } = auth;
  const route = ROUTES.find((r) => r.path === path);
  const allowed = route ? routesFor(me.role).includes(route) : false;
  let page;
  if (!route) page = isKnownPath(path) ? null : <NotFoundPage me={me} />;
  else if (!allowed) page = <NotAllowedPage route={route} me={me} />;
  else if (route.path === "/annotate") page = <AnnotatePage key={me.username} me={me} />;
  else if (route.path === "/console")
    page = (
      <ChunkErrorBoundary>
        <Suspense fallback={<p className="page-message" role="status">Loading the console…</p>}>
          <ConsolePage />
        </Suspense>
      </ChunkErrorBoundary>
    );
  else if (route.path === "/training")
    page = (
      <ChunkErrorBoundary>
        <Suspense fallback={<p className="page-message" role="status">Loading the training dashboard…</p>}>
          <TrainingPage />
        </Suspense>
      </ChunkErrorBoundary>
    );
  else page = null;
  return (
    <>
      <Header me={me} path={path} navigate={navigate} onSignOut={signOut} />
      {page}
    </>
  );
}

interface HeaderProps {
  me: Me | null;
  path: string;
  navigate: (to: string) => void;
  onSignOut: () => void;
}

function Header({ me, path, navigate, onSignOut }: HeaderProps) {
  const follow = (event: MouseEvent<HTMLAnchorElement>, to: string) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    navigate(to);
  };
  return (
    <header className="topbar">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <span className="brand">RLHF Studio</span>
      {me && (
        <nav aria-label="Main">
          <ul>
            {routesFor(me.role).map((route) => (
              <li key={route.path}>
                <a
                  href={route.path}
                  aria-current={route.path === path ? "page" : undefined}
                  onClick={(event) => follow(event, route.path)}
                >
                  {route.title}
                </a>
              </li>
            ))}
          </ul>
        </nav>
      )}
      {me && (
        <div className="who">
          <span className="who-name">
            {me.username}
            <span className="muted"> · {ROLE_NAMES[me.role] ?? me.role}</span>
          </span>
          <button type="button" className="button small" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      )}
    </header>
  );
}
