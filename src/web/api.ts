// The app's only way to the server: JSON over the REST API, with the session's CSRF token on every write. The
// session cookie itself is HttpOnly: the page never sees the token it was made from.

export interface Principal {
  name: string;
  kind: "human" | "agent" | "system";
  role: string | null;
}

export interface Session {
  /** "single-user": loopback without --auth, no sign-in. "signed-in" / "signed-out": tokens are required. */
  mode: "single-user" | "signed-in" | "signed-out";
  principal: Principal | null;
  csrf: string | null;
  /** The roles that may approve intent (policy), so the page can leave out controls the API would refuse. */
  canApprove: boolean;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
    // biome-ignore lint/suspicious/noExplicitAny: the refusal's body, read by the caller that knows its shape
    readonly body: any,
  ) {
    super(message);
  }
}

let session: Session = { mode: "signed-out", principal: null, csrf: null, canApprove: false };

export function currentSession(): Session {
  return session;
}

export async function loadSession(): Promise<Session> {
  session = await request<Session>("GET", "/api/session");
  return session;
}

export async function signIn(token: string): Promise<Session> {
  session = await request<Session>("POST", "/api/session", { token });
  return session;
}

export async function signOut(): Promise<void> {
  await request("DELETE", "/api/session");
  session = { mode: "signed-out", principal: null, csrf: null, canApprove: false };
}

export function get<T>(path: string): Promise<T> {
  return request<T>("GET", path);
}

export function post<T>(path: string, body: unknown = {}): Promise<T> {
  return request<T>("POST", path, body);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  // Sent on reads too: a single-user server then knows the request is its own page's (see src/server/http.ts).
  if (session.csrf) headers["x-keel-csrf"] = session.csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  // biome-ignore lint/suspicious/noExplicitAny: parsed JSON, shaped by the route
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!res.ok) {
    const e = json?.error ?? {};
    throw new ApiError(
      res.status,
      e.code ?? "http_error",
      e.message ?? `${res.status} ${res.statusText}`,
      e.hint ?? "",
      json,
    );
  }
  return json as T;
}
