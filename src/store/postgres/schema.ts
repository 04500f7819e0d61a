// The team store's schema, in versioned migrations: `keel store migrate` applies those a database lacks, under an
// advisory lock so that two servers migrating at once apply each migration once. The tables keep the embedded
// store's columns and text forms (times as ISO text, event data as its canonical JSON text), so a copy in either
// direction moves rows as they are and the audit chain still verifies. A server never migrates on its own: it
// refuses a database whose schema is missing, older or newer than its own, and says what to run.
// @req TEAM-5
import { randomBytes } from "node:crypto";
import type { PoolClient } from "pg";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { CONFLICTS_TABLE, EVIDENCE_COLUMNS, TOKENS_TABLE } from "../tables.js";
import { type Connection, inTransaction } from "./connection.js";

/** Advisory lock keys (one project per database): the migration, the audit chain's single writer, intent writes. */
export const LOCKS = { migrate: 0x6b65656c01, audit: 0x6b65656c02, intent: 0x6b65656c03 } as const;

/** The channel every server LISTENs on: its payload is the newest event's sequence number. */
export const EVENTS_CHANNEL = "keel_events";

const MIGRATIONS: readonly string[] = [
  // 1: the audit log, claims with their notes and the fencing counter, and the store's identity.
  `
  CREATE TABLE keel_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    actor_kind TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    before TEXT,
    after TEXT,
    reason TEXT,
    data TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX events_target ON events (target);
  CREATE INDEX events_actor ON events (actor);
  CREATE TABLE claims (
    task_id TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'blocked', 'released')),
    holder TEXT,
    token BIGINT,
    lease_until BIGINT,
    reason TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE claim_notes (
    seq BIGSERIAL PRIMARY KEY,
    task_id TEXT NOT NULL,
    author TEXT NOT NULL,
    at TEXT NOT NULL,
    text TEXT NOT NULL
  );
  CREATE INDEX claim_notes_task ON claim_notes (task_id, seq);
  CREATE SEQUENCE keel_fencing;
  `,
  // 2: bearer tokens and their roles (store/tables.ts), as the embedded store keeps them: one token works on every
  // server of the team.
  TOKENS_TABLE,
  // 3: gate evidence forwarded from every checkout (core/audit/forward.ts), each row once by its ID there, so a
  // gate run on one machine counts in the backpressure of every server (on a clean tree of the same commit).
  `
  CREATE TABLE evidence (
    id BIGSERIAL PRIMARY KEY,
    origin TEXT NOT NULL,
    origin_id BIGINT NOT NULL,${EVIDENCE_COLUMNS},
    UNIQUE (origin, origin_id)
  );
  CREATE INDEX evidence_gate_commit ON evidence (gate, command, cwd, commit_sha, id);
  `,
  // 4: conflict records shared by every checkout (core/changes/conflict-sync.ts), so a conflict recorded through one
  // server can be resolved through another.
  CONFLICTS_TABLE,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** The schema version of the database: 0 when it holds no Keel schema. */
export async function schemaVersion(c: Pick<PoolClient, "query">): Promise<number> {
  const table = await c.query("SELECT to_regclass('keel_meta') IS NOT NULL AS present");
  if (!table.rows[0].present) return 0;
  const row = await c.query("SELECT value FROM keel_meta WHERE key = 'schema'");
  return row.rows.length === 0 ? 0 : Number(row.rows[0].value);
}

export interface MigrateResult {
  from: number;
  to: number;
  storeId: string;
}

/** Applies the migrations the database lacks, each in the same transaction as the version it sets. */
export async function migrate(conn: Connection): Promise<MigrateResult> {
  return inTransaction(conn, async (c) => {
    await c.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.migrate]);
    const from = await schemaVersion(c);
    refuseNewer(conn, from);
    for (let v = from; v < PG_SCHEMA_VERSION; v++) await c.query(MIGRATIONS[v] as string);
    await c.query(
      `INSERT INTO keel_meta (key, value) VALUES ('schema', $1)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [String(PG_SCHEMA_VERSION)],
    );
    // The store's identity, as the embedded store has one: a copy carries it, so the chain keeps its name.
    await c.query("INSERT INTO keel_meta (key, value) VALUES ('store_id', $1) ON CONFLICT (key) DO NOTHING", [
      randomBytes(8).toString("hex"),
    ]);
    const id = await c.query("SELECT value FROM keel_meta WHERE key = 'store_id'");
    return { from, to: PG_SCHEMA_VERSION, storeId: id.rows[0].value as string };
  });
}

function refuseNewer(conn: Connection, version: number): void {
  if (version > PG_SCHEMA_VERSION) {
    throw new KeelError(
      `the team store at ${conn.where} has schema ${version}, newer than this Keel's ${PG_SCHEMA_VERSION}`,
      EXIT.unreadable,
      "upgrade Keel to the version the other servers run",
      undefined,
      "store-newer",
    );
  }
}

/** Refuses a database this Keel cannot use as it is: no schema, an older one, or a newer one. */
export async function assertCurrent(conn: Connection): Promise<void> {
  let version: number;
  try {
    version = await schemaVersion(conn.pool);
  } catch (e) {
    throw conn.explain(e);
  }
  refuseNewer(conn, version);
  if (version < PG_SCHEMA_VERSION) {
    throw new KeelError(
      version === 0
        ? `the team store at ${conn.where} holds no Keel schema`
        : `the team store at ${conn.where} has schema ${version}; this Keel needs ${PG_SCHEMA_VERSION}`,
      EXIT.unreadable,
      "run `keel store migrate` (once, from any machine), then try again",
      undefined,
      "store-not-migrated",
    );
  }
}
