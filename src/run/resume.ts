// `keel run --resume`: what a killed run left behind, put right before the new run starts. For each task a run
// held: done already → only tidied; its lease still ours (the token is current) → taken back, with a green commit
// already on the integration branch marked done (never run again), a green commit not yet landed sent to the merge
// queue (never lost), anything else attempted again in the same worktree; not ours any more → its worktree removed.
// Then every worktree and `keel/task/*` branch no record names is removed, and agents a killed run left running are
// stopped (when their PID still names the process that was started).
// @req RUN-12
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { StateDb } from "../store/state-db.js";
import { pidAlive } from "../workspace/process.js";
import { killIfSame } from "./agent-process.js";
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

/**
 * What a git process killed in a worktree leaves: its index lock (the worktree's own, no one else's) and a rebase
 * or merge in progress. Put right so the next attempt can use the worktree.
 */
async function settle(worktree: string): Promise<void> {
  const gitDir = (await git(worktree, ["rev-parse", "--absolute-git-dir"])).stdout.trim();
  if (gitDir) removeLocks(gitDir);
  await git(worktree, ["rebase", "--abort"]);
  await git(worktree, ["merge", "--abort"]);
}

/** Every `*.lock` file directly in a folder (a worktree's own git folder: HEAD.lock, index.lock, …). */
function removeLocks(dir: string): void {
  try {
    for (const name of readdirSync(dir)) if (name.endsWith(".lock")) rmSync(join(dir, name), { force: true });
  } catch {
    // No such folder: nothing to remove.
  }
}

/** The lock of the task's own branch, which only the run that held the task writes. */
async function dropTaskLocks(ctx: RunContext, t: RunTask): Promise<void> {
  const common = (
    await git(ctx.top, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
  ).stdout.trim();
  if (common) rmSync(join(common, "refs", "heads", `${t.branch}.lock`), { force: true });
}

/**
 * Locks a git process the killed run started in the main repository may have left (the index, the integration
 * branch, a task branch). Removed only when no process works in the repository now (Linux: no process has its
 * working folder there), so a lock someone's running git holds is never taken from it.
 */
async function dropStaleLocks(ctx: RunContext): Promise<void> {
  if (busyIn(ctx.top)) return;
  const common = (
    await git(ctx.top, ["rev-parse", "--path-format=absolute", "--git-common-dir"])
  ).stdout.trim();
  if (!common) return;
  const locks = [
    join(common, "index.lock"),
    join(common, "refs", "heads", `${ctx.settings.integrationBranch}.lock`),
  ];
  for (const lock of locks) rmSync(lock, { force: true });
}

/** Whether a git process works in `top` now (false where /proc cannot tell). */
function busyIn(top: string): boolean {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid);
  } catch {
    return false;
  }
  return pids.some((pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("git")) return false;
      const cwd = readlinkSync(`/proc/${pid}/cwd`);
      return cwd === top || cwd.startsWith(`${top}/`);
    } catch {
      return false;
    }
  });
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
  // Green work goes on from its commit; anything else starts again, on the integration branch as it is now (what
  // a killed attempt or rebase left is not trusted).
  const tip = await revParse(ctx.top, `refs/heads/${ctx.settings.integrationBranch}`);
  const at = t.greenCommit ?? tip ?? t.base;
  if (!t.greenCommit) {
    held.base = at;
    held.committed = false;
  }
  await dropTaskLocks(ctx, t);
  if (!existsSync(join(t.worktree, ".git"))) {
    await removeWorktree(ctx.top, t.worktree, null);
    await addWorktree(ctx.top, t.worktree, t.branch, at);
  } else {
    await settle(t.worktree);
    await git(t.worktree, ["checkout", "--quiet", "--force", "-B", t.branch, at]);
    await git(t.worktree, ["clean", "-q", "-fdx"]);
  }
  onState(ctx, (s) => {
    updateRunTask(s, t.taskId, {
      runId: ctx.runId,
      phase: "claimed",
      agentPid: null,
      agentStarted: null,
      base: held.base,
    });
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
  // Worktrees git still lists whose folders a kill left half-made or removed: forgotten first, so their branches
  // can be checked out again.
  await git(ctx.top, ["worktree", "prune"]);
  const live = liveRuns(ctx);
  if (live.size === 0) await dropStaleLocks(ctx);
  for (const t of onState(ctx, runTasks)) {
    // A supervisor still running holds its tasks: a resume never takes them from it.
    if (live.has(t.runId)) continue;
    if (t.agentPid !== null) killIfSame(t.agentPid, t.agentStarted);
    const claim = await ctx.claims.claimOf(t.taskId, now);
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
  const closed = new Map<string, "done" | "blocked">();
  for (const c of await ctx.claims.claims(new Date()))
    if (c.status === "done" || c.status === "blocked") closed.set(c.taskId, c.status);
  const kept = onState(ctx, (s) => ({ tasks: runTasks(s), reviews: reviews(s), closed }));
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
