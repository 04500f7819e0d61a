// Task claims with leases and fencing tokens, kept in `.keel/state.db` (the embedded store; team mode keeps them in
// PostgreSQL, ../postgres/claims.ts, under the same rules: ../claim-rules.ts).
//
// Every operation runs inside the project's write lock (`StateDb.exclusive`, an IMMEDIATE transaction), so
// the check and the write see the same row: under any race exactly one caller wins a task. A claim holds a
// lease until `now + ttl`; once that passes the task counts as free again, and the next claim takes it with a
// new fencing token. Tokens come from one project-wide counter, so they strictly increase. Any write that
// carries a token other than the task's current one is refused, so a worker that lost its lease can never
// overwrite its successor. Time is always passed in (`now`); nothing here reads the clock.
// @req TSK-6, TRU-7
import {
  CLAIM_ERRORS,
  type ClaimNote,
  type ClaimRow,
  type ClaimView,
  checkBlockReason,
  checkNoteText,
  checkTtl,
  claimView,
  type Finish,
  fenced,
  finishEvent,
  type Grant,
  grantEvent,
  heartbeatEvent,
  isFree,
  noteEvent,
  parseDuration,
  refusal,
  reopenable,
  reopenEvent,
  unclaimable,
} from "../claim-rules.js";
import type { StateDb } from "../state-db.js";
import { appendEvent } from "./audit-log.js";

export type { ClaimNote, ClaimStatus, ClaimView, Grant } from "../claim-rules.js";
export { CLAIM_ERRORS, parseDuration, refusal };

export class Claims {
  constructor(
    private readonly state: StateDb,
    private readonly projectRoot: string,
  ) {}

  private row(taskId: string): ClaimRow | undefined {
    return this.state.db.prepare("SELECT * FROM claims WHERE task_id = ?").get(taskId) as
      | ClaimRow
      | undefined;
  }

  /** The claim record of one task, or null when it was never claimed. */
  get(taskId: string, now: Date): ClaimView | null {
    const row = this.row(taskId);
    return row ? claimView(row, now.getTime()) : null;
  }

  /** Every claim record, ordered by task ID. */
  list(now: Date): ClaimView[] {
    const rows = this.state.db.prepare("SELECT * FROM claims ORDER BY task_id").all() as ClaimRow[];
    return rows.map((r) => claimView(r, now.getTime()));
  }

  /** Tasks no one may take now: claimed under a live lease, done or blocked (the complement of `free`). */
  heldKeys(now: Date): string[] {
    const rows = this.state.db
      .prepare(
        "SELECT task_id FROM claims WHERE status IN ('done', 'blocked') OR (status = 'claimed' AND lease_until > ?)",
      )
      .all(now.getTime()) as Array<{ task_id: string }>;
    return rows.map((r) => r.task_id);
  }

  /** Tasks a claim closed, done or blocked, with that status. */
  closed(): Map<string, "done" | "blocked"> {
    const rows = this.state.db
      .prepare("SELECT task_id, status FROM claims WHERE status IN ('done', 'blocked') ORDER BY task_id")
      .all() as Array<{ task_id: string; status: "done" | "blocked" }>;
    return new Map(rows.map((r) => [r.task_id, r.status]));
  }

  /** Handoff notes on a task, oldest first. */
  notes(taskId: string): ClaimNote[] {
    return this.state.db
      .prepare("SELECT task_id AS taskId, author, at, text FROM claim_notes WHERE task_id = ? ORDER BY seq")
      .all(taskId) as ClaimNote[];
  }

  // @req TSK-9
  /** Claims one task atomically. Refused when it is held under a live lease, done or blocked. */
  claim(taskId: string, holder: string, ttlMs: number, now: Date): Grant {
    checkTtl(ttlMs);
    return this.state.exclusive(() => {
      const row = this.row(taskId);
      if (row && !isFree(row, now.getTime())) throw unclaimable(taskId, row);
      return this.grant(taskId, holder, ttlMs, now, row);
    });
  }

  /**
   * Claims the first free task among `candidates` (task IDs ready by the graph, in order of preference) in
   * one transaction. `candidates` may be a function: it is then evaluated under the lock, so readiness is
   * computed from the same state the claim sees. Returns null when none is free.
   */
  claimNext(
    candidates: readonly string[] | (() => readonly string[]),
    holder: string,
    ttlMs: number,
    now: Date,
  ): Grant | null {
    checkTtl(ttlMs);
    return this.state.exclusive(() => {
      const ids = typeof candidates === "function" ? candidates() : candidates;
      const nowMs = now.getTime();
      const lookup = this.state.db.prepare("SELECT * FROM claims WHERE task_id = ?");
      for (const taskId of ids) {
        const row = lookup.get(taskId) as ClaimRow | undefined;
        if (isFree(row, nowMs)) return this.grant(taskId, holder, ttlMs, now, row);
      }
      return null;
    });
  }

