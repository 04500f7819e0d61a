// Where the audit log is anchored outside `.keel/`, and how Keel knows that local state existed.
//
// Every audit event is also appended to `keel/audit/<store-id>.jsonl` in the working tree: one file per
// store (one per clone or worktree), so branches of different clones never touch the same file and a
// merge of them never conflicts; the file only ever grows, so a commit carries it, a clone has it and a
// push shares it. Which of those files is this clone's own is recorded in the git directory
// (`<git dir>/keel-store`), which `rm -rf .keel` does not reach and a fresh clone does not have: a fresh
// clone legitimately starts a store of its own, while a clone that had one must never start over silently.
// @req TRU-4, TRU-6, TRU-7
import { randomBytes } from "node:crypto";
import {
  closeSync,
  existsSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { writeFileAtomic } from "../workspace/atomic.js";
import { AUDIT_DIR } from "../workspace/paths.js";
import { STATE_DIR } from "./index-db.js";

export { AUDIT_DIR };

const MARKER = "keel-store";

type Database = BetterSqlite3.Database;

/** The project's git directory (a worktree's own one, not the common one), found on disk without running git. */
export function gitDirOf(projectRoot: string): string | null {
  for (let dir = resolve(projectRoot); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    const st = statOrNull(dotGit);
    if (st?.isDirectory()) return dotGit;
    if (st?.isFile()) {
      // Worktrees and submodules: `.git` is a file holding `gitdir: <path>`.
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
      if (m) return isAbsolute(m[1] as string) ? (m[1] as string) : resolve(dir, m[1] as string);
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The segment file of one store. */
export function segmentPath(projectRoot: string, storeId: string): string {
  return join(projectRoot, AUDIT_DIR, `${storeId}.jsonl`);
}

/** The IDs of every store whose segment is in the working tree (this clone's and those of others). */
export function segmentIds(projectRoot: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(projectRoot, AUDIT_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".jsonl"))
    .map((n) => n.slice(0, -".jsonl".length))
    .sort();
}

/** This clone's store ID as recorded in its git directory; null outside git or before its first store. */
export function readLocalStoreId(projectRoot: string): string | null {
  const gitDir = gitDirOf(projectRoot);
  if (gitDir === null) return null;
  try {
    const id = readFileSync(join(gitDir, MARKER), "utf8").trim();
    return /^[0-9a-f]{8,64}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Records this clone's store ID in its git directory (nothing outside git, where no other clone exists). */
export function writeLocalStoreId(projectRoot: string, storeId: string): void {
  const gitDir = gitDirOf(projectRoot);
  if (gitDir !== null && existsSync(gitDir)) writeFileAtomic(join(gitDir, MARKER), `${storeId}\n`);
}

/**
 * Why the repository says this clone had local state, or null when it never did. Inside git: the clone's
 * marker names a store whose segment holds events. Outside git there is only one copy of the project, so
 * any non-empty segment is its own.
 */
export function stateExisted(projectRoot: string): { reason: string; segment: string } | null {
  const inGit = gitDirOf(projectRoot) !== null;
  const own = readLocalStoreId(projectRoot);
  const candidates = inGit ? (own === null ? [] : [own]) : segmentIds(projectRoot);
  for (const id of candidates) {
    const path = segmentPath(projectRoot, id);
    if ((statOrNull(path)?.size ?? 0) > 0) {
      return {
        reason: `${AUDIT_DIR}/${id}.jsonl records this ${inGit ? "clone's" : "project's"} audit events`,
        segment: `${AUDIT_DIR}/${id}.jsonl`,
      };
    }
  }
  return null;
}

/** A fresh store ID: random, so two clones never pick the same segment file. */
export function newStoreId(): string {
  return randomBytes(8).toString("hex");
}

/** The store's ID (migration 5); null only before the migration ran. */
export function storeIdOf(db: Database): string | null {
  const row = db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as
    | { value: string }
    | undefined;
  return row?.value ?? null;
}

/**
 * Gives a store its identity the first time it is opened with migration 5: a new store takes `storeId` (a
 * repair continues the segment of the store it rebuilds) or a fresh one; a store of an older schema also gets
 * its events written into its new segment, so the repository holds them from then on. The fencing counter
 * starts at the highest token any segment records, so a store that replaces a lost one never hands out a token
 * that was handed out before. Runs inside the migration's transaction, so only one process does it.
 */
export function establishIdentity(db: Database, projectRoot: string, storeId?: string): void {
  if (storeIdOf(db) !== null) return;
  const id = storeId ?? newStoreId();
  db.prepare("INSERT INTO meta (key, value) VALUES ('store_id', ?)").run(id);
  db.prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'fencing'").run(
    fencingHighWater(projectRoot),
  );
  const rows = db.prepare("SELECT * FROM events ORDER BY seq").all() as EventRow[];
  const last = rows.at(-1);
  if (last === undefined || existsSync(segmentPath(projectRoot, id))) return;
  writeFileAtomic(segmentPath(projectRoot, id), rows.map((r) => segmentLine(eventOfRow(r))).join(""));
  // The segment's last line is the head record from now on; a head file that disagrees is kept as evidence.
  const head = readLegacyHead(projectRoot);
  if (head && head.seq === last.seq && head.hash === last.hash) rmSync(legacyHeadPath(projectRoot));
}

/** Keeps the clone's marker naming the store it writes to (a store created, reset or repaired changes it). */
export function syncLocalStoreId(projectRoot: string, storeId: string): void {
  if (readLocalStoreId(projectRoot) !== storeId) writeLocalStoreId(projectRoot, storeId);
}

// ---- Events as rows and as lines -------------------------------------------------------------------------

/** An event as stored in `.keel/state.db` (the tamper tests write these directly). */
export interface EventRow {
  seq: number;
  at: string;
  actor: string;
  actor_kind: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

/** An event as a segment line and `keel audit export` hold it: the same object, keys in the same order. */
export interface SegmentEvent {
  seq: number;
  at: string;
  actor: string;
  actorKind: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

export function eventOfRow(r: EventRow): SegmentEvent {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind,
    action: r.action,
    target: r.target,
    before: r.before,
    after: r.after,
    reason: r.reason,
    data: r.data === null ? null : parseData(r.data),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** Stored data is JSON written by appendEvent; text edited into something else is kept, not thrown on. */
function parseData(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unparseable: text };
  }
}

export function segmentLine(e: SegmentEvent): string {
  return `${JSON.stringify(e)}\n`;
}

// ---- Reading and appending segments ----------------------------------------------------------------------

/** One complete line of a segment: its 1-based line number, its text and the event it holds (null: not one). */
export interface SegmentEntry {
  line: number;
  text: string;
  event: SegmentEvent | null;
}

export interface Segment {
  exists: boolean;
  entries: SegmentEntry[];
  /** Bytes after the last newline: an append cut short by a crash. Never an event; the next append cuts it off. */
  tornBytes: number;
}

export function readSegment(path: string): Segment {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return { exists: false, entries: [], tornBytes: 0 };
  }
  return parseSegment(text);
}

/** A segment's text (from the working tree or a commit) as its complete lines and its torn tail. */
export function parseSegment(text: string): Segment {
  const end = text.lastIndexOf("\n") + 1;
  const lines = text.slice(0, end).split("\n");
  lines.pop();
  return {
    exists: true,
    entries: lines.map((t, i) => ({ line: i + 1, text: t, event: parseEvent(t) })),
    tornBytes: Buffer.byteLength(text.slice(end)),
  };
}

/** The event a line holds, when it is one: an object with the fields every event has, of their types. */
function parseEvent(text: string): SegmentEvent | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (!v || typeof v !== "object" || Array.isArray(v)) return null;
  const e = v as Record<string, unknown>;
  const str = (k: string) => typeof e[k] === "string";
  const strOrNull = (k: string) => e[k] === null || typeof e[k] === "string";
  const ok =
    Number.isSafeInteger(e.seq) &&
    ["at", "actor", "actorKind", "action", "target", "prevHash", "hash"].every(str) &&
    ["before", "after", "reason"].every(strOrNull) &&
    (e.data === null || (typeof e.data === "object" && !Array.isArray(e.data)));
  return ok ? (e as unknown as SegmentEvent) : null;
}

/** The end of a segment, read from the back: its size, its torn tail and its last complete event. */
export interface SegmentTail {
  size: number;
  tornBytes: number;
  last: SegmentEvent | null;
}

export function readSegmentTail(path: string): SegmentTail | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const size = statSync(path).size;
    // A window from the end, doubled until it holds the whole last line (lines are small; a few are large).
    for (let window = 65_536; ; window *= 2) {
      const start = Math.max(0, size - window);
      const buf = Buffer.alloc(size - start);
      readSync(fd, buf, 0, buf.length, start);
      const lastNl = buf.lastIndexOf(10);
      const prevNl = lastNl <= 0 ? -1 : buf.lastIndexOf(10, lastNl - 1);
      if (start > 0 && prevNl === -1) continue;
      const tornBytes = buf.length - lastNl - 1;
      const last = lastNl === -1 ? null : parseEvent(buf.subarray(prevNl + 1, lastNl).toString("utf8"));
      return { size, tornBytes, last };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Appends `text` (whole lines) to a segment: opened for appending, written, then flushed to disk. A torn tail
 * is cut off first, so every line starts at the start of a line.
 */
export function appendSegment(path: string, text: string, tornBytes: number): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a");
  try {
    if (tornBytes > 0) ftruncateSync(fd, statSync(path).size - tornBytes);
    writeSync(fd, Buffer.from(text, "utf8"));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Lines a transaction appended to the segment before its commit. Each writing process keeps one marker while its
 * transaction is between the segment's fsync and SQLite's commit: `.keel/audit-pending-<pid>`, holding the store's
 * last event before the transaction and the segment's size then. A process killed in that window leaves its marker,
 * so the next writer can tell a segment ahead of the store by lines that never committed (dropped) from a store
 * older than the segment — restored from an old backup — which is refused.
 */
const PENDING_PREFIX = "audit-pending-";

/** Whether this process's transaction in progress has written its marker (transactions never interleave here). */
let marked = false;

function pendingPath(projectRoot: string, pid = process.pid): string {
  return join(projectRoot, STATE_DIR, `${PENDING_PREFIX}${pid}`);
}

/** Notes, before a transaction's first line reaches the segment, where the segment and the store stood. */
export function markPending(projectRoot: string, segment: string, headSeq: number): void {
  if (marked) return;
  writeFileSync(pendingPath(projectRoot), `${headSeq} ${statOrNull(segment)?.size ?? 0}\n`);
  marked = true;
}

/** The transaction committed: its lines are the store's. */
export function clearPending(projectRoot: string): void {
  if (!marked) return;
  rmSync(pendingPath(projectRoot), { force: true });
  marked = false;
}

/**
 * Called under the store's write lock, with the store's last event: drops from the segment the lines a killed
 * writer appended and never committed (its marker names the store's last event as where it started), and removes
 * markers that no longer describe anything. True when lines were dropped.
 */
export function dropUncommittedTail(projectRoot: string, segment: string, lastSeq: number): boolean {
  const dir = join(projectRoot, STATE_DIR);
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(PENDING_PREFIX));
  } catch {
    return false;
  }
  let dropped = false;
  for (const name of names) {
    const path = join(dir, name);
    const [head, size] = readFileSync(path, "utf8").trim().split(" ").map(Number);
    const now = statOrNull(segment)?.size ?? 0;
    if (head === lastSeq && size !== undefined && Number.isSafeInteger(size) && now > size) {
      truncateSync(segment, size);
      dropped = true;
    }
    rmSync(path, { force: true });
    if (name === `${PENDING_PREFIX}${process.pid}`) marked = false;
  }
  return dropped;
}

/**
 * The highest fencing token any segment in keel/audit/ records: those of claims (and of the claims they
 * replaced), and the counter a repair or reset set. 0 when there is none.
 */
export function fencingHighWater(projectRoot: string): number {
  let high = 0;
  for (const id of segmentIds(projectRoot)) {
    for (const { event } of readSegment(segmentPath(projectRoot, id)).entries) {
      for (const key of ["token", "expiredToken", "fencing"]) {
        const v = event?.data?.[key];
        if (typeof v === "number" && Number.isSafeInteger(v) && v > high) high = v;
      }
    }
  }
  return high;
}

// ---- The head file of stores before segments -----------------------------------------------------------

/** Where Keel before migration 5 recorded the newest (seq, hash); read so that old evidence still counts. */
export function legacyHeadPath(projectRoot: string): string {
  return join(projectRoot, STATE_DIR, "audit-head");
}

export function readLegacyHead(projectRoot: string): { seq: number; hash: string } | null {
  try {
    const [seq, hash] = readFileSync(legacyHeadPath(projectRoot), "utf8").trim().split(" ");
    return seq && hash ? { seq: Number(seq), hash } : null;
  } catch {
    return null;
  }
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
