// Who may use `keel serve`, and how often. In single-user mode (loopback, no `--auth`) every request acts as
// the server's actor. Otherwise every request must carry `Authorization: Bearer <token>` (core/auth/tokens.ts);
// a missing, malformed, unknown, revoked or expired token is refused with 401, a token over its rate with 429.
// Refusals are limited per client address before any token is looked up (an address that keeps sending bad
// tokens gets 429 without costing a lookup), and audited in aggregate (refusals.ts), so a flood cannot grow the
// log without bound. In every mode the server holds the store it started with: deleted or replaced, it is
// refused (503) rather than started over. The caller's role is not checked here: the core checks it on every
// operation (policy.ts), whichever surface asked. The webhook routes (/hooks/…) take no token: their signature
// authenticates them (src/run/triggers), and a bad one is counted and throttled here as a bad token is.
// @req SRF-12, SRF-15, TRU-8, TRU-10, RUN-13
import type { IncomingMessage } from "node:http";
import { checkToken, presentedTokenId } from "../core/auth/tokens.js";
import type { CoordinationStore } from "../store/coordination.js";
import { tokenById } from "../store/sqlite/tokens.js";
import { StateDb } from "../store/state-db.js";
import { type Actor, actorLabel } from "../workspace/actor.js";
import { RateBuckets, RefusalLog, type Tally } from "./refusals.js";
import type { TokenMirror } from "./token-mirror.js";

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

/** Refused requests per minute one client address may make before it is answered 429 without a token lookup. */
export const REFUSALS_PER_MINUTE = 30;

export class Gatekeeper {
  private state: StateDb | null;
  /** Requests per token, for good tokens. */
  private readonly tokenRate: RateBuckets;
  /** Refused requests per client address, checked before any token is looked up. */
  private readonly refusalRate = new RateBuckets(REFUSALS_PER_MINUTE);
  /** Refusals by client address and rate-limited tokens, audited in aggregate. */
  private readonly refused: RefusalLog;
  private readonly limited: RefusalLog;
  /** Who each rate-limited token acts as, for its aggregated audit event. */
  private readonly limitedActors = new Map<string, Actor>();
  /** Audit appends not yet written: close waits for them. */
  private readonly writing = new Set<Promise<unknown>>();

  /**
   * `store` keeps the refusals' audit (the team's log, in team mode); `mirror`, in team mode, holds the team's
   * tokens, which the embedded store's are read from its file instead.
   */
  constructor(
    root: string,
    readonly options: AuthOptions,
    private readonly store: CoordinationStore,
    private readonly mirror: TokenMirror | null = null,
  ) {
    // Opened at start, so that the server holds the store that was there when it started: one deleted or
    // replaced later is noticed (assertUnchanged), never silently started over.
    this.state = StateDb.open(root);
    this.tokenRate = new RateBuckets(options.ratePerMinute);
    this.refused = new RefusalLog((remote, tally) =>
      this.auditTally("auth.refused", `client ${remote}`, undefined, { remote }, tally),
    );
    this.limited = new RefusalLog((token, tally) =>
      this.auditTally("auth.rate-limited", `token ${token}`, this.limitedActors.get(token), { token }, tally),
    );
  }

  /**
   * Admits a request (returning who it acts as) or refuses it, counting the refusal for the audit. Throws the
   * store's refusal (answered 503) when the store the server opened was deleted or replaced: no request is
   * served, and no token accepted, from a store that is gone.
   */
  admit(req: IncomingMessage, now = Date.now(), sessionToken: string | null = null): Admission {
    this.db().assertUnchanged();
    if (!this.options.required) return { ok: true, principal: undefined };
    // A browser session (session.ts) stands for the token it was made from; an Authorization header wins.
    const presented = req.headers.authorization === undefined ? sessionToken : Gatekeeper.bearer(req);
    return this.admitToken(req, presented, now);
  }

