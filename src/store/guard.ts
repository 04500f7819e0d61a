// What stands between Keel and a store it must not trust: `.keel/state.db` is the local record of claims,
// tokens and audit events, so a file that is empty, foreign or damaged is refused with a clear error, never
// replaced, and a running process that finds its file deleted or swapped under it stops using it. SQLite's
// own damage reports (SQLITE_NOTADB, SQLITE_CORRUPT) raised mid-command are mapped here too, so that every
// surface names the file instead of reporting a Keel bug.
// @req TRU-6, TRU-8
import { closeSync, openSync, readSync, type Stats, statSync } from "node:fs";
import type BetterSqlite3 from "better-sqlite3";
import { EXIT, KeelError } from "../workspace/errors.js";
import { sqliteDriver } from "./sqlite.js";

/** How the store is named to the user: always relative to the project root. */
export const STORE_LABEL = ".keel/state.db";
/** Error codes of a store that cannot be used (`keel serve` answers both with 503). */
export const STORE_UNREADABLE = "store_unreadable";
export const STORE_REPLACED = "store_replaced";

const SQLITE_HEADER = Buffer.from("SQLite format 3\0", "latin1");

const WAY_OUT =
  "restore it from a backup, or run `keel store repair` (rebuilds it from the audit segment in keel/audit/) " +
  "or `keel store reset` (starts a fresh store; explicit and audited); Keel never overwrites or deletes it on its own";

export type StoreProblem = "foreign" | "truncated" | "damaged" | "missing";

/** The refusal for a store Keel will not open, naming the file and the way out. */
export function storeRefusal(problem: StoreProblem, detail?: string): KeelError {
  const what: Record<StoreProblem, string> = {
    foreign: "is not a Keel database",
    truncated: "is empty (truncated)",
    damaged: "is damaged",
    missing: "is missing",
  };
  const why = detail ? ` (${detail})` : "";
  return new KeelError(
    `the store at ${STORE_LABEL} ${what[problem]}${why}`,
    EXIT.unreadable,
    WAY_OUT,
    undefined,
    STORE_UNREADABLE,
  );
}

/** The refusal of a long-running process whose store file is no longer the one it opened. */
export function storeReplaced(): KeelError {
  return new KeelError(
    `the store at ${STORE_LABEL} was deleted or replaced while Keel was running; restart it`,
    EXIT.unreadable,
    "restart the command (or `keel serve`) so that it opens the store that is there now; if the store was lost, see `keel store repair`",
    undefined,
    STORE_REPLACED,
  );
}

/**
 * What is at `path` before SQLite touches it: nothing, or a file that starts like a SQLite database. A file of
 * zero bytes or with another header is refused here, because opening it read-write could let SQLite write to it.
 */
export function inspectStoreFile(path: string): "missing" | "sqlite" {
  const st = statOrNull(path);
  if (st === null) return "missing";
  if (!st.isFile()) throw storeRefusal("foreign", "not a regular file");
  if (st.size === 0) throw storeRefusal("truncated");
  const head = Buffer.alloc(SQLITE_HEADER.length);
  const fd = openSync(path, "r");
  try {
    readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (!head.equals(SQLITE_HEADER)) throw storeRefusal("foreign", "it does not start with a SQLite header");
  return "sqlite";
}

/**
 * Refuses a SQLite file that holds something other than Keel's state: tables but no schema version (another
 * program's database), or tables Keel never creates. Only reads, so a refused file is left byte for byte.
 */
export function assertKeelSchema(
  db: BetterSqlite3.Database,
  version: number,
  keelTables: ReadonlySet<string>,
): void {
  const tables = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{
      name: string;
    }>
  ).map((t) => t.name);
  if (version === 0 && tables.length > 0)
    throw storeRefusal("foreign", `it holds the tables ${tables.join(", ")}`);
  const unknown = tables.filter((t) => !keelTables.has(t));
  if (unknown.length > 0)
    throw storeRefusal("foreign", `it holds tables Keel never creates: ${unknown.join(", ")}`);
  if (version > 0 && !tables.includes("events")) throw storeRefusal("foreign", "it has no audit log");
}

/** The file's identity (device and inode): a replaced file has another one, a deleted file none. */
export type FileIdentity = Pick<Stats, "dev" | "ino">;

export function identityOf(path: string): FileIdentity | null {
  const st = statOrNull(path);
  return st === null ? null : { dev: st.dev, ino: st.ino };
}

export function sameFile(a: FileIdentity, b: FileIdentity | null): boolean {
  return b !== null && a.dev === b.dev && a.ino === b.ino;
}

/** SQLite's reports of a file that is not a database or whose pages are broken. */
export function isSqliteDamage(e: unknown): boolean {
  const code = String((e as { code?: unknown } | null)?.code ?? "");
  return code === "SQLITE_NOTADB" || code.startsWith("SQLITE_CORRUPT");
}

/** The state files this process opened: where to look when SQLite reports damage in the middle of a command. */
const opened = new Set<string>();

export function rememberOpened(path: string): void {
  opened.add(path);
}

/**
 * The clear error for a SQLite damage report raised after a store was opened, or null for any other error.
 * Names the state store when it is the damaged file (or the only candidate); otherwise the damage is in the
 * index, a cache that the next command rebuilds.
 */
export function storeErrorOf(e: unknown): KeelError | null {
  if (e instanceof KeelError || !isSqliteDamage(e)) return null;
  const detail = e instanceof Error ? e.message : String(e);
  for (const path of opened) if (looksDamaged(path)) return storeRefusal("damaged", detail);
  return new KeelError(
    `a database under .keel/ is damaged (${detail})`,
    EXIT.unreadable,
    `if ${STORE_LABEL} is intact, the damage is in .keel/index.db, a cache: delete it and run the command again`,
    undefined,
    STORE_UNREADABLE,
  );
}

function looksDamaged(path: string): boolean {
  try {
    if (inspectStoreFile(path) === "missing") return false;
    const db = new (sqliteDriver())(path, { readonly: true, fileMustExist: true });
    try {
      return db.pragma("quick_check(1)", { simple: true }) !== "ok";
    } finally {
      db.close();
    }
  } catch {
    return true;
  }
}

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
