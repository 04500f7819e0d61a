// Which tasks cover which requirements: the `covers` field of every task against the project's requirement IDs.
// Used by `keel validate` (unknown and deprecated covers, approved requirements no task covers) and by
// `keel analyze` (requirements with no task, tasks with no requirement).
//
// Only Keel's and OpenSpec's task files name Keel requirement IDs. Kiro's `_Requirements: 1.2_` and Spec Kit's
// `[US1]` point into their own requirements documents, which Keel does not read as requirements: they link a
// task to *a* requirement, but are never checked against Keel's IDs and cover none of them.
// @req TSK-4
import type { RequirementStatus } from "../../model/types.js";
import type { TaskGraph, TaskNode } from "./graph.js";
import type { LoadedTask, TaskDialect } from "./load.js";

export interface CoverableRequirement {
  id: string;
  title: string;
  capability: string;
  /** Effective status: the marker line's, else the spec's own (front matter); null when neither says. */
  status: RequirementStatus | null;
  file: string;
  line: number;
  col: number;
}

export interface CoverRef {
  task: LoadedTask;
  /** The requirement ID as written in `covers`. */
  id: string;
}

export interface Coverage {
  /** Requirement ID (living, or pending in an open change) → keys of the tasks that cover it, in task order. */
  coveredBy: Map<string, string[]>;
  /** Living requirements that no task covers, in the order given (whatever their status). */
  uncovered: CoverableRequirement[];
  /** `covers` entries naming no requirement: neither a living one nor one an open change adds. */
  unknown: CoverRef[];
  /** `covers` entries naming a deprecated requirement. */
  deprecated: Array<CoverRef & { requirement: CoverableRequirement }>;
  /**
   * Tasks tied to no requirement: none of their own `covers` names a known requirement (Kiro and Spec Kit: no
   * `covers` and no story tag) and no ancestor is tied to one. `unknownCovers` lists what they name in vain.
   */
  unlinked: Array<{ task: LoadedTask; unknownCovers: string[] }>;
}

/** Dialects whose `covers` name Keel requirement IDs. */
const CHECKED: ReadonlySet<TaskDialect> = new Set(["keel", "openspec"]);

export function coversChecked(task: LoadedTask): boolean {
  return CHECKED.has(task.dialect);
}

/**
 * @param requirements the living requirements (first definition wins when an ID is defined twice)
 * @param pending requirement IDs that open changes add or rename to: known, but not living, so never uncovered
 */
export function computeCoverage(
  graph: TaskGraph,
  requirements: readonly CoverableRequirement[],
  pending: Iterable<string> = [],
): Coverage {
  const byId = new Map<string, CoverableRequirement>();
  for (const r of requirements) if (!byId.has(r.id)) byId.set(r.id, r);
  const pendingIds = new Set(pending);
  const coveredBy = new Map<string, string[]>();
  const cover = (id: string, key: string) => {
    const list = coveredBy.get(id) ?? [];
    if (!list.includes(key)) list.push(key);
    coveredBy.set(id, list);
  };
  const unknown: CoverRef[] = [];
  const deprecated: Coverage["deprecated"] = [];
  const ownLink = new Map<string, boolean>();
  const unknownOf = new Map<string, string[]>();

  for (const key of graph.order) {
    const task = (graph.nodes.get(key) as TaskNode).task;
    if (!coversChecked(task)) {
      ownLink.set(key, task.covers.length > 0 || (task.dialect === "speckit" && task.story !== null));
      continue;
    }
    let linked = false;
    const missing: string[] = [];
    for (const id of task.covers) {
      const requirement = byId.get(id);
      if (requirement) {
        linked = true;
        cover(id, key);
        if (requirement.status === "deprecated") deprecated.push({ task, id, requirement });
      } else if (pendingIds.has(id)) {
        linked = true;
        cover(id, key);
      } else {
        unknown.push({ task, id });
        missing.push(id);
      }
    }
    ownLink.set(key, linked);
    unknownOf.set(key, missing);
  }

  // A task is tied to a requirement through itself or its nearest tied ancestor; parent chains may be long
  // or even loop (a cycle, reported elsewhere), so this walks them iteratively with memoisation.
  const linkedMemo = new Map<string, boolean>();
  const isLinked = (start: string): boolean => {
    const path: string[] = [];
    const seen = new Set<string>();
    let result = false;
    for (let k: string | null = start; k !== null && !seen.has(k); ) {
      const memo = linkedMemo.get(k);
      if (memo !== undefined) {
        result = memo;
        break;
      }
      if (ownLink.get(k) === true) {
        result = true;
        path.push(k);
        break;
      }
      path.push(k);
      seen.add(k);
      k = graph.nodes.get(k)?.parent ?? null;
    }
    for (const k of path) linkedMemo.set(k, result);
    return result;
  };
  const unlinked: Coverage["unlinked"] = [];
  for (const key of graph.order) {
    if (!isLinked(key))
      unlinked.push({
        task: (graph.nodes.get(key) as TaskNode).task,
        unknownCovers: unknownOf.get(key) ?? [],
      });
  }

  const uncovered = [...byId.values()].filter((r) => !coveredBy.has(r.id));
  return { coveredBy, uncovered, unknown, deprecated, unlinked };
}
