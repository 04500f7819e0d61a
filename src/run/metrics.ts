// `keel metrics`: what the work loop's records say about how well the work flows, computed here from plain data
// (attempts from the state store, audit events, evidence rows) so that the numbers can be checked by hand. Every
// figure is kept overall, per capability, per agent and per day, over one shape (MetricSet), so a team can see
// which agent to trust with which part of the code.
//
// A slice is a set of tasks and, for an agent, only that agent's attempts: "first pass" in an agent's slice is
// that agent's first try at the task, and rework sent back from its work counts against it.
// @req RUN-15
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Evidence } from "../core/verify/evidence.js";
import { STATE_DIR } from "../store/index-db.js";
import { type AuditEvent, listEvents } from "../store/sqlite/audit-log.js";
import { STATE_FILE, StateDb } from "../store/state-db.js";
import { type AttemptRecord, listAttempts, OUTCOMES, type Outcome } from "./state.js";

export type Breakdown = "capability" | "agent" | "day";
export const BREAKDOWNS: readonly Breakdown[] = ["agent", "capability", "day"];

/** The audit actions metrics reads (the loop's and the core's); everything else in the log is ignored. */
export const METRIC_ACTIONS = [
  "run.start",
  "run.task.landed",
  "run.task.blocked",
  "run.review.reject",
  "task.reopen",
  "change.revert",
] as const;

export interface MetricsInput {
  attempts: AttemptRecord[];
  /** Events of METRIC_ACTIONS (others are ignored), oldest first. */
  events: AuditEvent[];
  evidence: Evidence[];
  /** ISO time: only tasks first attempted at or after it count. Null: every task. */
  since: string | null;
  /** Which breakdowns to compute; all when omitted. */
  by?: readonly Breakdown[];
}

export type ReworkKind = "reopened" | "reverted" | "rejected" | "sentBack";

export interface MetricSet {
  /** Tasks with at least one attempt in the slice. */
  tasks: number;
  attempts: number;
  /** Tasks whose first attempt (in the slice) was green; rate = that over `tasks`, null when there is none. */
  firstPass: { tasks: number; rate: number | null };
  /** Tasks the merge queue landed (`run.task.landed`; in an agent's slice, landed from that agent's work). */
  landed: number;
  /** Over landed tasks: how many attempts each took (null when none landed). */
  attemptsPerTask: { mean: number; p50: number; max: number } | null;
  /** Over landed tasks: from the first attempt's start to the landing, in milliseconds. */
  timeToDoneMs: { p50: number; p90: number } | null;
  /** Tasks whose work was sent back at least once, and how often each way. */
  rework: { tasks: number } & Record<ReworkKind, number>;
  /** Tasks blocked after their last attempt (max attempts or time budget spent). */
  blocked: number;
  /** Attempts that ended `boundary`: the agent wrote outside the task's globs. */
  boundaryViolations: number;
  /** Attempts that ended `stalled`: no output and no file change for the configured time. */
  stalls: number;
  outcomes: Record<Outcome, number>;
  /** Summed over attempts that reported it; `tasks` is how many tasks had at least one known cost. */
  cost: {
    tasks: number;
    usd: number;
    perTaskUsd: number | null;
    inputTokens: number;
    outputTokens: number;
  };
}

export interface GateRecord {
  gate: string;
  runs: number;
  passed: number;
  passRate: number;
}

export interface MetricsReport {
  /** True when no attempt was ever recorded (or none since `since`): the project has not run the loop. */
  empty: boolean;
  since: string | null;
  runs: number;
  /** The first attempt's start and the newest record's time, or null when empty. */
  from: string | null;
  to: string | null;
  overall: MetricSet;
  byCapability: Array<{ capability: string } & MetricSet>;
  byAgent: Array<{ agent: string } & MetricSet>;
  /** Per UTC day of the tasks' first attempts; `landedOn` counts landings that day, whatever the task's day. */
  byDay: Array<{ day: string; landedOn: number } & MetricSet>;
  /** Gate runs recorded as evidence for the tasks counted, per gate. */
  gates: GateRecord[];
}

interface ReworkMark {
  kind: ReworkKind;
  at: string;
  /** The agent whose work was sent back. */
  agent: string;
}

interface TaskHistory {
  key: string;
  /** Oldest first. */
  attempts: AttemptRecord[];
  capabilities: string[];
  landed: { at: string; agent: string } | null;
  blocked: { agent: string } | null;
  rework: ReworkMark[];
}

/** A set of tasks, and for an agent's slice only that agent's part of them. */
interface Slice {
  tasks: TaskHistory[];
  agent?: string;
}

