// The task graph: resolved, typed dependencies, parent-child structure, cycles, and readiness.
// Ready = open, a leaf (a parent is done when its children are, so the work is in them), not claimed, not in a
// cycle, no ancestor deferred or blocked, and every blocking dependency of the task and of its ancestors done.
// @req TSK-2, TSK-3
import type { DependencyKind } from "../../format/tasks.js";
import type { LoadedTask, LoadedTasks, TaskFileDiagnostic } from "./load.js";

export interface ResolvedDependency {
  key: string;
  kind: Exclude<DependencyKind, "parent-child">;
  line: number;
  /** Present when derived from the file's structure (Spec Kit's phases, Kiro's numbering), not written. */
  derived?: true;
}

export interface TaskNode {
  task: LoadedTask;
  deps: ResolvedDependency[];
  parent: string | null;
  children: string[];
}

export interface TaskCycle {
  /** The cycle as a path that returns to its first key: `[a, b, c, a]`. */
  path: string[];
  /** Every task in the strongly connected component (≥ the path). */
  members: string[];
}

export interface TaskGraph {
  nodes: Map<string, TaskNode>;
  /** Keys in file order. */
  order: string[];
  cycles: TaskCycle[];
  inCycle: Set<string>;
  diagnostics: TaskFileDiagnostic[];
}

export type IsClaimed = (key: string) => boolean;
export const NOT_CLAIMED: IsClaimed = () => false;

/** Resolves a written target from a task of `scope`: `scope/ID` exactly, else same scope, else a unique ID. */
function resolver(tasks: LoadedTask[]): (scope: string, target: string) => string | null {
  const keys = new Set(tasks.map((t) => t.key));
  const byId = new Map<string, string[]>();
  for (const t of tasks) byId.set(t.id, [...(byId.get(t.id) ?? []), t.key]);
  return (scope, target) => {
    if (keys.has(`${scope}/${target}`)) return `${scope}/${target}`;
    if (target.includes("/") && keys.has(target)) return target;
    const same = byId.get(target);
    return same && same.length === 1 ? (same[0] as string) : null;
  };
}

/**
 * A task whose key another task already has (two files of one scope) is kept, under the first free
 * `<key>@<n>` (n ≥ 2), as a copy: the loaded task may be shared by later loads. Reported at both positions when
 * the files differ (a file's own repeats are keyed apart and reported by its reader).
 */
function keyApart(
  task: LoadedTask,
  nodes: Map<string, TaskNode>,
  diagnostics: TaskFileDiagnostic[],
): LoadedTask {
  const first = nodes.get(task.key);
  if (!first) return task;
  let n = 2;
  while (nodes.has(`${task.key}@${n}`)) n++;
  const key = `${task.key}@${n}`;
  if (first.task.file !== task.file) {
    const report = (at: LoadedTask, message: string) =>
      diagnostics.push({
        rule: "tasks/duplicate-id",
        severity: "error",
        message,
        line: at.line,
        col: 1,
        file: at.file,
      });
    report(first.task, `duplicate task ${task.key} (also in ${task.file}:${task.line}, keyed ${key} there)`);
    report(
      task,
      `duplicate task ${task.key} (also in ${first.task.file}:${first.task.line}); this one is keyed ${key}`,
    );
  }
  return { ...task, key };
}

export function buildGraph(loaded: LoadedTasks): TaskGraph {
  const diagnostics: TaskFileDiagnostic[] = [...loaded.diagnostics];
  const nodes = new Map<string, TaskNode>();
  const order: string[] = [];
  for (const written of loaded.tasks) {
    const task = keyApart(written, nodes, diagnostics);
    nodes.set(task.key, { task, deps: [], parent: null, children: [] });
    order.push(task.key);
  }
  const resolve = resolver([...nodes.values()].map((n) => n.task));
  for (const key of order) {
    const node = nodes.get(key) as TaskNode;
    const t = node.task;
    for (const d of t.dependsOn) {
      if (d.kind === "parent-child") continue;
      const target = resolve(t.scope, d.target);
      if (target === null) {
        diagnostics.push({
          rule: "tasks/unknown-dependency",
          severity: "error",
          message: `task ${t.key} depends on unknown task ${d.target}`,
          line: d.line,
          col: 1,
          file: t.file,
        });
        node.deps.push({ key: `?${d.target}`, kind: d.kind, line: d.line });
        continue;
      }
      if (target === key) {
        diagnostics.push({
          rule: "tasks/self-dependency",
          severity: "error",
          message: `task ${t.key} depends on itself`,
          line: d.line,
          col: 1,
          file: t.file,
        });
        continue;
      }
      if (!node.deps.some((x) => x.key === target && x.kind === d.kind))
        node.deps.push(
          d.derived
            ? { key: target, kind: d.kind, line: d.line, derived: true }
            : { key: target, kind: d.kind, line: d.line },
        );
    }
    if (t.parent !== null) {
      const parent = resolve(t.scope, t.parent);
      if (parent === null || parent === key) {
        diagnostics.push({
          rule: "tasks/unknown-dependency",
          severity: "error",
          message: `task ${t.key} has unknown parent ${t.parent}`,
          line: t.line,
          col: 1,
          file: t.file,
        });
      } else {
        node.parent = parent;
        (nodes.get(parent) as TaskNode).children.push(key);
      }
    }
  }
  const graph: TaskGraph = { nodes, order, cycles: [], inCycle: new Set(), diagnostics };
  findCycles(graph);
  return graph;
}

