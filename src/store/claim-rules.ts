// The rules of task claims, shared by both stores (sqlite/claims.ts, postgres/claims.ts): what a claim
// record looks like, when a task is free, and the refusals every surface shows, worded once. Nothing here does I/O.
// @req TSK-6, TSK-7, TRU-7
import { EXIT, KeelError } from "../workspace/errors.js";
import type { ActorKind, AuditInput } from "./audit-chain.js";

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

export interface ClaimRow {
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
export function actorOf(holder: string): { actor: string; actorKind: ActorKind } {
  const m = /^(human|agent|system):(.+)$/.exec(holder);
  if (m) return { actor: holder, actorKind: m[1] as ActorKind };
  return { actor: `agent:${holder}`, actorKind: "agent" };
}

export function isLive(row: ClaimRow, nowMs: number): boolean {
  return row.status === "claimed" && row.lease_until !== null && row.lease_until > nowMs;
}

export function isFree(row: ClaimRow | undefined, nowMs: number): boolean {
  if (!row) return true;
  if (row.status === "open" || row.status === "released") return true;
  return row.status === "claimed" && !isLive(row, nowMs);
}

export function claimView(row: ClaimRow, nowMs: number): ClaimView {
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

export function checkTtl(ttlMs: number): void {
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

/** Why a task that is not free cannot be claimed: held under a live lease, or closed (done or blocked). */
export function unclaimable(taskId: string, row: ClaimRow): KeelError {
  if (row.status === "claimed") {
    return refusal(
      CLAIM_ERRORS.held,
      `task ${taskId} is already claimed by ${row.holder} (token ${row.token}) until ${new Date(row.lease_until ?? 0).toISOString()}`,
      "pick another task (keel tasks next), or wait for the lease to expire",
    );
  }
  return refusal(
    CLAIM_ERRORS.closed,
    `task ${taskId} is ${row.status}${row.reason ? ` (${row.reason})` : ""}; it cannot be claimed`,
    row.status === "done" ? "it is finished; pick another task" : "unblock it before claiming it",
  );
}

// @req TSK-7
/**
 * The fence: the task's row when `token` is its current token and it is claimed; otherwise the refusal naming
 * the current holder.
 */
export function fenced(taskId: string, row: ClaimRow | undefined, token: number, verb: string): ClaimRow {
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

/** Only a done or blocked task can be reopened. */
export function reopenable(taskId: string, row: ClaimRow | undefined): ClaimRow {
  if (row && (row.status === "done" || row.status === "blocked")) return row;
  throw refusal(
    CLAIM_ERRORS.notClaimed,
    `task ${taskId} is ${row?.status ?? "open"}; only a done or blocked task can be reopened`,
    "nothing to reopen",
  );
}

export function checkBlockReason(taskId: string, reason: string): void {
  if (reason.trim() === "")
    throw refusal("claim-no-reason", `blocking task ${taskId} needs a reason`, "pass --reason <why>");
}

export function checkNoteText(taskId: string, text: string): void {
  if (text.trim() === "")
    throw refusal("claim-empty-note", `a note on task ${taskId} needs some text`, "pass the note's text");
}

/** The audit record of a grant: the holder as given, the token and the lease end (`keel store repair` rebuilds the claim from these). */
export function grantEvent(grant: Grant, prev: ClaimRow | undefined): AuditInput {
  const expired = prev?.status === "claimed";
  return {
    ...actorOf(grant.holder),
    action: "task.claim",
    target: grant.taskId,
    before: prev?.status ?? "open",
    after: "claimed",
    data: {
      holder: grant.holder,
      token: grant.token,
      leaseUntil: grant.leaseUntil,
      ...(expired ? { expiredHolder: prev.holder, expiredToken: prev.token } : {}),
    },
  };
}

export function heartbeatEvent(grant: Grant): AuditInput {
  return {
    ...actorOf(grant.holder),
    action: "task.heartbeat",
    target: grant.taskId,
    before: "claimed",
    after: "claimed",
    data: { token: grant.token, leaseUntil: grant.leaseUntil },
  };
}

export type Finish = { status: "released" | "done" | "blocked"; verb: "release" | "done" | "block" };

export function finishEvent(
  taskId: string,
  row: ClaimRow,
  finish: Finish,
  reason: string | null,
): AuditInput {
  return {
    ...actorOf(row.holder ?? ""),
    action: `task.${finish.verb}`,
    target: taskId,
    before: "claimed",
    after: finish.status,
    reason,
    data: { token: row.token },
  };
}

export function reopenEvent(taskId: string, row: ClaimRow, actor: string): AuditInput {
  return { ...actorOf(actor), action: "task.reopen", target: taskId, before: row.status, after: "open" };
}

export function noteEvent(note: ClaimNote): AuditInput {
  return {
    ...actorOf(note.author),
    action: "task.note",
    target: note.taskId,
    data: { author: note.author, text: note.text },
  };
}