export function computeMetrics(input: MetricsInput): MetricsReport {
  const by = new Set(input.by ?? BREAKDOWNS);
  const histories = taskHistories(input);
  const keys = new Set(histories.map((t) => t.key));
  const landings = histories.flatMap((t) => (t.landed ? [t.landed.at] : []));
  const times = [
    ...histories.flatMap((t) => t.attempts.map((a) => a.endedAt)),
    ...landings,
    ...input.events.filter((e) => keys.has(e.target)).map((e) => e.at),
  ].sort();
  return {
    empty: histories.length === 0,
    since: input.since,
    runs: input.events.filter((e) => e.action === "run.start" && after(e.at, input.since)).length,
    from: histories.map((t) => firstAttempt(t).startedAt).sort()[0] ?? null,
    to: times.at(-1) ?? null,
    overall: metricSet({ tasks: histories }),
    byCapability: by.has("capability") ? byCapability(histories) : [],
    byAgent: by.has("agent") ? byAgent(histories) : [],
    byDay: by.has("day") ? byDay(histories, landings) : [],
    gates: gateRecords(
      input.evidence.filter((e) => e.task !== null && keys.has(e.task) && after(e.startedAt, input.since)),
    ),
  };
}

function after(at: string, since: string | null): boolean {
  return since === null || at >= since;
}

function firstAttempt(t: TaskHistory): AttemptRecord {
  return t.attempts[0] as AttemptRecord;
}

// --- from records to one history per task --------------------------------------------------------------------

function taskHistories(input: MetricsInput): TaskHistory[] {
  const byTask = new Map<string, AttemptRecord[]>();
  for (const a of input.attempts) {
    const list = byTask.get(a.taskId);
    if (list) list.push(a);
    else byTask.set(a.taskId, [a]);
  }
  const histories: TaskHistory[] = [];
  for (const [key, list] of byTask) {
    const attempts = [...list].sort((a, b) => a.attempt - b.attempt);
    if (!after((attempts[0] as AttemptRecord).startedAt, input.since)) continue;
    histories.push({
      key,
      attempts,
      capabilities: [...new Set(attempts.flatMap((a) => a.capabilities))].sort(),
      landed: null,
      blocked: null,
      rework: attempts
        .filter((a) => a.outcome === "integration-failed")
        .map((a) => ({ kind: "sentBack", at: a.endedAt, agent: a.agent })),
    });
  }
  const tasks = new Map(histories.map((t) => [t.key, t]));
  for (const e of input.events) applyEvent(e, tasks);
  return histories.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function applyEvent(e: AuditEvent, tasks: Map<string, TaskHistory>): void {
  if (e.action === "change.revert") {
    // A revert undoes a whole change: every task of that change (its key's scope) had its work reverted.
    const change = typeof e.data?.reverts === "string" ? e.data.reverts : null;
    if (change === null) return;
    for (const t of tasks.values()) if (t.key.startsWith(`${change}/`)) mark(t, "reverted", e.at);
    return;
  }
  const t = tasks.get(e.target);
  if (!t) return;
  if (e.action === "run.task.landed" && t.landed === null) {
    const agent = typeof e.data?.agent === "string" ? e.data.agent : agentBefore(t, e.at, true);
    t.landed = { at: e.at, agent };
  } else if (e.action === "run.task.blocked") t.blocked = { agent: agentBefore(t, e.at, false) };
  else if (e.action === "run.review.reject") mark(t, "rejected", e.at);
  // Re-opening a blocked task is a retry, not rework: only done work re-opened was sent back.
  else if (e.action === "task.reopen" && e.before === "done") mark(t, "reopened", e.at);
}

function mark(t: TaskHistory, kind: ReworkKind, at: string): void {
  t.rework.push({ kind, at, agent: agentBefore(t, at, true) });
}

/** The agent of the task's last attempt before `at` (its last green one, when `green`): whose work it was. */
function agentBefore(t: TaskHistory, at: string, green: boolean): string {
  const before = t.attempts.filter((a) => a.startedAt <= at);
  const pick = (green ? before.filter((a) => a.outcome === "green").at(-1) : undefined) ?? before.at(-1);
  return (pick ?? firstAttempt(t)).agent;
}

// --- one MetricSet over a slice -------------------------------------------------------------------------------

function metricSet(slice: Slice): MetricSet {
  const mine = (agent: string) => slice.agent === undefined || agent === slice.agent;
  const attemptsOf = (t: TaskHistory) => t.attempts.filter((a) => mine(a.agent));
  const tasks = slice.tasks.filter((t) => attemptsOf(t).length > 0);
  const attempts = tasks.flatMap(attemptsOf);
  const firstPass = tasks.filter((t) => attemptsOf(t)[0]?.outcome === "green").length;
  const landed = tasks.filter((t) => t.landed !== null && mine(t.landed.agent));
  const marks = tasks.flatMap((t) =>
    t.rework.filter((m) => mine(m.agent)).map((m) => ({ ...m, task: t.key })),
  );
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  for (const a of attempts) outcomes[a.outcome]++;
  const perTask = landed.map((t) => attemptsOf(t).length);
  const toDone = landed.map(
    (t) =>
      Date.parse((t.landed as { at: string }).at) - Date.parse((attemptsOf(t)[0] as AttemptRecord).startedAt),
  );
  return {
    tasks: tasks.length,
    attempts: attempts.length,
    firstPass: { tasks: firstPass, rate: ratio(firstPass, tasks.length) },
    landed: landed.length,
    attemptsPerTask:
      perTask.length === 0
        ? null
        : { mean: round(mean(perTask), 4), p50: percentile(perTask, 50), max: Math.max(...perTask) },
    timeToDoneMs: toDone.length === 0 ? null : { p50: percentile(toDone, 50), p90: percentile(toDone, 90) },
    rework: {
      tasks: new Set(marks.map((m) => m.task)).size,
      reopened: marks.filter((m) => m.kind === "reopened").length,
      reverted: marks.filter((m) => m.kind === "reverted").length,
      rejected: marks.filter((m) => m.kind === "rejected").length,
      sentBack: marks.filter((m) => m.kind === "sentBack").length,
    },
    blocked: tasks.filter((t) => t.blocked !== null && mine(t.blocked.agent)).length,
    boundaryViolations: outcomes.boundary,
    stalls: outcomes.stalled,
    outcomes,
    cost: costOf(tasks.map(attemptsOf)),
  };
}

function costOf(perTask: AttemptRecord[][]): MetricSet["cost"] {
  const known = perTask.filter((list) => list.some((a) => a.costUsd !== null));
  const usd = round(
    known.flat().reduce((sum, a) => sum + (a.costUsd ?? 0), 0),
    6,
  );
  const tokens = (pick: (a: AttemptRecord) => number | null) =>
    perTask.flat().reduce((sum, a) => sum + (pick(a) ?? 0), 0);
  return {
    tasks: known.length,
    usd,
    perTaskUsd: known.length === 0 ? null : round(usd / known.length, 6),
    inputTokens: tokens((a) => a.inputTokens),
    outputTokens: tokens((a) => a.outputTokens),
  };
}

// --- breakdowns ------------------------------------------------------------------------------------------------

function byCapability(tasks: TaskHistory[]): MetricsReport["byCapability"] {
  const names = [...new Set(tasks.flatMap((t) => t.capabilities))].sort();
  return names.map((capability) => ({
    capability,
    ...metricSet({ tasks: tasks.filter((t) => t.capabilities.includes(capability)) }),
  }));
}

function byAgent(tasks: TaskHistory[]): MetricsReport["byAgent"] {
  const names = [...new Set(tasks.flatMap((t) => t.attempts.map((a) => a.agent)))];
  return names
    .map((agent) => ({ agent, ...metricSet({ tasks, agent }) }))
    .sort((a, b) => b.tasks - a.tasks || (a.agent < b.agent ? -1 : 1));
}

function byDay(tasks: TaskHistory[], landings: string[]): MetricsReport["byDay"] {
  const dayOf = (iso: string) => iso.slice(0, 10);
  const days = [...new Set([...tasks.map((t) => dayOf(firstAttempt(t).startedAt)), ...landings.map(dayOf)])];
  return days.sort().map((day) => ({
    day,
    landedOn: landings.filter((at) => dayOf(at) === day).length,
    ...metricSet({ tasks: tasks.filter((t) => dayOf(firstAttempt(t).startedAt) === day) }),
  }));
}

function gateRecords(rows: Evidence[]): GateRecord[] {
  const byGate = new Map<string, { runs: number; passed: number }>();
  for (const r of rows) {
    const g = byGate.get(r.gate) ?? { runs: 0, passed: 0 };
    g.runs++;
    if (r.passed) g.passed++;
    byGate.set(r.gate, g);
  }
  return [...byGate]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([gate, g]) => ({ gate, ...g, passRate: ratio(g.passed, g.runs) as number }));
}

