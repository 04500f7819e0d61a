// The embedded store's bearer tokens (`tokens` in `.keel/state.db`): rows as stored, written with their audit event
// in one transaction. The rules (who may grant which role, what a live token is) are the core's (core/auth/tokens.ts).
// @req SRF-11, TEAM-2
import type { AuditInput } from "../audit-chain.js";
import type { TokenRow } from "../coordination.js";
import type { StateDb } from "../state-db.js";
import { appendEvent } from "./audit-log.js";

export function allTokens(state: StateDb): TokenRow[] {
  return state.db.prepare("SELECT * FROM tokens ORDER BY created_at, id").all() as TokenRow[];
}

/** One token by its public ID, read at once: the server's check of every request on the embedded store. */
export function tokenById(state: StateDb, id: string): TokenRow | undefined {
  return state.db.prepare("SELECT * FROM tokens WHERE id = ?").get(id) as TokenRow | undefined;
}

/** One token row, as stored: a write of a new token, and a copy's. */
export const INSERT_TOKEN = `INSERT INTO tokens (id, name, actor, role, secret_hash, created_at, created_by, expires_at, revoked_at)
  VALUES (@id, @name, @actor, @role, @secret_hash, @created_at, @created_by, @expires_at, @revoked_at)`;

const LIVE_BY_NAME = "SELECT id FROM tokens WHERE name = ? AND revoked_at IS NULL";
const LIVE_BY_REF = "SELECT * FROM tokens WHERE (id = ? OR name = ?) AND revoked_at IS NULL";

export function insertToken(
  state: StateDb,
  root: string,
  row: TokenRow,
  event: AuditInput,
  now: Date,
): string | null {
  return state.exclusive(() => {
    const live = state.db.prepare(LIVE_BY_NAME).get(row.name) as { id: string } | undefined;
    if (live) return live.id;
    state.db.prepare(INSERT_TOKEN).run(row);
    appendEvent(state, root, event, now);
    return null;
  });
}

export function revokeLiveToken(
  state: StateDb,
  root: string,
  ref: string,
  now: Date,
  event: (row: TokenRow) => AuditInput,
): TokenRow | null {
  return state.exclusive(() => {
    const row = state.db.prepare(LIVE_BY_REF).get(ref, ref) as TokenRow | undefined;
    if (!row) return null;
    const at = now.toISOString();
    state.db.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?").run(at, row.id);
    appendEvent(state, root, event(row), now);
    return { ...row, revoked_at: at };
  });
}