/** What a task waits on for readiness: its blocking dependencies and its parent. */
function waitsOn(node: TaskNode): string[] {
  const out = node.deps.filter((d) => d.kind === "blocks" && !d.key.startsWith("?")).map((d) => d.key);
  if (node.parent !== null) out.push(node.parent);
  return out;
}

/** Tarjan's strongly connected components, iteratively (graphs of 10,000 tasks must not overflow the stack). */
function findCycles(graph: TaskGraph): void {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  let next = 0;
  const edges = new Map<string, string[]>();
  for (const key of graph.order) edges.set(key, waitsOn(graph.nodes.get(key) as TaskNode));
  for (const start of graph.order) {
    if (index.has(start)) continue;
    const work: { key: string; i: number }[] = [{ key: start, i: 0 }];
    index.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { key: string; i: number };
      const out = edges.get(frame.key) as string[];
      if (frame.i < out.length) {
        const w = out[frame.i++] as string;
        if (!index.has(w)) {
          index.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ key: w, i: 0 });
        } else if (onStack.has(w)) {
          low.set(frame.key, Math.min(low.get(frame.key) as number, index.get(w) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.key, Math.min(low.get(parent.key) as number, low.get(frame.key) as number));
      if (low.get(frame.key) === index.get(frame.key)) {
        const members: string[] = [];
        for (;;) {
          const w = stack.pop() as string;
          onStack.delete(w);
          members.push(w);
          if (w === frame.key) break;
        }
        if (members.length > 1) recordCycle(graph, members, edges);
      }
    }
  }
  graph.cycles.sort(
    (a, b) => graph.order.indexOf(a.members[0] as string) - graph.order.indexOf(b.members[0] as string),
  );
}

function recordCycle(graph: TaskGraph, members: string[], edges: Map<string, string[]>): void {
  const inScc = new Set(members);
  const sorted = graph.order.filter((k) => inScc.has(k));
  const start = sorted[0] as string;
  // Shortest way round from `start` back to itself, inside the component.
  const prev = new Map<string, string>();
  const queue = [start];
  let found = false;
  for (let q = 0; q < queue.length && !found; q++) {
    const k = queue[q] as string;
    for (const w of edges.get(k) ?? []) {
      if (!inScc.has(w)) continue;
      if (w === start) {
        prev.set(start, k);
        found = true;
        break;
      }
      if (!prev.has(w)) {
        prev.set(w, k);
        queue.push(w);
      }
    }
  }
  const path = [start];
  for (let k = prev.get(start) as string; k !== start; k = prev.get(k) as string) path.push(k);
  path.push(start);
  // Walked backwards: a waits on b is written a → b.
  const forward = [start, ...path.slice(1, -1).reverse(), start];
  graph.cycles.push({ path: forward, members: sorted });
  for (const m of sorted) graph.inCycle.add(m);
  const first = graph.nodes.get(start) as TaskNode;
  graph.diagnostics.push({
    rule: "tasks/cycle",
    severity: "error",
    message: `dependency cycle: ${forward.join(" → ")}`,
    line: first.task.line,
    col: 1,
    file: first.task.file,
  });
}

const DONE = new WeakMap<TaskGraph, Map<string, boolean>>();

