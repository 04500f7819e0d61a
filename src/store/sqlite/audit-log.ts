// The audit log: an append-only, hash-chained record of every state-changing operation, in the local store.
// Each event's hash covers its fields and the previous event's hash, so editing, deleting, inserting or
// reordering events breaks the chain at the first event touched. Every event is also appended to the store's
// segment in the working tree (`keel/audit/<store-id>.jsonl`, store/anchor.ts), which git carries: its last
// line is the head record that catches events dropped from the end, and it outlives the local store.
// @req CHG-8, TRU-4, TRU-5

import { crashPoint } from "../../workspace/crash-point.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
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
  segmentLine,
  segmentPath,
  storeIdOf,
  syncLocalStoreId,
} from "../anchor.js";
import {
  type AuditEvent,
  type AuditInput,
  chainEvent,
  type EventFilter,
  eventFilterSql,
  eventHash,
  fromRow,
  GENESIS,
  rowOfEvent,
  type VerifyResult,
  walkChain,
} from "../audit-chain.js";
import { STORE_UNREADABLE } from "../guard.js";
import type { StateDb } from "../state-db.js";

export type {
  ActorKind,
  AuditEvent,
  AuditInput,
  EventFilter,
  EventRow,
  HeadRecord,
  VerifyResult,
} from "../audit-chain.js";
export { eventHash, GENESIS, rowOfEvent, walkChain };

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
  const event = chainEvent(input, now, last?.seq ?? 0, last?.hash ?? GENESIS);
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

export function listEvents(state: StateDb, filter: EventFilter = {}): AuditEvent[] {
  const { where, args } = eventFilterSql(filter, () => "?");
  return (state.db.prepare(`SELECT * FROM events ${where} ORDER BY seq`).all(...args) as EventRow[]).map(
    fromRow,
  );
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

/** One JSON object per line, oldest first: the chain can be re-verified from the export alone. */
/** Events as JSON Lines, one per line, in the log's order. */
export function exportJsonl(events: readonly AuditEvent[]): string {
  return events.map((e) => `${JSON.stringify(e)}\n`).join("");
}
