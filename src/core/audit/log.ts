// The audit log: an append-only, hash-chained record of every state-changing operation, in the local store.
// Each event's hash covers its fields and the previous event's hash, so editing, deleting, inserting or
// reordering events breaks the chain at the first event touched. Every event is also appended to the store's
// segment in the working tree (`keel/audit/<store-id>.jsonl`, store/anchor.ts), which git carries: its last
// line is the head record that catches events dropped from the end, and it outlives the local store.
// @req CHG-8, TRU-4, TRU-5
import { createHash } from "node:crypto";
import {
  AUDIT_DIR,
  appendSegment,
  clearPending,
  dropUncommittedTail,
  type EventRow,
  eventOfRow,
  markPending,
  readLegacyHead,
  readSegmentTail,
  type SegmentEvent,
  segmentLine,
  segmentPath,
  storeIdOf,
  syncLocalStoreId,
} from "../../store/anchor.js";
import { STORE_UNREADABLE } from "../../store/guard.js";
import type { StateDb } from "../../store/state-db.js";
import { crashPoint } from "../../workspace/crash-point.js";
import { EXIT, KeelError } from "../../workspace/errors.js";

export type { EventRow } from "../../store/anchor.js";

export const GENESIS = "0".repeat(64);

export type ActorKind = "human" | "agent" | "system";

export interface AuditInput {
  actor: string;
  actorKind: ActorKind;
  action: string;
  target: string;
  before?: string | null;
  after?: string | null;
  reason?: string | null;
  /** Anything else worth keeping (tool, model, rule that refused, fingerprints…), as JSON. */
  data?: Record<string, unknown> | null;
}

/** An event as the log holds it: a segment line's fields, with the actor's kind checked. */
export interface AuditEvent extends Omit<SegmentEvent, "actorKind"> {
  actorKind: ActorKind;
}

export function eventHash(e: Omit<AuditEvent, "hash">): string {
  return hashFields(e, e.data === null ? null : canonicalJson(e.data));
}

/** The hash over an event's fields, with `data` as its stored canonical JSON text. */
function hashFields(e: Omit<AuditEvent, "hash" | "data">, dataText: string | null): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.actor,
    e.actorKind,
    e.action,
    e.target,
    e.before,
    e.after,
    e.reason,
    dataText,
    e.prevHash,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** JSON with object keys sorted, so a hash does not depend on key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/**
 * Appends one event. Call inside `state.exclusive(...)` together with the change it records. The event's line
 * is appended to the store's segment just before that transaction commits (`StateDb.beforeCommit`), so an
 * event rolled back never reaches the segment, and the segment grows in the order events are written.
 * A store older than its own segment (restored from an old backup, or with events deleted) is refused: an
 * event written there would take a number the segment already holds.
 */
export function appendEvent(
  state: StateDb,
  projectRoot: string,
  input: AuditInput,
  now = new Date(),
): AuditEvent {
  const last = state.db.prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").get() as
    | { seq: number; hash: string }
    | undefined;
  const storeId = storeIdOf(state.db) as string;
  refuseIfBehindSegment(projectRoot, storeId, last?.seq ?? 0);
  const base = {
    seq: (last?.seq ?? 0) + 1,
    at: now.toISOString(),
    actor: input.actor,
    actorKind: input.actorKind,
    action: input.action,
    target: input.target,
    before: input.before ?? null,
    after: input.after ?? null,
    reason: input.reason ?? null,
    data: input.data ?? null,
    prevHash: last?.hash ?? GENESIS,
  };
  const event: AuditEvent = { ...base, hash: eventHash(base) };
  const row = rowOfEvent(event);
  insertEvent(state, row);
  // Once per transaction: the hook writes every event the transaction committed, from the first one on.
  state.beforeCommitOnce(SEGMENT_WRITE, () => writeToSegment(state, projectRoot, storeId, row.seq));
  return event;
}

