import { Component, type ReactNode } from "react";

interface State {
  failed: boolean;
}

/** A lazily loaded page that fails to load (a new build was deployed, the network dropped)
 * or throws while rendering shows a way out instead of a blank page. */
export class ChunkErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { failed: false };

  static getDerivedStateFromError(): State {
    return { failed: true };
  }

  render() {
    if (!this.state.failed) return this.props.children;
    return (
      <main id="main" className="page-message">
        <h1>This page could not be shown</h1>
        <p role="alert">
          Part of the app failed to load or crashed. Reload the page; if it keeps happening, the server may have
          been updated meanwhile or be unreachable.
        </p>
        <button type="button" className="button primary" onClick={() => window.location.reload()}>
          Reload
        </button>
      </main>
    );
  }
}
