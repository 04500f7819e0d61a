// `keel run`'s supervisor: N workers in one process, each claiming the next ready task (of the selected change or
// keys) and working it to the end, until the queue is empty, a number of tasks finished, or a time passed. A worker
// that finds nothing ready while others still work waits for one of them to finish (a landed task may unblock its
// dependents). `--resume` first takes back what a killed run left (resume.ts).
// @req RUN-1, RUN-12, RUN-14
import { randomUUID } from "node:crypto";
import { keelClosed } from "../core/tasks/claim-ops.js";
import { isDone } from "../core/tasks/graph.js";
import { readyQueue, takeOrder } from "../core/tasks/ready-cache.js";
import { CLAIM_ERRORS, type Grant } from "../store/sqlite/claims.js";
import { KeelError } from "../workspace/errors.js";
import type { Held } from "./attempt.js";
import { audit, onState, type RunContext } from "./context.js";
import { revParse } from "./git.js";
import { MergeQueue } from "./merge-queue.js";
import { type Recovered, recover } from "./resume.js";
import { endRun, startRun } from "./state.js";
import { isolate, type TaskEnd, workTask } from "./worker.js";

export interface RunSummary {
  run: string;
  landed: string[];
  blocked: string[];
  review: string[];
  stopped: string[];
  recovered: Recovered | null;
}

function selected(ctx: RunContext, key: string): boolean {
  const s = ctx.settings;
  if (s.tasks) return s.tasks.includes(key);
  if (s.change) {
    const file = ctx.graph().nodes.get(key)?.task.file ?? "";
    return file.split("/").includes(s.change) && /(^|\/)changes\//.test(file);
  }
  return true;
}

/**
 * The selected tasks still to do, ready or waiting on others: what the progress bar counts to. Not the done, the
 * blocked or deferred ones (in their file or in Keel's state).
 */
export function pendingTasks(ctx: RunContext): number {
  const closed = keelClosed(ctx.root);
  const graph = ctx.graph();
  return [...graph.nodes.keys()].filter(
    (k) =>
      selected(ctx, k) &&
      !closed.has(k) &&
      !isDone(graph, k) &&
      !["blocked", "deferred"].includes(graph.nodes.get(k)?.task.status ?? ""),
  ).length;
}

/** Claims the next ready task of the selection for a worker, or null when none is ready now. */
async function claimNext(ctx: RunContext): Promise<{ key: string; token: number } | null> {
  try {
    const grant = await ctx.claim({
      op: "claim",
      key: null,
      candidates: (isClaimed) =>
        takeOrder(readyQueue(ctx.root, isClaimed))
          .map((v) => v.key)
          .filter((k) => selected(ctx, k)),
      holder: `${ctx.actor.kind}:${ctx.actor.name}`,
      ttlMs: ctx.settings.leaseMs,
    });
    const g = grant as Grant | null;
    return g ? { key: g.taskId, token: g.token } : null;
  } catch (e) {
    if (e instanceof KeelError && e.code === CLAIM_ERRORS.held) return null;
    throw e;
  }
}

export async function supervise(ctx: RunContext, options: { resume: boolean }): Promise<RunSummary> {
  const queue = new MergeQueue();
  const summary: RunSummary = {
    run: ctx.runId,
    landed: [],
    blocked: [],
    review: [],
    stopped: [],
    recovered: null,
  };
  onState(ctx, (s) =>
    startRun(s, {
      id: ctx.runId,
      startedAt: new Date().toISOString(),
      pid: process.pid,
      options: { ...ctx.settings },
    }),
  );
  audit(ctx, "run.start", ctx.runId, {
    workers: ctx.settings.workers,
    agent: ctx.agent.name,
    resume: options.resume,
  });
  const takeBack: Array<{ held: Held; attempt: number; green: string | null }> = [];
  if (options.resume) {
    summary.recovered = await recover(ctx);
    takeBack.push(...summary.recovered.takeBack);
    summary.landed.push(...summary.recovered.landed);
  }
  let inFlight = 0;
  let finished = 0;
  let wake: () => void = () => undefined;
  let changed = new Promise<void>((r) => {
    wake = r;
  });
  const signal = () => {
    const w = wake;
    changed = new Promise<void>((r) => {
      wake = r;
    });
    w();
  };
  const limitReached = () =>
    (ctx.settings.untilTasks !== null && finished + inFlight >= ctx.settings.untilTasks) ||
    (ctx.settings.untilTime !== null && Date.now() >= ctx.settings.untilTime);
  const note = (key: string, end: TaskEnd) => {
    ({ landed: summary.landed, blocked: summary.blocked, review: summary.review, stopped: summary.stopped })[
      end
    ].push(key);
  };
  const worker = async (n: number) => {
    for (;;) {
      if (ctx.stopping() || limitReached()) return;
      const t0 = Date.now();
      const back = takeBack.shift();
      let held: Held | null = back?.held ?? null;
      if (!held) {
        // A claim under way counts as in flight: another worker that finds nothing ready meanwhile must not take
        // the queue for done while this claim may still bring a task.
        inFlight++;
        const grant = await claimNext(ctx).catch((e: unknown) => {
          inFlight--;
          signal();
          throw e;
        });
        if (!grant) {
          inFlight--;
          if (inFlight === 0 && takeBack.length === 0) {
            signal(); // a worker waiting on this one's claim looks again, and ends too
            return;
          }
          await changed;
          continue;
        }
        try {
          const tip = await revParse(ctx.top, `refs/heads/${ctx.settings.integrationBranch}`);
          held = await isolate(ctx, grant, n, tip as string);
        } catch (e) {
          inFlight--;
          signal();
          throw e;
        }
      } else inFlight++;
      try {
        const { attemptsSoFar } = await import("./state.js");
        const first = back?.attempt ?? onState(ctx, (s) => attemptsSoFar(s, (held as Held).key)) + 1;
        const end = await workTask(ctx, queue, held, {
          firstAttempt: first,
          feedback: back ? null : lastFeedback(ctx, held.key),
          overheadMs: Date.now() - t0,
          green: back?.green ?? null,
        });
        note(held.key, end);
        if (end !== "stopped") finished++;
      } finally {
        inFlight--;
        signal();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: ctx.settings.workers }, (_, i) => worker(i + 1)));
  } finally {
    const status = ctx.stopping() ? "stopped" : "finished";
    onState(ctx, (s) => endRun(s, ctx.runId, status, new Date().toISOString()));
    audit(ctx, "run.end", ctx.runId, {
      status,
      landed: summary.landed.length,
      blocked: summary.blocked.length,
      review: summary.review.length,
    });
  }
  return summary;
}

/** What the last attempt of an earlier run was told to do better (a reviewer's note, a red gate), if anything. */
function lastFeedback(ctx: RunContext, key: string): string | null {
  return onState(ctx, (s) => {
    const row = s.db
      .prepare("SELECT feedback FROM run_attempts WHERE task_id = ? ORDER BY seq DESC LIMIT 1")
      .get(key) as { feedback: string | null } | undefined;
    return row?.feedback ?? null;
  });
}

export function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*$/, "")}-${randomUUID().slice(0, 6)}`;
}
