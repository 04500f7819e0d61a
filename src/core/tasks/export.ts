// The task graph as text, Mermaid and DOT. Edges point from a dependency to the task that waits on it.
// @req TSK-5
import type { TaskGraph, TaskNode } from "./graph.js";
import { isDone } from "./graph.js";

export type GraphFormat = "text" | "mermaid" | "dot";

function mark(graph: TaskGraph, key: string): string {
  const n = graph.nodes.get(key) as TaskNode;
  if (isDone(graph, key)) return "x";
  return n.task.status === "open" ? " " : n.task.status;
}

export function graphText(graph: TaskGraph): string {
  const lines: string[] = [];
  // Every task, at the margin, at the bottom of the stack: those under a parent loop have no root and are
  // printed last; the roots above them are printed first, each with its subtasks.
  const stack: [string, number][] = [...graph.order].reverse().map((k) => [k, 0]);
  for (let i = graph.order.length - 1; i >= 0; i--) {
    const key = graph.order[i] as string;
    if ((graph.nodes.get(key) as TaskNode).parent === null) stack.push([key, 0]);
  }
  const printed = new Set<string>();
  while (stack.length > 0) {
    const [key, depth] = stack.pop() as [string, number];
    if (printed.has(key)) continue;
    printed.add(key);
    const n = graph.nodes.get(key) as TaskNode;
    const deps = n.deps.map((d) => (d.kind === "related" ? "~" : "") + d.key.replace(/^\?/, ""));
    lines.push(
      `${"  ".repeat(Math.min(depth, 32))}[${mark(graph, key)}] ${key}  ${n.task.title}` +
        (deps.length ? `  ← ${deps.join(", ")}` : ""),
    );
    for (let i = n.children.length - 1; i >= 0; i--) stack.push([n.children[i] as string, depth + 1]);
  }
  for (const c of graph.cycles) lines.push(`cycle: ${c.path.join(" → ")}`);
  return lines.join("\n");
}

/** Node names for Mermaid and DOT: `n<index>`, with the key as the label (keys hold `/` and `.`). */
function ids(graph: TaskGraph): Map<string, string> {
  return new Map(graph.order.map((k, i) => [k, `n${i}`]));
}

function label(s: string): string {
  return s.replace(/["\\]/g, "'").replace(/[\r\n]+/g, " ");
}

export function graphMermaid(graph: TaskGraph): string {
  const id = ids(graph);
  const lines = ["graph TD"];
  for (const key of graph.order) {
    const n = graph.nodes.get(key) as TaskNode;
    lines.push(`  ${id.get(key)}["${label(`${key}: ${n.task.title}`)}"]`);
  }
  for (const key of graph.order) {
    const n = graph.nodes.get(key) as TaskNode;
    for (const d of n.deps) {
      const from = id.get(d.key);
      if (!from) continue;
      lines.push(d.kind === "related" ? `  ${from} -.- ${id.get(key)}` : `  ${from} --> ${id.get(key)}`);
    }
    if (n.parent !== null) lines.push(`  ${id.get(key)} -. child of .-> ${id.get(n.parent)}`);
  }
  const done = graph.order.filter((k) => isDone(graph, k)).map((k) => id.get(k));
  if (done.length > 0) {
    lines.push("  classDef done fill:#d4edda,stroke:#28a745");
    lines.push(`  class ${done.join(",")} done`);
  }
  return lines.join("\n");
}

export function graphDot(graph: TaskGraph): string {
  const id = ids(graph);
  const lines = ["digraph tasks {", "  rankdir=LR;", "  node [shape=box];"];
  for (const key of graph.order) {
    const n = graph.nodes.get(key) as TaskNode;
    const style = isDone(graph, key) ? ", style=filled, fillcolor=palegreen" : "";
    lines.push(`  ${id.get(key)} [label="${label(`${key}: ${n.task.title}`)}"${style}];`);
  }
  for (const key of graph.order) {
    const n = graph.nodes.get(key) as TaskNode;
    for (const d of n.deps) {
      const from = id.get(d.key);
      if (!from) continue;
      lines.push(
        `  ${from} -> ${id.get(key)}${d.kind === "related" ? " [style=dashed, arrowhead=none]" : ""};`,
      );
    }
    if (n.parent !== null)
      lines.push(`  ${id.get(key)} -> ${id.get(n.parent)} [style=dotted, label="child of"];`);
  }
  lines.push("}");
  return lines.join("\n");
}

export function renderGraph(graph: TaskGraph, format: GraphFormat): string {
  if (format === "mermaid") return graphMermaid(graph);
  if (format === "dot") return graphDot(graph);
  return graphText(graph);
}