/** Stores one event row as it is (appendEvent's, or one re-imported from a segment by `keel store repair`). */
export function insertEvent(state: StateDb, row: EventRow): void {
  state.db
    .prepare(
      `INSERT INTO events (seq, at, actor, actor_kind, action, target, before, after, reason, data, prev_hash, hash)
       VALUES (@seq, @at, @actor, @actor_kind, @action, @target, @before, @after, @reason, @data, @prev_hash, @hash)`,
    )
    .run(row);
}

/** The row of an event read from a segment (its data as the canonical text its hash covers). */
export function rowOfEvent(e: AuditEvent): EventRow {
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    actor_kind: e.actorKind,
    action: e.action,
    target: e.target,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: e.data === null ? null : canonicalJson(e.data),
    prev_hash: e.prevHash,
    hash: e.hash,
  };
}

function refuseIfBehindSegment(projectRoot: string, storeId: string, lastSeq: number): void {
  const path = segmentPath(projectRoot, storeId);
  let recorded = readSegmentTail(path)?.last?.seq ?? 0;
  // Lines a writer killed between the segment's fsync and its commit appended: they never happened.
  if (recorded > lastSeq && dropUncommittedTail(projectRoot, path, lastSeq))
    recorded = readSegmentTail(path)?.last?.seq ?? 0;
  if (recorded <= lastSeq) return;
  throw new KeelError(
    `the store at .keel/state.db ends at event ${lastSeq}, but ${AUDIT_DIR}/${storeId}.jsonl records event ${recorded}: the local state is older than the repository's record of it (restored from an old backup, or events deleted)`,
    EXIT.unreadable,
    "run `keel audit verify` to see what differs, then rebuild the store from the segment with `keel store repair`",
    undefined,
    STORE_UNREADABLE,
  );
}

/**
 * Appends the event's line to the segment, first catching the segment up from the store when it lags (a branch
 * checked out with an older copy of it, or a copy cut short): every version of a segment is then a prefix of
 * the store's log, so any two of them, on any branches, agree where they overlap.
 */
/** The key of the one segment write of a transaction (StateDb.beforeCommitOnce). */
const SEGMENT_WRITE = {};

/**
 * Appends to the segment, in one write and one flush, every event of the transaction (`first` on: the rows of a
 * part rolled back are gone from the table, and its seqs taken again), preceded by any committed events the segment
 * lacks.
 */
function writeToSegment(state: StateDb, projectRoot: string, storeId: string, first: number): void {
  const path = segmentPath(projectRoot, storeId);
  const tail = readSegmentTail(path);
  const empty = tail === null || tail.size === tail.tornBytes;
  // A last line that is not an event (edited by hand) says nothing of where the segment ends: left for verify.
  const recorded = empty ? 0 : (tail.last?.seq ?? first - 1);
  const rows = state.db
    .prepare("SELECT * FROM events WHERE seq > ? ORDER BY seq")
    .all(Math.min(recorded, first - 1)) as EventRow[];
  const text = rows.map((r) => segmentLine(eventOfRow(r))).join("");
  // Until the commit, the lines are only pending: a writer killed before it commits leaves a marker saying so.
  markPending(projectRoot, path, first - 1);
  appendSegment(path, text, tail?.tornBytes ?? 0);
  crashPoint("audit");
  state.afterCommit(() => clearPending(projectRoot));
  syncLocalStoreId(projectRoot, storeId);
}

export interface EventFilter {
  since?: string;
  actor?: string;
  target?: string;
  action?: string;
}

