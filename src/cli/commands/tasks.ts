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
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { type Io, paint, printJson } from "../output.js";

export const USAGE =
  "keel tasks list|show <id>|ready|next|graph [--format text|mermaid|dot] | claim <id>|--next [--as agent:name] [--ttl 15m] | heartbeat|release <id> --token N | done <id> --token N [--override --reason text] | block <id> --token N --reason text | note <id> <text> [--json]";
const CLAIM_SUBS = ["claim", "heartbeat", "release", "done", "block", "note"];
const FORMATS: GraphFormat[] = ["text", "mermaid", "dot"];

function viewLine(io: Io, v: TaskView): string {
  const box = v.status === "done" ? "[x]" : v.status === "open" ? "[ ]" : `[${v.status}]`;
  const p = v.priority === null ? "" : ` P${v.priority}`;
  return `${box} ${paint(io, "bold", v.key)}${p}  ${v.title}`;
}

const command: Command = {
  name: "tasks",
  summary: "task graph: list, show, ready, next, graph",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(
      argv,
      {
        format: { type: "string" },
        as: { type: "string" },
        ttl: { type: "string" },
        token: { type: "string" },
        reason: { type: "string" },
        next: { type: "boolean" },
        override: { type: "boolean" },
      },
      USAGE,
    );
    const [sub, ...args] = positionals;
    if (sub === undefined) throw usageError("tasks needs a subcommand", `usage: ${USAGE}`);
    // Loaded only for claims: they need the config (for the actor) and the claim store, the queries do not.
    if (CLAIM_SUBS.includes(sub))
      return (await import("./tasks-claim.js")).claimCommand(io, global, sub, args, values);
    if (!["list", "show", "ready", "next", "graph"].includes(sub))
      throw usageError(`unknown tasks subcommand: ${sub}`, `usage: ${USAGE}`);
    if (values.format !== undefined && sub !== "graph")
      throw usageError("--format applies to `keel tasks graph` only", `usage: ${USAGE}`);
    if (sub === "show" ? args.length !== 1 : args.length > 0)
      throw usageError(
        sub === "show" ? "tasks show needs one task id" : `tasks ${sub} takes no arguments`,
        `usage: ${USAGE}`,
      );
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
      const shown = taskShowAnswer(project.root, args[0] as string, graph, isClaimed);
      if ("lookup" in shown)
        throw taskLookupError(
          args[0] as string,
          shown.lookup,
          LIST_TASKS,
          (key) => `\`keel tasks show ${key}\``,
        );
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

    const format = (values.format ?? "text") as GraphFormat;
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
  },
};

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
