// Task rules of `keel validate`: the task graph of every discovered tasks.md (cycles, unknown and self
// dependencies, duplicate IDs, unreadable lines), requirement coverage (unknown or deprecated `covers`,
// approved requirements no task covers) and parallel tasks whose boundaries overlap. Keel profile only.
// @req TSK-4
import type { Finding, Severity } from "../../model/types.js";
import { type CoverableRequirement, computeCoverage, type DefaultCovers } from "../tasks/coverage.js";
import { buildGraph, type TaskGraph } from "../tasks/graph.js";
import type { LoadedTasks } from "../tasks/load.js";
import { parallelOverlaps } from "../tasks/overlap.js";

export interface TaskRuleInput {
  loaded: LoadedTasks;
  /** Living requirements; read only when some task has a `covers` field. */
  requirements: () => CoverableRequirement[];
  /** Requirement IDs open changes add or rename to. */
  pending: () => Iterable<string>;
  /** What open changes' tasks cover when they name nothing (the one rule analyze, trace and context use). */
  defaults: () => DefaultCovers;
  /** The project's files, sorted, or null (see workspace/files.ts); asked for only when needed. */
  files: () => readonly string[] | null;
  /** Each open change's tasks.md with the requirements the change adds or modifies, at their delta headings. */
  changePlans: () => ChangePlan[];
}

export interface ChangePlan {
  change: string;
  tasksFile: string;
  requirements: Array<{ id: string; title: string; file: string; line: number; col: number }>;
}

const HINTS: Record<string, string> = {
  "tasks/cycle": "break the cycle: remove one dependency or parent link in it (`keel tasks graph` draws it)",
  "tasks/unknown-dependency":
    "fix the ID, or qualify it as <scope>/<ID> (`keel tasks list` lists every task); until then the task is never ready",
  "tasks/self-dependency": "remove the dependency (or parent link) on the task itself",
  "tasks/duplicate-id":
    "give each task its own ID (IDs are unique per file, and <scope>/<ID> across the project)",
  "tasks/bad-dependency": "write task IDs separated by commas, e.g. `depends-on: 1.1, 1.2`",
  "tasks/bad-field": "see docs/format.md#tasks for the values each field takes",
  "tasks/empty-title": "describe the work after the checkbox (and the task ID)",
};

export function taskRules(input: TaskRuleInput): Finding[] {
  const { loaded } = input;
  if (loaded.tasks.length === 0 && loaded.diagnostics.length === 0) return [];
  const scopeOf = new Map(loaded.sources.map((s) => [s.file, s.scope]));
  const graph = buildGraph(loaded);
  const out: Finding[] = graph.diagnostics.map((d) => ({
    rule: d.rule,
    severity: d.severity,
    file: d.file,
    line: d.line,
    col: d.col,
    message: d.message,
    hint: HINTS[d.rule] ?? "",
    target: scopeOf.get(d.file) ?? "",
  }));
  out.push(...coverageRules(graph, input));
  for (const o of parallelOverlaps(graph, input.files)) {
    const a = graph.nodes.get(o.a)?.task;
    const b = graph.nodes.get(o.b)?.task;
    if (!a || !b) continue;
    const what =
      o.file === null
        ? o.globA === o.globB
          ? `both may touch ${o.globA}`
          : `their boundaries ${o.globA} and ${o.globB} overlap`
        : `their boundaries ${o.globA} and ${o.globB} both match ${o.file}`;
    out.push(
      taskFinding(
        "tasks/parallel-overlap",
        "warning",
        b.file,
        b.line,
        `parallel tasks ${o.a} (${a.file}:${a.line}) and ${o.b} may run at the same time, and ${what}`,
        "drop [P] from one of them, make one depend on the other, or narrow their boundaries",
        b.scope,
      ),
    );
  }
  return out;
}

function coverageRules(graph: TaskGraph, input: TaskRuleInput): Finding[] {
  // Projects that write no `covers` pay nothing here, and get no coverage findings.
  let anyCovers = false;
  for (const n of graph.nodes.values()) if (n.task.covers.length > 0) anyCovers = true;
  if (!anyCovers) return [];
  const requirements = input.requirements();
  const pending = [...input.pending()];
  const coverage = computeCoverage(graph, requirements, pending, input.defaults());
  const out: Finding[] = [];
  for (const { task, id } of coverage.unknown) {
    out.push(
      taskFinding(
        "tasks/unknown-requirement",
        "error",
        task.file,
        task.line,
        `task ${task.key} covers ${id}, which names no requirement`,
        "fix the ID (`keel list requirements` lists every ID), or add the requirement to a spec or an open change",
        task.scope,
      ),
    );
  }
  for (const { task, id, requirement } of coverage.deprecated) {
    out.push(
      taskFinding(
        "tasks/deprecated-requirement",
        "warning",
        task.file,
        task.line,
        `task ${task.key} covers ${id} ("${requirement.title}"), which is deprecated`,
        "point the task at the requirement that replaces it, or drop the cover",
        task.scope,
      ),
    );
  }
  // A plan is judged against what it plans: a capability's own tasks.md against the capability's approved
  // requirements (a Spec Kit or Kiro feature's tasks.md against its feature's), a change's tasks.md (once it
  // uses `covers`) against what the change adds or modifies.
  const planned = new Set(
    input.loaded.sources
      .filter(
        (s) =>
          (s.dialect === "keel" && s.file.startsWith("keel/specs/")) ||
          s.dialect === "speckit" ||
          s.dialect === "kiro",
      )
      .map((s) => s.scope),
  );
  for (const r of coverage.uncovered) {
    if (r.status !== "approved" || !planned.has(r.capability)) continue;
    out.push(
      uncovered(
        r,
        `approved requirement ${r.id} ("${r.title}") is covered by no task`,
        "the task of the capability's tasks.md",
        r.id,
      ),
    );
  }
  const filesUsingCovers = new Set<string>();
  for (const n of graph.nodes.values()) if (n.task.covers.length > 0) filesUsingCovers.add(n.task.file);
  const plans = input.changePlans().filter((p) => filesUsingCovers.has(p.tasksFile));
  // A change's plan that writes covers is held to what it writes: a task of it that names none is about the
  // change as a whole (its default covers), not a trace of each requirement.
  const written = plans.length > 0 ? computeCoverage(graph, requirements, pending).coveredBy : null;
  for (const plan of plans) {
    for (const r of plan.requirements) {
      if (written?.has(r.id)) continue;
      out.push(
        uncovered(
          r,
          `requirement ${r.id} ("${r.title}"), which change ${plan.change} adds or modifies, is covered by no task`,
          `the task of ${plan.tasksFile}`,
          plan.change,
        ),
      );
    }
  }
  return out;
}

/** A planned requirement no task covers, at its heading; `where` names the task file that should cover it. */
function uncovered(
  r: { id: string; file: string; line: number; col: number },
  message: string,
  where: string,
  target: string,
): Finding {
  const hint = `add \`covers: ${r.id}\` to ${where} that implements it`;
  return {
    rule: "tasks/uncovered-requirement",
    severity: "warning",
    file: r.file,
    line: r.line,
    col: r.col,
    message,
    hint,
    target,
  };
}

function taskFinding(
  rule: string,
  severity: Severity,
  file: string,
  line: number,
  message: string,
  hint: string,
  target: string,
): Finding {
  return { rule, severity, file, line, col: 1, message, hint, target };
}
