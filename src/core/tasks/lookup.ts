// A task named by a reference — a key (`scope/id`) or an ID only one task has — and the one error every
// surface gives for a reference that names several tasks or none, with the closest names.
import { type KeelError, usageError } from "../../workspace/errors.js";
import { closest } from "../query/suggest.js";
import { findTask, type TaskGraph, type TaskNode } from "./graph.js";

export type TaskLookup =
  | { found: string }
  | { ambiguous: string[] }
  | { unknown: string; suggestions: string[] };

export function lookupTask(graph: TaskGraph, ref: string): TaskLookup {
  const found = findTask(graph, ref);
  if (found === null) {
    const names = graph.order.flatMap((k) => [k, (graph.nodes.get(k) as TaskNode).task.id]);
    return { unknown: ref, suggestions: closest(ref, names) };
  }
  return "ambiguous" in found ? { ambiguous: found.ambiguous } : { found: found.key };
}

/** The key a reference names; a reference naming several tasks or none is the usage error below. */
export function taskKeyOf(graph: TaskGraph, ref: string, list: string): string {
  const l = lookupTask(graph, ref);
  if ("found" in l) return l.found;
  throw taskLookupError(ref, l, list);
}

/**
 * The usage error for a reference that names several tasks or none (with the closest names). `list` says how the
 * caller's surface lists tasks; `example` shows how to name a task there (`keel context <key>`, a bare key).
 */
export function taskLookupError(
  ref: string,
  l: Exclude<TaskLookup, { found: string }>,
  list: string,
  example: (key: string) => string = (key) => key,
): KeelError {
  if ("ambiguous" in l)
    return usageError(
      `task id ${ref} is ambiguous: ${l.ambiguous.join(", ")}`,
      `name one of them with its scope, e.g. ${example(l.ambiguous[0] as string)}`,
    );
  return usageError(
    `unknown task: ${ref}`,
    l.suggestions.length > 0 ? `did you mean ${l.suggestions.join(", ")}? (${list})` : list,
  );
}
