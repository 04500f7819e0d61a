// Task claims with leases and fencing tokens, kept in `.keel/state.db`.
//
// Every operation runs inside the project's write lock (`StateDb.exclusive`, an IMMEDIATE transaction), so
// the check and the write see the same row: under any race exactly one caller wins a task. A claim holds a
// lease until `now + ttl`; once that passes the task counts as free again, and the next claim takes it with a
// new fencing token. Tokens come from one project-wide counter, so they strictly increase. Any write that
// carries a token other than the task's current one is refused, so a worker that lost its lease can never
// overwrite its successor. Time is always passed in (`now`); nothing here reads the clock.
// @req TSK-6, TRU-7
import type { StateDb } from "../../store/state-db.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { type ActorKind, appendEvent } from "../audit/log.js";

export type ClaimStatus = "open" | "claimed" | "done" | "blocked" | "released";

/** A task's claim record as seen at a given time. */
export interface ClaimView {
  taskId: string;
  status: ClaimStatus;
  /** The holder of the current claim, or of the last one for a done or blocked task. */
  holder: string | null;
  /** The fencing token of the latest claim. */
  token: number | null;
  /** ISO time the lease ends (claimed tasks only). */
  leaseUntil: string | null;
  /** True while the task is claimed under a lease that has not expired. */
  live: boolean;
  /** True when a claim would succeed now: never claimed, released, or claimed under an expired lease. */
  free: boolean;
  /** Why the task is blocked. */
  reason: string | null;
  updatedAt: string;
}

export interface ClaimNote {
  taskId: string;
  author: string;
  at: string;
  text: string;
}

/** The result of a successful claim: the token to present on every later write. */
export interface Grant {
  taskId: string;
  holder: string;
  token: number;
  leaseUntil: string;
}

/** Error codes (`KeelError.code`) of the refusals below; all exit with code 6 (`EXIT.claim`), but a bad ttl is a usage error. */
export const CLAIM_ERRORS = {
  /** The task is claimed by someone else under a live lease. */
  held: "claim-held",
  /** The task is done or blocked: it cannot be claimed. */
  closed: "claim-closed",
  /** The token presented is not the task's current one (a successor claimed it), or it was never claimed. */
  stale: "claim-stale-token",
  /** The token is current but the task is no longer claimed (released, done or blocked already). */
  notClaimed: "claim-not-claimed",
  /** A ttl that is not a positive number of milliseconds. */
  ttl: "claim-bad-ttl",
  /** No task has that ID. */
  unknown: "claim-unknown-task",
} as const;

interface Row {
  task_id: string;
  status: ClaimStatus;
  holder: string | null;
  token: number | null;
  lease_until: number | null;
  reason: string | null;
  updated_at: string;
}

// @req TSK-7, TSK-9
export function refusal(code: string, message: string, hint: string): KeelError {
  return new KeelError(message, code === CLAIM_ERRORS.ttl ? EXIT.usage : EXIT.claim, hint, undefined, code);
}

/** `kind:name` holders keep their kind; a bare name is an agent. */
function actorOf(holder: string): { actor: string; actorKind: ActorKind } {
  const m = /^(human|agent|system):(.+)$/.exec(holder);
  if (m) return { actor: holder, actorKind: m[1] as ActorKind };
  return { actor: `agent:${holder}`, actorKind: "agent" };
}

function isLive(row: Row, nowMs: number): boolean {
  return row.status === "claimed" && row.lease_until !== null && row.lease_until > nowMs;
}

function isFree(row: Row | undefined, nowMs: number): boolean {
  if (!row) return true;
  if (row.status === "open" || row.status === "released") return true;
  return row.status === "claimed" && !isLive(row, nowMs);
}

function view(row: Row, nowMs: number): ClaimView {
  return {
    taskId: row.task_id,
    status: row.status,
    holder: row.holder,
    token: row.token,
    leaseUntil: row.lease_until === null ? null : new Date(row.lease_until).toISOString(),
    live: isLive(row, nowMs),
    free: isFree(row, nowMs),
    reason: row.reason,
    updatedAt: row.updated_at,
  };
}

function checkTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw refusal(
      CLAIM_ERRORS.ttl,
      `lease ttl must be a positive duration, got ${ttlMs} ms`,
      "pass a ttl such as 15m or 900000 ms",
    );
  }
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses a lease duration such as `15m`, `90s`, `2h`, `1d` or `500ms` (a bare number is milliseconds). */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  const ms = m ? Number(m[1]) * (UNITS[m[2] ?? "ms"] as number) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw refusal(
      CLAIM_ERRORS.ttl,
      `"${text}" is not a lease duration`,
      "write a positive number with a unit: 500ms, 90s, 15m, 2h or 1d",
    );
  }
  return ms;
}

export class Claims {
  constructor(
    private readonly state: StateDb,
    private readonly projectRoot: string,
  ) {}

  private row(taskId: string): Row | undefined {
    return this.state.db.prepare("SELECT * FROM claims WHERE task_id = ?").get(taskId) as Row | undefined;
  }

  /** The claim record of one task, or null when it was never claimed. */
  get(taskId: string, now: Date): ClaimView | null {
    const row = this.row(taskId);
    return row ? view(row, now.getTime()) : null;
  }

  /** Every claim record, ordered by task ID. */
  list(now: Date): ClaimView[] {
    const rows = this.state.db.prepare("SELECT * FROM claims ORDER BY task_id").all() as Row[];
    return rows.map((r) => view(r, now.getTime()));
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
      const nowMs = now.getTime();
      if (row && !isFree(row, nowMs)) {
        if (row.status === "claimed") {
          throw refusal(
            CLAIM_ERRORS.held,
            `task ${taskId} is already claimed by ${row.holder} (token ${row.token}) until ${new Date(row.lease_until ?? 0).toISOString()}`,
            "pick another task (keel tasks next), or wait for the lease to expire",
          );
        }
        throw refusal(
          CLAIM_ERRORS.closed,
          `task ${taskId} is ${row.status}${row.reason ? ` (${row.reason})` : ""}; it cannot be claimed`,
          row.status === "done" ? "it is finished; pick another task" : "unblock it before claiming it",
        );
      }
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
        const row = lookup.get(taskId) as Row | undefined;
        if (isFree(row, nowMs)) return this.grant(taskId, holder, ttlMs, now, row);
      }
      return null;
    });
  }

  /** Inside the lock: takes the next fencing token and records the claim. */
  private grant(taskId: string, holder: string, ttlMs: number, now: Date, prev: Row | undefined): Grant {
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
    const expired = prev?.status === "claimed";
    appendEvent(
      this.state,
      this.projectRoot,
      {
        ...actorOf(holder),
        action: "task.claim",
        target: taskId,
        before: prev?.status ?? "open",
        after: "claimed",
        // The holder as given, the token and the lease end: `keel store repair` rebuilds the claim from these.
        data: {
          holder,
          token,
          leaseUntil: new Date(leaseUntil).toISOString(),
          ...(expired ? { expiredHolder: prev.holder, expiredToken: prev.token } : {}),
        },
      },
      now,
    );
    return { taskId, holder, token, leaseUntil: new Date(leaseUntil).toISOString() };
  }

  // @req TSK-7
  /**
   * Inside the lock: the task's row when `token` is its current token and it is claimed; otherwise a refusal
   * naming the current holder.
   */
  private fenced(taskId: string, token: number, verb: string): Row {
    const row = this.row(taskId);
    if (!row || row.token === null) {
      throw refusal(
        CLAIM_ERRORS.stale,
        `cannot ${verb} task ${taskId}: it was never claimed, so token ${token} is not valid`,
        "claim it first (keel tasks claim)",
      );
    }
    if (row.token !== token) {
      throw refusal(
        CLAIM_ERRORS.stale,
        `cannot ${verb} task ${taskId}: token ${token} is stale; the current claim is held by ${row.holder ?? "nobody"} with token ${row.token} (${row.status})`,
        "your lease was lost to another claim; stop work on this task and claim another",
      );
    }
    if (row.status !== "claimed") {
      throw refusal(
        CLAIM_ERRORS.notClaimed,
        `cannot ${verb} task ${taskId}: it is ${row.status}, no longer claimed (last holder ${row.holder}, token ${row.token})`,
        "claim it again to work on it",
      );
    }
    return row;
  }

  /**
   * Extends the lease to `now + ttl`. Only the current token may; a holder whose lease expired but whom no
   * one has replaced still holds the current token and may extend it.
   */
  heartbeat(taskId: string, token: number, ttlMs: number, now: Date): Grant {
    checkTtl(ttlMs);
    return this.state.exclusive(() => {
      const row = this.fenced(taskId, token, "heartbeat");
      const leaseUntil = now.getTime() + ttlMs;
      this.state.db
        .prepare("UPDATE claims SET lease_until = ?, updated_at = ? WHERE task_id = ?")
        .run(leaseUntil, now.toISOString(), taskId);
      const holder = row.holder ?? "";
      appendEvent(
        this.state,
        this.projectRoot,
        {
          ...actorOf(holder),
          action: "task.heartbeat",
          target: taskId,
          before: "claimed",
          after: "claimed",
          data: { token, leaseUntil: new Date(leaseUntil).toISOString() },
        },
        now,
      );
      return { taskId, holder, token, leaseUntil: new Date(leaseUntil).toISOString() };
    });
  }

  /** Gives the task back: it is ready again for anyone. */
  release(taskId: string, token: number, now: Date): ClaimView {
    return this.finish(taskId, token, "released", null, now, "release");
  }

  /** Marks the task done. */
  done(taskId: string, token: number, now: Date): ClaimView {
    return this.finish(taskId, token, "done", null, now, "done");
  }

  /** Marks the task blocked, with the reason; it is not claimable until reopened. */
  block(taskId: string, token: number, reason: string, now: Date): ClaimView {
    if (reason.trim() === "") {
      throw refusal("claim-no-reason", `blocking task ${taskId} needs a reason`, "pass --reason <why>");
    }
    return this.finish(taskId, token, "blocked", reason, now, "block");
  }

  private finish(
    taskId: string,
    token: number,
    status: "released" | "done" | "blocked",
    reason: string | null,
    now: Date,
    verb: string,
  ): ClaimView {
    return this.state.exclusive(() => {
      const row = this.fenced(taskId, token, verb);
      this.state.db
        .prepare(
          "UPDATE claims SET status = ?, lease_until = NULL, reason = ?, updated_at = ? WHERE task_id = ?",
        )
        .run(status, reason, now.toISOString(), taskId);
      appendEvent(
        this.state,
        this.projectRoot,
        {
          ...actorOf(row.holder ?? ""),
          action: `task.${verb}`,
          target: taskId,
          before: "claimed",
          after: status,
          reason,
          data: { token },
        },
        now,
      );
      return view(this.row(taskId) as Row, now.getTime());
    });
  }

  /** Returns a done or blocked task to open, so it can be claimed again. */
  reopen(taskId: string, actor: string, now: Date): ClaimView {
    return this.state.exclusive(() => {
      const row = this.row(taskId);
      if (!row || (row.status !== "done" && row.status !== "blocked")) {
        throw refusal(
          CLAIM_ERRORS.notClaimed,
          `task ${taskId} is ${row?.status ?? "open"}; only a done or blocked task can be reopened`,
          "nothing to reopen",
        );
      }
      this.state.db
        .prepare(
          "UPDATE claims SET status = 'open', holder = NULL, lease_until = NULL, reason = NULL, updated_at = ? WHERE task_id = ?",
        )
        .run(now.toISOString(), taskId);
      appendEvent(
        this.state,
        this.projectRoot,
        { ...actorOf(actor), action: "task.reopen", target: taskId, before: row.status, after: "open" },
        now,
      );
      return view(this.row(taskId) as Row, now.getTime());
    });
  }

  /** Leaves a handoff note for whoever works on the task next. No claim is needed. */
  note(taskId: string, text: string, author: string, now: Date): ClaimNote {
    if (text.trim() === "") {
      throw refusal("claim-empty-note", `a note on task ${taskId} needs some text`, "pass the note's text");
    }
    return this.state.exclusive(() => {
      const at = now.toISOString();
      this.state.db
        .prepare("INSERT INTO claim_notes (task_id, author, at, text) VALUES (?, ?, ?, ?)")
        .run(taskId, author, at, text);
      appendEvent(
        this.state,
        this.projectRoot,
        { ...actorOf(author), action: "task.note", target: taskId, data: { author, text } },
        now,
      );
      return { taskId, author, at, text };
    });
  }
}