  /** Inside the lock: takes the next fencing token and records the claim. */
  private grant(taskId: string, holder: string, ttlMs: number, now: Date, prev: ClaimRow | undefined): Grant {
    const db = this.state.db;
    const { value: token } = db
      .prepare("UPDATE counters SET value = value + 1 WHERE name = 'fencing' RETURNING value")
      .get() as { value: number };
    const leaseUntil = now.getTime() + ttlMs;
    db.prepare(
      `INSERT INTO claims (task_id, status, holder, token, lease_until, reason, updated_at)
       VALUES (?, 'claimed', ?, ?, ?, NULL, ?)
       ON CONFLICT (task_id) DO UPDATE SET status = 'claimed', holder = excluded.holder, token = excluded.token,
         lease_until = excluded.lease_until, reason = NULL, updated_at = excluded.updated_at`,
    ).run(taskId, holder, token, leaseUntil, now.toISOString());
    const grant = { taskId, holder, token, leaseUntil: new Date(leaseUntil).toISOString() };
    appendEvent(this.state, this.projectRoot, grantEvent(grant, prev), now);
    return grant;
  }

  /**
   * Extends the lease to `now + ttl`. Only the current token may; a holder whose lease expired but whom no
   * one has replaced still holds the current token and may extend it.
   */
  heartbeat(taskId: string, token: number, ttlMs: number, now: Date): Grant {
    checkTtl(ttlMs);
    return this.state.exclusive(() => {
      const row = fenced(taskId, this.row(taskId), token, "heartbeat");
      const leaseUntil = now.getTime() + ttlMs;
      this.state.db
        .prepare("UPDATE claims SET lease_until = ?, updated_at = ? WHERE task_id = ?")
        .run(leaseUntil, now.toISOString(), taskId);
      const grant = {
        taskId,
        holder: row.holder ?? "",
        token,
        leaseUntil: new Date(leaseUntil).toISOString(),
      };
      appendEvent(this.state, this.projectRoot, heartbeatEvent(grant), now);
      return grant;
    });
  }

  /** Gives the task back: it is ready again for anyone. */
  release(taskId: string, token: number, now: Date): ClaimView {
    return this.finish(taskId, token, { status: "released", verb: "release" }, null, now);
  }

  /** Marks the task done. */
  done(taskId: string, token: number, now: Date): ClaimView {
    return this.finish(taskId, token, { status: "done", verb: "done" }, null, now);
  }

  /** Marks the task blocked, with the reason; it is not claimable until reopened. */
  block(taskId: string, token: number, reason: string, now: Date): ClaimView {
    checkBlockReason(taskId, reason);
    return this.finish(taskId, token, { status: "blocked", verb: "block" }, reason, now);
  }

  private finish(taskId: string, token: number, finish: Finish, reason: string | null, now: Date): ClaimView {
    return this.state.exclusive(() => {
      const row = fenced(taskId, this.row(taskId), token, finish.verb);
      this.state.db
        .prepare(
          "UPDATE claims SET status = ?, lease_until = NULL, reason = ?, updated_at = ? WHERE task_id = ?",
        )
        .run(finish.status, reason, now.toISOString(), taskId);
      appendEvent(this.state, this.projectRoot, finishEvent(taskId, row, finish, reason), now);
      return claimView(this.row(taskId) as ClaimRow, now.getTime());
    });
  }

  /** Returns a done or blocked task to open, so it can be claimed again. */
  reopen(taskId: string, actor: string, now: Date): ClaimView {
    return this.state.exclusive(() => {
      const row = reopenable(taskId, this.row(taskId));
      this.state.db
        .prepare(
          "UPDATE claims SET status = 'open', holder = NULL, lease_until = NULL, reason = NULL, updated_at = ? WHERE task_id = ?",
        )
        .run(now.toISOString(), taskId);
      appendEvent(this.state, this.projectRoot, reopenEvent(taskId, row, actor), now);
      return claimView(this.row(taskId) as ClaimRow, now.getTime());
    });
  }

  /** Leaves a handoff note for whoever works on the task next. No claim is needed. */
  note(taskId: string, text: string, author: string, now: Date): ClaimNote {
    checkNoteText(taskId, text);
    return this.state.exclusive(() => {
      const at = now.toISOString();
      this.state.db
        .prepare("INSERT INTO claim_notes (task_id, author, at, text) VALUES (?, ?, ?, ?)")
        .run(taskId, author, at, text);
      const note = { taskId, author, at, text };
      appendEvent(this.state, this.projectRoot, noteEvent(note), now);
      return note;
    });
  }
}