export function listEvents(state: StateDb, filter: EventFilter = {}): AuditEvent[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.since) {
    where.push("at >= ?");
    args.push(filter.since);
  }
  if (filter.actor) {
    // `agent:codex-7` matches exactly; a bare name matches that name of any kind.
    if (filter.actor.includes(":")) {
      where.push("actor = ?");
      args.push(filter.actor);
    } else {
      where.push("(actor = ? OR substr(actor, instr(actor, ':') + 1) = ?)");
      args.push(filter.actor, filter.actor);
    }
  }
  if (filter.target) {
    where.push("(target = ? OR target LIKE ? ESCAPE '\\')");
    args.push(filter.target, `${filter.target.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`);
  }
  if (filter.action) {
    where.push("action = ?");
    args.push(filter.action);
  }
  const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq`;
  return (state.db.prepare(sql).all(...args) as EventRow[]).map(fromRow);
}

/** Events with `after < seq <= upTo`, oldest first (the live feed's tail of the log). */
export function eventsBetween(state: StateDb, after: number, upTo: number): AuditEvent[] {
  return (
    state.db
      .prepare("SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq")
      .all(after, upTo) as EventRow[]
  ).map(fromRow);
}

/** The newest event's sequence number; 0 for an empty log. */
export function latestSeq(state: StateDb): number {
  return (state.db.prepare("SELECT max(seq) AS seq FROM events").get() as { seq: number | null }).seq ?? 0;
}

/** Events whose target or data contains any of the strings (a cheap pre-filter; callers check exactly). */
export function eventsMentioning(state: StateDb, needles: string[]): AuditEvent[] {
  if (needles.length === 0) return [];
  const where = needles.map(() => "(instr(target, ?) > 0 OR instr(coalesce(data, ''), ?) > 0)").join(" OR ");
  const rows = state.db
    .prepare(`SELECT * FROM events WHERE ${where} ORDER BY seq`)
    .all(...needles.flatMap((n) => [n, n])) as EventRow[];
  return rows.map(fromRow);
}

function fromRow(r: EventRow): AuditEvent {
  return eventOfRow(r) as AuditEvent;
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** The first event that is wrong (or, for events dropped from the end, the first one missing). */
  firstBad: { seq: number; problem: string } | null;
}

/** The hash a stored row would have if it had been written with sequence number `seq`. */
function rowHash(r: EventRow, seq: number): string {
  const { data: _data, hash: _hash, ...fields } = fromRow(r);
  return hashFields({ ...fields, seq }, r.data);
}

/** Where the chain is known to end: the last line of the store's segment (or the head file of an older Keel). */
export interface HeadRecord {
  seq: number;
  hash: string;
  /** Where it was read, as the user should see it. */
  source: string;
}

/**
 * Verifies the local log: its chain, against the head its segment records (a store whose segment is gone
 * cannot rule out events deleted from the end), and against the head file of a Keel before segments.
 */
export function verifyChain(state: StateDb, projectRoot: string): VerifyResult {
  const rows = state.db.prepare("SELECT * FROM events ORDER BY seq").all() as EventRow[];
  const storeId = storeIdOf(state.db) as string;
  const source = `${AUDIT_DIR}/${storeId}.jsonl`;
  const tail = readSegmentTail(segmentPath(projectRoot, storeId));
  const head = tail?.last ? { seq: tail.last.seq, hash: tail.last.hash, source } : null;
  const walked = walkChain(rows, head);
  if (!walked.ok) return walked;
  const n = rows.length;
  if (head === null && n > 0) {
    return {
      ok: false,
      events: n,
      firstBad: {
        seq: n,
        problem: `the log's segment (${source}) is ${tail === null ? "missing" : "empty"}, so events deleted from the end cannot be ruled out`,
      },
    };
  }
  // An older Keel's head file, kept when it disagreed with the log it was migrated from.
  const legacy = readLegacyHead(projectRoot);
  if (legacy === null) return walked;
  const atLegacy = walkChain(rows.slice(0, Math.min(legacy.seq, n)), {
    ...legacy,
    source: ".keel/audit-head",
  });
  return atLegacy.ok ? walked : { ...atLegacy, events: n };
}

/**
 * Walks the chain from the start and names the first event that does not fit, saying what most likely
 * happened to it: edited, deleted, inserted or reordered. Each event's hash covers its own sequence number,
 * so an event moved to another place (renumbered) still tells where it was written.
 */
