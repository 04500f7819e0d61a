// The SQLite driver, loaded on first use: the native addon costs more to load than most commands take to
// run, so commands that never open a database never pay for it.
import { randomBytes } from "node:crypto";
import { existsSync, linkSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";

let sqlite: typeof BetterSqlite3 | null = null;

export function sqliteDriver(): typeof BetterSqlite3 {
  sqlite ??= createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  return sqlite;
}

/**
 * Opens a read-write database and prepares it with `init` (pragmas, migrations), retrying while another
 * process holds a lock until `timeoutMs` has passed. The busy timeout alone does not cover opening: switching
 * a new file to WAL upgrades a read lock to a write lock, and SQLite refuses such an upgrade at once
 * (SQLITE_BUSY, without waiting) when another process holds the write lock, as it does when several Keel
 * processes create the same database at the same moment.
 */
export function openDatabase(
  path: string,
  timeoutMs: number,
  init: (db: BetterSqlite3.Database) => void,
  /** Open only a file that exists: SQLite would otherwise create an empty one where a store vanished. */
  options: { mustExist?: boolean } = {},
): BetterSqlite3.Database {
  const Driver = sqliteDriver();
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const db = new Driver(path, { timeout: timeoutMs, fileMustExist: options.mustExist ?? false });
    try {
      init(db);
      return db;
    } catch (e) {
      db.close();
      if (!isBusy(e) || Date.now() >= deadline) throw e;
    }
    // Up to 100 ms between attempts, with jitter so that processes that collided do not collide again.
    pause(Math.min(100, 2 ** attempt) * (0.5 + Math.random()));
  }
}

/**
 * Creates a database at `path` without ever showing a half-made file there: it is built and prepared under a
 * temporary name, then hard-linked into place, which fails if another process got there first (whose file
 * is then used). So an empty file at `path` is always a truncated database, never one being created.
 */
export function createDatabase(
  path: string,
  timeoutMs: number,
  init: (db: BetterSqlite3.Database) => void,
): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    openDatabase(tmp, timeoutMs, init).close();
    linkInto(tmp, path);
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(tmp + suffix, { force: true });
  }
}

function linkInto(tmp: string, path: string): void {
  try {
    linkSync(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST") return;
    // File systems without hard links (FAT, some network shares): a rename, which loses only a creation race.
    if ((code === "EPERM" || code === "ENOTSUP" || code === "ENOSYS") && !existsSync(path))
      renameSync(tmp, path);
    else throw e;
  }
}

function isBusy(e: unknown): boolean {
  return String((e as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY");
}

/** A synchronous wait: the database API is synchronous, and a caller holding no lock may block. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Makes `db.prepare` return one statement per SQL text for the life of the connection: a connection kept open by
 * a long-lived process serves the same few queries thousands of times, and preparing is a measurable part of each.
 * A statement comes back in its default modes (not raw, plucked or expanded), as a fresh one would.
 */
export function reuseStatements(db: BetterSqlite3.Database): void {
  const prepared = new Map<string, BetterSqlite3.Statement>();
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const known = prepared.get(sql);
    if (known) {
      if (known.reader) known.raw(false).pluck(false).expand(false);
      return known;
    }
    const statement = prepare(sql);
    prepared.set(sql, statement);
    return statement;
  }) as typeof db.prepare;
}
