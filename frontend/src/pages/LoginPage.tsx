import { useState, type FormEvent } from "react";
import { api, ApiError, NetworkError } from "../api/client";
import type { Me } from "../api/types";

export function LoginPage({ notice, onLogin }: { notice: string | null; onLogin: (me: Me) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await api.login({ username, password }));
    } catch (caught) {
      if (caught instanceof ApiError && caught.code === "throttled") setError("Too many attempts: wait a minute and try again.");
      else if (caught instanceof ApiError) setError(caught.code === "bad_credentials" ? "Wrong username or password." : caught.detail);
      else if (caught instanceof NetworkError) setError("The server could not be reached. Check your connection and try again.");
      else setError("Something went wrong. Try again.");
      setBusy(false);
    }
  }

  return (
    <main id="main" className="login">
      <h1>Sign in to RLHF Studio</h1>
      {notice && (
        <p className="notice info" role="status" data-testid="login-notice">
          {notice}
        </p>
      )}
      <form onSubmit={submit} aria-describedby={error ? "login-error" : undefined}>
        <label htmlFor="username">Username</label>
        <input
          id="username"
          className="input"
          name="username"
          autoComplete="username"
          autoCapitalize="none"
          spellCheck={false}
          required
          autoFocus
          value={username}
          onChange={(event) => setUsername(event.target.value)}
        />
        <label htmlFor="password">Password</label>
        <input
          id="password"
          className="input"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        {error && (
          <p id="login-error" className="notice error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
