// `keel run`: the work loop (src/run/). `keel run [--workers N] [--agent NAME] [--change ID | --task KEY…]
// [--until empty|N|DURATION] [--resume]` works the queue; `keel run status` shows the workers; `keel run review
// [approve|reject KEY]` is the review queue.
// @req RUN-1, RUN-9, RUN-12, RUN-14
import type { RunContext } from "../../run/context.js";
import type { Phase } from "../../run/state.js";
import { closeStores } from "../../store/select.js";
import { resolveActor } from "../../workspace/actor.js";
import { loadConfig, parseGateDuration } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { findingLines } from "../findings.js";
import { ACTOR_FLAGS } from "../flags.js";
import { type Io, printJson } from "../output.js";
import { type Subcommand, subcommandNamed, synopses } from "../subcommands.js";

const USAGE = `keel run [--workers <n>] [--agent <name>] [--change <id> | --task <key>…] [--until empty|<n>|<duration>] [--max-attempts <n>] [--budget <duration>] [--stall <duration>] [--lease <duration>] [--sandbox auto|bwrap|none] [--strategy rebase|merge] [--integration-branch <branch>] [--resume] [--serve] [--as <kind:name>] [--json]
       keel run --plan <change> [--replace] [--agent <name>] [--max-attempts <n>] [--sandbox auto|bwrap|none] [--as <kind:name>] [--json]`;
const STATUS_USAGE = "keel run status [--json]";
const REVIEW_USAGE =
  "keel run review [list | approve <task> | reject <task> --note <text>] [--agent <name>] [--as <kind:name>] [--json]";

const AGENT_FLAG = {
  agent: {
    type: "string",
    value: "name",
    help: "the keel.yaml agents: entry to run; default run.agent (run.planner with --plan)",
    complete: "agent",
  },
} as const satisfies Flags;

/** `keel run` itself: the loop's settings over keel.yaml's `run:`, and `--plan`. */
const FLAGS = {
  workers: { type: "string", value: "n", help: "tasks worked at once; default run.workers (1)" },
  ...AGENT_FLAG,
  change: { type: "string", value: "id", help: "work only this change's tasks", complete: "change" },
  task: {
    type: "string",
    multiple: true,
    value: "key",
    help: "work only this task (repeatable)",
    complete: "task",
  },
  until: {
    type: "string",
    value: "empty|n|duration",
    help: "stop when nothing is ready (default), after n tasks, or claim nothing new after a duration",
  },
  "max-attempts": { type: "string", value: "n", help: "attempts a task gets; default run.max_attempts (3)" },
  budget: {
    type: "string",
    value: "duration",
    help: "wall time one task may take over its attempts; default run.task_budget (30m)",
  },
  stall: {
    type: "string",
    value: "duration",
    help: "an agent silent this long is stopped; default run.stall (5m)",
  },
  lease: { type: "string", value: "duration", help: "each claim's lease; default run.lease (5m)" },
  sandbox: {
    type: "string",
    value: "auto|bwrap|none",
    help: "how agents are isolated; default run.sandbox (auto)",
    complete: ["auto", "bwrap", "none"],
  },
  strategy: {
    type: "string",
    value: "rebase|merge",
    help: "how green work lands; default run.strategy (rebase)",
    complete: ["rebase", "merge"],
  },
  "integration-branch": {
    type: "string",
    value: "branch",
    help: "the branch work lands on; default the branch checked out",
  },
  resume: { type: "boolean", help: "go on with the tasks an interrupted run left" },
  serve: { type: "boolean", help: "serve Keel's MCP to the agents on loopback (KEEL_MCP_URL)" },
  as: ACTOR_FLAGS.as,
  plan: {
    type: "string",
    value: "change",
    help: "have the planner agent write this change's tasks.md instead",
    complete: "change",
  },
  replace: { type: "boolean", help: "with --plan: overwrite an existing tasks.md once a new plan validates" },
} as const satisfies Flags;

const REVIEW_FLAGS = {
  note: { type: "string", value: "text", help: "what the work should do differently (needed to reject)" },
  ...AGENT_FLAG,
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>["values"];

function whole(text: string, flag: string, max: number): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max)
    throw usageError(`--${flag} must be a whole number from 1 to ${max}`, `usage: ${USAGE}`);
  return Number(text);
}

