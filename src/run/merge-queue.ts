// The merge queue: green tasks land one at a time. Each is rebased or merged onto the integration branch's tip in
// its worktree, the gates run again on that integrated result (unless it is exactly the commit already verified),
// and only then does the branch move — by compare-and-swap, so work that landed meanwhile is never overwritten.
// Two tasks green apart and red together: the second goes back to its worker with the integrated gate's output.
// A conflict is never forced: its files are parked as Keel conflicts for a human.
// @req RUN-6
import { recordConflict } from "../core/changes/conflicts.js";
import { type Held, runTaskGates, taskGates } from "./attempt.js";
import { onState, type RunContext } from "./context.js";
import { advanceBranch, integrateOnto, revParse } from "./git.js";
import { feedback } from "./prompt.js";
import { updateRunTask } from "./state.js";

type Outcome =
  | { landed: true; commit: string; gateMs: number }
  | { landed: false; outcome: "integration-failed"; feedback: string; gateMs: number }
  | {
      landed: false;
      outcome: "conflict";
      conflicts: string[];
      files: string[];
      detail: string;
      gateMs: number;
    };

/** How the landing went, and how long the task waited behind others before its turn. */
export type Landing = Outcome & { waitMs: number };

/** Tries a few times when the branch moves under us (a person committing meanwhile): each try integrates afresh. */
const MOVED_RETRIES = 5;

export class MergeQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Queues the task's work; resolves once it landed, or with why it did not. */
  land(ctx: RunContext, held: Held, verified: string): Promise<Landing> {
    const queued = Date.now();
    const turn = this.tail.then(async () => {
      const waitMs = Date.now() - queued;
      return { ...(await integrate(ctx, held, verified)), waitMs };
    });
    this.tail = turn.catch(() => undefined);
    return turn;
  }
}

async function integrate(ctx: RunContext, held: Held, verified: string): Promise<Outcome> {
  const branch = ctx.settings.integrationBranch;
  let gateMs = 0;
  let last = "";
  for (let i = 0; i < MOVED_RETRIES; i++) {
    const tip = await revParse(ctx.top, `refs/heads/${branch}`);
    if (tip === null) throw new Error(`the integration branch ${branch} no longer exists`);
    const message = `Merge ${held.key} into ${branch}\n\nTask: ${held.key}\nKeel-Run: ${ctx.runId}\n`;
    // Nothing landed since the task's worktree was made: its commit is on top of the tip already.
    const merged =
      tip === held.base && verified
        ? { ok: true as const, commit: verified }
        : await integrateOnto(held.worktree, held.branch, tip, ctx.settings.strategy, message);
    if (!merged.ok) return { ...park(ctx, held, merged.conflicts, merged.detail), gateMs };
    if (merged.commit !== verified) {
      const checked = await runTaskGates(ctx, held, taskGates(ctx, held.key), (g, code, _t, out) =>
        feedback.integrated(tip, g, code, out),
      );
      gateMs += checked.ms;
      if (checked.feedback)
        return { landed: false, outcome: "integration-failed", feedback: checked.feedback, gateMs };
    }
    // Recorded before the branch moves: a run killed right after finds the commit landed and only marks it done.
    onState(ctx, (s) => updateRunTask(s, held.key, { greenCommit: merged.commit }));
    const moved = await advanceBranch(ctx.top, branch, tip, merged.commit);
    if (moved.ok) return { landed: true, commit: merged.commit, gateMs };
    last = moved.reason;
    verified = merged.commit;
  }
  // Not forced, and not the whole run's failure: the task is parked for a person, its green work on its branch.
  return {
    landed: false,
    outcome: "conflict",
    conflicts: [],
    files: [],
    detail: `${branch} could not be moved: ${last}`,
    gateMs,
  };
}

function park(
  ctx: RunContext,
  held: Held,
  files: Array<{ path: string; base: string; ours: string; theirs: string }>,
  detail: string,
): Omit<Extract<Outcome, { outcome: "conflict" }>, "gateMs"> {
  const ids = onState(ctx, (state) =>
    state.exclusive(() =>
      files.map(
        (f) =>
          recordConflict(state, {
            change: `task:${held.key}`,
            capability: "(code)",
            requirement: f.path,
            base: f.base,
            ours: f.ours,
            theirs: f.theirs,
          }).id,
      ),
    ),
  );
  return { landed: false, outcome: "conflict", conflicts: ids, files: files.map((f) => f.path), detail };
}
