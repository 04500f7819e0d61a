// Browser sessions for the web app. A token (from `keel token create`) is exchanged once for a random session ID
// in an HttpOnly, SameSite=Strict cookie: page scripts never hold the token, and other sites' pages never send
// the cookie. The token stays behind the session and is checked again on every request (auth.ts), so revoking
// or expiring it ends the session too. Every write a browser makes must carry the session's CSRF token in a
// header and come from this server's own origin (csrfRefusal); a loopback single-user server, which asks for no
// token, hands its one CSRF token to its own pages, which other origins cannot read (no CORS headers).
// @req WEB-2, WEB-3
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { HttpError } from "./wire.js";

export const SESSION_COOKIE = "keel_session";
export const CSRF_HEADER = "x-keel-csrf";
/** A session unused this long is forgotten; the page then asks to sign in again. */
const IDLE_MS = 12 * 60 * 60 * 1000;
/** Sessions kept at most; the least recently used goes first. Bounds the memory a flood of sign-ins takes. */
const MAX_SESSIONS = 10_000;

interface BrowserSession {
  token: string;
  csrf: string;
  lastSeen: number;
}

function secret(): string {
  return randomBytes(32).toString("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export class Sessions {
  /** Insertion order is use order (see find), so the first entry is the least recently used. */
  readonly #byId = new Map<string, BrowserSession>();
  /** The CSRF token of a single-user server's pages. */
  readonly singleUserCsrf = secret();

  create(token: string, now = Date.now()): { id: string; csrf: string } {
    const id = secret();
    const csrf = secret();
    this.#byId.set(id, { token, csrf, lastSeen: now });
    while (this.#byId.size > MAX_SESSIONS) this.#byId.delete(this.#byId.keys().next().value as string);
    return { id, csrf };
  }

  /** The live session named by the request's cookie, or null. */
  find(req: IncomingMessage, now = Date.now()): BrowserSession | null {
    const id = cookieOf(req, SESSION_COOKIE);
    if (!id) return null;
    const s = this.#byId.get(id);
    if (!s) return null;
    this.#byId.delete(id);
    if (now - s.lastSeen > IDLE_MS) return null;
    s.lastSeen = now;
    this.#byId.set(id, s);
    return s;
  }

  /** The request carries the single-user server's CSRF token: it comes from one of that server's own pages. */
  fromSingleUserPage(req: IncomingMessage): boolean {
    const sent = req.headers[CSRF_HEADER];
    return typeof sent === "string" && same(sent, this.singleUserCsrf);
  }

  drop(req: IncomingMessage): void {
    const id = cookieOf(req, SESSION_COOKIE);
    if (id) this.#byId.delete(id);
  }
}

export function sessionCookie(id: string): string {
  return `${SESSION_COOKIE}=${id}; HttpOnly; SameSite=Strict; Path=/`;
}

export function clearedCookie(): string {
  return `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`;
}

function cookieOf(req: IncomingMessage, name: string): string | null {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || null;
  }
  return null;
}

/**
 * Why a write must be refused as a possible cross-site request forgery, or null. A request from another origin
 * is refused outright. A browser's request (it sends Origin or Sec-Fetch-Site, or the session cookie) that is
 * not authenticated by its own Authorization header must carry the CSRF token of its session, or of the
 * single-user server. Tools that are not browsers (curl, the CLI) send neither header nor cookie; MCP clients may
 * send Origin, and `/mcp` asks them for no CSRF token (the origin check still holds there).
 */
export function csrfRefusal(
  req: IncomingMessage,
  host: string,
  expected: string | null,
  /** No CSRF token is asked for: signing in (there is no session yet) and MCP (its clients are not pages). */
  opts: { tokenless: boolean },
): HttpError | null {
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${host}` && origin !== `https://${host}`)
    return new HttpError(
      403,
      "cross_origin",
      `a write from origin ${origin} is refused`,
      "use the web app served by this server, or a client that is not a browser",
    );
  if (req.headers.authorization !== undefined || opts.tokenless) return null;
  const fromBrowser =
    origin !== undefined ||
    req.headers["sec-fetch-site"] !== undefined ||
    cookieOf(req, SESSION_COOKIE) !== null;
  if (!fromBrowser) return null;
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent === "string" && expected !== null && same(sent, expected)) return null;
  return new HttpError(
    403,
    "csrf_token",
    `a write from a browser without its session's CSRF token (${CSRF_HEADER}) is refused`,
    "reload the page (GET /api/session hands the page its token), or sign in again",
  );
}

export interface SessionAnswer {
  version: 1;
  mode: "single-user" | "signed-in" | "signed-out";
  principal: { name: string; kind: string; role: string | null } | null;
  /** The token every write must send in the x-keel-csrf header; null while signed out. */
  csrf: string | null;
  /** Whether the principal's role may approve intent at all (policy may still refuse a given change). */
  canApprove: boolean;
}