function dur(text: string, flag: string): number {
  const ms = parseGateDuration(text);
  if (ms === null) throw usageError(`--${flag} must be a duration such as 90s, 15m or 2h`, `usage: ${USAGE}`);
  return ms;
}

/** The command line's settings over keel.yaml's. */
function overrides(v: Values) {
  const o: Record<string, unknown> = {};
  if (v.workers) o.workers = whole(v.workers, "workers", 64);
  if (v["max-attempts"]) o.maxAttempts = whole(v["max-attempts"], "max-attempts", 50);
  if (v.budget) o.taskBudgetMs = dur(v.budget, "budget");
  if (v.stall) o.stallMs = dur(v.stall, "stall");
  if (v.lease) o.leaseMs = dur(v.lease, "lease");
  if (v.sandbox) {
    if (!["auto", "bwrap", "none"].includes(v.sandbox))
      throw usageError("--sandbox must be auto, bwrap or none", `usage: ${USAGE}`);
    o.sandbox = v.sandbox;
  }
  if (v.strategy) {
    if (!["rebase", "merge"].includes(v.strategy))
      throw usageError("--strategy must be rebase or merge", `usage: ${USAGE}`);
    o.strategy = v.strategy;
  }
  if (v.change && v.task)
    throw usageError("--change and --task select tasks two ways; pass one", `usage: ${USAGE}`);
  if (v.change) o.change = v.change;
  if (v.task) o.tasks = v.task;
  if (v.until && v.until !== "empty") {
    if (/^\d+$/.test(v.until)) o.untilTasks = whole(v.until, "until", 1_000_000);
    else o.untilTime = Date.now() + dur(v.until, "until");
  }
  return o;
}

