// The audit log in the team store: one hash chain for every server. Appends are serialised by a transaction-scoped
// advisory lock taken as the last step of a transaction (after its claims are decided), so the chain's head is read
// and extended by one writer at a time while the work before it runs concurrently; the lock ends with the commit.
// The insert also notifies every listening server (NOTIFY is delivered at commit, and only if it commits), which
// is how a claim made on one server reaches the live feed of all of them.
// @req TEAM-3, TEAM-4
import type { PoolClient } from "pg";
import {
  type AuditEvent,
  type AuditInput,
  chainEvent,
  type EventFilter,
  type EventRow,
  eventFilterSql,
  forwardedInput,
  forwardKey,
  fromRow,
  GENESIS,
  rowOfEvent,
} from "../audit-chain.js";
import { EVENTS_CHANNEL, LOCKS } from "./schema.js";

type Queryable = Pick<PoolClient, "query">;

const COLUMNS = [
  "seq",
  "at",
  "actor",
  "actor_kind",
  "action",
  "target",
  "before",
  "after",
  "reason",
  "data",
  "prev_hash",
  "hash",
] as const;

/** Inside a transaction: chains `inputs` onto the log's head and inserts them; the caller commits. */
export async function appendEvents(
  c: Queryable,
  inputs: ReadonlyArray<{ input: AuditInput; now: Date }>,
): Promise<AuditEvent[]> {
  if (inputs.length === 0) return [];
  await c.query("SELECT pg_advisory_xact_lock($1)", [LOCKS.audit]);
  const head = await c.query("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
  let seq = head.rows.length ? (head.rows[0].seq as number) : 0;
  let prevHash = head.rows.length ? (head.rows[0].hash as string) : GENESIS;
  const events = inputs.map(({ input, now }) => {
    const event = chainEvent(input, now, seq++, prevHash);
    prevHash = event.hash;
    return event;
  });
  await insertRows(c, events.map(rowOfEvent), true);
  return events;
}

/** Inserts rows as they are (an append's, or a copy's), notifying the servers of the newest sequence number. */
export async function insertRows(c: Queryable, rows: readonly EventRow[], notify: boolean): Promise<void> {
  for (let at = 0; at < rows.length; at += 1000) {
    const part = rows.slice(at, at + 1000);
    const params: unknown[] = [];
    const tuples = part.map((row) => {
      const marks = COLUMNS.map((col) => {
        params.push(row[col]);
        return `$${params.length}`;
      });
      return `(${marks.join(", ")})`;
    });
    const insert = `INSERT INTO events (${COLUMNS.join(", ")}) VALUES ${tuples.join(", ")} RETURNING seq`;
    await c.query(
      notify
        ? `WITH inserted AS (${insert}) SELECT pg_notify('${EVENTS_CHANNEL}', max(seq)::text) FROM inserted`
        : insert,
      params,
    );
  }
}

export async function eventsBetween(c: Queryable, after: number, upTo?: number): Promise<AuditEvent[]> {
  const result =
    upTo === undefined
      ? await c.query("SELECT * FROM events WHERE seq > $1 ORDER BY seq", [after])
      : await c.query("SELECT * FROM events WHERE seq > $1 AND seq <= $2 ORDER BY seq", [after, upTo]);
  return (result.rows as EventRow[]).map(fromRow);
}

export async function latestSeq(c: Queryable): Promise<number> {
  const result = await c.query("SELECT COALESCE(max(seq), 0) AS seq FROM events");
  return result.rows[0].seq as number;
}

export async function allRows(c: Queryable): Promise<EventRow[]> {
  return (await c.query("SELECT * FROM events ORDER BY seq")).rows as EventRow[];
}

export async function listEvents(c: Queryable, filter: EventFilter): Promise<AuditEvent[]> {
  const { where, args } = eventFilterSql(filter, (n) => `$${n}`);
  return ((await c.query(`SELECT * FROM events ${where} ORDER BY seq`, args)).rows as EventRow[]).map(
    fromRow,
  );
}

export async function forwardedUpTo(c: Queryable, origin: string): Promise<number> {
  const r = await c.query("SELECT value FROM keel_meta WHERE key = $1", [forwardKey(origin)]);
  return r.rows.length === 0 ? 0 : Number(r.rows[0].value);
}

/**
 * In the caller's transaction: appends the events of `origin` past its mark, and moves the mark. The mark's row is
 * locked first, so two processes forwarding one log at once take each event once (the second finds it taken).
 */
export async function forwardEvents(
  c: Queryable,
  origin: string,
  events: readonly AuditEvent[],
): Promise<number> {
  const key = forwardKey(origin);
  await c.query("INSERT INTO keel_meta (key, value) VALUES ($1, '0') ON CONFLICT (key) DO NOTHING", [key]);
  const mark = await c.query("SELECT value FROM keel_meta WHERE key = $1 FOR UPDATE", [key]);
  const taken = Number(mark.rows[0].value);
  const fresh = events.filter((e) => e.seq > taken);
  if (fresh.length === 0) return taken;
  await appendEvents(
    c,
    fresh.map((e) => ({ input: forwardedInput(origin, e), now: new Date(e.at) })),
  );
  const last = (fresh[fresh.length - 1] as AuditEvent).seq;
  await c.query("UPDATE keel_meta SET value = $2 WHERE key = $1", [key, String(last)]);
  return last;
}
