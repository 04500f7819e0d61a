// Bearer tokens for `keel serve`: who a request acts as, and with which role. A token is printed once, when it
// is created, and only the SHA-256 of its secret is stored — the secret is 256 random bits, so a plain hash
// is enough (no password stretching needed) and a copy of `.keel/` reveals no usable token. The token's
// public ID is part of the token, so a lookup is by ID and the hash is compared in constant time.
// @req SRF-11
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import type { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel, parseActor } from "../../workspace/actor.js";
import { ROLES, type Role } from "../../workspace/config.js";
import { usageError } from "../../workspace/errors.js";
import { authorizeGrant, enforceDecision } from "../policy.js";

const TOKEN_PREFIX = "keel_";
/** `keel_<12 hex id>_<43 base64url secret>` */
const TOKEN_SHAPE = /^keel_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

export interface TokenInfo {
  id: string;
  name: string;
  /** `kind:name`: who requests with this token act as. */
  actor: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  actor: string;
  role: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}

function info(r: Row): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    actor: r.actor,
    role: r.role as Role,
    createdAt: r.created_at,
    createdBy: r.created_by,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
  };
}

/** Whether a token authenticates at `now`: a revoked token is revoked even once it has also expired. */
export function tokenState(
  t: Pick<TokenInfo, "revokedAt" | "expiresAt">,
  now: Date,
): "live" | "revoked" | "expired" {
  if (t.revokedAt !== null) return "revoked";
  if (t.expiresAt !== null && Date.parse(t.expiresAt) <= now.getTime()) return "expired";
  return "live";
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

/** `read` is the role's short name on the command line; the stored role is `read-only`. */
export function parseRole(text: string): Role {
  const role = text === "read" ? "read-only" : text;
  if (!(ROLES as readonly string[]).includes(role))
    throw usageError(`unknown role "${text}"`, "use one of owner, reviewer, agent, read");
  return role as Role;
}

/**
 * The actor a token acts as: `--name` may be `kind:name`; a bare name is an agent for the agent role and a
 * human otherwise (owners and reviewers are people; a read token is usually a person's dashboard).
 */
function tokenActor(name: string, role: Role): Omit<Actor, "role" | "source"> {
  const parsed = parseActor(
    name.includes(":") ? name : `${role === "agent" ? "agent" : "human"}:${name}`,
    "flag",
  );
  return { name: parsed.name, kind: parsed.kind };
}

export interface CreateTokenInput {
  name: string;
  role: Role;
  /** Lifetime in ms; null: the token never expires. */
  ttlMs: number | null;
  /** Who creates it: a person, granting no role above their own (policy.authorizeGrant). */
  createdBy: Actor;
}

export interface CreatedToken extends TokenInfo {
  /** The bearer token. Shown once: only its hash is stored. */
  token: string;
}

/**
 * Creates a token under the write lock. A grant the creator may not make is refused and audited (exit 5); a
 * live token with the same name is a usage error.
 */
export function createToken(
  state: StateDb,
  root: string,
  input: CreateTokenInput,
  now = new Date(),
): CreatedToken {
  enforceDecision(state, root, input.createdBy, authorizeGrant(input.createdBy, input.role), {
    action: "token.create",
    target: `token:${input.name}`,
  });
  const who = tokenActor(input.name, input.role);
  const actor = `${who.kind}:${who.name}`;
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const createdBy = actorLabel(input.createdBy);
  const row: Row = {
    id,
    name: input.name,
    actor,
    role: input.role,
    secret_hash: digest(secret).toString("hex"),
    created_at: now.toISOString(),
    created_by: createdBy,
    expires_at: input.ttlMs === null ? null : new Date(now.getTime() + input.ttlMs).toISOString(),
    revoked_at: null,
  };
  state.exclusive(() => {
    const live = state.db
      .prepare("SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL")
      .get(input.name) as { id: string } | undefined;
    if (live)
      throw usageError(
        `a live token named "${input.name}" exists (${live.id})`,
        `revoke it first (keel token revoke ${input.name}) or choose another --name`,
      );
    state.db
      .prepare(
        `INSERT INTO tokens (id, name, actor, role, secret_hash, created_at, created_by, expires_at, revoked_at)
         VALUES (@id, @name, @actor, @role, @secret_hash, @created_at, @created_by, @expires_at, @revoked_at)`,
      )
      .run(row);
    appendEvent(
      state,
      root,
      {
        actor: createdBy,
        actorKind: input.createdBy.kind,
        action: "token.create",
        target: `token:${id}`,
        after: input.role,
        data: { name: input.name, actor, role: input.role, expiresAt: row.expires_at },
      },
      now,
    );
  });
  return { ...info(row), token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** How many tokens would authenticate now (neither revoked nor expired). */
export function liveTokenCount(state: StateDb, now = new Date()): number {
  const row = state.db
    .prepare(
      "SELECT count(*) AS n FROM tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
    )
    .get(now.toISOString()) as { n: number };
  return row.n;
}

export function listTokens(state: StateDb): TokenInfo[] {
  return (state.db.prepare("SELECT * FROM tokens ORDER BY created_at, id").all() as Row[]).map(info);
}

const LIVE_BY_REF = "SELECT * FROM tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL";

/**
 * Revokes the live token with this name or ID, at once: the next request with it is refused. Only a person
 * with at least the token's role may (refused and audited otherwise); an unknown token is a usage error.
 */
export function revokeToken(
  state: StateDb,
  root: string,
  ref: string,
  by: Actor,
  now = new Date(),
): TokenInfo {
  const found = state.db.prepare(LIVE_BY_REF).get(ref, ref) as Row | undefined;
  if (!found) throw usageError(`no live token named "${ref}"`, "list tokens with `keel token list`");
  enforceDecision(state, root, by, authorizeGrant(by, found.role as Role), {
    action: "token.revoke",
    target: `token:${found.id}`,
  });
  return state.exclusive(() => {
    const row = state.db.prepare(LIVE_BY_REF).get(ref, ref) as Row | undefined;
    if (!row) throw usageError(`token "${ref}" was revoked meanwhile`, "list tokens with `keel token list`");
    const at = now.toISOString();
    state.db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?").run(at, row.id);
    appendEvent(
      state,
      root,
      {
        actor: actorLabel(by),
        actorKind: by.kind,
        action: "token.revoke",
        target: `token:${row.id}`,
        before: row.role,
        data: { name: row.name, actor: row.actor },
      },
      now,
    );
    return info({ ...row, revoked_at: at });
  });
}

export type TokenCheck =
  | { ok: true; token: TokenInfo; actor: Actor }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired"; tokenId: string | null };

/** Who a presented bearer token acts as, or why it is refused. Never throws on a bad token. */
export function checkToken(state: StateDb, presented: string, now = new Date()): TokenCheck {
  const m = TOKEN_SHAPE.exec(presented);
  if (!m) return { ok: false, reason: "malformed", tokenId: null };
  const [, id, secret] = m as unknown as [string, string, string];
  const row = state.db.prepare("SELECT * FROM tokens WHERE id = ?").get(id) as Row | undefined;
  if (!row || !timingSafeEqual(Buffer.from(row.secret_hash, "hex"), digest(secret)))
    return { ok: false, reason: "unknown", tokenId: id };
  const token = info(row);
  const status = tokenState(token, now);
  if (status !== "live") return { ok: false, reason: status, tokenId: id };
  const who = parseActor(row.actor, "flag");
  return {
    ok: true,
    token,
    actor: { name: who.name, kind: who.kind, role: row.role as Role, source: "token", tokenId: row.id },
  };
}