function elapsed(ms: number): string {
  const s = Math.floor(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
}

interface WorkerLine {
  task: string;
  attempt: number;
  phase: string;
  since: number;
}

/** One live line per worker and a progress bar on a terminal; one plain line per step otherwise (none with --json). */
function display(io: Io, json: boolean, total: () => number) {
  const lines = new Map<number, WorkerLine>();
  let done = 0;
  let drawn = 0;
  const tty = !json && (process.stderr as { isTTY?: boolean }).isTTY === true;
  const bar = () => {
    const n = Math.max(total(), done);
    const width = 24;
    const fill = n === 0 ? width : Math.round((done / n) * width);
    return `[${"#".repeat(fill)}${"-".repeat(width - fill)}] ${done}/${n} done`;
  };
  const draw = () => {
    const rows = [...lines.entries()]
      .sort(([a], [b]) => a - b)
      .map(([w, l]) => `w${w} ${l.task} attempt ${l.attempt} ${l.phase} ${elapsed(Date.now() - l.since)}`);
    process.stderr.write(
      `${drawn > 0 ? `\x1b[${drawn}A` : ""}${[...rows, bar()].map((r) => `\x1b[2K${r}\n`).join("")}`,
    );
    drawn = rows.length + 1;
  };
  const timer = tty ? setInterval(draw, 1000) : null;
  timer?.unref();
  return {
    step(e: {
      worker: number;
      task: string;
      attempt: number;
      phase: Phase | "landed" | "blocked" | "released";
      detail?: string;
    }) {
      if (e.phase === "landed" || e.phase === "blocked" || e.phase === "review") {
        done++;
        lines.delete(e.worker);
      } else {
        const prev = lines.get(e.worker);
        lines.set(e.worker, {
          task: e.task,
          attempt: e.attempt || prev?.attempt || 0,
          phase: e.phase,
          since: prev?.task === e.task ? prev.since : Date.now(),
        });
      }
      if (tty) draw();
      else if (!json)
        io.err(
          `w${e.worker} ${e.task} attempt ${e.attempt} ${e.phase}${e.detail ? ` ${e.detail}` : ""} · ${done}/${Math.max(total(), done)} done`,
        );
    },
    stop() {
      if (timer) clearInterval(timer);
      if (tty) draw();
    },
  };
}

async function work(ctx: CommandContext, v: Values): Promise<ExitCode> {
  const { io, global } = ctx;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  const actor = { ...resolveActor(config, { flag: v.as, cwd: global.cwd }) };
  const { newRunId, pendingTasks, supervise } = await import("../../run/supervisor.js");
  const { openRun } = await import("../../run/open.js");
  let stopping = false;
  let total = 0;
  const view = display(io, global.json, () => total);
  const server = v.serve ? await serveForAgents(project.root, global, v.agent ?? null) : null;
  const runActor = {
    name: "keel-run",
    kind: "system" as const,
    role: "agent" as const,
    source: actor.source,
    tool: "keel-run",
  };
  const run = await openRun(
    project.root,
    newRunId(),
    runActor,
    {
      agent: v.agent ?? null,
      overrides: { ...overrides(v), ...(server ? { mcpUrl: `${server.url}/mcp` } : {}) },
      integrationBranch: v["integration-branch"] ?? null,
    },
    {
      onStep: (e) => view.step(e),
      stopping: () => stopping,
    },
  );
  total = pendingTasks(run);
  const stop = () => {
    stopping = true;
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  try {
    const summary = await supervise(run, { resume: v.resume === true });
    view.stop();
    if (global.json) printJson(io, { version: 1, ...summary });
    else
      io.out(
        `run ${summary.run}: ${summary.landed.length} landed, ${summary.blocked.length} blocked, ${summary.review.length} waiting for review${summary.stopped.length ? `, ${summary.stopped.length} stopped (keel run --resume)` : ""}`,
      );
    return summary.blocked.length > 0 ? EXIT.findings : EXIT.ok;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    run.state.close();
    await server?.close();
    // A team store's pool and its listening connection (the claim mirror's) would keep the process alive.
    await closeStores();
  }
}

/**
 * `--serve`: Keel's MCP server for the run's agents, on loopback, so KEEL_MCP_URL reaches it; tool calls that name
 * nobody act as the agent. An agent whose network is off (its own namespace) cannot reach it.
 */
async function serveForAgents(root: string, global: CommandContext["global"], agent: string | null) {
  const { startServer } = await import("../../server/http.js");
  const { chooseAgent } = await import("../../run/open.js");
  const name = chooseAgent(loadConfig(findProjectRoot(root, true)), agent).name;
  return startServer({
    host: "127.0.0.1",
    port: 0,
    root,
    global,
    actor: `agent:${name}`,
    auth: { required: false, ratePerMinute: 6000 },
    warm: false,
  });
}

async function status(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { positionals } = parseFlags(argv, {}, STATUS_USAGE);
  if (positionals.length > 0) throw usageError("run status takes no arguments", `usage: ${STATUS_USAGE}`);
  const { io, global } = ctx;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const { runStatus } = await import("../../run/status.js");
  const s = runStatus(project.root);
  if (global.json) {
    printJson(io, { version: 1, ...s });
    return EXIT.ok;
  }
  if (!s.run) {
    io.out("no run yet: start one with keel run");
    return EXIT.ok;
  }
  io.out(
    `run ${s.run.id} ${s.run.alive ? "running" : s.run.status} since ${s.run.startedAt} · ${s.counts.landed} landed, ${s.counts.blocked} blocked, ${s.counts.review} in review`,
  );
  for (const w of s.workers)
    io.out(`  w${w.worker} ${w.task} attempt ${w.attempt} ${w.phase} ${elapsed(w.elapsedMs)}`);
  return EXIT.ok;
}

async function review(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values: v, positionals } = parseFlags(argv, REVIEW_FLAGS, REVIEW_USAGE);
  const { io, global } = ctx;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const [sub, key] = positionals;
  if (!sub || sub === "list") {
    const { withState } = await import("../../run/context.js");
    const { reviews } = await import("../../run/state.js");
    const queue = withState(project.root, reviews);
    if (global.json) printJson(io, { version: 1, reviews: queue });
    else if (queue.length === 0) io.out("nothing waits for review");
    else
      for (const r of queue)
        io.out(`${r.taskId}  ${r.commit.slice(0, 12)}  ${r.branch}  since ${r.requestedAt}`);
    return EXIT.ok;
  }
  if ((sub !== "approve" && sub !== "reject") || !key)
    throw usageError("keel run review approve|reject <task>", `usage: ${REVIEW_USAGE}`);
  if (sub === "reject" && !v.note?.trim())
    throw usageError("a rejection needs --note", 'say what the work should do differently: --note "…"');
  const actor = resolveActor(loadConfig(project), { flag: v.as, cwd: global.cwd });
  const { openRun } = await import("../../run/open.js");
  const { withState } = await import("../../run/context.js");
  const { reviews } = await import("../../run/state.js");
  const rec = withState(project.root, reviews).find((r) => r.taskId === key);
  const run = await openRun(
    project.root,
    rec?.runId ?? "review",
    actor,
    { agent: v.agent ?? null, overrides: { sandbox: "none" } },
    { onStep: () => undefined, stopping: () => false },
  );
  try {
    return await decide(io, global.json, run, sub, key, v.note);
  } finally {
    run.state.close();
  }
}

async function decide(
  io: Io,
  json: boolean,
  run: RunContext,
  sub: "approve" | "reject",
  key: string,
  note: string | undefined,
): Promise<ExitCode> {
  const { approveReview, rejectReview } = await import("../../run/review.js");
  if (sub === "reject") {
    await rejectReview(run, key, (note as string).trim());
    if (json) printJson(io, { version: 1, task: key, rejected: true });
    else io.out(`${key} rejected: it is ready again, and its next attempt is told your note`);
    return EXIT.ok;
  }
  const result = await approveReview(run, key);
  if (json) printJson(io, { version: 1, task: key, ...result });
  else
    io.out(
      result.landed
        ? `${key} landed as ${result.commit?.slice(0, 12)}`
        : `${key} did not land: ${result.feedback?.split("\n")[0]}; it is ready again`,
    );
  return result.landed ? EXIT.ok : EXIT.gates;
}

/** `keel run --plan <change>`: the planner writes the change's tasks.md, checked until it validates (planner.ts). */
async function plan(ctx: CommandContext, v: Values): Promise<ExitCode> {
  const { io, global } = ctx;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const actor = resolveActor(loadConfig(project), { flag: v.as, cwd: global.cwd });
  const o = overrides(v) as { maxAttempts?: number; sandbox?: "auto" | "bwrap" | "none" };
  const { planChange } = await import("../../run/planner.js");
  const result = await planChange(project.root, v.plan as string, {
    actor,
    agent: v.agent ?? null,
    maxAttempts: o.maxAttempts ?? null,
    sandbox: o.sandbox ?? null,
    replace: v.replace === true,
    onAttempt: (a) => {
      if (!global.json)
        io.err(`plan ${v.plan} attempt ${a.attempt}: ${a.outcome} (${a.findings.length} findings)`);
    },
  });
  if (global.json) printJson(io, { version: 1, ...result });
  else if (!result.ok) {
    io.out(`no valid plan for ${result.change}: ${result.reason}`);
    for (const line of findingLines(io, result.attempts.at(-1)?.findings ?? [])) io.out(line);
    io.out(`next: ${result.next}`);
  } else
    io.out(
      `${result.file}: ${result.tasks} tasks, written by ${result.agent} in ${result.attempts.length} attempt(s) · ${result.accepted ? result.reason : `waits for a human (${result.rule}): ${result.next}`}`,
    );
  return result.ok ? EXIT.ok : EXIT.findings;
}

/** `keel run status` and `keel run review`; without one of them, `keel run` works the queue (or plans). */
const SUBCOMMANDS: Record<string, Subcommand> = {
  status: {
    summary: "the current run: its workers, what each holds, and the counts so far",
    usage: STATUS_USAGE,
    flags: {},
    run: status,
  },
  review: {
    summary: "the review queue: list it, or approve or reject a task's green work (a human's act)",
    usage: REVIEW_USAGE,
    flags: REVIEW_FLAGS,
    args: [["list", "approve", "reject"], "task"],
    run: review,
  },
};

const command: Command = {
  name: "run",
  summary: "the work loop: coding agents work the ready tasks in worktrees, gated; status, review",
  usage: USAGE,
  flags: FLAGS,
  subcommands: SUBCOMMANDS,
  async run(ctx) {
    const [first, ...rest] = ctx.argv;
    const sub = subcommandNamed(SUBCOMMANDS, first);
    if (sub !== undefined) return sub.run(ctx, rest);
    const { positionals, values } = parseFlags(ctx.argv, FLAGS, USAGE);
    if (positionals.length > 0)
      throw usageError(`unknown run subcommand ${positionals[0]}`, synopses(SUBCOMMANDS, USAGE));
    if (values.plan !== undefined) return plan(ctx, values);
    return work(ctx, values);
  },
};

export default command;
