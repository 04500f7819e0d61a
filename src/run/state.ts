// The work loop's records in the state store (migration 6): the run, the task each worker holds (with its
// worktree, branch, fencing token and phase, which is what `keel run --resume` takes back), every attempt with its
// outcome, timings and cost (what `keel metrics` reads), and the review queue. All plain rows: the audit log holds
// the history, these hold what a resumed run and a status query need now.
// @req RUN-12, RUN-14
import type { StateDb } from "../store/state-db.js";

export type Phase =
  | "claimed"
  | "isolating"
  | "preparing"
  | "agent"
  | "boundaries"
  | "gates"
  | "committing"
  | "queued"
  | "integrating"
  | "review"
  | "landing";

/** How an attempt ended. `green` attempts went on to the merge queue; every other outcome is a retry or a block. */
export const OUTCOMES = [
  "green",
  "gate-failed",
  "boundary",
  "stalled",
  "crashed",
  "timed-out",
  "integration-failed",
  "conflict",
  "rejected",
  "interrupted",
] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface RunRecord {
  id: string;
  startedAt: string;
  endedAt: string | null;
  pid: number;
  options: Record<string, unknown>;
  status: "running" | "finished" | "stopped";
}

export interface RunTask {
  taskId: string;
  runId: string;
  worker: number;
  token: number;
  branch: string;
  /** Relative to the project root. */
  worktree: string;
  /** The integration commit the worktree was made from. */
  base: string;
  phase: Phase;
  attempt: number;
  startedAt: string;
  phaseAt: string;
  agent: string;
  agentPid: number | null;
  /** The agent process's start time as the kernel gives it, so a reused PID is never taken for the agent. */
  agentStarted: string | null;
  /** The committed green work, once there is one: never lost, whatever happens next. */
  greenCommit: string | null;
}

export interface AttemptRecord {
  runId: string;
  taskId: string;
  attempt: number;
  agent: string;
  startedAt: string;
  endedAt: string;
  outcome: Outcome;
  agentMs: number;
  gateMs: number;
  /**
   * Keel's own time in the attempt: claim, isolation, pack, boundary check, commit, landing and bookkeeping — not
   * the agent's, not the gates', not the wait behind other tasks in the merge queue.
   */
  overheadMs: number;
  /** Time waiting in the merge queue behind other tasks. */
  queueMs: number;
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  /** The capabilities of the requirements the task covers, for metrics per capability. */
  capabilities: string[];
  /** What the next attempt is told (the gate's output tail, the files out of bounds…), or null. */
  feedback: string | null;
}

export interface ReviewRecord {
  taskId: string;
  runId: string;
  token: number;
  branch: string;
  commit: string;
  requestedAt: string;
}

type Row = Record<string, unknown>;

export function startRun(state: StateDb, run: Omit<RunRecord, "endedAt" | "status">): void {
  state.db
    .prepare(
      "INSERT INTO runs (id, started_at, ended_at, pid, options, status) VALUES (?, ?, NULL, ?, ?, 'running')",
    )
    .run(run.id, run.startedAt, run.pid, JSON.stringify(run.options));
}

export function endRun(state: StateDb, id: string, status: "finished" | "stopped", at: string): void {
  state.db.prepare("UPDATE runs SET ended_at = ?, status = ? WHERE id = ?").run(at, status, id);
}

function runOf(r: Row): RunRecord {
  return {
    id: r.id as string,
    startedAt: r.started_at as string,
    endedAt: (r.ended_at as string | null) ?? null,
    pid: r.pid as number,
    options: JSON.parse(r.options as string) as Record<string, unknown>,
    status: r.status as RunRecord["status"],
  };
}

/** The newest run, or null when the project never ran. */
export function latestRun(state: StateDb): RunRecord | null {
  const row = state.db.prepare("SELECT * FROM runs ORDER BY started_at DESC, rowid DESC LIMIT 1").get() as
    | Row
    | undefined;
  return row ? runOf(row) : null;
}

export function runNamed(state: StateDb, id: string): RunRecord | null {
  const row = state.db.prepare("SELECT * FROM runs WHERE id = ?").get(id) as Row | undefined;
  return row ? runOf(row) : null;
}

const TASK_COLUMNS = {
  taskId: "task_id",
  runId: "run_id",
  worker: "worker",
  token: "token",
  branch: "branch",
  worktree: "worktree",
  base: "base",
  phase: "phase",
  attempt: "attempt",
  startedAt: "started_at",
  phaseAt: "phase_at",
  agent: "agent",
  agentPid: "agent_pid",
  agentStarted: "agent_started",
  greenCommit: "green_commit",
} as const satisfies Record<keyof RunTask, string>;

function runTaskOf(r: Row): RunTask {
  const out: Record<string, unknown> = {};
  for (const [key, column] of Object.entries(TASK_COLUMNS)) out[key] = r[column] ?? null;
  return out as unknown as RunTask;
}