/** Effective completion of every task, computed once per graph without recursion (parent chains may be long). */
function doneMap(graph: TaskGraph): Map<string, boolean> {
  const cached = DONE.get(graph);
  if (cached) return cached;
  const done = new Map<string, boolean>();
  const visiting = new Set<string>();
  for (const start of graph.order) {
    if (done.has(start)) continue;
    const work: { key: string; i: number }[] = [{ key: start, i: 0 }];
    visiting.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { key: string; i: number };
      const node = graph.nodes.get(frame.key) as TaskNode;
      if (node.task.status !== "done" && frame.i < node.children.length) {
        const c = node.children[frame.i++] as string;
        if (!done.has(c) && !visiting.has(c)) {
          visiting.add(c);
          work.push({ key: c, i: 0 });
        }
        continue;
      }
      work.pop();
      visiting.delete(frame.key);
      done.set(
        frame.key,
        node.task.status === "done" ||
          (node.children.length > 0 && node.children.every((c) => done.get(c) === true)),
      );
    }
  }
  DONE.set(graph, done);
  return done;
}

/** Done, or a parent whose children are all done. The graph is a snapshot: build a new one after an edit. */
export function isDone(graph: TaskGraph, key: string): boolean {
  return doneMap(graph).get(key) === true;
}

/** Whether a task, as an ancestor, holds back its subtasks: deferred, blocked, in a cycle, or waiting. */
function holdsBack(graph: TaskGraph, key: string): boolean {
  const n = graph.nodes.get(key) as TaskNode;
  if (n.task.status === "deferred" || n.task.status === "blocked" || graph.inCycle.has(key)) return true;
  return n.deps.some((d) => d.kind === "blocks" && (d.key.startsWith("?") || !isDone(graph, d.key)));
}

const CULPRIT = new WeakMap<TaskGraph, Map<string, string | null>>();

/** The nearest ancestor that holds a task back, or null; memoised, so long parent chains stay linear. */
function culprit(graph: TaskGraph, key: string): string | null {
  let memo = CULPRIT.get(graph);
  if (!memo) {
    memo = new Map();
    CULPRIT.set(graph, memo);
  }
  const path: string[] = [];
  const seen = new Set<string>();
  let found: string | null = null;
  for (let k = key; ; ) {
    if (memo.has(k)) {
      found = memo.get(k) as string | null;
      break;
    }
    const parent = graph.nodes.get(k)?.parent ?? null;
    path.push(k);
    seen.add(k);
    if (parent === null || seen.has(parent)) break;
    if (holdsBack(graph, parent)) {
      found = parent;
      break;
    }
    k = parent;
  }
  for (const k of path) memo.set(k, found);
  return found;
}

/** Why a task is not ready; empty when it is. Of the ancestors, the nearest one that holds it back is named. */
export function blockers(graph: TaskGraph, key: string, isClaimed: IsClaimed = NOT_CLAIMED): string[] {
  const node = graph.nodes.get(key);
  if (!node) return [`unknown task ${key}`];
  const why: string[] = [];
  if (isDone(graph, key)) why.push("done");
  else if (node.task.status !== "open") why.push(`status ${node.task.status}`);
  if (node.children.length > 0) why.push("has subtasks (done when they are)");
  if (isClaimed(key)) why.push("claimed");
  if (graph.inCycle.has(key)) why.push("in a dependency cycle");
  const waits = (k: string, via: string) => {
    for (const d of (graph.nodes.get(k) as TaskNode).deps) {
      if (d.kind !== "blocks") continue;
      if (d.key.startsWith("?")) why.push(`unknown dependency ${d.key.slice(1)}${via}`);
      else if (!isDone(graph, d.key)) why.push(`waits on ${d.key}${via}`);
    }
  };
  waits(key, "");
  const held = culprit(graph, key);
  if (held !== null) {
    const status = (graph.nodes.get(held) as TaskNode).task.status;
    if (status === "deferred" || status === "blocked") why.push(`parent ${held} is ${status}`);
    if (graph.inCycle.has(held)) why.push(`parent ${held} is in a dependency cycle`);
    waits(held, ` (via parent ${held})`);
  }
  return why;
}

/** Keys of the ready tasks, in file order. */
export function ready(graph: TaskGraph, isClaimed: IsClaimed = NOT_CLAIMED): string[] {
  return graph.order.filter((k) => blockers(graph, k, isClaimed).length === 0);
}

/** Finds a task by key, or by its ID when only one task has it. */
export function findTask(graph: TaskGraph, ref: string): { key: string } | { ambiguous: string[] } | null {
  if (graph.nodes.has(ref)) return { key: ref };
  const matches = graph.order.filter((k) => (graph.nodes.get(k) as TaskNode).task.id === ref);
  if (matches.length === 1) return { key: matches[0] as string };
  return matches.length > 1 ? { ambiguous: matches } : null;
}