// --- arithmetic ------------------------------------------------------------------------------------------------

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : round(part / whole, 4);
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it (a real sample). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

// --- how the numbers read (the text output and the chart say them the same way) --------------------------------

export function formatRate(rate: number | null): string {
  return rate === null ? "–" : `${Math.round(rate * 100)}%`;
}

/** At most two decimals, none when whole: 2, 2.2, 2.33. */
export function formatNumber(n: number): string {
  return String(Number(n.toFixed(2)));
}

export function formatUsd(usd: number | null): string {
  if (usd === null) return "–";
  if (usd === 0) return "$0";
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(usd >= 0.01 ? 2 : 4)}`;
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "–";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const units: Array<[string, number]> = [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
    ["s", 1],
  ];
  const i = units.findIndex(([, size]) => s >= size);
  const [big, bigSize] = units[i] as [string, number];
  const [small, smallSize] = units[i + 1] as [string, number];
  const rest = Math.floor((s % bigSize) / smallSize);
  return `${Math.floor(s / bigSize)}${big}${rest > 0 ? ` ${rest}${small}` : ""}`;
}

/** The attempts and the metric events since `since` (ISO), read from the store; none when it has no store. */
export function readMetricRecords(
  root: string,
  since: string | null,
): { attempts: AttemptRecord[]; events: AuditEvent[] } {
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return { attempts: [], events: [] };
  const state = StateDb.open(root);
  try {
    const events = METRIC_ACTIONS.flatMap((action) =>
      listEvents(state, { action, ...(since ? { since } : {}) }),
    );
    return { attempts: listAttempts(state), events: events.sort((a, b) => a.seq - b.seq) };
  } finally {
    state.close();
  }
}
