// The audit log's hash chain, shared by both stores: each event's hash covers its fields and the previous
// event's hash, so editing, deleting, inserting or reordering events breaks the chain at the first event touched.
// The embedded store appends through sqlite/audit-log.ts (with its segment in git), team mode through
// store/postgres/audit.ts; both verify with walkChain. Nothing here does I/O.
// @req CHG-8, TRU-4, TRU-5
import { createHash } from "node:crypto";
import { type EventRow, eventOfRow, type SegmentEvent } from "./anchor.js";

export type { EventRow } from "./anchor.js";

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

/** The event `input` becomes when it follows the event numbered `after` with hash `prevHash`. */
export function chainEvent(input: AuditInput, now: Date, after: number, prevHash: string): AuditEvent {
  const base = {
    seq: after + 1,
    at: now.toISOString(),
    actor: input.actor,
    actorKind: input.actorKind,
    action: input.action,
    target: input.target,
    before: input.before ?? null,
    after: input.after ?? null,
    reason: input.reason ?? null,
    data: input.data ?? null,
    prevHash,
  };
  return { ...base, hash: eventHash(base) };
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

export function fromRow(r: EventRow): AuditEvent {
  return eventOfRow(r) as AuditEvent;
}

/**
 * An event of another log as a store takes it in (`CoordinationStore.forward`): the same record, marked with the
 * log it came from and its number there, so the team's chain says where each event was first written.
 */
export function forwardedInput(origin: string, e: AuditEvent): AuditInput {
  return {
    actor: e.actor,
    actorKind: e.actorKind,
    action: e.action,
    target: e.target,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: { ...(e.data ?? {}), origin: { store: origin, seq: e.seq } },
  };
}

/** The key under which a store keeps how far it has taken `origin`'s log (or its evidence) in: its meta table. */
export const forwardKey = (origin: string, what: "events" | "evidence" = "events"): string =>
  what === "events" ? `forwarded:${origin}` : `forwarded-evidence:${origin}`;

/** `keel audit log`'s filter (every field optional, all of them must hold). */
export interface EventFilter {
  since?: string;
  actor?: string;
  target?: string;
  action?: string;
}

/**
 * The filter as a WHERE clause both stores' SQL reads, with `param(n)` spelling the n-th parameter (`?` in SQLite,
 * `$n` in PostgreSQL). A bare actor name matches that name of any kind; a target matches itself and what is under it.
 */
export function eventFilterSql(
  filter: EventFilter,
  param: (n: number) => string,
): { where: string; args: string[] } {
  const where: string[] = [];
  const args: string[] = [];
  const arg = (v: string) => {
    args.push(v);
    return param(args.length);
  };
  const like = (v: string) => v.replace(/[\\%_]/g, (c) => `\\${c}`);
  if (filter.since) where.push(`at >= ${arg(filter.since)}`);
  if (filter.actor) {
    if (filter.actor.includes(":")) where.push(`actor = ${arg(filter.actor)}`);
    else
      where.push(
        `(actor = ${arg(filter.actor)} OR actor LIKE ${arg(`%:${like(filter.actor)}`)} ESCAPE '\\')`,
      );
  }
  if (filter.target)
    where.push(
      `(target = ${arg(filter.target)} OR target LIKE ${arg(`${like(filter.target)}/%`)} ESCAPE '\\')`,
    );
  if (filter.action) where.push(`action = ${arg(filter.action)}`);
  return { where: where.length ? `WHERE ${where.join(" AND ")}` : "", args };
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
