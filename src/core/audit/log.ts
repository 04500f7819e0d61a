// The audit log: an append-only, hash-chained record of every state-changing operation, in the local store.
// Each event's hash covers its fields and the previous event's hash, so editing, deleting, inserting or
// reordering events breaks the chain at the first event touched. The newest (seq, hash) is also kept in
// `.keel/audit-head`, so dropping events from the end is caught too.
// @req CHG-8
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../store/index-db.js";
import type { StateDb } from "../store/state-db.js";
import { writeFileAtomic } from "../workspace/atomic.js";

export const GENESIS = "0".repeat(64);
const HEAD_FILE = "audit-head";

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

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  actorKind: ActorKind;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

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
 * Appends one event. Call inside `state.exclusive(...)` together with the change it records, as the last step
 * (after the files are written): the head file is written here, so a transaction rolled back after this call
 * would leave the head one event ahead, which `verifyChain` reports as a deleted event.
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
  state.db
    .prepare(
      `INSERT INTO events (seq, at, actor, actor_kind, action, target, before, after, reason, data, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      event.seq,
      event.at,
      event.actor,
      event.actorKind,
      event.action,
      event.target,
      event.before,
      event.after,
      event.reason,
      event.data === null ? null : canonicalJson(event.data),
      event.prevHash,
      event.hash,
    );
  writeFileAtomic(join(projectRoot, STATE_DIR, HEAD_FILE), `${event.seq} ${event.hash}\n`);
  return event;
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

/** Stored data is JSON written by appendEvent; text edited into something else is kept, not thrown on. */
function parseData(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
  } catch {
    return { unparseable: text };
  }
}

function fromRow(r: EventRow): AuditEvent {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind as ActorKind,
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

/**
 * Walks the chain from the start and names the first event that does not fit, saying what most likely
 * happened to it: edited, deleted, inserted or reordered. Each event's hash covers its own sequence number,
 * so an event moved to another place (renumbered) still tells where it was written.
 */
export function verifyChain(state: StateDb, projectRoot: string): VerifyResult {
  const rows = state.db.prepare("SELECT * FROM events ORDER BY seq").all() as EventRow[];
  const n = rows.length;
  const head = readHead(projectRoot);
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
  if (!head) {
    return n === 0
      ? { ok: true, events: 0, firstBad: null }
      : result(
          n,
          `the log's head record (${STATE_DIR}/${HEAD_FILE}) is missing, so events deleted from the end cannot be ruled out`,
        );
  }
  if (head.seq > n) {
    return result(
      n + 1,
      `event ${n + 1} is missing: the log ends at event ${n} but event ${head.seq} was written (deleted from the end)`,
    );
  }
  if (head.seq < n) {
    return result(
      head.seq + 1,
      `event ${head.seq + 1} was inserted: Keel's last recorded event is ${head.seq}, but the log goes on to ${n}`,
    );
  }
  if (n > 0 && head.hash !== prev) {
    return result(n, `event ${n} was replaced: its hash differs from the one recorded when it was written`);
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

function readHead(projectRoot: string): { seq: number; hash: string } | null {
  try {
    const [seq, hash] = readFileSync(join(projectRoot, STATE_DIR, HEAD_FILE), "utf8")
      .trim()
      .split(" ");
    return seq && hash ? { seq: Number(seq), hash } : null;
  } catch {
    return null;
  }
}

/** One JSON object per line, oldest first: the chain can be re-verified from the export alone. */
export function exportJsonl(state: StateDb): string {
  return listEvents(state)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join("");
}
