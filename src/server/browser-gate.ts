// The web app's side of the door (docs/security.md#the-web-app): which writes a browser may make (its session's
// CSRF token, the server's own origin), how a request with a session cookie is admitted, who a single-user
// server's own page acts as, and the /api/session routes that sign in and out. The tokens and their checks are
// the Gatekeeper's (auth.ts); the sessions are session.ts's.
// @req WEB-2, WEB-3
import type { IncomingMessage, ServerResponse } from "node:http";
import { authorize } from "../core/policy.js";
import { type Actor, resolveActor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { memoUntilChange } from "../workspace/freshness.js";
import { findProjectRoot } from "../workspace/root.js";
import type { Admission, AuthOptions, Gatekeeper } from "./auth.js";
import { clearedCookie, csrfRefusal, type SessionAnswer, Sessions, sessionCookie } from "./session.js";
import { HttpError, readJson, sendJson } from "./wire.js";

export const SESSION_PATH = "/api/session";

export interface BrowserGateOptions {
  root: string;
  cwd: string;
  /** The server's actor (`keel serve --as`). */
  actor: string;
  auth: AuthOptions;
  gate: Gatekeeper;
}

export class BrowserGate {
  private readonly sessions = new Sessions();

  constructor(private readonly o: BrowserGateOptions) {}

  /** Why a write must be refused as a possible forgery, or null (session.ts's csrfRefusal). */
  refuseWrite(req: IncomingMessage, host: string, pathname: string): HttpError | null {
    const expected = this.o.auth.required
      ? (this.sessions.find(req)?.csrf ?? null)
      : this.sessions.singleUserCsrf;
    // Signing in has no session yet; MCP clients are not pages (the origin check still holds for both).
    const tokenless = (pathname === SESSION_PATH && req.method === "POST") || pathname === "/mcp";
    return csrfRefusal(req, host, expected, { tokenless });
  }

  /**
   * Admits a request, standing a session cookie in for its token. Signing in and out need no token, and asking
   * whether one is signed in is answered "signed-out" rather than refused when nothing, or a session or token that
   * no longer admits anyone, is presented (a signed-out page asks on every load and must not be throttled for it).
   */
  admit(req: IncomingMessage, pathname: string): Admission {
    const token = this.sessions.find(req)?.token ?? null;
    if (pathname !== SESSION_PATH) return this.o.gate.admit(req, Date.now(), token);
    if (req.method !== "GET" || (token === null && req.headers.authorization === undefined))
      return { ok: true, principal: undefined };
    const a = this.o.gate.admit(req, Date.now(), token);
    return a.ok || a.status !== 401 ? a : { ok: true, principal: undefined };
  }

  /**
   * Who a request acts as: a single-user server's own page (it sent the page's CSRF token) writes as the person
   * here. Reads need no one (they act as nobody in single-user mode), so they never pay for finding the person.
   */
  principalOf(req: IncomingMessage, admitted: Actor | undefined): Actor | undefined {
    const pageWrite = !this.o.auth.required && req.method !== "GET" && this.sessions.fromSingleUserPage(req);
    return pageWrite ? this.pageActor() : admitted;
  }

  async session(req: IncomingMessage, res: ServerResponse, principal: Actor | undefined): Promise<void> {
    req.resume();
    const csrf = this.o.auth.required
      ? (this.sessions.find(req)?.csrf ?? null)
      : this.sessions.singleUserCsrf;
    sendJson(res, 200, this.answer(principal, csrf));
  }

  async signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    const given = body !== null && typeof body === "object" ? (body as { token?: unknown }).token : undefined;
    const token = typeof given === "string" ? given.trim() : "";
    if (!this.o.auth.required) {
      sendJson(res, 200, this.answer(undefined, this.sessions.singleUserCsrf));
      return;
    }
    await this.o.gate.know(req, token === "" ? null : token);
    const admitted = this.o.gate.admitToken(req, token === "" ? null : token);
    if (!admitted.ok)
      throw new HttpError(admitted.status, admitted.code, admitted.message, admitted.hint, admitted.headers);
    const made = this.sessions.create(token);
    sendJson(res, 200, this.answer(admitted.principal, made.csrf), { "set-cookie": sessionCookie(made.id) });
  }

  async signOut(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume();
    this.sessions.drop(req);
    sendJson(res, 200, { version: 1, ok: true }, { "set-cookie": clearedCookie() });
  }

  /** Who the page acts as, and its CSRF token: the single-user server's, or the signed-in session's. */
  private answer(principal: Actor | undefined, csrf: string | null): SessionAnswer {
    const actor = principal ?? this.pageActor();
    const mode = !this.o.auth.required ? "single-user" : principal ? "signed-in" : "signed-out";
    return {
      version: 1,
      mode,
      principal:
        mode === "signed-out" ? null : { name: actor.name, kind: actor.kind, role: actor.role ?? null },
      csrf: mode === "signed-out" ? null : csrf,
      canApprove: mode !== "signed-out" && authorize(actor, "approve").allowed,
    };
  }

  /**
   * Who the app's own page acts as on a single-user server: a person at this machine. That is the server's actor
   * when it is a human (`keel serve --as human:…`), else the local user (actors.default, then git), so that a
   * server run for agents (`agent:mcp` by default) does not make its person an agent in the browser.
   */
  private pageActor(): Actor {
    // Kept while the project is unchanged: finding the local user may ask git (keel.yaml names no default).
    return memoUntilChange(this.o.root, `page-actor:${this.o.actor}`, () => {
      const config = loadConfig(findProjectRoot(this.o.root, true));
      const server = resolveActor(config, { flag: this.o.actor, cwd: this.o.cwd });
      return server.kind === "human" ? server : resolveActor(config, { cwd: this.o.cwd, env: {} });
    });
  }
}
