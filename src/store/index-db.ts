// The index: a cache of per-file analyses in SQLite under `.keel/`. Deleting it loses nothing.
// WAL mode lets several Keel processes read while one refreshes; a corrupt or foreign file is
// discarded and rebuilt rather than reported, because everything in it can be recomputed.
// @req IDX-1, IDX-4, IDX-5
import { mkdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { currentGeneration } from "../workspace/freshness.js";
import { QUERY_SCHEMA_SQL } from "./query-index.js";
import { openDatabase, reuseStatements } from "./sqlite.js";

/** Bump when the tables or the payload format change; an index of another version is rebuilt. */
export const INDEX_SCHEMA_VERSION = 5;
export const STATE_DIR = ".keel";
export const INDEX_FILE = "index.db";

export interface IndexedFile {
  rel: string;
  size: number;
  mtimeMs: number;
  hash: string;
  /** When the row was written (ms since epoch); used to catch edits within the file system's mtime granularity. */
  indexedAt: number;
  payload: string;
}

type Database = BetterSqlite3.Database;

export class IndexDb {
  /** Kept open for the life of the process (see open): close() leaves it open. */
  private kept = false;

  private constructor(readonly db: Database) {}

  // @req OSC-7
  /**
   * Opens the project's index. A long-lived process (one with a watcher: workspace/freshness.ts) keeps one
   * connection per project open for every caller, and opens anew only when the file was replaced or removed.
   */
  static open(projectRoot: string): IndexDb {
    if (currentGeneration(projectRoot) === null) return IndexDb.openFile(projectRoot);
    const path = join(projectRoot, STATE_DIR, INDEX_FILE);
    const held = keptOpen.get(projectRoot);
    const ino = statSync(path, { throwIfNoEntry: false })?.ino;
    if (held && held.ino === ino && held.index.db.open) return held.index;
    if (held) {
      held.index.kept = false;
      held.index.close();
    }
    const index = IndexDb.openFile(projectRoot);
    index.kept = true;
    reuseStatements(index.db);
    keptOpen.set(projectRoot, { index, ino: statSync(path).ino });
    return index;
  }

  private static openFile(projectRoot: string): IndexDb {
    const dir = join(projectRoot, STATE_DIR);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, INDEX_FILE);
    try {
      return new IndexDb(openAndMigrate(path));
    } catch (e) {
      if (!isCorruption(e)) throw e;
      for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
      return new IndexDb(openAndMigrate(path));
    }
  }

  /** An index that lives only as long as the process, for projects whose `.keel/` cannot be written. */
  static inMemory(): IndexDb {
    return new IndexDb(openAndMigrate(":memory:"));
  }

  /** Deletes the index files, so that the next open starts from an empty index. */
  static discard(projectRoot: string): void {
    const path = join(projectRoot, STATE_DIR, INDEX_FILE);
    for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
  }

  close(): void {
    if (!this.kept) this.db.close();
  }

  files(): Map<string, IndexedFile> {
    const rows = this.db
      .prepare("SELECT rel, size, mtime AS mtimeMs, hash, indexed_at AS indexedAt, payload FROM files")
      .all() as IndexedFile[];
    return new Map(rows.map((r) => [r.rel, r]));
  }

  getMeta(key: string): string | null {
    const row = this.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  /**
   * Applies a refresh in one write transaction: upserts changed files, deletes vanished ones, sets meta.
   * BEGIN IMMEDIATE takes the write lock up front, so two refreshing processes serialise instead of
   * failing mid-way; busy_timeout makes the second one wait.
   */
  commit(upserts: IndexedFile[], deletions: string[], meta: Record<string, string>): void {
    const upsert = this.db.prepare(
      `INSERT INTO files (rel, size, mtime, hash, indexed_at, payload) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(rel) DO UPDATE SET size = excluded.size, mtime = excluded.mtime, hash = excluded.hash,
       indexed_at = excluded.indexed_at, payload = excluded.payload`,
    );
    const del = this.db.prepare("DELETE FROM files WHERE rel = ?");
    const setMeta = this.db.prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    );
    this.db
      .transaction(() => {
        for (const f of upserts) upsert.run(f.rel, f.size, f.mtimeMs, f.hash, f.indexedAt, f.payload);
        for (const rel of deletions) del.run(rel);
        for (const [k, v] of Object.entries(meta)) setMeta.run(k, v);
      })
      .immediate();
  }

  /**
   * Keeps a value made from the stored result written at `writtenAt` (a rendered answer), unless the result
   * was replaced meanwhile; values kept for older results are dropped in the same transaction.
   */
  keepForResult(key: string, writtenAt: string, value: string): void {
    const prefix = `${writtenAt}\n`;
    this.db
      .transaction(() => {
        if (this.getMeta("written_at") !== writtenAt) return;
        this.db
          .prepare("DELETE FROM meta WHERE key LIKE 'kept:%' AND substr(value, 1, ?) <> ?")
          .run(prefix.length, prefix);
        this.db
          .prepare(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
          )
          .run(`kept:${key}`, prefix + value);
      })
      .immediate();
  }

  /** A value kept for the stored result written at `writtenAt`, or null. */
  keptForResult(key: string, writtenAt: string): string | null {
    const value = this.getMeta(`kept:${key}`);
    const prefix = `${writtenAt}\n`;
    return value?.startsWith(prefix) ? value.slice(prefix.length) : null;
  }
}

/** The connections a long-lived process keeps, by project, with the inode of the file they read. */
const keptOpen = new Map<string, { index: IndexDb; ino: number }>();

function openAndMigrate(path: string): Database {
  return openDatabase(path, 10_000, (db) => {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version !== INDEX_SCHEMA_VERSION) {
      db.transaction(() => {
        // Another process may have migrated while this one waited for the write lock.
        if (db.pragma("user_version", { simple: true }) === INDEX_SCHEMA_VERSION) return;
        db.exec(`
          DROP TABLE IF EXISTS files;
          DROP TABLE IF EXISTS meta;
          -- Rowid tables: payloads and meta values are large, which WITHOUT ROWID tables store poorly.
          CREATE TABLE files (
            rel TEXT NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            mtime REAL NOT NULL,
            hash TEXT NOT NULL,
            indexed_at REAL NOT NULL,
            payload TEXT NOT NULL
          );
          CREATE TABLE meta (key TEXT NOT NULL UNIQUE, value TEXT NOT NULL);
        `);
        db.exec(QUERY_SCHEMA_SQL);
        db.pragma(`user_version = ${INDEX_SCHEMA_VERSION}`);
      }).immediate();
    }
    // A quick structural probe: a truncated or overwritten file fails here rather than mid-command.
    db.prepare("SELECT count(*) FROM files").get();
  });
}

export function isCorruption(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? "";
  return (
    code === "SQLITE_CORRUPT" ||
    code === "SQLITE_NOTADB" ||
    code.startsWith("SQLITE_CORRUPT") ||
    code === "SQLITE_CANTOPEN"
  );
}
