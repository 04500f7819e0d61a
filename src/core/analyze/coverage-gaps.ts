// Coverage gaps between requirements and tasks: requirements (approved or proposed) that no task covers, and
// tasks tied to no requirement. A change's tasks that name no `covers` cover what the change adds or modifies
// (tasks/coverage.ts), so they are neither gaps nor leave the change's requirements without a task.

import { derivedRequirementId } from "../../model/ids.js";
import { effectiveStatus } from "../../model/status.js";
import type { Change, Finding, Spec } from "../../model/types.js";
import { type CoverableRequirement, computeCoverage, defaultCoversByTasksFile } from "../tasks/coverage.js";
import type { TaskGraph, TaskNode } from "../tasks/graph.js";

export const REQUIREMENT_WITHOUT_TASK = "analyze/requirement-without-task";
export const TASK_WITHOUT_REQUIREMENT = "analyze/task-without-requirement";

const SEVERITY = { approved: "warning", proposed: "info" } as const;

export function livingRequirements(specs: readonly Spec[]): CoverableRequirement[] {
  return specs.flatMap((spec) =>
    spec.requirements.map((r) => ({
      id: r.id,
      title: r.title,
      capability: spec.capability,
      status: effectiveStatus(r, spec),
      file: spec.file,
      line: r.headingSpan.start.line,
      col: r.headingSpan.start.col,
    })),
  );
}

export function coverageGaps(
  graph: TaskGraph,
  specs: readonly Spec[],
  changes: readonly Change[],
): Finding[] {
  const out: Finding[] = [];
  // Requirements open changes add or rename to: known IDs for `covers`, and (when added) owed a task too.
  const pending: string[] = [];
  const added: CoverableRequirement[] = [];
  for (const change of changes) {
    for (const d of change.deltas) {
      for (const sec of d.sections) {
        if (sec.op === "ADDED" || sec.op === "MODIFIED") for (const r of sec.requirements) pending.push(r.id);
        for (const r of sec.renames) pending.push(r.toId ?? derivedRequirementId(d.capability, r.to));
        if (sec.op !== "ADDED") continue;
        for (const r of sec.requirements) {
          added.push({
            id: r.id,
            title: r.title,
            capability: d.capability,
            status: r.markers?.status ?? null,
            file: d.file,
            line: r.headingSpan.start.line,
            col: r.headingSpan.start.col,
          });
        }
      }
    }
  }
  const coverage = computeCoverage(
    graph,
    livingRequirements(specs),
    pending,
    defaultCoversByTasksFile(changes),
  );
  const requirementFinding = (r: CoverableRequirement, where: string) => {
    if (r.status !== "approved" && r.status !== "proposed") return;
    out.push({
      rule: REQUIREMENT_WITHOUT_TASK,
      severity: SEVERITY[r.status],
      file: r.file,
      line: r.line,
      col: r.col,
      message: `${r.status} requirement ${r.id} ("${r.title}")${where} has no task`,
      hint: `add \`covers: ${r.id}\` to the task that implements it, or plan one in a tasks.md`,
      target: r.id,
    });
  };
  for (const r of coverage.uncovered) requirementFinding(r, "");
  for (const r of added)
    if (!coverage.coveredBy.has(r.id)) requirementFinding(r, `, added by an open change,`);

  for (const { task, unknownCovers } of coverage.unlinked) {
    // A parent's work is its subtasks: they are judged, not the parent.
    if ((graph.nodes.get(task.key) as TaskNode).children.length > 0) continue;
    out.push({
      rule: TASK_WITHOUT_REQUIREMENT,
      severity: "warning",
      file: task.file,
      line: task.line,
      col: task.checkboxCol,
      message:
        unknownCovers.length > 0
          ? `task ${task.key} ("${task.title}") covers only unknown requirement(s) ${unknownCovers.join(", ")}`
          : `task ${task.key} ("${task.title}") covers no requirement`,
      hint:
        task.dialect === "speckit"
          ? "tag it with its user story ([US1]) or add `covers: <requirement ID>`"
          : "add `covers: <requirement ID>` under it (or under its parent)",
      target: task.key,
    });
  }
  return out;
}