  /** Admits a request by a token it presents (a header, a session, or a sign-in form); refusals count as in admit. */
  admitToken(req: IncomingMessage, presented: string | null, now = Date.now()): Admission {
    this.db().assertUnchanged();
    const { remote, target } = origin(req);
    const throttled = this.throttled(remote, target, now);
    if (throttled) return throttled;
    const lookup = this.mirror
      ? (id: string) => this.mirror?.lookup(id)
      : (id: string) => tokenById(this.db(), id);
    const check = presented !== null ? checkToken(lookup, presented, new Date(now)) : null;
    if (check === null || !check.ok) {
      const reason = check === null ? "missing" : check.reason;
      this.refusalRate.take(remote, now);
      this.refused.add(remote, { reason, target }, new Date(now));
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
    const wait = this.tokenRate.take(check.token.id, now);
    if (wait > 0) {
      this.limitedActors.set(check.token.id, check.actor);
      this.limited.add(check.token.id, { reason: "rate", target }, new Date(now));
      return tooMany(
        `token ${check.token.id} is over its limit of ${this.options.ratePerMinute} requests per minute`,
        wait,
      );
    }
    return { ok: true, principal: check.actor };
  }

  /**
   * Before a request is admitted in team mode: a token this server has not seen (made a moment ago, from another
   * checkout) is read back from the store, so it works on its first request. Nothing is read for a malformed
   * token, for one already known, or for an address already throttled for refusals.
   */
  async know(req: IncomingMessage, presented: string | null): Promise<void> {
    if (!this.mirror || presented === null) return;
    const id = presentedTokenId(presented);
    if (id === null || this.mirror.lookup(id) !== undefined) return;
    if (this.refusalRate.wait(origin(req).remote, Date.now()) > 0) return;
    await this.mirror.reload().catch(() => {}); // unreachable: judged on what the mirror holds
  }

  /** The bearer token of a request's Authorization header, if it sends one. */
  static bearer(req: IncomingMessage): string | null {
    const header = req.headers.authorization;
    return header === undefined ? null : (/^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? null);
  }

  /**
   * Admits a request that authenticates by its own signature (a webhook, in every mode): no token is asked for,
   * but an address that keeps sending bad signatures is throttled as one that keeps sending bad tokens is.
   */
  admitSigned(req: IncomingMessage, now = Date.now()): Admission {
    this.db().assertUnchanged();
    const { remote, target } = origin(req);
    return this.throttled(remote, target, now) ?? { ok: true, principal: undefined };
  }

  /** Counts a refused signature against the request's address (see admitSigned), audited with the others. */
  refuseSigned(req: IncomingMessage, reason: string, now = Date.now()): void {
    const { remote, target } = origin(req);
    this.refusalRate.take(remote, now);
    this.refused.add(remote, { reason, target }, new Date(now));
  }

  /** The 429 of an address over its refusals, counted as one more; null while it is under. */
  private throttled(remote: string, target: string, now: number): Admission | null {
    const wait = this.refusalRate.wait(remote, now);
    if (wait === 0) return null;
    this.refused.add(remote, { reason: "throttled", target }, new Date(now));
    return tooMany(`${remote} sent too many refused requests (over ${REFUSALS_PER_MINUTE} a minute)`, wait);
  }

  /** Writes the refusals still being counted, and waits for them, then closes the store. */
  async close(): Promise<void> {
    this.refused.close();
    this.limited.close();
    await Promise.all(this.writing);
    this.state?.close();
    this.state = null;
  }

  private db(): StateDb {
    if (this.state === null) throw new Error("the gatekeeper is closed");
    return this.state;
  }

  /** Writes a refusal to the store's audit log: who (anonymous when unknown), what was refused, and why. */
  recordRefusal(r: {
    action: string;
    reason: string;
    target: string;
    actor: Actor | undefined;
    data: Record<string, unknown>;
  }): Promise<void> {
    const written = this.store
      .append(
        [
          {
            actor: r.actor ? actorLabel(r.actor) : "system:anonymous",
            actorKind: r.actor?.kind ?? "system",
            action: r.action,
            target: r.target,
            reason: r.reason,
            data: r.data,
          },
        ],
        new Date(),
      )
      .then(() => {});
    this.writing.add(written);
    return written.finally(() => this.writing.delete(written));
  }

  /** One audit event for a tally of refusals. Called from a timer too, so a failure is reported, not thrown. */
  private auditTally(
    action: string,
    target: string,
    actor: Actor | undefined,
    key: Record<string, string>,
    t: Tally,
  ): void {
    this.recordRefusal({
      action,
      target,
      actor,
      reason: Object.keys(t.reasons).sort().join(", "),
      data: {
        ...key,
        count: t.count,
        reasons: t.reasons,
        targets: t.targets,
        first: t.first.toISOString(),
        last: t.last.toISOString(),
      },
    }).catch((e) => {
      process.stderr.write(
        `keel serve: ${t.count} refused request(s) could not be audited: ${e instanceof Error ? e.message : String(e)}\n`,
      );
    });
  }
}

/** The client address a refusal is counted against, and the `METHOD /path` it asked for. */
function origin(req: IncomingMessage): { remote: string; target: string } {
  return {
    remote: req.socket.remoteAddress ?? "unknown",
    target: `${req.method ?? "?"} ${(req.url ?? "/").split("?")[0]}`,
  };
}

function tooMany(message: string, waitMs: number): Admission {
  const retryAfterS = Math.ceil(waitMs / 1000);
  return {
    ok: false,
    status: 429,
    code: "rate_limited",
    message,
    hint: `retry after ${retryAfterS} s`,
    headers: { "retry-after": String(retryAfterS) },
  };
}
