// `keel tasks`: the task graph of every tasks.md in the project (Keel, OpenSpec, Spec Kit, Kiro), with
// readiness, and claims with leases and fencing tokens (core/claims.ts, mirrored into the checkboxes).

import { parseDuration } from "../../core/claims.js";
import { type ClaimOp, claimedKeys, runClaimOp } from "../../core/tasks/claim-ops.js";
import {
  blockers,
  buildGraph,
  findTask,
  type GraphFormat,
  type IsClaimed,
  isDone,
  loadTasks,
  next,
  ready,
  renderGraph,
  type TaskGraph,
  type TaskNode,
} from "../../core/tasks/index.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE =
  "keel tasks list|show <id>|ready|next|graph [--format text|mermaid|dot] | claim <id>|--next [--as agent:name] [--ttl 15m] | heartbeat|release|done <id> --token N | block <id> --token N --reason text | note <id> <text> [--json]";
const CLAIM_SUBS = ["claim", "heartbeat", "release", "done", "block", "note"];
const FORMATS: GraphFormat[] = ["text", "mermaid", "dot"];

/** A task as output; `ready` and `blockers` count live claims, as `keel tasks ready` does. */
function taskJson(graph: TaskGraph, key: string, isClaimed: IsClaimed) {
  const n = graph.nodes.get(key) as TaskNode;
  const t = n.task;
  const why = blockers(graph, key, isClaimed);
  return {
    key,
    id: t.id,
    scope: t.scope,
    title: t.title,
    status: isDone(graph, key) ? "done" : t.status,
    ready: why.length === 0,
    blockers: why,
    parallel: t.parallel,
    optional: t.optional,
    story: t.story,
    phase: t.phase,
    priority: t.priority,
    dependsOn: n.deps.filter((d) => d.kind === "blocks").map((d) => d.key.replace(/^\?/, "")),
    related: n.deps.filter((d) => d.kind === "related").map((d) => d.key.replace(/^\?/, "")),
    parent: n.parent,
    children: n.children,
    covers: t.covers,
    boundaries: t.boundaries,
    verification: t.verification,
    details: t.details,
    file: t.file,
    line: t.line,
    dialect: t.dialect,
  };
}

function line(io: Io, graph: TaskGraph, key: string): string {
  const n = graph.nodes.get(key) as TaskNode;
  const done = isDone(graph, key);
  const box = done ? "[x]" : n.task.status === "open" ? "[ ]" : `[${n.task.status}]`;
  const p = n.task.priority === null ? "" : ` P${n.task.priority}`;
  return `${box} ${paint(io, "bold", key)}${p}  ${n.task.title}`;
}

function diagnosticsJson(graph: TaskGraph) {
  return graph.diagnostics.map((d) => ({
    rule: d.rule,
    severity: d.severity,
    message: d.message,
    file: d.file,
    line: d.line,
    col: d.col,
  }));
}

const command: Command = {
  name: "tasks",
  summary: "task graph: list, show, ready, next, graph",
  usage: USAGE,
  run({ io, global, argv }): ExitCode {
    const { values, positionals } = parseFlags(
      argv,
      {
        format: { type: "string" },
        as: { type: "string" },
        ttl: { type: "string" },
        token: { type: "string" },
        reason: { type: "string" },
        next: { type: "boolean" },
      },
      USAGE,
    );
    const [sub, ...args] = positionals;
    if (sub === undefined) throw usageError("tasks needs a subcommand", `usage: ${USAGE}`);
    if (CLAIM_SUBS.includes(sub)) return claimCommand(io, global, sub, args, values);
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
    const graph = buildGraph(loadTasks(project.root));
    const isClaimed = claimedKeys(project.root, new Date());

    if (sub === "list") {
      if (global.json) {
        printJson(io, {
          version: 1,
          tasks: graph.order.map((k) => taskJson(graph, k, isClaimed)),
          diagnostics: diagnosticsJson(graph),
        });
        return EXIT.ok;
      }
      if (graph.order.length === 0)
        io.out("no tasks (tasks.md files are read from keel/, openspec/, specs/, .kiro/)");
      let file = "";
      for (const k of graph.order) {
        const n = graph.nodes.get(k) as TaskNode;
        if (n.task.file !== file) {
          file = n.task.file;
          io.out(paint(io, "dim", file));
        }
        let depth = 0;
        for (let p = n.parent; p !== null && depth < 32; p = graph.nodes.get(p)?.parent ?? null) depth++;
        io.out(`${"  ".repeat(depth + 1)}${line(io, graph, k)}`);
      }
      for (const d of graph.diagnostics)
        io.err(`${d.severity}: ${d.file}:${d.line}:${d.col}: ${d.message} [${d.rule}]`);
      return EXIT.ok;
    }

    if (sub === "show") {
      const found = findTask(graph, args[0] as string);
      if (found === null)
        throw usageError(`unknown task: ${args[0]}`, "list the tasks with `keel tasks list`");
      if ("ambiguous" in found)
        throw usageError(
          `task id ${args[0]} is ambiguous: ${found.ambiguous.join(", ")}`,
          "qualify it with its scope, e.g. `keel tasks show <scope>/<id>`",
        );
      const t = taskJson(graph, found.key, isClaimed);
      if (global.json) {
        printJson(io, { version: 1, task: t });
        return EXIT.ok;
      }
      io.out(line(io, graph, found.key));
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

    if (sub === "ready") {
      const keys = ready(graph, isClaimed);
      if (global.json) {
        printJson(io, { version: 1, ready: keys.map((k) => taskJson(graph, k, isClaimed)) });
        return EXIT.ok;
      }
      if (keys.length === 0) io.out("no task is ready");
      for (const k of keys) io.out(line(io, graph, k));
      return EXIT.ok;
    }

    if (sub === "next") {
      const key = next(graph, isClaimed);
      if (global.json) {
        printJson(io, { version: 1, next: key === null ? null : taskJson(graph, key, isClaimed) });
        return EXIT.ok;
      }
      io.out(key === null ? "no task is ready" : line(io, graph, key));
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
        nodes: graph.order.map((k) => taskJson(graph, k, isClaimed)),
        cycles: graph.cycles,
        diagnostics: diagnosticsJson(graph),
      });
      return EXIT.ok;
    }
    io.out(renderGraph(graph, format));
    return EXIT.ok;
  },
};

