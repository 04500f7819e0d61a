// The answers of `keel tasks list|show|ready|next --json`, built once for the CLI and the REST API.
// @req TSK-5, SRF-10
import { inScope, type SpecRoot } from "../../workspace/spec-roots.js";
import { claimedKeys } from "../tasks/claim-ops.js";
import {
  type IsClaimed,
  lookupTask,
  readyQueue,
  type TaskGraph,
  type TaskLookup,
  type TaskView,
  takeOrder,
  taskView,
} from "../tasks/index.js";
import { loadTaskGraph } from "../tasks/load.js";

/** The task graph's diagnostics as every answer shows them. */
export function diagnosticsJson(graph: TaskGraph) {
  return graph.diagnostics.map((d) => ({
    rule: d.rule,
    severity: d.severity,
    message: d.message,
    file: d.file,
    line: d.line,
    col: d.col,
  }));
}

/** `keel tasks list --json`: every task of the graph, in file order, with the graph's diagnostics. */
export function taskListAnswer(
  root: string,
  graph: TaskGraph = loadTaskGraph(root),
  isClaimed: IsClaimed = claimedKeys(root, new Date()),
  scope: SpecRoot | null = null,
) {
  return {
    version: 1 as const,
    tasks: scopedOrder(graph, scope).map((k) => taskView(graph, k, isClaimed)),
    diagnostics: diagnosticsJson(graph),
  };
}

/** The graph's task keys in order, those in the `--root` scope's folder only when there is one. */
export function scopedOrder(graph: TaskGraph, scope: SpecRoot | null): string[] {
  return scope === null
    ? graph.order
    : graph.order.filter((k) => inScope(scope, graph.nodes.get(k)?.task.file ?? ""));
}

/** `keel tasks show <id> --json`, or how the reference failed (lookupTask: naming several tasks, or none). */
export function taskShowAnswer(
  root: string,
  ref: string,
  graph: TaskGraph = loadTaskGraph(root),
  isClaimed: IsClaimed = claimedKeys(root, new Date()),
): { version: 1; task: TaskView } | { lookup: Exclude<TaskLookup, { found: string }> } {
  const l = lookupTask(graph, ref);
  if (!("found" in l)) return { lookup: l };
  return { version: 1, task: taskView(graph, l.found, isClaimed) };
}

/** `keel tasks ready --json`: the tasks that may start now (from the cached ready set). */
export function taskReadyAnswer(root: string, isClaimed: IsClaimed = claimedKeys(root, new Date())) {
  return { version: 1 as const, ready: readyQueue(root, isClaimed) };
}

/** `keel tasks next --json`: the first ready task in claim order, or null. */
export function taskNextAnswer(root: string, isClaimed: IsClaimed = claimedKeys(root, new Date())) {
  const queue = readyQueue(root, isClaimed);
  return { version: 1 as const, next: takeOrder(queue)[0] ?? null };
}
