// One attempt at a task, in its worktree: write the prompt, start the agent (sandboxed, heartbeating the lease),
// check the boundaries, commit the work with its trailers, and run the task's gates on that commit, recording
// evidence in the main project's store. The result says what happened and, when it was not green, what the next
// attempt is told. Keel's own time is measured apart from the agent's and the gates'.
// @req RUN-2, RUN-3, RUN-4, RUN-5
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkBoundaries } from "../core/boundaries.js";
import type { LoadedTask } from "../core/tasks/load.js";
import type { Gate } from "../core/verify/gates.js";
import { selectForTask } from "../core/verify/gates.js";
import { verify } from "../core/verify/index.js";
import { passed } from "../core/verify/run.js";
import { runAgent } from "./agent-process.js";
import type { AgentUsage } from "./agents/types.js";
import { ATTEMPTS_DIR, audit, onState, projectIn, type RunContext } from "./context.js";
import { commitAll, git, gitOk } from "./git.js";
import { feedback, renderPrompt } from "./prompt.js";
import { type Outcome, updateRunTask } from "./state.js";

export interface Held {
  key: string;
  token: number;
  worker: number;
  worktree: string;
  branch: string;
  base: string;
  task: LoadedTask;
  /** Whether an attempt committed on the branch already (the next one replaces that commit). */
  committed?: boolean;
}

export interface AttemptResult {
  outcome: Outcome;
  feedback: string | null;
  commit: string | null;
  agentMs: number;
  gateMs: number;
  usage: AgentUsage | null;
}

