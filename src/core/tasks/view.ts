// A task as every surface shows it: its fields, its effective status, and whether it is ready and why not.
import { blockers, type IsClaimed, isDone, NOT_CLAIMED, type TaskGraph, type TaskNode } from "./graph.js";

export type TaskView = ReturnType<typeof taskView>;

/** `ready` and `blockers` count live claims when `isClaimed` is given, as `keel tasks ready` does. */
export function taskView(graph: TaskGraph, key: string, isClaimed: IsClaimed = NOT_CLAIMED) {
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
