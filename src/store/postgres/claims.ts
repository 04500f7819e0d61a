// Task claims in the team store, under the rules the embedded store applies (../claim-rules.ts). A named task's
// row is locked (`FOR UPDATE`) so its check and write see the same state on every server; claim-next takes the
// first free candidate with `FOR UPDATE SKIP LOCKED`, so servers racing for the head of one ready queue each get
// a different task instead of queueing behind one row. Fencing tokens come from one PostgreSQL sequence, drawn
// under the task's row lock, so a task's later claim always carries a larger token whichever server made it.
// @req TEAM-3, TSK-6, TSK-7
import type { Pool, PoolClient } from "pg";
import type { AuditInput } from "../audit-chain.js";
import {
  type ClaimNote,
  type ClaimRow,
  type ClaimView,
  checkBlockReason,
  checkNoteText,
  checkTtl,
  claimView,
  fenced,
  finishEvent,
  type Grant,
  grantEvent,
  heartbeatEvent,
  isFree,
  noteEvent,
  reopenable,
  reopenEvent,
  unclaimable,
} from "../claim-rules.js";
import type { ClaimResult, ClaimStep } from "../coordination.js";

type Queryable = Pick<PoolClient, "query">;

export interface StepOutcome {
  result: ClaimResult;
  events: AuditInput[];
}

/** How many candidates one claim-next looks at per query: the head of the queue is where the free tasks are. */
const WINDOW = 64;

const HELD =
  "SELECT task_id FROM claims WHERE status IN ('done', 'blocked') OR (status = 'claimed' AND lease_until > $1)";

/**
 * Claim rows must exist to be locked. A task no one has claimed yet gets an `open` row, written outside the
 * claiming transaction (on its own connection, committed at once) so that a concurrent claim of another server
 * never waits on an uncommitted insert; each process seeds a task once.
 */
export class Seeder {
  readonly #seeded = new Set<string>();
  constructor(private readonly pool: Pool) {}

