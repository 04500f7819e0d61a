// The SQLite driver, loaded on first use: the native addon costs more to load than most commands take to
// run, so commands that never open a database never pay for it.
import { createRequire } from "node:module";
import type BetterSqlite3 from "better-sqlite3";

let sqlite: typeof BetterSqlite3 | null = null;

export function sqliteDriver(): typeof BetterSqlite3 {
  sqlite ??= createRequire(import.meta.url)("better-sqlite3") as typeof BetterSqlite3;
  return sqlite;
}
