// `keel tasks`: the task graph of every tasks.md in the project (Keel, OpenSpec, Spec Kit, Kiro), with
// readiness; the claim subcommands live in tasks-claim.ts.
// @req TSK-5
import {
  diagnosticsJson,
  scopedOrder,
  taskListAnswer,
  taskNextAnswer,
  taskReadyAnswer,
  taskShowAnswer,
} from "../../core/api/task-queries.js";
import { loadClaimMirror } from "../../core/tasks/claim-mirror.js";
import { claimedKeys } from "../../core/tasks/claim-ops.js";
import {
  type GraphFormat,
  type IsClaimed,
  renderGraph,
  type TaskNode,
  type TaskView,
  taskView,
} from "../../core/tasks/index.js";
import { loadTaskGraph } from "../../core/tasks/load.js";
import { taskLookupError } from "../../core/tasks/lookup.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";
import { LIST_TASKS } from "../hints.js";
import { type Io, paint, printJson } from "../output.js";
import { type Subcommand, subcommandNamed, synopses } from "../subcommands.js";

const FORMATS: GraphFormat[] = ["text", "mermaid", "dot"];

const GRAPH_FLAGS = {
  format: {
    type: "string",
    value: "text|mermaid|dot",
    help: "how to draw the graph; default text",
    complete: FORMATS,
  },
} as const satisfies Flags;

const TOKEN_FLAG = {
  token: { type: "string", value: "n", help: "the fencing token `keel tasks claim` returned" },
} as const satisfies Flags;

const TTL_FLAG = {
  ttl: { type: "string", value: "duration", help: "the lease's length (90s, 15m, 2h); default 15m" },
} as const satisfies Flags;

