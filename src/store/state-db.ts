// Operational state under `.keel/state.db`: the audit log, conflict records, task claims and gate evidence. Unlike the index this is
// not a cache — it is the local record of what happened — so it is never deleted or rebuilt on its own.
// Its write transaction doubles as the project's write lock (see workspace/lock.ts's callers in core/):
// SQLite releases it when a process dies, so a killed writer can never leave the project locked.
// A file that is not a sound Keel store, or a missing one where the audit segment says one existed, is refused
// (guard.ts), and an open store checks before each write that its file is still the one it opened.
// @req TRU-6, TRU-8
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { EXIT, KeelError } from "../workspace/errors.js";
import { currentGeneration } from "../workspace/freshness.js";
import { establishIdentity, stateExisted } from "./anchor.js";
import {
  assertKeelSchema,
  type FileIdentity,
  identityOf,
  inspectStoreFile,
  isSqliteDamage,
  rememberOpened,
  sameFile,
  storeRefusal,
  storeReplaced,
} from "./guard.js";
import { STATE_DIR } from "./index-db.js";
import { createDatabase, openDatabase, reuseStatements } from "./sqlite.js";
import { CONFLICTS_TABLE, EVIDENCE_COLUMNS, TOKENS_TABLE } from "./tables.js";

export const STATE_FILE = "state.db";
/** Bump with a migration below; an older file is migrated in place, never dropped. */
export const STATE_SCHEMA_VERSION = 6;

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
    ${CONFLICTS_TABLE}
  `,
  // Task claims with leases (store/sqlite/claims.ts). One row per task ever claimed; `token` is the fencing token of
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
      id INTEGER PRIMARY KEY,${EVIDENCE_COLUMNS}
    );
    CREATE INDEX evidence_gate ON evidence (gate, id);
    CREATE INDEX evidence_task ON evidence (task, id);
    CREATE INDEX evidence_run ON evidence (run);
  `,
  // Bearer tokens of `keel serve` (store/tables.ts).
  4: TOKENS_TABLE,
  // The store's identity (store/anchor.ts): `store_id` names its audit segment, `keel/audit/<store_id>.jsonl`.
  // Set by establishIdentity when the migration runs, with the events of an older store written into the segment.
  5: `
    CREATE TABLE meta (
      key TEXT PRIMARY KEY,
      value TEXT NOT NULL
    );
  `,
  // The work loop (src/run/): a run, the task each worker holds with its worktree (what --resume takes back),
  // every attempt with its outcome and cost (what `keel metrics` reads), the review queue, and the webhook
  // deliveries already accepted (a replay is refused by its delivery ID). Idempotent: a store whose version was set
  // back by hand keeps its run records.
  6: `
    CREATE TABLE IF NOT EXISTS runs (
      id TEXT PRIMARY KEY,
      started_at TEXT NOT NULL,
      ended_at TEXT,
      pid INTEGER NOT NULL,
      options TEXT NOT NULL,
      status TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS run_tasks (
      task_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      worker INTEGER NOT NULL,
      token INTEGER NOT NULL,
      branch TEXT NOT NULL,
      worktree TEXT NOT NULL,
      base TEXT NOT NULL,
      phase TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      started_at TEXT NOT NULL,
      phase_at TEXT NOT NULL,
      agent TEXT NOT NULL,
      agent_pid INTEGER,
      agent_started TEXT,
      green_commit TEXT
    );
    CREATE TABLE IF NOT EXISTS run_attempts (
      seq INTEGER PRIMARY KEY,
      run_id TEXT NOT NULL,
      task_id TEXT NOT NULL,
      attempt INTEGER NOT NULL,
      agent TEXT NOT NULL,
      started_at TEXT NOT NULL,
      ended_at TEXT NOT NULL,
      outcome TEXT NOT NULL,
      agent_ms INTEGER NOT NULL,
      gate_ms INTEGER NOT NULL,
      overhead_ms INTEGER NOT NULL,
      queue_ms INTEGER NOT NULL,
      cost_usd REAL,
      input_tokens INTEGER,
      output_tokens INTEGER,
      capabilities TEXT NOT NULL,
      feedback TEXT
    );
    CREATE INDEX IF NOT EXISTS run_attempts_task ON run_attempts (task_id, attempt);
    CREATE TABLE IF NOT EXISTS run_reviews (
      task_id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      token INTEGER NOT NULL,
      branch TEXT NOT NULL,
      commit_sha TEXT NOT NULL,
      requested_at TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS hook_deliveries (
      provider TEXT NOT NULL,
      delivery TEXT NOT NULL,
      received_at TEXT NOT NULL,
      PRIMARY KEY (provider, delivery)
    );
  `,
};