export function walkChain(rows: EventRow[], head: HeadRecord | null): VerifyResult {
  const n = rows.length;
  // How many events the log holds beyond (or short of) the count Keel recorded: > 0 means some were
  // inserted, < 0 that some were deleted, 0 that they were edited or moved. Unknown without the head record.
  const surplus = head ? n - head.seq : null;
  const result = (seq: number, problem: string): VerifyResult => ({
    ok: false,
    events: n,
    firstBad: { seq, problem },
  });
  let prev = GENESIS;
  for (let i = 0; i < n; i++) {
    const row = rows[i] as EventRow;
    const expected = i + 1;
    if (row.seq !== expected) {
      return row.seq > expected
        ? result(
            expected,
            `event ${expected} is missing: the log goes from event ${expected - 1} to event ${row.seq} (deleted)`,
          )
        : result(row.seq, `event ${row.seq} is out of place (expected event ${expected})`);
    }
    const selfOk = rowHash(row, row.seq) === row.hash;
    const linkOk = row.prev_hash === prev;
    if (selfOk && linkOk) {
      prev = row.hash;
      continue;
    }
    const laterHashes = new Set(rows.slice(i + 1).map((r) => r.hash));
    if (!selfOk) {
      // The next event, written one place earlier, follows the last good one: this one was slipped in.
      const next = rows[i + 1];
      if (
        (surplus === null || surplus > 0) &&
        next &&
        rowHash(next, next.seq - 1) === next.hash &&
        next.prev_hash === prev
      ) {
        return result(
          expected,
          `event ${expected} was inserted: event ${expected + 1} was written as event ${expected} and follows event ${expected - 1}`,
        );
      }
      const original = writtenAs(row, n);
      if (original !== null && original > expected) {
        const reordered = surplus === null ? laterHashes.has(row.prev_hash) : surplus === 0;
        return reordered
          ? result(
              expected,
              `event ${expected} is out of order (reordered): it was written as event ${original}`,
            )
          : result(
              expected,
              `event ${expected} was deleted: the event now numbered ${expected} was written as event ${original}, and later events were renumbered`,
            );
      }
      if (original !== null && original < expected) {
        return surplus === 0
          ? result(
              expected,
              `event ${expected} is out of order (reordered): it was written as event ${original}`,
            )
          : result(
              original,
              `event ${original} was inserted: the event now numbered ${expected} was written as event ${original}`,
            );
      }
      return result(expected, `event ${expected} was edited: its content does not match its hash`);
    }
    // The event is intact but does not follow the one before it.
    if (surplus !== null && surplus > 0) {
      return result(expected, `event ${expected} was inserted: it does not follow event ${expected - 1}`);
    }
    if (laterHashes.has(row.prev_hash)) {
      return result(
        expected,
        `event ${expected} is out of order (reordered): it follows an event that now comes later`,
      );
    }
    if (i === 0) return result(expected, `event 1 does not start the log: an event was inserted or deleted`);
    return result(
      expected - 1,
      `event ${expected - 1} was edited and its hash recomputed: event ${expected} no longer follows it`,
    );
  }
  if (!head) return { ok: true, events: n, firstBad: null };
  if (head.seq > n) {
    return result(
      n + 1,
      `event ${n + 1} is missing: the log ends at event ${n} but ${head.source} records event ${head.seq} (deleted from the end)`,
    );
  }
  if (head.seq < n) {
    return result(
      head.seq + 1,
      `event ${head.seq + 1} was inserted, or ${head.source} cut short: it ends at event ${head.seq}, but the log goes on to ${n}`,
    );
  }
  if (n > 0 && head.hash !== prev) {
    return result(n, `event ${n} was replaced: its hash differs from the one ${head.source} records`);
  }
  return { ok: true, events: n, firstBad: null };
}

/** The sequence number an event was written with, when it differs from the one it has now (renumbered). */
function writtenAs(row: EventRow, count: number): number | null {
  for (let d = 1; d <= count + 1; d++) {
    if (rowHash(row, row.seq + d) === row.hash) return row.seq + d;
    if (row.seq - d >= 1 && rowHash(row, row.seq - d) === row.hash) return row.seq - d;
  }
  return null;
}

/** One JSON object per line, oldest first: the chain can be re-verified from the export alone. */
export function exportJsonl(state: StateDb): string {
  return listEvents(state)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join("");
}
