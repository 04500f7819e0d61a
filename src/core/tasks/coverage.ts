// Which tasks cover which requirements: the `covers` field of every task against the project's requirement IDs.
// Used by `keel validate` (unknown and deprecated covers, approved requirements no task covers) and by
// `keel analyze` (requirements with no task, tasks with no requirement).
//
// A task of an open change's tasks.md that names no `covers` (nor does any ancestor) is, by default, about what
// the change's delta specs ADD or MODIFY (a RENAMED requirement by its new name; a REMOVED one not): that is what
// the change's tasks are written for. `changeCovers` is the one place that says so, for coverage, `keel analyze`
// and the context pack alike.
//
// Only Keel's and OpenSpec's task files name Keel requirement IDs. Kiro's `_Requirements: 1.2_` and Spec Kit's
// `[US1]` point into their own requirements documents, which Keel does not read as requirements: they link a
// task to *a* requirement, but are never checked against Keel's IDs and cover none of them.
// @req TSK-4, LAY-9
import { derivedRequirementId } from "../../model/ids.js";
import type { Change, RequirementStatus } from "../../model/types.js";
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
   * Tasks tied to no requirement: none of their own `covers` names a known requirement (Task Master and Beads:
   * no `covers`) and no ancestor is tied to one. `unknownCovers` lists what they name in vain.
   */
  unlinked: Array<{ task: LoadedTask; unknownCovers: string[] }>;
}

/**
 * Dialects whose `covers` name requirement IDs: Keel's and OpenSpec's as written, Spec Kit's and Kiro's qualified
 * with their feature by the loader (`[US1]`, `FR-001`, `_Requirements: 1.2_`). Task Master and Beads name none.
 */
const CHECKED: ReadonlySet<TaskDialect> = new Set(["keel", "openspec", "speckit", "kiro"]);

export function coversChecked(task: LoadedTask): boolean {
  return CHECKED.has(task.dialect);
}

/** What an open change's tasks cover when they name nothing themselves. */
export interface ChangeCovers {
  change: string;
  /** Requirement IDs the change ADDs or MODIFIes, and RENAMED targets by their new ID, in delta order. */
  ids: string[];
}

/** The IDs a change's tasks cover by default: its ADDED and MODIFIED requirements and RENAMED targets, once each. */
export function changeCovers(change: Change): ChangeCovers {
  const ids = new Set<string>();
  for (const d of change.deltas)
    for (const sec of d.sections) {
      if (sec.op === "ADDED" || sec.op === "MODIFIED") for (const r of sec.requirements) ids.add(r.id);
      for (const r of sec.renames) ids.add(r.toId ?? derivedRequirementId(d.capability, r.to));
    }
  return { change: change.id, ids: [...ids] };
}

/** Open changes' default covers by the path of their tasks file. */
export type DefaultCovers = ReadonlyMap<string, ChangeCovers>;

export function defaultCoversByTasksFile(changes: readonly Change[]): DefaultCovers {
  const out = new Map<string, ChangeCovers>();
  for (const c of changes) if (!c.archived && c.tasksFile !== null) out.set(c.tasksFile, changeCovers(c));
  return out;
}

/**
 * The default covers of one task: its change's, when the task is in an open change's tasks file and neither it
 * nor any ancestor writes `covers` (a written `covers` is kept exactly, and a subtask inherits its parent's).
 * Null otherwise.
 */
export function defaultCoversOf(graph: TaskGraph, key: string, defaults: DefaultCovers): ChangeCovers | null {
  const node = graph.nodes.get(key);
  if (!node || !coversChecked(node.task)) return null;
  const own = defaults.get(node.task.file);
  if (!own) return null;
  const seen = new Set<string>();
  for (let k: string | null = key; k !== null && !seen.has(k); k = graph.nodes.get(k)?.parent ?? null) {
    seen.add(k);
    if ((graph.nodes.get(k)?.task.covers.length ?? 0) > 0) return null;
  }
  return own;
}

/**
 * @param requirements the living requirements (first definition wins when an ID is defined twice)
 * @param pending requirement IDs that open changes add or rename to: known, but not living, so never uncovered
 * @param defaults what open changes' tasks cover when they name nothing (`defaultCoversByTasksFile`)
 */
export function computeCoverage(
  graph: TaskGraph,
  requirements: readonly CoverableRequirement[],
  pending: Iterable<string> = [],
  defaults: DefaultCovers = new Map(),
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
      ownLink.set(key, task.covers.length > 0);
      continue;
    }
    const byDefault = defaultCoversOf(graph, key, defaults);
    if (byDefault) {
      // Not written by anyone, so an ID no spec knows (a MODIFIED requirement that does not exist, reported by
      // validate) is not this task's mistake: it is skipped, not listed as unknown.
      const known = byDefault.ids.filter((id) => byId.has(id) || pendingIds.has(id));
      for (const id of known) cover(id, key);
      ownLink.set(key, known.length > 0);
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
