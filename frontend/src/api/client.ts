/**
 * The only way the app talks to the server: same-origin JSON under /api/v1/ with the
 * session cookie, and the CSRF token in X-CSRFToken on every write.
 */

import type {
  Assignment,
  LoginBody,
  Me,
  MyStats,
  SkipResult,
  SubmitRequest,
  SubmitResult,
} from "./types";

const BASE = "/api/v1";

/**
 * The server answered with an error: `code` is stable, `detail` is for people, `errors` (when
 * sent) is either field → messages (invalid input) or a list of `{line, reason}` (an import).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly errors: unknown = undefined,
  ) {
    super(detail);
    this.name = "ApiError";
  }

  /** The session is gone (logged out elsewhere, expired): the rater must sign in again. */
  get isSessionEnded(): boolean {
    return this.status === 401 || (this.status === 403 && this.code === "not_authenticated");
  }

  /** Worth sending again unchanged: the server or a proxy had a bad moment. */
  get isTransient(): boolean {
    return this.status === 429 || this.status >= 500;
  }
}

/** No answer at all: the network is down or the server unreachable. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("The server could not be reached.");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

let sessionEndedListener: (() => void) | null = null;

/** Called whenever any request finds the session ended. */
export function onSessionEnded(listener: (() => void) | null): void {
  sessionEndedListener = listener;
}

function cookie(name: string): string {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

async function errorFrom(response: Response): Promise<ApiError> {
  let code = `http_${response.status}`;
  let detail = `The server answered ${response.status} ${response.statusText}.`;
  let errors: unknown;
  try {
    const body = (await response.json()) as { code?: unknown; detail?: unknown; errors?: unknown };
    if (typeof body.code === "string") code = body.code;
    if (typeof body.detail === "string") detail = body.detail;
    errors = body.errors;
  } catch {
    // not JSON (a proxy's error page): keep the generic text
  }
  return new ApiError(response.status, code, detail, errors);
}

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  // A FormData body (a file upload) sets its own multipart Content-Type with the boundary.
  const isForm = body instanceof FormData;
  if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
  if (method !== "GET") headers["X-CSRFToken"] = cookie("csrftoken");
  try {
    return await fetch(`${BASE}${path}`, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
    });
  } catch (error) {
    throw new NetworkError(error);
  }
}

export interface Answer<T> {
  status: number;
  data: T | null;
}

/** Any call under /api/v1/ (the console's endpoints live in its own chunk). */
export async function call<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
  let response = await send(method, path, body);
  if (response.status === 403 && method !== "GET") {
    const error = await errorFrom(response.clone());
    if (error.detail.startsWith("CSRF")) {
      // The token rotated (a login in another tab): fetch a fresh one and try once more.
      await send("GET", "/auth/csrf/");
      response = await send(method, path, body);
    }
  }
  if (!response.ok) {
    const error = await errorFrom(response);
    if (error.isSessionEnded) sessionEndedListener?.();
    throw error;
  }
  if (response.status === 204) return { status: 204, data: null };
  return { status: response.status, data: (await response.json()) as T };
}

/** A call whose answer must have a body. */
export async function data<T>(method: string, path: string, body?: unknown): Promise<T> {
  const answer = await call<T>(method, path, body);
  if (answer.data === null) throw new ApiError(answer.status, "empty_answer", "The server sent nothing.");
  return answer.data;
}

export const api = {
  csrf: () => call<unknown>("GET", "/auth/csrf/"),
  async login(body: LoginBody): Promise<Me> {
    await call("GET", "/auth/csrf/");
    return data<Me>("POST", "/auth/login/", body);
  },
  logout: () => call<null>("POST", "/auth/logout/"),
  me: () => data<Me>("GET", "/me/"),
  stats: () => data<MyStats>("GET", "/me/stats/"),
  /** The next task (or the live one); null when no work is left (204). */
  async next(): Promise<Assignment | null> {
    return (await call<Assignment>("POST", "/assignments/next/")).data;
  },
  assignment: (id: number) => data<Assignment>("GET", `/assignments/${id}/`),
  async submit(id: number, body: SubmitRequest): Promise<Answer<SubmitResult>> {
    return call<SubmitResult>("POST", `/assignments/${id}/submit/`, body);
  },
  skip: (id: number, reason: string) =>
    data<SkipResult>("POST", `/assignments/${id}/skip/`, { reason }),
};