export function putRunTask(state: StateDb, task: RunTask): void {
  const columns = Object.values(TASK_COLUMNS);
  state.db
    .prepare(
      `INSERT OR REPLACE INTO run_tasks (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    )
    .run(...Object.keys(TASK_COLUMNS).map((k) => task[k as keyof RunTask]));
}

/** Updates some fields of the task's row (a phase change, the agent's PID, the green commit). */
export function updateRunTask(
  state: StateDb,
  taskId: string,
  fields: Partial<Omit<RunTask, "taskId">>,
): void {
  const keys = Object.keys(fields) as Array<keyof typeof TASK_COLUMNS>;
  if (keys.length === 0) return;
  state.db
    .prepare(`UPDATE run_tasks SET ${keys.map((k) => `${TASK_COLUMNS[k]} = ?`).join(", ")} WHERE task_id = ?`)
    .run(...keys.map((k) => (fields as Record<string, unknown>)[k] ?? null), taskId);
}

export function dropRunTask(state: StateDb, taskId: string): void {
  state.db.prepare("DELETE FROM run_tasks WHERE task_id = ?").run(taskId);
}

export function runTasks(state: StateDb): RunTask[] {
  return (state.db.prepare("SELECT * FROM run_tasks ORDER BY worker, task_id").all() as Row[]).map(runTaskOf);
}

export function runTask(state: StateDb, taskId: string): RunTask | null {
  const row = state.db.prepare("SELECT * FROM run_tasks WHERE task_id = ?").get(taskId) as Row | undefined;
  return row ? runTaskOf(row) : null;
}

/**
 * An attempt row for a step no agent ran (a review's verdict, an attempt a kill cut short): no time, no cost.
 */
export function bookkeepingAttempt(
  a: Pick<
    AttemptRecord,
    "runId" | "taskId" | "attempt" | "agent" | "startedAt" | "outcome" | "capabilities" | "feedback"
  >,
): AttemptRecord {
  return {
    ...a,
    endedAt: new Date().toISOString(),
    agentMs: 0,
    gateMs: 0,
    overheadMs: 0,
    queueMs: 0,
    costUsd: null,
    inputTokens: null,
    outputTokens: null,
  };
}

export function recordAttempt(state: StateDb, a: AttemptRecord): void {
  state.db
    .prepare(
      `INSERT INTO run_attempts (run_id, task_id, attempt, agent, started_at, ended_at, outcome, agent_ms, gate_ms,
         overhead_ms, queue_ms, cost_usd, input_tokens, output_tokens, capabilities, feedback)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      a.runId,
      a.taskId,
      a.attempt,
      a.agent,
      a.startedAt,
      a.endedAt,
      a.outcome,
      Math.round(a.agentMs),
      Math.round(a.gateMs),
      Math.round(a.overheadMs),
      Math.round(a.queueMs),
      a.costUsd,
      a.inputTokens,
      a.outputTokens,
      JSON.stringify(a.capabilities),
      a.feedback,
    );
}

function attemptOf(r: Row): AttemptRecord {
  return {
    runId: r.run_id as string,
    taskId: r.task_id as string,
    attempt: r.attempt as number,
    agent: r.agent as string,
    startedAt: r.started_at as string,
    endedAt: r.ended_at as string,
    outcome: r.outcome as Outcome,
    agentMs: r.agent_ms as number,
    gateMs: r.gate_ms as number,
    overheadMs: r.overhead_ms as number,
    queueMs: r.queue_ms as number,
    costUsd: (r.cost_usd as number | null) ?? null,
    inputTokens: (r.input_tokens as number | null) ?? null,
    outputTokens: (r.output_tokens as number | null) ?? null,
    capabilities: JSON.parse(r.capabilities as string) as string[],
    feedback: (r.feedback as string | null) ?? null,
  };
}

/** Attempts, oldest first; of one task, or of one run, or all. */
export function listAttempts(state: StateDb, filter: { task?: string; run?: string } = {}): AttemptRecord[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.task) {
    where.push("task_id = ?");
    args.push(filter.task);
  }
  if (filter.run) {
    where.push("run_id = ?");
    args.push(filter.run);
  }
  const sql = `SELECT * FROM run_attempts${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY seq`;
  return (state.db.prepare(sql).all(...args) as Row[]).map(attemptOf);
}

/** The number of attempts a task has had, over every run: a resumed or re-opened task counts on. */
export function attemptsSoFar(state: StateDb, taskId: string): number {
  const row = state.db
    .prepare("SELECT MAX(attempt) AS n FROM run_attempts WHERE task_id = ?")
    .get(taskId) as {
    n: number | null;
  };
  return row.n ?? 0;
}

export function putReview(state: StateDb, r: ReviewRecord): void {
  state.db
    .prepare(
      "INSERT OR REPLACE INTO run_reviews (task_id, run_id, token, branch, commit_sha, requested_at) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .run(r.taskId, r.runId, r.token, r.branch, r.commit, r.requestedAt);
}

export function dropReview(state: StateDb, taskId: string): void {
  state.db.prepare("DELETE FROM run_reviews WHERE task_id = ?").run(taskId);
}

export function reviews(state: StateDb): ReviewRecord[] {
  return (state.db.prepare("SELECT * FROM run_reviews ORDER BY requested_at, task_id").all() as Row[]).map(
    (r) => ({
      taskId: r.task_id as string,
      runId: r.run_id as string,
      token: r.token as number,
      branch: r.branch as string,
      commit: r.commit_sha as string,
      requestedAt: r.requested_at as string,
    }),
  );
}
