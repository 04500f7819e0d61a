// One task, from claim to done: isolate it in a worktree, then attempt after attempt — each told what went wrong
// before — until one is green and lands through the merge queue, or the attempts or the budget run out and the task
// is blocked with a handoff note saying what was tried. A green task in an area whose policy says `land: review`
// waits in the review queue instead. Every attempt is recorded with its outcome and Keel's own time.
// @req RUN-1, RUN-4, RUN-5, RUN-9
import { existsSync, rmSync } from "node:fs";
import { landFor } from "../core/policy.js";
import { type AttemptResult, type Held, runAttempt } from "./attempt.js";
import { audit, onState, type RunContext, worktreePath } from "./context.js";
import { addWorktree, git, gitOk, removeWorktree, taskBranch } from "./git.js";
import type { MergeQueue } from "./merge-queue.js";
import { dropRunTask, type Outcome, putReview, putRunTask, recordAttempt, updateRunTask } from "./state.js";

/** A review waits for a person: the claim is kept this long, so no other worker takes the task meanwhile. */
export const REVIEW_LEASE_MS = 30 * 24 * 3600_000;

export type TaskEnd = "landed" | "blocked" | "review" | "stopped";

export function capabilitiesOf(ctx: RunContext, held: Pick<Held, "task">): string[] {
  const gc = ctx.gates();
  const dir = held.task.file.slice(0, held.task.file.lastIndexOf("/"));
  const own = gc.changeRequirements.get(dir);
  const caps = held.task.covers
    .map((id) => (own?.get(id) ?? gc.requirements.get(id))?.capability)
    .filter(Boolean);
  return [...new Set(caps as string[])].sort();
}

/** Makes the task's worktree on its branch from the integration tip, and records it for `--resume`. */
export async function isolate(
  ctx: RunContext,
  grant: { key: string; token: number },
  worker: number,
  tip: string,
): Promise<Held> {
  const task = ctx.graph().nodes.get(grant.key)?.task;
  if (!task) throw new Error(`task ${grant.key} is no longer in the task graph`);
  const branch = taskBranch(grant.key);
  const worktree = worktreePath(ctx, branch.slice("keel/task/".length));
  const now = new Date().toISOString();
  onState(ctx, (s) =>
    putRunTask(s, {
      taskId: grant.key,
      runId: ctx.runId,
      worker,
      token: grant.token,
      branch,
      worktree,
      base: tip,
      phase: "isolating",
      attempt: 0,
      startedAt: now,
      phaseAt: now,
      agent: ctx.agent.name,
      agentPid: null,
      agentStarted: null,
      greenCommit: null,
    }),
  );
  ctx.onStep({ worker, task: grant.key, attempt: 0, phase: "isolating" });
  if (existsSync(worktree)) {
    // Left by an earlier run: removed, and forgotten by git, so the branch can be checked out again.
    await removeWorktree(ctx.top, worktree, null);
    rmSync(worktree, { recursive: true, force: true });
    await git(ctx.top, ["worktree", "prune"]);
  }
  await addWorktree(ctx.top, worktree, branch, tip);
  if (ctx.settings.setup) await gitOk(worktree, ["status", "--short"]).then(() => setup(ctx, worktree));
  return { key: grant.key, token: grant.token, worker, worktree, branch, base: tip, task };
}

