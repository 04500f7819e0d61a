// Who may use `keel serve`, and how often. In single-user mode (loopback, no `--auth`) every request acts as
// the server's actor and nothing here runs. Otherwise every request must carry `Authorization: Bearer <token>`
// (core/auth/tokens.ts); a missing, malformed, unknown, revoked or expired token is refused with 401, a token
// over its rate with 429, and every refusal is written to the audit log. The caller's role is not checked
// here: the core checks it on every operation (policy.ts), whichever surface asked.
// @req SRF-12, SRF-15
import type { IncomingMessage } from "node:http";
import { appendEvent } from "../core/audit.js";
import { checkToken } from "../core/auth/tokens.js";
import { StateDb } from "../store/state-db.js";
import { type Actor, actorLabel } from "../workspace/actor.js";

export const DEFAULT_RATE_PER_MINUTE = 600;

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"]);
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host.toLowerCase());
}

export interface AuthOptions {
  /** False in single-user loopback mode: no token is asked for. */
  required: boolean;
  /** Requests per minute per token (a token bucket of that size, refilled continuously). */
  ratePerMinute: number;
}

export type Admission =
  | { ok: true; principal: Actor | undefined }
  | {
      ok: false;
      status: 401 | 429;
      code: string;
      message: string;
      hint: string;
      /** `WWW-Authenticate` for 401, `Retry-After` for 429. */
      headers: Record<string, string>;
    };

const REASONS = {
  missing: "no bearer token",
  malformed: "the bearer token is malformed",
  unknown: "the bearer token is not known",
  revoked: "the bearer token was revoked",
  expired: "the bearer token has expired",
} as const;

interface Bucket {
  tokens: number;
  at: number;
}

export class Gatekeeper {
  private state: StateDb | null = null;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly root: string,
    readonly options: AuthOptions,
  ) {}

  /** Admits a request (returning who it acts as) or refuses it, auditing the refusal. */
  admit(req: IncomingMessage, now = Date.now()): Admission {
    if (!this.options.required) return { ok: true, principal: undefined };
    const header = req.headers.authorization ?? "";
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const check = m ? checkToken(this.db(), m[1] as string, new Date(now)) : null;
    if (check === null || !check.ok) {
      const reason = check === null ? "missing" : check.reason;
      this.refusal(req, undefined, "auth.refused", reason, check?.tokenId ?? null);
      return {
        ok: false,
        status: 401,
        code: `token_${reason}`,
        message: REASONS[reason],
        hint:
          reason === "expired" || reason === "revoked"
            ? "ask an owner for a new token (keel token create)"
            : "send `Authorization: Bearer <token>` with a token from `keel token create`",
        headers: { "www-authenticate": 'Bearer realm="keel"' },
      };
    }
    const wait = this.take(check.token.id, now);
    if (wait > 0) {
      this.refusal(req, check.actor, "auth.rate-limited", "rate", check.token.id);
      const retryAfterS = Math.ceil(wait / 1000);
      return {
        ok: false,
        status: 429,
        code: "rate_limited",
        message: `token ${check.token.id} is over its limit of ${this.options.ratePerMinute} requests per minute`,
        hint: `retry after ${retryAfterS} s`,
        headers: { "retry-after": String(retryAfterS) },
      };
    }
    return { ok: true, principal: check.actor };
  }

  close(): void {
    this.state?.close();
    this.state = null;
  }

  private db(): StateDb {
    this.state ??= StateDb.open(this.root);
    return this.state;
  }

  /** Takes one request from the token's bucket; returns 0, or the ms until one is available. */
  private take(id: string, now: number): number {
    const size = this.options.ratePerMinute;
    const perMs = size / 60_000;
    const b = this.buckets.get(id) ?? { tokens: size, at: now };
    b.tokens = Math.min(size, b.tokens + (now - b.at) * perMs);
    b.at = now;
    this.buckets.set(id, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (1 - b.tokens) / perMs;
  }

  /** Writes a refusal to the audit log: who (anonymous when unknown), what was refused, and why. */
  recordRefusal(r: {
    action: string;
    reason: string;
    target: string;
    actor: Actor | undefined;
    data: Record<string, unknown>;
  }): void {
    const db = this.db();
    db.exclusive(() =>
      appendEvent(db, this.root, {
        actor: r.actor ? actorLabel(r.actor) : "system:anonymous",
        actorKind: r.actor?.kind ?? "system",
        action: r.action,
        target: r.target,
        reason: r.reason,
        data: r.data,
      }),
    );
  }

  private refusal(
    req: IncomingMessage,
    actor: Actor | undefined,
    action: string,
    reason: string,
    token: string | null,
  ) {
    this.recordRefusal({
      action,
      reason,
      actor,
      target: `${req.method ?? "?"} ${(req.url ?? "/").split("?")[0]}`,
      data: { token, remote: req.socket.remoteAddress ?? null },
    });
  }
}
