// Bearer tokens in the team store: the embedded store's rows, so a token created from any checkout authenticates on
// every server. A write and its audit event commit together; the event's NOTIFY tells every server, whose token
// mirror (server/auth.ts) applies a revocation at once and reads a new token back.
// @req SRF-11, TEAM-2
import type { PoolClient } from "pg";
import type { AuditInput } from "../audit-chain.js";
import type { TokenRow } from "../coordination.js";
import { appendEvents } from "./audit.js";

type Queryable = Pick<PoolClient, "query">;

const COLUMNS = [
  "id",
  "name",
  "actor",
  "role",
  "secret_hash",
  "created_at",
  "created_by",
  "expires_at",
  "revoked_at",
] as const;

const INSERT = `INSERT INTO tokens (${COLUMNS.join(", ")}) VALUES (${COLUMNS.map((_, i) => `$${i + 1}`).join(", ")})`;

export async function allTokens(c: Queryable): Promise<TokenRow[]> {
  return (await c.query("SELECT * FROM tokens ORDER BY created_at, id")).rows as TokenRow[];
}

/** Rows as they are (a copy's), in the caller's transaction. */
export async function insertTokens(c: Queryable, rows: readonly TokenRow[]): Promise<void> {
  for (const row of rows)
    await c.query(
      INSERT,
      COLUMNS.map((k) => row[k]),
    );
}

/** In the caller's transaction: the new token and its event, or the ID of the live token that has its name. */
export async function addToken(
  c: Queryable,
  row: TokenRow,
  event: AuditInput,
  now: Date,
): Promise<string | null> {
  const inserted = await c.query(
    `${INSERT} ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING`,
    COLUMNS.map((k) => row[k]),
  );
  if (inserted.rowCount === 0) {
    const live = await c.query("SELECT id FROM tokens WHERE name = $1 AND revoked_at IS NULL", [row.name]);
    return (live.rows[0]?.id as string | undefined) ?? row.name;
  }
  await appendEvents(c, [{ input: event, now }]);
  return null;
}

/** In the caller's transaction: revokes the live token named or numbered `ref`, with its event. */
export async function revokeToken(
  c: Queryable,
  ref: string,
  now: Date,
  event: (row: TokenRow) => AuditInput,
): Promise<TokenRow | null> {
  const revoked = await c.query(
    `UPDATE tokens SET revoked_at = $2
     WHERE id = (SELECT id FROM tokens WHERE (id = $1 OR name = $1) AND revoked_at IS NULL LIMIT 1 FOR UPDATE)
     RETURNING *`,
    [ref, now.toISOString()],
  );
  const row = revoked.rows[0] as TokenRow | undefined;
  if (!row) return null;
  await appendEvents(c, [{ input: event(row), now }]);
  return row;
}
