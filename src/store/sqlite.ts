// The SQLite driver, loaded on first use: the native addon costs more to load than most commands take to
// run, so commands that never open a database never pay for it.
import { createRequire } from "node:module";
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
): BetterSqlite3.Database {
  const Driver = sqliteDriver();
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 0; ; attempt++) {
    const db = new Driver(path, { timeout: timeoutMs });
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

function isBusy(e: unknown): boolean {
  return String((e as { code?: unknown }).code ?? "").startsWith("SQLITE_BUSY");
}

/** A synchronous wait: the database API is synchronous, and a caller holding no lock may block. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