/** Every table a migration above creates: a store holding any other table is not Keel's. */
const KEEL_TABLES: ReadonlySet<string> = new Set(
  Object.values(MIGRATIONS).flatMap((sql) =>
    [...sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?(\w+)/g)].map((m) => m[1] as string),
  ),
);

/** A writer waits up to 60 s for the lock: under heavy contention (many agents) a wait beats a failure. */
const LOCK_TIMEOUT_MS = 60_000;

export interface OpenOptions {
  /**
   * Create the store even where the audit segment says one existed: for `keel store repair` and `reset`, which
   * move the old file aside first. A file that is there is still checked and refused when unsound.
   */
  allowFresh?: boolean;
  /** The ID a store created now takes (`keel store repair` continues the segment of the store it rebuilds). */
  storeId?: string;
}

/** The connections a long-lived process keeps, by project (see StateDb.open). */
const keptOpen = new Map<string, StateDb>();

export class StateDb {
  private constructor(
    readonly db: Database,
    private readonly path: string,
    private readonly identity: FileIdentity | null,
    private readonly writable = true,
  ) {}

  /** How deep `exclusive` calls are nested here, and the hooks to run before the outermost one commits. */
  private depth = 0;
  private readonly afterCommitHooks: Array<() => void> = [];
  private readonly beforeCommitHooks: Array<() => void> = [];
  /** Which hooks were registered with beforeCommitOnce, by key (a rolled-back part's hooks are gone from both). */
  private readonly onceKeys: Array<{ key: object; hook: () => void }> = [];

  /** A view over a connection opened read-only elsewhere (the context pack): it reads, and refuses to write. */
  static readOnlyView(db: Database, path: string): StateDb {
    return new StateDb(db, path, identityOf(path), false);
  }

  /**
   * Opens the project's store. A long-lived process (one with a watcher: workspace/freshness.ts) keeps one
   * connection per project for every caller, as `keel run` shares one between its workers (every operation is
   * synchronous, so they never interleave); it opens anew, as every call would, once the file is not the one the
   * kept connection reads.
   */
  static open(projectRoot: string, options: OpenOptions = {}): StateDb {
    const keep = currentGeneration(projectRoot) !== null && Object.keys(options).length === 0;
    if (!keep) return StateDb.openFile(projectRoot, options);
    const held = keptOpen.get(projectRoot);
    if (held?.db.open && held.depth === 0 && held.identity && sameFile(held.identity, identityOf(held.path)))
      return held;
    if (held && held.depth === 0) {
      keptOpen.delete(projectRoot);
      held.kept = false;
      held.close();
    }
    const opened = StateDb.openFile(projectRoot, options);
    if (held && held.depth > 0) return opened; // inside a transaction of the kept one: a connection of its own
    opened.kept = true;
    reuseStatements(opened.db);
    keptOpen.set(projectRoot, opened);
    return opened;
  }

  /** Kept open for the life of the process (see open): close() leaves it open. */
  private kept = false;

  private static openFile(projectRoot: string, options: OpenOptions): StateDb {
    const dir = join(projectRoot, STATE_DIR);
    const path = join(dir, STATE_FILE);
    if (inspectStoreFile(path) === "missing") {
      const existed = options.allowFresh ? null : stateExisted(projectRoot);
      // A store is linked into place before its first event reaches the segment, so a segment seen after the
      // file was found missing may be the work of a process that created the store meanwhile: look again.
      if (existed !== null && inspectStoreFile(path) === "missing")
        throw storeRefusal("missing", existed.reason);
      mkdirSync(dir, { recursive: true });
      createDatabase(path, LOCK_TIMEOUT_MS, (db) => prepare(db, projectRoot, options.storeId));
    }
    // The identity is taken before the connection is made: if the file is swapped in between, the first
    // check refuses, rather than vouching for a file this connection does not read.
    const identity = identityOf(path);
    const db = openExisting(path, projectRoot);
    rememberOpened(path);
    if (identity === null) {
      db.close();
      throw storeRefusal("missing");
    }
    return new StateDb(db, path, identity);
  }

  close(): void {
    if (!this.kept) this.db.close();
  }

