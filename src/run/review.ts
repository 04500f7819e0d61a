// The review queue: green work of an area whose policy says `land: review` waits here, its claim kept, until a
// human approves it (it then goes through the merge queue like any green task: integrated, gates run again, landed)
// or rejects it (the task re-opens, and its next attempt is told the reviewer's note). Human only, audited.
// @req RUN-9
import { actorLabel } from "../workspace/actor.js";
import { EXIT, KeelError } from "../workspace/errors.js";
import type { Held } from "./attempt.js";
import { audit, onState, type RunContext, worktreePath } from "./context.js";
import { addWorktree, removeWorktree } from "./git.js";
import { MergeQueue } from "./merge-queue.js";
import { feedback } from "./prompt.js";
import {
  attemptsSoFar,
  bookkeepingAttempt,
  dropReview,
  type ReviewRecord,
  recordAttempt,
  reviews,
} from "./state.js";
import { capabilitiesOf, finishLanded } from "./worker.js";

function reviewOf(ctx: RunContext, key: string): ReviewRecord {
  const r = onState(ctx, reviews).find((x) => x.taskId === key);
  if (!r)
    throw new KeelError(
      `task ${key} is not waiting for review`,
      EXIT.usage,
      "list the queue: keel run review",
      undefined,
      "review-unknown",
    );
  return r;
}

function humanOnly(ctx: RunContext, what: string): void {
  if (ctx.actor.kind === "human") return;
  audit(ctx, `run.review.${what}.refused`, "review", { actor: actorLabel(ctx.actor) });
  throw new KeelError(
    `only a human may ${what} reviewed work (acting as ${actorLabel(ctx.actor)})`,
    EXIT.refused,
    "run it as yourself: --as human:<name>",
    undefined,
    "review-human-only",
  );
}

function recordReview(
  ctx: RunContext,
  r: ReviewRecord,
  outcome: "green" | "rejected" | "integration-failed",
  text: string | null,
) {
  const task = ctx.graph().nodes.get(r.taskId)?.task;
  onState(ctx, (s) =>
    recordAttempt(
      s,
      bookkeepingAttempt({
        runId: r.runId,
        taskId: r.taskId,
        attempt: attemptsSoFar(s, r.taskId),
        agent: "review",
        startedAt: new Date().toISOString(),
        outcome,
        capabilities: task ? capabilitiesOf(ctx, { task }) : [],
        feedback: text,
      }),
    ),
  );
}

/** Re-opens the task for the next run, telling it why: the reviewer's note, or the integrated gate's output. */
async function reopen(
  ctx: RunContext,
  r: ReviewRecord,
  text: string,
  outcome: "rejected" | "integration-failed",
) {
  await ctx.claim({ op: "note", key: r.taskId, text, author: actorLabel(ctx.actor) });
  await ctx.claim({ op: "release", key: r.taskId, token: r.token });
  recordReview(ctx, r, outcome, text);
  onState(ctx, (s) => dropReview(s, r.taskId));
  await removeWorktree(ctx.top, worktreePath(ctx, `review-${r.branch.slice("keel/task/".length)}`), r.branch);
}

export async function rejectReview(ctx: RunContext, key: string, note: string): Promise<void> {
  humanOnly(ctx, "reject");
  const r = reviewOf(ctx, key);
  await reopen(ctx, r, feedback.rejected(actorLabel(ctx.actor), note), "rejected");
  audit(ctx, "run.review.reject", key, { note, commit: r.commit }, { reason: note });
}

export async function approveReview(
  ctx: RunContext,
  key: string,
): Promise<{ landed: boolean; commit: string | null; feedback: string | null }> {
  humanOnly(ctx, "approve");
  const r = reviewOf(ctx, key);
  const task = ctx.graph().nodes.get(key)?.task;
  if (!task)
    throw new KeelError(
      `task ${key} is no longer in the task graph`,
      EXIT.usage,
      "see keel tasks list",
      undefined,
      "review-unknown",
    );
  const worktree = worktreePath(ctx, `review-${r.branch.slice("keel/task/".length)}`);
  await removeWorktree(ctx.top, worktree, null);
  await addWorktree(ctx.top, worktree, r.branch, r.commit);
  const held: Held = { key, token: r.token, worker: 0, worktree, branch: r.branch, base: r.commit, task };
  const landing = await new MergeQueue().land(ctx, held, r.commit);
  if (landing.landed) {
    recordReview(ctx, r, "green", null);
    onState(ctx, (s) => dropReview(s, key));
    audit(ctx, "run.review.approve", key, { commit: landing.commit });
    await finishLanded(ctx, held, landing.commit, attemptsSoFar0(ctx, key));
    return { landed: true, commit: landing.commit, feedback: null };
  }
  const text =
    landing.outcome === "conflict" ? `integration conflict in ${landing.files.join(", ")}` : landing.feedback;
  await reopen(ctx, r, text, "integration-failed");
  audit(ctx, "run.review.approve", key, { landed: false, reason: text.split("\n")[0] });
  return { landed: false, commit: null, feedback: text };
}

function attemptsSoFar0(ctx: RunContext, key: string): number {
  return onState(ctx, (s) => attemptsSoFar(s, key));
}