export const CLAIM_FLAGS = {
  next: { type: "boolean", help: "claim the first ready task instead of a named one" },
  ...TTL_FLAG,
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

export const HEARTBEAT_FLAGS = { ...TOKEN_FLAG, ...TTL_FLAG, as: ACTOR_FLAGS.as } as const satisfies Flags;

export const RELEASE_FLAGS = { ...TOKEN_FLAG, as: ACTOR_FLAGS.as } as const satisfies Flags;

export const DONE_FLAGS = {
  ...TOKEN_FLAG,
  override: {
    type: "boolean",
    help: "a human marks it done though its gates do not pass (needs --reason)",
  },
  reason: { type: "string", value: "text", help: "why the override, recorded in the audit log" },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

export const BLOCK_FLAGS = {
  ...TOKEN_FLAG,
  reason: { type: "string", value: "text", help: "why the task cannot go on (required)" },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

export const NOTE_FLAGS = { as: ACTOR_FLAGS.as } as const satisfies Flags;

const LIST_USAGE = "keel tasks list [--json]";
const SHOW_USAGE = "keel tasks show <id> [--json]";
const READY_USAGE = "keel tasks ready [--json]";
const NEXT_USAGE = "keel tasks next [--json]";
const GRAPH_USAGE = "keel tasks graph [--format text|mermaid|dot] [--json]";
export const CLAIM_USAGE = "keel tasks claim <id>|--next [--as <kind:name>] [--ttl <duration>] [--json]";
export const HEARTBEAT_USAGE =
  "keel tasks heartbeat <id> --token <n> [--ttl <duration>] [--as <kind:name>] [--json]";
export const RELEASE_USAGE = "keel tasks release <id> --token <n> [--as <kind:name>] [--json]";
export const DONE_USAGE =
  "keel tasks done <id> --token <n> [--override --reason <text>] [--as <kind:name>] [--json]";
export const BLOCK_USAGE = "keel tasks block <id> --token <n> --reason <text> [--as <kind:name>] [--json]";
export const NOTE_USAGE = "keel tasks note <id> <text> [--as <kind:name>] [--json]";

type Query = "list" | "show" | "ready" | "next" | "graph";

/** A reading subcommand's arguments: a task ID for `show`, none for the others. */
function queryArgs(name: Query, positionals: string[], usage: string): string | undefined {
  if (name === "show" ? positionals.length !== 1 : positionals.length > 0)
    throw usageError(
      name === "show" ? "tasks show needs one task id" : `tasks ${name} takes no arguments`,
      `usage: ${usage}`,
    );
  return positionals[0];
}

/** A reading subcommand without flags. */
function plainQuery(name: Query, summary: string, usage: string, args?: Subcommand["args"]): Subcommand {
  return {
    summary,
    usage,
    flags: {},
    ...(args ? { args } : {}),
    run(ctx, argv) {
      const { positionals } = parseFlags(argv, {}, usage);
      return query(ctx, name, queryArgs(name, positionals, usage));
    },
  };
}

// Loaded only for claims: they need the config (for the actor) and the claim store, the queries do not.
const claims = () => import("./tasks-claim.js");

/** The subcommands of `keel tasks`, in help order. */
const SUBCOMMANDS: Record<string, Subcommand> = {
  list: plainQuery("list", "every task, by file, nested under its parent", LIST_USAGE),
  show: plainQuery("show", "one task: readiness, dependencies, coverage, gates", SHOW_USAGE, ["task"]),
  ready: plainQuery("ready", "the tasks ready to start, in file order", READY_USAGE),
  next: plainQuery("next", "the first ready task", NEXT_USAGE),
  graph: {
    summary: "the dependency graph, as text, Mermaid or Graphviz dot",
    usage: GRAPH_USAGE,
    flags: GRAPH_FLAGS,
    run(ctx, argv) {
      const { values, positionals } = parseFlags(argv, GRAPH_FLAGS, GRAPH_USAGE);
      return query(ctx, "graph", queryArgs("graph", positionals, GRAPH_USAGE), values.format);
    },
  },
  claim: {
    summary: "claim a task (or the next ready one) under a lease; prints its fencing token",
    usage: CLAIM_USAGE,
    flags: CLAIM_FLAGS,
    args: ["task"],
    run: async (ctx, argv) => (await claims()).claim(ctx, argv),
  },
  heartbeat: {
    summary: "extend a claim's lease",
    usage: HEARTBEAT_USAGE,
    flags: HEARTBEAT_FLAGS,
    args: ["task"],
    run: async (ctx, argv) => (await claims()).heartbeat(ctx, argv),
  },
  release: {
    summary: "give a claimed task back to the queue",
    usage: RELEASE_USAGE,
    flags: RELEASE_FLAGS,
    args: ["task"],
    run: async (ctx, argv) => (await claims()).release(ctx, argv),
  },
  done: {
    summary: "mark a claimed task done, once its gates pass on the tree as it is",
    usage: DONE_USAGE,
    flags: DONE_FLAGS,
    args: ["task"],
    run: async (ctx, argv) => (await claims()).done(ctx, argv),
  },
  block: {
    summary: "mark a claimed task blocked, saying why",
    usage: BLOCK_USAGE,
    flags: BLOCK_FLAGS,
    args: ["task"],
    run: async (ctx, argv) => (await claims()).block(ctx, argv),
  },
  note: {
    summary: "add a note to a task",
    usage: NOTE_USAGE,
    flags: NOTE_FLAGS,
    args: ["task", "text"],
    run: async (ctx, argv) => (await claims()).note(ctx, argv),
  },
};

function viewLine(io: Io, v: TaskView): string {
  const box = v.status === "done" ? "[x]" : v.status === "open" ? "[ ]" : `[${v.status}]`;
  const p = v.priority === null ? "" : ` P${v.priority}`;
  return `${box} ${paint(io, "bold", v.key)}${p}  ${v.title}`;
}

const command: Command = {
  name: "tasks",
  summary:
    "the task graph and its queue: list, show, ready, next, graph; claim, heartbeat, release, done, block, note",
  usage: "keel tasks <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run(ctx) {
    const [name, ...rest] = ctx.argv;
    if (name === undefined) throw usageError("tasks needs a subcommand", synopses(SUBCOMMANDS));
    const sub = subcommandNamed(SUBCOMMANDS, name);
    if (sub === undefined) throw usageError(`unknown tasks subcommand: ${name}`, synopses(SUBCOMMANDS));
    return sub.run(ctx, rest);
  },
};

/** Answers a reading subcommand, its arguments already checked. */
async function query(
  { io, global }: CommandContext,
  sub: Query,
  id: string | undefined,
  graphFormat?: string,
): Promise<ExitCode> {
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  await loadClaimMirror(project);
  const isClaimed = claimedKeys(project.root, new Date());
  // The queue views need no graph: they read the cached ready set (core/tasks/ready-cache.ts).
  if (sub === "ready" || sub === "next") return queueCommand(io, global, sub, project.root, isClaimed);
  const graph = loadTaskGraph(project.root);

  if (sub === "list") {
    if (global.json) {
      printJson(io, taskListAnswer(project.root, graph, isClaimed, scopedRoot(project, global.scope)));
      return EXIT.ok;
    }
    const order = scopedOrder(graph, scopedRoot(project, global.scope));
    if (order.length === 0)
      io.out("no tasks (tasks.md files are read from keel/, openspec/, specs/, .kiro/)");
    let file = "";
    for (const k of order) {
      const n = graph.nodes.get(k) as TaskNode;
      if (n.task.file !== file) {
        file = n.task.file;
        io.out(paint(io, "dim", file));
      }
      let depth = 0;
      for (let p = n.parent; p !== null && depth < 32; p = graph.nodes.get(p)?.parent ?? null) depth++;
      io.out(`${"  ".repeat(depth + 1)}${viewLine(io, taskView(graph, k, isClaimed))}`);
    }
    for (const d of graph.diagnostics)
      io.err(`${d.severity}: ${d.file}:${d.line}:${d.col}: ${d.message} [${d.rule}]`);
    return EXIT.ok;
  }

  if (sub === "show") {
    const shown = taskShowAnswer(project.root, id as string, graph, isClaimed);
    if ("lookup" in shown)
      throw taskLookupError(id as string, shown.lookup, LIST_TASKS, (key) => `\`keel tasks show ${key}\``);
    const t = shown.task;
    if (global.json) {
      printJson(io, shown);
      return EXIT.ok;
    }
    io.out(viewLine(io, t));
    io.out(`  ${paint(io, "dim", `${t.file}:${t.line}`)}`);
    const rows: [string, string][] = [
      ["ready", t.ready ? "yes" : `no — ${t.blockers.join("; ")}`],
      ["depends on", t.dependsOn.join(", ")],
      ["related", t.related.join(", ")],
      ["parent", t.parent ?? ""],
      ["subtasks", t.children.join(", ")],
      ["covers", t.covers.join(", ")],
      ["boundaries", t.boundaries.join(", ")],
      ["verification", t.verification.join(" ; ")],
      ["phase", t.phase ?? ""],
      ["story", t.story ?? ""],
      ["parallel", t.parallel ? "yes" : ""],
      ["optional", t.optional ? "yes" : ""],
    ];
    for (const [k, v] of rows) if (v) io.out(`  ${k.padEnd(12)} ${v}`);
    for (const d of t.details) io.out(`  - ${d}`);
    return EXIT.ok;
  }

  const format = (graphFormat ?? "text") as GraphFormat;
  if (!FORMATS.includes(format))
    throw usageError(`unknown graph format: ${format}`, `use one of ${FORMATS.join(", ")}`);
  if (global.json) {
    printJson(io, {
      version: 1,
      format,
      graph: renderGraph(graph, format),
      nodes: graph.order.map((k) => taskView(graph, k, isClaimed)),
      cycles: graph.cycles,
      diagnostics: diagnosticsJson(graph),
    });
    return EXIT.ok;
  }
  io.out(renderGraph(graph, format));
  return EXIT.ok;
}

function queueCommand(
  io: Io,
  global: CommandContext["global"],
  sub: "ready" | "next",
  root: string,
  isClaimed: IsClaimed,
): ExitCode {
  if (sub === "ready") {
    const answer = taskReadyAnswer(root, isClaimed);
    if (global.json) {
      printJson(io, answer);
      return EXIT.ok;
    }
    if (answer.ready.length === 0) io.out("no task is ready");
    for (const v of answer.ready) io.out(viewLine(io, v));
    return EXIT.ok;
  }
  const answer = taskNextAnswer(root, isClaimed);
  const first = answer.next;
  if (global.json) {
    printJson(io, answer);
    return EXIT.ok;
  }
  io.out(first === null ? "no task is ready" : viewLine(io, first));
  return EXIT.ok;
}

export default command;