function resolveKey(graph: TaskGraph, ref: string | undefined): string {
  if (ref === undefined) throw usageError("a task id is needed", `usage: ${USAGE}`);
  const found = findTask(graph, ref);
  if (found === null) throw usageError(`unknown task: ${ref}`, "list the tasks with `keel tasks list`");
  if ("ambiguous" in found) {
    throw usageError(
      `task id ${ref} is ambiguous: ${found.ambiguous.join(", ")}`,
      "qualify it with its scope, e.g. `<scope>/<id>`",
    );
  }
  return found.key;
}

function claimCommand(
  io: Io,
  global: CommandContext["global"],
  sub: string,
  args: string[],
  values: { as?: string; ttl?: string; token?: string; reason?: string; next?: boolean },
): ExitCode {
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  const graph = buildGraph(loadTasks(project.root));
  const actor = actorLabel(resolveActor(config, { flag: values.as, cwd: global.cwd }));
  const now = new Date();
  const ttlMs = parseDuration(values.ttl ?? "15m");
  const token = (): number => {
    if (values.token === undefined || !/^\d+$/.test(values.token)) {
      throw usageError(`tasks ${sub} needs --token N`, "use the fencing token `keel tasks claim` returned");
    }
    return Number(values.token);
  };
  let op: ClaimOp;
  if (sub === "claim") {
    if (values.next ? args.length > 0 : args.length !== 1) {
      throw usageError("tasks claim takes one task id, or --next", `usage: ${USAGE}`);
    }
    op = {
      op: "claim",
      key: values.next ? null : resolveKey(graph, args[0]),
      // Evaluated under the lock, so readiness and the claim see the same state.
      candidates: () => ready(graph, claimedKeys(project.root, now)),
      holder: actor,
      ttlMs,
    };
  } else if (sub === "note") {
    if (args.length < 2) throw usageError("tasks note needs a task id and a text", `usage: ${USAGE}`);
    op = { op: "note", key: resolveKey(graph, args[0]), text: args.slice(1).join(" "), author: actor };
  } else {
    if (args.length !== 1) throw usageError(`tasks ${sub} takes one task id`, `usage: ${USAGE}`);
    const key = resolveKey(graph, args[0]);
    if (sub === "heartbeat") op = { op: "heartbeat", key, token: token(), ttlMs };
    else if (sub === "block") {
      if (!values.reason) throw usageError("tasks block needs --reason", "say why the task cannot go on");
      op = { op: "block", key, token: token(), reason: values.reason };
    } else op = { op: sub as "release" | "done", key, token: token() };
  }
  const result = runClaimOp(project.root, graph, op, now);
  if (global.json) {
    printJson(io, { version: 1, [sub]: result });
    return EXIT.ok;
  }
  if (result === null) io.out("no task is ready");
  else if ("note" in result) io.out(`noted on ${args[0]}`);
  else if (
    "token" in result &&
    "leaseUntil" in result &&
    sub !== "release" &&
    sub !== "done" &&
    sub !== "block"
  ) {
    io.out(
      `${sub === "heartbeat" ? "extended" : "claimed"} ${result.taskId} · token ${result.token} · lease until ${result.leaseUntil}`,
    );
  } else io.out(`${sub === "done" ? "done" : sub === "block" ? "blocked" : "released"}: ${result.taskId}`);
  return EXIT.ok;
}

export default command;