/** What of Keel's own environment an agent gets: a small base and the variables its entry names. */
export function passedEnv(passEnv: readonly string[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of ["PATH", "HOME", "LANG", "LC_ALL", "TERM", "TMPDIR", "USER", ...passEnv]) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

/** Keel's state files, which neither an agent nor a gate may read or write. */
function hiddenState(ctx: RunContext): string[] {
  return [join(ctx.root, ".keel", "state.db"), join(ctx.root, ".keel", "index.db")];
}

/** The environment an agent gets: a small base, the variables its entry names, and Keel's coordinates. */
function agentEnv(ctx: RunContext, held: Held, attempt: number, files: { prompt: string; scratch: string }) {
  const env = passedEnv(ctx.agent.passEnv);
  Object.assign(env, {
    KEEL_TASK: held.key,
    KEEL_TOKEN: String(held.token),
    KEEL_ATTEMPT: String(attempt),
    KEEL_RUN: ctx.runId,
    KEEL_PACK_FILE: files.prompt,
    KEEL_NUDGE_FILE: join(files.scratch, "nudge.md"),
    KEEL_ACTOR: `agent:${ctx.agent.name}`,
    ...(ctx.settings.mcpUrl ? { KEEL_MCP_URL: ctx.settings.mcpUrl } : {}),
  });
  return env;
}

function phase(
  ctx: RunContext,
  held: Held,
  attempt: number,
  p: Parameters<RunContext["onStep"]>[0]["phase"],
) {
  onState(ctx, (s) =>
    updateRunTask(s, held.key, { phase: p as never, attempt, phaseAt: new Date().toISOString() }),
  );
  ctx.onStep({ worker: held.worker, task: held.key, attempt, phase: p });
}

function heartbeat(ctx: RunContext, held: Held): void {
  // A lost lease shows at the next fenced write (done, block), which is refused and reported there.
  ctx
    .claim({ op: "heartbeat", key: held.key, token: held.token, ttlMs: ctx.settings.leaseMs })
    .catch(() => {});
}

/** Puts the files an attempt changed outside the boundaries back as they were at the task's base. */
async function restore(worktree: string, base: string, files: string[]): Promise<void> {
  for (const f of files) {
    const tracked = (await git(worktree, ["cat-file", "-e", `${base}:${f}`])).code === 0;
    if (tracked) await gitOk(worktree, ["checkout", base, "--", f]);
    else
      await git(worktree, ["rm", "-q", "-f", "--cached", "--ignore-unmatch", "--", f]).then(() =>
        git(worktree, ["clean", "-q", "-f", "--", f]),
      );
  }
}

export function commitMessage(ctx: RunContext, held: Held, attempt: number, verified: string[]): string {
  const t = held.task;
  return [
    `${t.title.trim() || held.key}`,
    "",
    `Task: ${held.key}`,
    ...(t.covers.length ? [`Implements: ${t.covers.join(", ")}`] : []),
    ...(verified.length ? [`Verifies: ${verified.join(", ")}`] : []),
    `Agent: ${ctx.agent.name}`,
    `Attempt: ${attempt}`,
    `Keel-Run: ${ctx.runId}`,
    "",
  ].join("\n");
}

/** The requirements the gates vouched for: those they name that exist. */
export function verifiedBy(gates: Gate[]): string[] {
  return [
    ...new Set(
      gates.flatMap((g) =>
        Object.entries(g.requirements)
          .filter(([, f]) => f !== null)
          .map(([id]) => id),
      ),
    ),
  ].sort();
}

export function taskGates(ctx: RunContext, key: string): Gate[] {
  return selectForTask(ctx.gates(), key).gates;
}

/** Runs gates in the worktree; the first red one becomes feedback (null when all passed). */
export async function runTaskGates(
  ctx: RunContext,
  held: Held,
  gates: Gate[],
  describe: (gate: Gate, exitCode: number | null, timedOut: boolean, output: string) => string,
): Promise<{ feedback: string | null; ms: number }> {
  const started = Date.now();
  if (gates.length === 0) return { feedback: null, ms: 0 };
  const result = await verify(
    projectIn(ctx, held.worktree),
    { gates, scope: { kind: "task", target: held.key }, notes: [] },
    {
      actor: ctx.actor,
      task: held.key,
      storeRoot: ctx.root,
      state: ctx.state,
      concurrency: 1,
      // Gates run code the agent wrote: in the same sandbox, the worktree their only writable place.
      wrap: (argv, cwd) =>
        ctx.sandbox.wrap({
          argv,
          cwd,
          writable: [held.worktree],
          hidden: hiddenState(ctx),
          readOnly: [ctx.root],
          network: ctx.settings.gateNetwork,
        }),
    },
  );
  const red = result.results.find((r) => !passed(r.run));
  return {
    feedback: red ? describe(red.gate, red.run.exitCode, red.run.timedOut, red.run.output.tail) : null,
    ms: Date.now() - started,
  };
}

export async function runAttempt(
  ctx: RunContext,
  held: Held,
  attempt: number,
  prior: string | null,
  budgetMs: number,
): Promise<AttemptResult> {
  const scratch = join(ctx.root, ATTEMPTS_DIR, held.branch.replace(/\//g, "_"), String(attempt));
  mkdirSync(scratch, { recursive: true });
  phase(ctx, held, attempt, "preparing");
  const gates = taskGates(ctx, held.key);
  const { buildContextPack } = await import("../core/context/index.js");
  const built = await buildContextPack(ctx.root, held.key, 8000);
  const pack = "pack" in built ? built.pack.text : "";
  const prompt = renderPrompt({
    task: held.key,
    title: held.task.title,
    attempt,
    maxAttempts: ctx.settings.maxAttempts,
    boundaries: held.task.boundaries,
    gates,
    pack,
    feedback: prior,
  });
  const promptFile = join(scratch, "prompt.md");
  writeFileSync(promptFile, prompt);
  if (prior) writeFileSync(join(scratch, "feedback.md"), `${prior}\n`);
  const launch = ctx.agent.launch({
    promptFile,
    prompt,
    worktree: held.worktree,
    model: null,
    args: [],
  });
  phase(ctx, held, attempt, "agent");
  const env = agentEnv(ctx, held, attempt, { prompt: promptFile, scratch });
  if (prior) env.KEEL_FEEDBACK_FILE = join(scratch, "feedback.md");
  const run = await runAgent({
    argv: launch.argv,
    stdin: launch.stdin,
    cwd: held.worktree,
    env,
    sandbox: ctx.sandbox,
    network: ctx.agent.network,
    scratch,
    hidden: hiddenState(ctx),
    readOnly: [ctx.root],
    writable: ctx.agent.stateDirs.map((d) => join(process.env.HOME ?? "/", d)).filter((d) => existsSync(d)),
    stallMs: ctx.settings.stallMs,
    budgetMs,
    heartbeatMs: Math.max(50, Math.floor(ctx.settings.leaseMs / 3)),
    heartbeat: () => heartbeat(ctx, held),
    onStart: (pid, startTime) =>
      onState(ctx, (s) => updateRunTask(s, held.key, { agentPid: pid, agentStarted: startTime })),
    onNudge: () => audit(ctx, "run.nudge", held.key, { attempt, stallMs: ctx.settings.stallMs }),
  });
  const usage = ctx.agent.usage(run.stdout);
  const base = { agentMs: run.durationMs, gateMs: 0, usage, commit: null };
  if (run.stopped === "stalled")
    return {
      ...base,
      outcome: "stalled",
      feedback: feedback.stalled(Math.round((2 * ctx.settings.stallMs) / 1000)),
    };
  if (run.stopped === "budget") return { ...base, outcome: "timed-out", feedback: null };
  if (run.exitCode !== 0)
    return {
      ...base,
      outcome: "crashed",
      feedback: feedback.crashed(run.exitCode, run.signal, run.error ?? run.tail),
    };
  return afterAgent(ctx, held, attempt, gates, base);
}

/** The boundary check, the commit and the gates, once the agent exited cleanly. */
async function afterAgent(
  ctx: RunContext,
  held: Held,
  attempt: number,
  gates: Gate[],
  base: Omit<AttemptResult, "outcome" | "feedback">,
): Promise<AttemptResult> {
  phase(ctx, held, attempt, "boundaries");
  // Keel owns the task's checkbox: whatever the agent did to its tasks.md is put back, so landing never collides.
  await gitOk(held.worktree, [
    "checkout",
    "--quiet",
    held.base,
    "--",
    join(ctx.projectInTop, held.task.file),
  ]);
  const report = checkBoundaries(projectIn(ctx, held.worktree), held.task, held.base);
  if (report.violations.length > 0) {
    const files = report.violations.map((v) => v.path);
    await restore(
      held.worktree,
      held.base,
      files.map((f) => join(ctx.projectInTop, f)),
    );
    audit(ctx, "run.boundary", held.key, { attempt, files });
    return { ...base, outcome: "boundary", feedback: feedback.boundary(files, held.task.boundaries) };
  }
  phase(ctx, held, attempt, "committing");
  // One commit per task: a retry replaces the previous attempt's commit, so what lands is what passed.
  if (held.committed) await gitOk(held.worktree, ["reset", "--quiet", "--soft", held.base]);
  const commit = await commitAll(held.worktree, commitMessage(ctx, held, attempt, verifiedBy(gates)));
  held.committed = true;
  phase(ctx, held, attempt, "gates");
  const checked = await runTaskGates(ctx, held, gates, feedback.gate);
  return {
    ...base,
    commit,
    gateMs: checked.ms,
    outcome: checked.feedback ? "gate-failed" : "green",
    feedback: checked.feedback,
  };
}
