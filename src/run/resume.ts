// `keel run --resume`: what a killed run left behind, put right before the new run starts. For each task a run
// held: done already → only tidied; its lease still ours (the token is current) → taken back, with a green commit
// already on the integration branch marked done (never run again), a green commit not yet landed sent to the merge
// queue (never lost), anything else attempted again in the same worktree; not ours any more → its worktree removed.
// Then every worktree and `keel/task/*` branch no record names is removed, and agents a killed run left running are
// stopped (when their PID still names the process that was started).
// @req RUN-12
import { existsSync } from "node:fs";
import { join } from "node:path";
import { Claims } from "../core/tasks/claims.js";
import type { StateDb } from "../store/state-db.js";
import { killIfSame, pidAlive } from "./agent-process.js";
import type { Held } from "./attempt.js";
import { audit, onState, type RunContext, WORKTREES_DIR } from "./context.js";
import { addWorktree, git, isAncestor, listWorktrees, removeWorktree, revParse, taskBranch } from "./git.js";
import {
  bookkeepingAttempt,
  dropRunTask,
  type RunTask,
  recordAttempt,
  reviews,
  runTasks,
  updateRunTask,
} from "./state.js";
import { capabilitiesOf, finishLanded } from "./worker.js";

export interface Recovered {
  takeBack: Array<{ held: Held; attempt: number; green: string | null }>;
  landed: string[];
  released: string[];
  removedWorktrees: string[];
  removedBranches: string[];
}

async function landedAlready(ctx: RunContext, t: RunTask): Promise<boolean> {
  const tip = `refs/heads/${ctx.settings.integrationBranch}`;
  return (
    t.greenCommit !== null &&
    (await revParse(ctx.top, t.greenCommit)) !== null &&
    (await isAncestor(ctx.top, t.greenCommit, tip))
  );
}

async function takeBackOne(ctx: RunContext, t: RunTask, out: Recovered): Promise<void> {
  const task = ctx.graph().nodes.get(t.taskId)?.task;
  const held: Held | null = task
    ? {
        key: t.taskId,
        token: t.token,
        worker: t.worker,
        worktree: t.worktree,
        branch: t.branch,
        base: t.base,
        task,
        // A killed attempt may have committed already: the next one replaces that commit.
        committed: true,
      }
    : null;
  if (held && (await landedAlready(ctx, t))) {
    await finishLanded(ctx, held, t.greenCommit as string, t.attempt);
    out.landed.push(t.taskId);
    return;
  }
  if (!held) return release(ctx, t, out);
  // The green commit (or, without one, the branch as the last attempt left it) is where work goes on.
  const at = t.greenCommit ?? (await revParse(ctx.top, `refs/heads/${t.branch}`)) ?? t.base;
  if (!existsSync(join(t.worktree, ".git"))) {
    await removeWorktree(ctx.top, t.worktree, null);
    await addWorktree(ctx.top, t.worktree, t.branch, at);
  } else {
    await git(t.worktree, ["reset", "--quiet", "--hard", at]);
    await git(t.worktree, ["clean", "-q", "-fdx"]);
  }
  onState(ctx, (s) => {
    updateRunTask(s, t.taskId, { runId: ctx.runId, phase: "claimed", agentPid: null, agentStarted: null });
    if (t.attempt > 0 && !t.greenCommit) recordInterrupted(s, t, capabilitiesOf(ctx, held));
  });
  out.takeBack.push({ held, attempt: t.attempt + (t.greenCommit ? 0 : 1), green: t.greenCommit });
}

/** The attempt the kill cut short, so the record shows it and the attempt count goes on from it. */
function recordInterrupted(state: StateDb, t: RunTask, capabilities: string[]): void {
  const { runId, taskId, attempt, agent, phaseAt: startedAt } = t;
  recordAttempt(
    state,
    bookkeepingAttempt({
      runId,
      taskId,
      attempt,
      agent,
      startedAt,
      outcome: "interrupted",
      capabilities,
      feedback: null,
    }),
  );
}

async function release(ctx: RunContext, t: RunTask, out: Recovered): Promise<void> {
  await removeWorktree(ctx.top, t.worktree, t.branch);
  onState(ctx, (s) => dropRunTask(s, t.taskId));
  out.released.push(t.taskId);
}

/** Runs whose supervisor still lives (its PID is alive and is not this process). */
function liveRuns(ctx: RunContext): Set<string> {
  const rows = ctx.state.db.prepare("SELECT id, pid FROM runs WHERE status = 'running'").all() as Array<{
    id: string;
    pid: number;
  }>;
  return new Set(rows.filter((r) => r.pid !== process.pid && pidAlive(r.pid)).map((r) => r.id));
}

export async function recover(ctx: RunContext): Promise<Recovered> {
  const out: Recovered = {
    takeBack: [],
    landed: [],
    released: [],
    removedWorktrees: [],
    removedBranches: [],
  };
  const now = new Date();
  const live = liveRuns(ctx);
  for (const t of onState(ctx, runTasks)) {
    // A supervisor still running holds its tasks: a resume never takes them from it.
    if (live.has(t.runId)) continue;
    if (t.agentPid !== null) killIfSame(t.agentPid, t.agentStarted);
    const claim = onState(ctx, (s) => new Claims(s, ctx.root).get(t.taskId, now));
    if (claim?.status === "done") {
      await removeWorktree(ctx.top, t.worktree, t.branch);
      onState(ctx, (s) => dropRunTask(s, t.taskId));
    } else if (claim?.status === "claimed" && claim.token === t.token) await takeBackOne(ctx, t, out);
    else await release(ctx, t, out);
  }
  await removeOrphans(ctx, out);
  audit(ctx, "run.resume", ctx.runId, {
    takenBack: out.takeBack.map((t) => t.held.key),
    landed: out.landed,
    released: out.released,
    removedWorktrees: out.removedWorktrees.length,
    removedBranches: out.removedBranches.length,
  });
  return out;
}

/** Worktrees under .keel/run/worktrees and `keel/task/*` branches that no run task, review or block explains. */
async function removeOrphans(ctx: RunContext, out: Recovered): Promise<void> {
  const kept = onState(ctx, (s) => ({
    tasks: runTasks(s),
    reviews: reviews(s),
    closed: new Claims(s, ctx.root).closed(),
  }));
  const keptPaths = new Set(kept.tasks.map((t) => t.worktree));
  const dir = join(ctx.root, WORKTREES_DIR);
  await git(ctx.top, ["worktree", "prune"]);
  for (const w of await listWorktrees(ctx.top)) {
    if (w.path.startsWith(`${dir}/`) && !keptPaths.has(w.path)) {
      await removeWorktree(ctx.top, w.path, null);
      out.removedWorktrees.push(w.path);
    }
  }
  const keptBranches = new Set([...kept.tasks.map((t) => t.branch), ...kept.reviews.map((r) => r.branch)]);
  const branches = (
    await git(ctx.top, ["for-each-ref", "--format=%(refname:short)", "refs/heads/keel/task/"])
  ).stdout
    .split("\n")
    .filter(Boolean);
  const blocked = new Set([...kept.closed].filter(([, st]) => st === "blocked").map(([k]) => taskBranch(k)));
  for (const b of branches) {
    if (keptBranches.has(b) || blocked.has(b)) continue;
    await git(ctx.top, ["branch", "-D", b]);
    out.removedBranches.push(b);
  }
}
