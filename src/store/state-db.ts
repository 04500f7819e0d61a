// Operational state under `.keel/state.db`: the audit log, conflict records, task claims and gate evidence. Unlike the index this is
// not a cache — it is the local record of what happened — so it is never deleted or rebuilt on its own.
// Its write transaction doubles as the project's write lock (see workspace/lock.ts's callers in core/):
// SQLite releases it when a process dies, so a killed writer can never leave the project locked.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { STATE_DIR } from "./index-db.js";
import { openDatabase } from "./sqlite.js";

export const STATE_FILE = "state.db";
/** Bump with a migration below; an older file is migrated in place, never dropped. */
export const STATE_SCHEMA_VERSION = 4;

type Database = BetterSqlite3.Database;

const MIGRATIONS: Record<number, string> = {
  1: `
    CREATE TABLE events (
      seq INTEGER PRIMARY KEY,
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
    CREATE TABLE conflicts (
      id TEXT PRIMARY KEY,
      change_id TEXT NOT NULL,
      capability TEXT NOT NULL,
      requirement TEXT NOT NULL,
      created_at TEXT NOT NULL,
      status TEXT NOT NULL,
      base TEXT,
      ours TEXT,
      theirs TEXT,
      resolution TEXT,
      resolved_by TEXT,
      resolved_at TEXT
    );
  `,
  // Task claims with leases (core/claims.ts). One row per task ever claimed; `token` is the fencing token of
  // the latest claim, drawn from the project-wide `fencing` counter so tokens only ever grow.
  2: `
    CREATE TABLE claims (
      task_id TEXT PRIMARY KEY,
      status TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'blocked', 'released')),
      holder TEXT,
      token INTEGER,
      lease_until INTEGER,
      reason TEXT,
      updated_at TEXT NOT NULL
    );
    CREATE TABLE claim_notes (
      seq INTEGER PRIMARY KEY,
      task_id TEXT NOT NULL,
      author TEXT NOT NULL,
      at TEXT NOT NULL,
      text TEXT NOT NULL
    );
    CREATE INDEX claim_notes_task ON claim_notes (task_id, seq);
    CREATE TABLE counters (
      name TEXT PRIMARY KEY,
      value INTEGER NOT NULL
    );
    INSERT INTO counters (name, value) VALUES ('fencing', 0);
  `,
  // Evidence: one row per gate run by `keel verify` (core/verify/evidence.ts). `run` groups the rows of one
  // verify run; `tree_digest` identifies a dirty working tree (null when clean or outside git); `requirements`
  // is a JSON object of requirement ID to the fingerprint it had when the gate ran.
  3: `
    CREATE TABLE evidence (
      id INTEGER PRIMARY KEY,
      run TEXT NOT NULL,
      gate TEXT NOT NULL,
      kind TEXT NOT NULL,
      command TEXT NOT NULL,
      cwd TEXT NOT NULL,
      exit_code INTEGER,
      timed_out INTEGER NOT NULL,
      duration_ms INTEGER NOT NULL,
      started_at TEXT NOT NULL,
      commit_sha TEXT,
      dirty INTEGER NOT NULL,
      tree_digest TEXT,
      requirements TEXT NOT NULL,
      task TEXT,
      output_tail TEXT NOT NULL,
      output_digest TEXT NOT NULL,
      output_bytes INTEGER NOT NULL,
      actor TEXT NOT NULL
    );
    CREATE INDEX evidence_gate ON evidence (gate, id);
    CREATE INDEX evidence_task ON evidence (task, id);
    CREATE INDEX evidence_run ON evidence (run);
  `,
  // Bearer tokens of `keel serve` (core/auth/tokens.ts): only the SHA-256 of each secret is kept. A live
  // token's name is unique, so `keel token revoke <name>` names one token.
  4: `
    CREATE TABLE tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      actor TEXT NOT NULL,
      role TEXT NOT NULL,
      secret_hash TEXT NOT NULL,
      created_at TEXT NOT NULL,
      created_by TEXT NOT NULL,
      expires_at TEXT,
      revoked_at TEXT
    );
    CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
  `,
};

export class StateDb {
  private constructor(readonly db: Database) {}

  static open(projectRoot: string): StateDb {
    const dir = join(projectRoot, STATE_DIR);
    mkdirSync(dir, { recursive: true });
    // A writer waits up to 60 s for the lock: under heavy contention (many agents) a wait beats a failure.
    const db = openDatabase(join(dir, STATE_FILE), 60_000, (db) => {
      db.pragma("journal_mode = WAL");
      db.pragma("synchronous = FULL");
      migrate(db);
    });
    return new StateDb(db);
  }

  close(): void {
    this.db.close();
  }

  /**
   * Runs `fn` holding the project's write lock (an IMMEDIATE transaction on this database). Everything
   * `fn` records here commits with it; files it writes must be written atomically before it returns.
   */
  exclusive<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }
}

function migrate(db: Database): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current === STATE_SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read under the lock: another process may have migrated meanwhile.
    let version = db.pragma("user_version", { simple: true }) as number;
    if (version > STATE_SCHEMA_VERSION) {
      throw new Error(`.keel/${STATE_FILE} was written by a newer Keel (schema ${version}); upgrade Keel`);
    }
    while (version < STATE_SCHEMA_VERSION) {
      version++;
      db.exec(MIGRATIONS[version] as string);
    }
    db.pragma(`user_version = ${version}`);
  }).immediate();
}