  /**
   * Refuses when the file at `.keel/state.db` is no longer the one this connection reads: deleted (its
   * connection would go on writing to an unlinked file) or replaced. A long-running process asks before
   * trusting what it reads; one stat, so it is cheap enough for every write and every token check.
   */
  assertUnchanged(): void {
    if (this.identity === null || !sameFile(this.identity, identityOf(this.path))) throw storeReplaced();
  }

  /**
   * Runs `fn` holding the project's write lock (an IMMEDIATE transaction on this database). Everything
   * `fn` records here commits with it; files it writes must be written atomically before it returns.
   */
  exclusive<T>(fn: () => T): T {
    if (!this.writable) throw new Error(`${this.path} was opened read-only`);
    const mark = this.beforeCommitHooks.length;
    const outermost = this.depth === 0;
    this.depth++;
    try {
      const result = this.db
        .transaction(() => {
          // Checked under the lock: the file may have been replaced while this process waited for it.
          this.assertUnchanged();
          const result = fn();
          if (this.depth === 1) {
            this.onceKeys.length = 0;
            for (const hook of this.beforeCommitHooks.splice(0)) hook();
          }
          return result;
        })
        .immediate();
      if (outermost) for (const hook of this.afterCommitHooks.splice(0)) hook();
      return result;
    } catch (e) {
      this.beforeCommitHooks.length = mark;
      if (outermost) {
        this.afterCommitHooks.length = 0;
        this.onceKeys.length = 0;
      }
      throw e;
    } finally {
      this.depth--;
    }
  }

  /** Runs `hook` once the outermost `exclusive` transaction committed (at once outside a transaction). */
  afterCommit(hook: () => void): void {
    if (this.depth === 0) hook();
    else this.afterCommitHooks.push(hook);
  }

  /**
   * Runs `hook` at the end of the outermost `exclusive` transaction: still holding the lock, after all the work
   * of that transaction, and only if it did not throw (a rolled-back transaction drops its hooks). Outside a
   * transaction it runs at once. The audit log appends to its segment this way (store/sqlite/audit-log.ts), so an event
   * rolled back never reaches the segment, and concurrent writers append in the order they commit.
   */
  beforeCommit(hook: () => void): void {
    if (this.depth === 0) hook();
    else this.beforeCommitHooks.push(hook);
  }

  /**
   * As beforeCommit, but once per transaction for `key`: a later call with the same key, in the same outermost
   * transaction, adds nothing. One hook then does the work of every part of the transaction (the audit segment
   * is written and flushed once for a whole group of claims: group commit).
   */
  beforeCommitOnce(key: object, hook: () => void): void {
    if (this.depth === 0) {
      hook();
      return;
    }
    const live = this.onceKeys.find((k) => k.key === key && this.beforeCommitHooks.includes(k.hook));
    if (live) return;
    this.onceKeys.push({ key, hook });
    this.beforeCommitHooks.push(hook);
  }
}

function prepare(db: Database, projectRoot: string, storeId?: string): void {
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  migrate(db, projectRoot, storeId);
}

/** Opens a store file that exists, refusing one that is foreign or damaged without writing to it. */
function openExisting(path: string, projectRoot: string): Database {
  try {
    return openDatabase(
      path,
      LOCK_TIMEOUT_MS,
      (db) => {
        // Before any pragma that writes (journal_mode rewrites the header): a foreign file stays untouched.
        const version = db.pragma("user_version", { simple: true }) as number;
        if (version <= STATE_SCHEMA_VERSION) assertKeelSchema(db, version, KEEL_TABLES);
        prepare(db, projectRoot);
      },
      { mustExist: true },
    );
  } catch (e) {
    if (isSqliteDamage(e)) throw storeRefusal("damaged", (e as Error).message);
    if ((e as { code?: unknown }).code === "SQLITE_CANTOPEN" && !existsSync(path))
      throw storeRefusal("missing");
    throw e;
  }
}

function migrate(db: Database, projectRoot: string, storeId?: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current === STATE_SCHEMA_VERSION) return;
  db.transaction(() => {
    // Re-read under the lock: another process may have migrated meanwhile.
    let version = db.pragma("user_version", { simple: true }) as number;
    if (version > STATE_SCHEMA_VERSION) {
      throw new KeelError(
        `.keel/${STATE_FILE} was written by a newer Keel (schema ${version})`,
        EXIT.unreadable,
        "upgrade Keel to the version that wrote it",
      );
    }
    while (version < STATE_SCHEMA_VERSION) {
      version++;
      db.exec(MIGRATIONS[version] as string);
    }
    db.pragma(`user_version = ${version}`);
    establishIdentity(db, projectRoot, storeId);
  }).immediate();
}