async function setup(ctx: RunContext, worktree: string): Promise<void> {
  const { spawnSync } = await import("node:child_process");
  const r = spawnSync("/bin/sh", ["-c", ctx.settings.setup as string], { cwd: worktree, encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `run.setup \`${ctx.settings.setup}\` failed in the worktree (${r.status}): ${(r.stderr || r.stdout).slice(-2000)}`,
    );
}

function record(
  ctx: RunContext,
  held: Held,
  attempt: number,
  started: number,
  r: AttemptResult & { queueMs?: number },
  outcome: Outcome,
  feedbackText: string | null,
  overheadExtra: number,
) {
  const ended = Date.now();
  onState(ctx, (s) =>
    recordAttempt(s, {
      runId: ctx.runId,
      taskId: held.key,
      attempt,
      agent: ctx.agent.name,
      startedAt: new Date(started).toISOString(),
      endedAt: new Date(ended).toISOString(),
      outcome,
      agentMs: r.agentMs,
      gateMs: r.gateMs,
      overheadMs: Math.max(0, ended - started - r.agentMs - r.gateMs - (r.queueMs ?? 0) + overheadExtra),
      queueMs: r.queueMs ?? 0,
      costUsd: r.usage?.costUsd ?? null,
      inputTokens: r.usage?.inputTokens ?? null,
      outputTokens: r.usage?.outputTokens ?? null,
      capabilities: capabilitiesOf(ctx, held),
      feedback: feedbackText,
    }),
  );
  audit(
    ctx,
    "run.attempt",
    held.key,
    { task: held.key, attempt, outcome, agent: ctx.agent.name },
    { after: outcome },
  );
}

export interface WorkOptions {
  /** The number of the first attempt (attempts count on over runs). */
  firstAttempt: number;
  feedback: string | null;
  /** Keel's time before the first attempt (claim, isolation), counted into its overhead. */
  overheadMs: number;
  /** A green commit already made (a resumed run): it goes to the merge queue without another attempt. */
  green?: string | null;
}

export async function workTask(
  ctx: RunContext,
  queue: MergeQueue,
  held: Held,
  o: WorkOptions,
): Promise<TaskEnd> {
  const deadline = Date.now() + ctx.settings.taskBudgetMs;
  const tried: string[] = [];
  let prior = o.feedback;
  let extra = o.overheadMs;
  const last = o.firstAttempt + ctx.settings.maxAttempts - 1;
  for (let attempt = o.firstAttempt; attempt <= last; attempt++) {
    if (ctx.stopping()) return "stopped";
    const started = Date.now();
    const result: AttemptResult =
      attempt === o.firstAttempt && o.green
        ? { outcome: "green", feedback: null, commit: o.green, agentMs: 0, gateMs: 0, usage: null }
        : await runAttempt(ctx, held, attempt, prior, deadline - Date.now());
    if (ctx.stopping() && result.outcome !== "green") return "stopped";
    if (result.outcome !== "green") {
      record(ctx, held, attempt, started, result, result.outcome, result.feedback, extra);
      tried.push(`attempt ${attempt}: ${result.outcome}`);
      if (result.outcome === "timed-out" || Date.now() >= deadline) break;
      prior = result.feedback;
      extra = 0;
      continue;
    }
    const end = await landOrReview(ctx, queue, held, attempt, started, result, extra);
    if (end.done) return end.done;
    tried.push(`attempt ${attempt}: ${end.outcome}`);
    if (end.outcome === "conflict") return block(ctx, held, tried, end.reason);
    prior = end.feedback;
    extra = 0;
  }
  return block(
    ctx,
    held,
    tried,
    `out of attempts or time (${ctx.settings.maxAttempts} attempts, ${Math.round(ctx.settings.taskBudgetMs / 1000)} s budget)`,
  );
}

type Landed =
  | { done: TaskEnd }
  | { done?: undefined; outcome: Outcome; feedback: string | null; reason: string };

async function landOrReview(
  ctx: RunContext,
  queue: MergeQueue,
  held: Held,
  attempt: number,
  started: number,
  result: AttemptResult,
  extra: number,
): Promise<Landed> {
  const commit = result.commit as string;
  if (capabilitiesOf(ctx, held).some((c) => landFor(ctx.config.policy, c) === "review")) {
    record(ctx, held, attempt, started, result, "green", null, extra);
    return { done: await toReview(ctx, held, commit) };
  }
  onState(ctx, (s) => updateRunTask(s, held.key, { phase: "queued", phaseAt: new Date().toISOString() }));
  ctx.onStep({ worker: held.worker, task: held.key, attempt, phase: "queued" });
  const landing = await queue.land(ctx, held, commit);
  const r = { ...result, gateMs: result.gateMs + landing.gateMs, queueMs: landing.waitMs };
  if (landing.landed) {
    // Recorded once the task is done: closing the claim and tidying the worktree are Keel's time too.
    await finishLanded(ctx, held, landing.commit, attempt);
    record(ctx, held, attempt, started, r, "green", null, extra);
    return { done: "landed" };
  }
  if (landing.outcome === "conflict") {
    const reason =
      landing.files.length > 0
        ? `integration conflict in ${landing.files.join(", ")} (parked as ${landing.conflicts.join(", ")}; see keel conflicts): ${landing.detail.split("\n")[0]}`
        : (landing.detail.split("\n")[0] ?? "the integration branch could not be moved");
    record(ctx, held, attempt, started, r, "conflict", reason, extra);
    audit(ctx, "run.conflict", held.key, { attempt, files: landing.files, conflicts: landing.conflicts });
    return { outcome: "conflict", feedback: null, reason };
  }
  record(ctx, held, attempt, started, r, "integration-failed", landing.feedback, extra);
  return { outcome: "integration-failed", feedback: landing.feedback, reason: "" };
}

/** The task is done once its commit is on the integration branch: the claim closes, the checkbox is written. */
export async function finishLanded(
  ctx: RunContext,
  held: Pick<Held, "key" | "token" | "worker" | "worktree" | "branch">,
  commit: string,
  attempt: number,
): Promise<void> {
  await ctx.claim({ op: "done", key: held.key, token: held.token });
  audit(ctx, "run.task.landed", held.key, {
    commit,
    attempts: attempt,
    agent: ctx.agent.name,
    branch: ctx.settings.integrationBranch,
  });
  onState(ctx, (s) => dropRunTask(s, held.key));
  ctx.refresh();
  ctx.onStep({ worker: held.worker, task: held.key, attempt, phase: "landed", detail: commit.slice(0, 12) });
  await removeWorktree(ctx.top, held.worktree, held.branch);
}

async function toReview(ctx: RunContext, held: Held, commit: string): Promise<TaskEnd> {
  await ctx.claim({ op: "heartbeat", key: held.key, token: held.token, ttlMs: REVIEW_LEASE_MS });
  onState(ctx, (s) =>
    s.exclusive(() => {
      putReview(s, {
        taskId: held.key,
        runId: ctx.runId,
        token: held.token,
        branch: held.branch,
        commit,
        requestedAt: new Date().toISOString(),
      });
      dropRunTask(s, held.key);
    }),
  );
  audit(ctx, "run.task.review", held.key, { commit, branch: held.branch, agent: ctx.agent.name });
  ctx.onStep({ worker: held.worker, task: held.key, attempt: 0, phase: "review" });
  await removeWorktree(ctx.top, held.worktree, null);
  return "review";
}

/** Out of attempts, or a conflict: the task is blocked with a handoff note; its branch is kept for a person. */
async function block(ctx: RunContext, held: Held, tried: string[], reason: string): Promise<TaskEnd> {
  const note = `keel run ${ctx.runId} stopped working on this task: ${reason}. Tried: ${tried.join("; ") || "nothing"}. The last attempt's work is on branch ${held.branch}.`;
  await ctx.claim({ op: "note", key: held.key, text: note, author: `${ctx.actor.kind}:${ctx.actor.name}` });
  await ctx.claim({ op: "block", key: held.key, token: held.token, reason });
  audit(ctx, "run.task.blocked", held.key, { reason, tried, branch: held.branch });
  onState(ctx, (s) => dropRunTask(s, held.key));
  ctx.refresh();
  ctx.onStep({ worker: held.worker, task: held.key, attempt: 0, phase: "blocked", detail: reason });
  await removeWorktree(ctx.top, held.worktree, null);
  return "blocked";
}
