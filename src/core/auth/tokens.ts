// Bearer tokens for `keel serve`: who a request acts as, and with which role. A token is printed once, when it
// is created, and only the SHA-256 of its secret is stored — the secret is 256 random bits, so a plain hash
// is enough (no password stretching needed) and a copy of `.keel/` reveals no usable token. The token's
// public ID is part of the token, so a lookup is by ID and the hash is compared in constant time.
// @req SRF-11
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { CoordinationStore, TokenRow } from "../../store/coordination.js";
import { type Actor, actorLabel, parseActor } from "../../workspace/actor.js";
import { ROLES, type Role } from "../../workspace/config.js";
import { usageError } from "../../workspace/errors.js";
import { authorizeGrant, enforceInStore } from "../policy.js";

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

function info(r: TokenRow): TokenInfo {
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
 * Creates a token in the project's store (one the whole team shares, in team mode). A grant the creator may not
 * make is refused and audited (exit 5); a live token with the same name is a usage error.
 */
export async function createToken(
  store: CoordinationStore,
  input: CreateTokenInput,
  now = new Date(),
): Promise<CreatedToken> {
  await enforceInStore(store, input.createdBy, authorizeGrant(input.createdBy, input.role), {
    action: "token.create",
    target: `token:${input.name}`,
  });
  const who = tokenActor(input.name, input.role);
  const actor = `${who.kind}:${who.name}`;
  const id = randomBytes(6).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  const row: TokenRow = {
    id,
    name: input.name,
    actor,
    role: input.role,
    secret_hash: digest(secret).toString("hex"),
    created_at: now.toISOString(),
    created_by: actorLabel(input.createdBy),
    expires_at: input.ttlMs === null ? null : new Date(now.getTime() + input.ttlMs).toISOString(),
    revoked_at: null,
  };
  const { clash } = await store.addToken(
    row,
    {
      actor: row.created_by,
      actorKind: input.createdBy.kind,
      action: "token.create",
      target: `token:${id}`,
      after: input.role,
      data: { name: input.name, actor, role: input.role, expiresAt: row.expires_at },
    },
    now,
  );
  if (clash !== null)
    throw usageError(
      `a live token named "${input.name}" exists (${clash})`,
      `revoke it first (keel token revoke ${input.name}) or choose another --name`,
    );
  return { ...info(row), token: `${TOKEN_PREFIX}${id}_${secret}` };
}

/** How many tokens would authenticate now (neither revoked nor expired). */
export async function liveTokenCount(store: CoordinationStore, now = new Date()): Promise<number> {
  return (await listTokens(store)).filter((t) => tokenState(t, now) === "live").length;
}

export async function listTokens(store: CoordinationStore): Promise<TokenInfo[]> {
  return (await store.tokens()).map(info);
}

/**
 * Revokes the live token with this name or ID, at once: the next request with it is refused, on every server of
 * the store. Only a person with at least the token's role may (refused and audited otherwise); an unknown token
 * is a usage error.
 */
export async function revokeToken(
  store: CoordinationStore,
  ref: string,
  by: Actor,
  now = new Date(),
): Promise<TokenInfo> {
  const found = (await store.tokens()).find((t) => (t.id === ref || t.name === ref) && t.revoked_at === null);
  if (!found) throw usageError(`no live token named "${ref}"`, "list tokens with `keel token list`");
  await enforceInStore(store, by, authorizeGrant(by, found.role as Role), {
    action: "token.revoke",
    target: `token:${found.id}`,
  });
  const revoked = await store.revokeToken(found.id, now, (row) => ({
    actor: actorLabel(by),
    actorKind: by.kind,
    action: "token.revoke",
    target: `token:${row.id}`,
    before: row.role,
    data: { name: row.name, actor: row.actor },
  }));
  if (!revoked)
    throw usageError(`token "${ref}" was revoked meanwhile`, "list tokens with `keel token list`");
  return info(revoked);
}

export type TokenCheck =
  | { ok: true; token: TokenInfo; actor: Actor }
  | { ok: false; reason: "malformed" | "unknown" | "revoked" | "expired"; tokenId: string | null };

/** The public ID of a presented token, or null when it is not shaped as one. */
export function presentedTokenId(presented: string): string | null {
  return TOKEN_SHAPE.exec(presented)?.[1] ?? null;
}

/**
 * Who a presented bearer token acts as, or why it is refused, with `lookup` finding a token by its public ID (read
 * at once: the server checks every request). Never throws on a bad token.
 */
export function checkToken(
  lookup: (id: string) => TokenRow | undefined,
  presented: string,
  now = new Date(),
): TokenCheck {
  const m = TOKEN_SHAPE.exec(presented);
  if (!m) return { ok: false, reason: "malformed", tokenId: null };
  const [, id, secret] = m as unknown as [string, string, string];
  const row = lookup(id);
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