  async seed(keys: readonly string[], now: Date): Promise<void> {
    const fresh = keys.filter((k) => !this.#seeded.has(k));
    if (fresh.length === 0) return;
    await this.pool.query(
      `INSERT INTO claims (task_id, status, updated_at) SELECT k, 'open', $2 FROM unnest($1::text[]) AS k
       ON CONFLICT (task_id) DO NOTHING`,
      [fresh, now.toISOString()],
    );
    for (const k of fresh) this.#seeded.add(k);
  }
}

async function lockedRow(c: Queryable, key: string): Promise<ClaimRow | undefined> {
  return (await c.query("SELECT * FROM claims WHERE task_id = $1 FOR UPDATE", [key])).rows[0] as
    | ClaimRow
    | undefined;
}

/** Inside a transaction: runs one step; the caller commits its events with it. */
export async function runStep(
  c: Queryable,
  seeder: Seeder,
  step: ClaimStep,
  now: Date,
  held: () => Promise<Set<string>>,
): Promise<StepOutcome> {
  switch (step.op) {
    case "claim": {
      checkTtl(step.ttlMs);
      await seeder.seed([step.key], now);
      const row = await lockedRow(c, step.key);
      if (row && !isFree(row, now.getTime())) throw unclaimable(step.key, row);
      return grant(c, step.key, step.holder, step.ttlMs, now, row);
    }
    case "claim-next": {
      checkTtl(step.ttlMs);
      const taken = await held();
      const ids = step.candidates((k) => taken.has(k));
      await seeder.seed(ids, now);
      for (let at = 0; at < ids.length; at += WINDOW) {
        const outcome = await grantFirstFree(c, ids.slice(at, at + WINDOW), step.holder, step.ttlMs, now);
        if (outcome) {
          taken.add((outcome.result as Grant).taskId);
          return outcome;
        }
      }
      return { result: null, events: [] };
    }
    case "heartbeat": {
      checkTtl(step.ttlMs);
      const row = fenced(step.key, await lockedRow(c, step.key), step.token, "heartbeat");
      const leaseUntil = now.getTime() + step.ttlMs;
      await c.query("UPDATE claims SET lease_until = $1, updated_at = $2 WHERE task_id = $3", [
        leaseUntil,
        now.toISOString(),
        step.key,
      ]);
      const result = {
        taskId: step.key,
        holder: row.holder ?? "",
        token: step.token,
        leaseUntil: new Date(leaseUntil).toISOString(),
      };
      return { result, events: [heartbeatEvent(result)] };
    }
    case "finish": {
      if (step.finish.status === "blocked") checkBlockReason(step.key, step.reason ?? "");
      const row = fenced(step.key, await lockedRow(c, step.key), step.token, step.finish.verb);
      const after = await updated(
        c,
        "UPDATE claims SET status = $1, lease_until = NULL, reason = $2, updated_at = $3 WHERE task_id = $4 RETURNING *",
        [step.finish.status, step.reason, now.toISOString(), step.key],
      );
      return {
        result: claimView(after, now.getTime()),
        events: [finishEvent(step.key, row, step.finish, step.reason)],
      };
    }
    case "reopen": {
      const row = reopenable(step.key, await lockedRow(c, step.key));
      const after = await updated(
        c,
        "UPDATE claims SET status = 'open', holder = NULL, lease_until = NULL, reason = NULL, updated_at = $1 WHERE task_id = $2 RETURNING *",
        [now.toISOString(), step.key],
      );
      return { result: claimView(after, now.getTime()), events: [reopenEvent(step.key, row, step.actor)] };
    }
    case "note": {
      checkNoteText(step.key, step.text);
      const note: ClaimNote = {
        taskId: step.key,
        author: step.author,
        at: now.toISOString(),
        text: step.text,
      };
      await c.query("INSERT INTO claim_notes (task_id, author, at, text) VALUES ($1, $2, $3, $4)", [
        note.taskId,
        note.author,
        note.at,
        note.text,
      ]);
      return { result: note, events: [noteEvent(note)] };
    }
  }
}

async function updated(c: Queryable, sql: string, params: unknown[]): Promise<ClaimRow> {
  return (await c.query(sql, params)).rows[0] as ClaimRow;
}

/**
 * Grants the first of `ids`, in their order, that is free and that no other transaction holds locked, in one
 * statement (the row found, locked and written together); null when none of them is.
 */
async function grantFirstFree(
  c: Queryable,
  ids: readonly string[],
  holder: string,
  ttlMs: number,
  now: Date,
): Promise<StepOutcome | null> {
  const leaseUntil = now.getTime() + ttlMs;
  const result = await c.query(
    `WITH next AS (
       SELECT c.task_id, c.status, c.holder, c.token
       FROM unnest($1::text[]) WITH ORDINALITY AS w(task_id, ord) JOIN claims c ON c.task_id = w.task_id
       WHERE c.status IN ('open', 'released') OR (c.status = 'claimed' AND c.lease_until <= $2)
       ORDER BY w.ord LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
     UPDATE claims SET status = 'claimed', holder = $3, token = nextval('keel_fencing'), lease_until = $4,
       reason = NULL, updated_at = $5
     FROM next WHERE claims.task_id = next.task_id
     RETURNING claims.task_id, claims.token, next.status AS prev_status, next.holder AS prev_holder,
       next.token AS prev_token`,
    [ids, now.getTime(), holder, leaseUntil, now.toISOString()],
  );
  const row = result.rows[0] as
    | {
        task_id: string;
        token: number;
        prev_status: ClaimRow["status"];
        prev_holder: string | null;
        prev_token: number | null;
      }
    | undefined;
  if (!row) return null;
  const granted: Grant = {
    taskId: row.task_id,
    holder,
    token: row.token,
    leaseUntil: new Date(leaseUntil).toISOString(),
  };
  const prev = { status: row.prev_status, holder: row.prev_holder, token: row.prev_token } as ClaimRow;
  return { result: granted, events: [grantEvent(granted, prev)] };
}

/** With the task's row locked: the next fencing token, and the claim recorded. */
async function grant(
  c: Queryable,
  key: string,
  holder: string,
  ttlMs: number,
  now: Date,
  prev: ClaimRow | undefined,
): Promise<StepOutcome> {
  const leaseUntil = now.getTime() + ttlMs;
  const row = await updated(
    c,
    `UPDATE claims SET status = 'claimed', holder = $1, token = nextval('keel_fencing'), lease_until = $2,
       reason = NULL, updated_at = $3 WHERE task_id = $4 RETURNING *`,
    [holder, leaseUntil, now.toISOString(), key],
  );
  const result: Grant = {
    taskId: key,
    holder,
    token: row.token as number,
    leaseUntil: new Date(leaseUntil).toISOString(),
  };
  return { result, events: [grantEvent(result, prev)] };
}

export async function heldKeys(c: Queryable, now: Date): Promise<Set<string>> {
  const rows = (await c.query(HELD, [now.getTime()])).rows as Array<{ task_id: string }>;
  return new Set(rows.map((r) => r.task_id));
}

/** Every claim record, ordered by task ID (a seeded row no one has claimed is not a record). */
export async function listClaims(c: Queryable, now: Date): Promise<ClaimView[]> {
  const rows = (
    await c.query("SELECT * FROM claims WHERE token IS NOT NULL OR status <> 'open' ORDER BY task_id")
  ).rows as ClaimRow[];
  return rows.map((r) => claimView(r, now.getTime()));
}

export async function claimOf(c: Queryable, taskId: string, now: Date): Promise<ClaimView | null> {
  const row = (await c.query("SELECT * FROM claims WHERE task_id = $1", [taskId])).rows[0] as
    | ClaimRow
    | undefined;
  return row && (row.token !== null || row.status !== "open") ? claimView(row, now.getTime()) : null;
}

export async function listNotes(c: Queryable, taskId: string): Promise<ClaimNote[]> {
  return (
    await c.query(
      'SELECT task_id AS "taskId", author, at, text FROM claim_notes WHERE task_id = $1 ORDER BY seq',
      [taskId],
    )
  ).rows as ClaimNote[];
}

/** Inside a transaction: writes copied claim records and notes as they are (`keel store copy`). */
export async function loadClaims(
  c: Queryable,
  claims: readonly ClaimRow[],
  notes: readonly ClaimNote[],
): Promise<void> {
  if (claims.length > 0) {
    await c.query(
      `INSERT INTO claims (task_id, status, holder, token, lease_until, reason, updated_at)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::text[], $7::text[])
       ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, holder = excluded.holder, token = excluded.token,
         lease_until = excluded.lease_until, reason = excluded.reason, updated_at = excluded.updated_at`,
      [
        claims.map((r) => r.task_id),
        claims.map((r) => r.status),
        claims.map((r) => r.holder),
        claims.map((r) => r.token),
        claims.map((r) => r.lease_until),
        claims.map((r) => r.reason),
        claims.map((r) => r.updated_at),
      ],
    );
  }
  for (const n of notes)
    await c.query("INSERT INTO claim_notes (task_id, author, at, text) VALUES ($1, $2, $3, $4)", [
      n.taskId,
      n.author,
      n.at,
      n.text,
    ]);
}
