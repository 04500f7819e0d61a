// `keel run --plan <change>`: the planner agent breaks a change into tasks. It runs in a scratch folder of its own
// (`.keel/run/plan/<change>/<run>/work/`, its only writable place besides its prompt folder) and writes one file there,
// tasks.md; Keel checks that text as the change's tasks.md (plan-check.ts) and sends an invalid plan back with the
// positioned findings, until one validates or the attempts or the budget run out. Only a valid plan is written
// into the change, atomically, and an existing plan only with `replace`. The plan is then a proposal for a human
// to approve (`keel change approve`), unless policy lets agents carry out approved work in every capability the
// change touches; agents never approve it. The `run.plan` audit event records who planned what, with the text's
// hash: task files have no provenance marker of their own.
// @req RUN-8
import { existsSync, lstatSync, mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import { changeStatus, type LoadedChange, requireChange } from "../core/changes/load.js";
import { authorize, changeScope } from "../core/policy.js";
import { type LoadedProject, loadProject } from "../core/project.js";
import { unreadableFinding } from "../core/validate/finding.js";
import { contentHash } from "../model/fingerprint.js";
import type { Finding } from "../model/types.js";
import type { Actor } from "../workspace/actor.js";
import { writeFileAtomic } from "../workspace/atomic.js";
import { usageError } from "../workspace/errors.js";
import { readSource } from "../workspace/read.js";
import type { SandboxMode } from "../workspace/run-config.js";
import { type AgentRunResult, runAgent } from "./agent-process.js";
import type { AgentUsage } from "./agents/types.js";
import { passedEnv } from "./attempt.js";
import { audit, type LoopAgent } from "./context.js";
import { chooseAgent } from "./open.js";
import { checkPlan, planFile, plannedRequirements } from "./plan-check.js";
import { PLAN_FILE, planFeedback, renderPlanPrompt } from "./plan-prompt.js";
import { feedback } from "./prompt.js";
import { openSandbox, type Sandbox } from "./sandbox.js";
import { newRunId } from "./supervisor.js";

export const PLAN_DIR = join(".keel", "run", "plan");

export interface PlanOptions {
  /** Who runs the planner: the actor of the audit event. */
  actor: Actor;
  /** keel.yaml `agents:` entry; default `run.planner`, then the run's agent. */
  agent?: string | null;
  /** Default `run.max_attempts`. */
  maxAttempts?: number | null;
  /** Default `run.sandbox`. */
  sandbox?: SandboxMode | null;
  /** Overwrite the change's existing tasks.md (only with a plan that validates). */
  replace?: boolean;
  runId?: string;
  /** Told after each attempt (a live line). */
  onAttempt?: (attempt: PlanAttempt) => void;
}

/** valid / invalid: the agent wrote a tasks.md, judged; missing: it wrote none; the others as in a task's run. */
export type PlanOutcome = "valid" | "invalid" | "missing" | "crashed" | "stalled" | "timed-out";

export interface PlanAttempt {
  attempt: number;
  ok: boolean;
  outcome: PlanOutcome;
  /** The findings on the plan it wrote (errors and warnings; none when it wrote none). */
  findings: Finding[];
  /** What the next attempt is told; null for a valid plan or a stopped run. */
  feedback: string | null;
  durationMs: number;
  usage: AgentUsage | null;
}

export interface PlanResult {
  change: string;
  /** A plan validated and was written. */
  ok: boolean;
  /** The change's tasks.md, project-relative; null when nothing was written. */
  file: string | null;
  agent: string;
  attempts: PlanAttempt[];
  /** Tasks in the written plan (0 when none was written). */
  tasks: number;
  /** The plan stands by policy; false: it waits for a human's approval. */
  accepted: boolean;
  /** The policy rule that decided, or `run/plan-invalid` when no plan validated. */
  rule: string;
  reason: string;
  /** What a person does next, or null when nothing is needed. */
  next: string | null;
  /** The change's status (planning never changes it). */
  status: string;
  /** Project-relative folder of this planning's prompts and the agent's last tasks.md. */
  scratch: string;
}

/** A plan that validated: its text and how many tasks it holds. */
interface Plan {
  text: string;
  tasks: number;
}

/** One planning session: the project read once, the agent and sandbox chosen, the scratch folders made. */
interface Session {
  root: string;
  /** Who runs the planner. */
  actor: Actor;
  project: LoadedProject;
  loaded: LoadedChange;
  file: string;
  agent: LoopAgent;
  sandbox: Sandbox;
  runId: string;
  maxAttempts: number;
  /** The agent's working directory, where it writes tasks.md. */
  cwd: string;
  /** Its prompts, feedback and nudges. */
  scratch: string;
}

export async function planChange(root: string, changeId: string, options: PlanOptions): Promise<PlanResult> {
  const s = openSession(root, changeId, options);
  const { attempts, plan } = await attemptPlans(s, options.onAttempt);
  return plan === null ? planFailed(s, attempts) : planWritten(s, options.replace === true, attempts, plan);
}

/** What every answer and audit event of a planning says: the change, the agent, the attempts. */
function summary(s: Session, attempts: PlanAttempt[]) {
  const ctx = { root: s.root, actor: s.actor, runId: s.runId };
  const result = {
    change: s.loaded.id,
    agent: s.agent.name,
    attempts,
    status: changeStatus(s.loaded),
    scratch: relative(s.root, s.scratch),
  };
  const data = {
    change: s.loaded.id,
    agent: s.agent.name,
    author: `agent:${s.agent.name}`,
    attempts: attempts.length,
    outcomes: attempts.map((a) => a.outcome),
    findings: attempts.at(-1)?.findings ?? [],
  };
  return { ctx, result, data };
}

function planFailed(s: Session, attempts: PlanAttempt[]): PlanResult {
  const { ctx, result, data } = summary(s, attempts);
  audit(ctx, "run.plan.failed", s.loaded.id, data);
  const n = attempts.length;
  return {
    ...result,
    ok: false,
    file: null,
    tasks: 0,
    accepted: false,
    rule: "run/plan-invalid",
    reason: `no valid plan in ${n} attempt${n === 1 ? "" : "s"} (last: ${attempts.at(-1)?.outcome ?? "none"})`,
    next: `read the findings and the prompts in ${result.scratch}/, then run \`keel run --plan ${s.loaded.id}\` again (more --max-attempts, another --agent)`,
  };
}

function planWritten(s: Session, replace: boolean, attempts: PlanAttempt[], plan: Plan): PlanResult {
  const { ctx, result, data } = summary(s, attempts);
  const before = writePlan(s, plan.text, replace);
  const verdict = policyVerdict(s);
  audit(
    ctx,
    "run.plan",
    s.loaded.id,
    { ...data, file: s.file, tasks: plan.tasks, accepted: verdict.accepted, rule: verdict.rule },
    {
      ...(before === null ? {} : { before: contentHash(before) }),
      after: contentHash(plan.text),
      reason: verdict.reason,
    },
  );
  return { ...result, ok: true, file: s.file, tasks: plan.tasks, ...verdict };
}

function openSession(root: string, changeId: string, options: PlanOptions): Session {
  const project = loadProject(root, { explicitRoot: true });
  const loaded = requireChange(project.project, changeId);
  const status = changeStatus(loaded);
  if (loaded.archived || status === "applied" || status === "rejected")
    throw usageError(
      `change "${changeId}" is ${loaded.archived ? "archived" : status}; only an open change can be planned`,
      "create a new change with `keel change new <name>`",
    );
  const file = planFile(loaded);
  if (!options.replace) refuseExisting(project.project.root, file);
  const agent = chooseAgent(project.config, options.agent ?? project.config.run.planner);
  const sandbox = openSandbox(options.sandbox ?? project.config.run.sandbox);
  const runId = options.runId ?? newRunId();
  // One folder per planning: it starts from nothing, and two plannings of one change never share a file.
  const scratch = join(project.project.root, PLAN_DIR, loaded.id, runId);
  const cwd = join(scratch, "work");
  mkdirSync(cwd, { recursive: true });
  return {
    root: project.project.root,
    actor: options.actor,
    project,
    loaded,
    file,
    agent,
    sandbox,
    runId,
    maxAttempts: options.maxAttempts ?? project.config.run.maxAttempts,
    cwd,
    scratch,
  };
}

function refuseExisting(root: string, file: string): void {
  if (!exists(join(root, file))) return;
  throw usageError(
    `${file} exists: the change already has a plan, and nothing was written`,
    "pass --replace to have the planner write a new one (the old one is replaced only by a plan that validates)",
  );
}

function exists(abs: string): boolean {
  try {
    lstatSync(abs);
    return true;
  } catch {
    return false;
  }
}

/** Attempts until a plan validates, the attempts run out or the budget (`run.task_budget`) is spent. */
async function attemptPlans(
  s: Session,
  onAttempt: PlanOptions["onAttempt"],
): Promise<{ attempts: PlanAttempt[]; plan: Plan | null }> {
  const deadline = Date.now() + s.project.config.run.taskBudgetMs;
  const attempts: PlanAttempt[] = [];
  let prior: string | null = null;
  for (let n = 1; n <= s.maxAttempts && Date.now() < deadline; n++) {
    const { attempt, plan } = await planAttempt(s, n, prior, deadline - Date.now());
    attempts.push(attempt);
    onAttempt?.(attempt);
    if (plan) return { attempts, plan };
    if (attempt.feedback === null) break;
    prior = attempt.feedback;
  }
  return { attempts, plan: null };
}

async function planAttempt(
  s: Session,
  n: number,
  prior: string | null,
  budgetMs: number,
): Promise<{ attempt: PlanAttempt; plan: Plan | null }> {
  const run = await startPlanner(s, n, prior, budgetMs);
  const judged = judge(s, run);
  const attempt: PlanAttempt = {
    attempt: n,
    ok: judged.plan !== null,
    outcome: judged.outcome,
    findings: judged.findings,
    feedback: judged.feedback,
    durationMs: run.durationMs,
    usage: s.agent.usage(run.stdout),
  };
  return { attempt, plan: judged.plan };
}

/** Writes the attempt's prompt (and feedback) to its files and runs the agent on it, sandboxed and watched. */
async function startPlanner(
  s: Session,
  n: number,
  prior: string | null,
  budgetMs: number,
): Promise<AgentRunResult> {
  const prompt = renderPlanPrompt({
    project: s.project,
    loaded: s.loaded,
    requirements: plannedRequirements(s.loaded.change),
    attempt: n,
    maxAttempts: s.maxAttempts,
    feedback: prior,
  });
  const promptFile = join(s.scratch, `prompt-${n}.md`);
  writeFileAtomic(promptFile, prompt);
  const env = planEnv(s, n, promptFile);
  if (prior) {
    env.KEEL_FEEDBACK_FILE = join(s.scratch, `feedback-${n}.md`);
    writeFileAtomic(env.KEEL_FEEDBACK_FILE, `${prior}\n`);
  }
  const launch = s.agent.launch({ promptFile, prompt, worktree: s.cwd, model: null, args: [] });
  return runAgent({
    argv: launch.argv,
    stdin: launch.stdin,
    cwd: s.cwd,
    env,
    sandbox: s.sandbox,
    network: s.agent.network,
    scratch: s.scratch,
    // The planner reads the change in its prompt; Keel's state (the store, other runs' worktrees) is none of its
    // business. Its own folders, inside, stay visible and writable.
    hidden: [join(s.root, ".keel")],
    readOnly: [],
    writable: s.agent.stateDirs.map((d) => join(process.env.HOME ?? "/", d)).filter((d) => existsSync(d)),
    stallMs: s.project.config.run.stallMs,
    budgetMs,
    heartbeatMs: s.project.config.run.stallMs,
    heartbeat: () => undefined,
  });
}

interface Judged {
  outcome: PlanOutcome;
  findings: Finding[];
  feedback: string | null;
  plan: Plan | null;
}

/** What came of a run: a plan that validates, or what the next attempt is told (null: stop trying). */
function judge(s: Session, run: AgentRunResult): Judged {
  const told = (outcome: PlanOutcome, findings: Finding[], feedback: string | null): Judged => ({
    outcome,
    findings,
    feedback,
    plan: null,
  });
  if (run.stopped === "stalled")
    return told("stalled", [], feedback.stalled(Math.round((2 * s.project.config.run.stallMs) / 1000)));
  if (run.stopped === "budget") return told("timed-out", [], null);
  if (run.exitCode !== 0)
    return told("crashed", [], feedback.crashed(run.exitCode, run.signal, run.error ?? run.tail));
  const written = readPlan(s);
  if ("missing" in written)
    return told("missing", [written.missing], planFeedback([written.missing], s.file));
  const check = checkPlan(s.project, s.loaded, written.text, `agent:${s.agent.name}`);
  if (!check.ok) return told("invalid", check.findings, planFeedback(check.findings, s.file));
  return {
    outcome: "valid",
    findings: check.findings,
    feedback: null,
    plan: { text: written.text, tasks: check.tasks },
  };
}

/** The agent's environment: its entry's, and where its prompt, nudges and plan go. No task, no claim token. */
function planEnv(s: Session, n: number, promptFile: string): NodeJS.ProcessEnv {
  return {
    ...passedEnv(s.agent.passEnv),
    KEEL_CHANGE: s.loaded.id,
    KEEL_ATTEMPT: String(n),
    KEEL_RUN: s.runId,
    KEEL_PACK_FILE: promptFile,
    KEEL_PLAN_FILE: join(s.cwd, PLAN_FILE),
    KEEL_NUDGE_FILE: join(s.scratch, "nudge.md"),
    KEEL_ACTOR: `agent:${s.agent.name}`,
  };
}

/** The tasks.md the agent wrote: a regular file's text (a link could point anywhere), or why there is none. */
function readPlan(s: Session): { text: string } | { missing: Finding } {
  const abs = join(s.cwd, PLAN_FILE);
  const missing = (message: string, hint: string): { missing: Finding } => ({
    missing: {
      rule: "run/no-plan",
      severity: "error",
      file: s.file,
      line: 1,
      col: 1,
      message,
      hint,
      target: s.loaded.id,
    },
  });
  let size: number;
  try {
    const st = lstatSync(abs);
    if (!st.isFile())
      return missing(
        `${PLAN_FILE} in your working directory is not a regular file`,
        `write ${PLAN_FILE} as a plain file`,
      );
    size = st.size;
  } catch {
    return missing(
      `no ${PLAN_FILE} was written in your working directory`,
      `write the plan to ./${PLAN_FILE}`,
    );
  }
  const r = readSource(abs, size);
  return r.ok ? { text: r.text } : { missing: unreadableFinding(s.file, r.problem, s.loaded.id) };
}

/** Writes the plan into the change; returns the text it replaced, if any. */
function writePlan(s: Session, text: string, replace: boolean): string | null {
  const abs = join(s.root, s.file);
  // Checked again: a plan may have appeared while the agent worked.
  if (!replace) refuseExisting(s.root, s.file);
  const before = exists(abs) ? readSource(abs) : null;
  writeFileAtomic(abs, text);
  return before?.ok ? before.text : null;
}

/**
 * Whether the plan stands without a human. A plan is the change's work, not its intent, so it is judged as work:
 * it stands where policy lets an agent carry out an approved change by itself (`apply-approved` or
 * `auto-approve-inferred` in every capability the change touches), and waits for a human elsewhere.
 */
function policyVerdict(s: Session): Pick<PlanResult, "accepted" | "rule" | "reason" | "next"> {
  const planner: Actor = { name: s.agent.name, kind: "agent", role: "agent", source: "config" };
  const { capabilities } = changeScope(s.loaded.change);
  const decision = authorize(planner, "apply", {
    change: { id: s.loaded.id, author: null, status: "approved" },
    capabilities,
    policy: s.project.config.policy,
  });
  if (decision.allowed)
    return {
      accepted: true,
      rule: decision.rule,
      reason: `accepted by policy: ${decision.rule} lets agents carry out approved work in ${capabilities.join(", ") || "any capability"}`,
      next: null,
    };
  return {
    accepted: false,
    rule: decision.rule,
    reason: `a proposal for a human: ${decision.reason}`,
    next: `a human reviews ${s.file} and approves the plan with \`keel change approve ${s.loaded.id}\``,
  };
}
