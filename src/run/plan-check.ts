// A planner's tasks.md judged before it is written: the text is read as the change's tasks.md in the project as
// it is now, and given the findings `keel validate` would give that file — the task rules (parse errors, unknown
// dependencies, cycles, duplicate IDs, unknown covers, the change's requirements no task covers, overlapping
// parallel boundaries) against every other task file, the living requirements and the open changes; OpenSpec's
// task rules; and the untrusted-text scan, as text an agent wrote (the next agents read it). keel.yaml's
// `validate.rules` and `strict` apply as they do to `keel validate`, so a plan that passes here passes there.
// @req RUN-8
import { livingRequirements } from "../core/analyze/coverage-gaps.js";
import type { LoadedChange } from "../core/changes/load.js";
import type { LoadedProject } from "../core/project.js";
import { authorProvenance } from "../core/scan/deliver.js";
import { untrustedBecause } from "../core/scan/policy.js";
import { changeCovers, defaultCoversByTasksFile } from "../core/tasks/coverage.js";
import { findTaskSources, type LoadedTasks, loadTasks, tasksFromText } from "../core/tasks/load.js";
import { compareFindings } from "../core/validate/finding.js";
import { openspecTaskRules } from "../core/validate/openspec-rules.js";
import { buildReport } from "../core/validate/report.js";
import { scanFileFindings, securityScanner, securitySettings } from "../core/validate/security-rules.js";
import { type ChangePlan, taskRules } from "../core/validate/task-rules.js";
import type { Change, Finding } from "../model/types.js";
import { projectFiles } from "../workspace/files.js";

export interface PlanCheck {
  /** Whether `keel validate` would pass the file (no error; no warning either under `validate.strict`). */
  ok: boolean;
  findings: Finding[];
  /** Tasks the text holds. */
  tasks: number;
}

/** The change's tasks.md, project-relative: where the plan goes. */
export function planFile(loaded: LoadedChange): string {
  return `${loaded.dir}/tasks.md`;
}

/** What the change adds or modifies, at its delta headings: what its plan must cover. */
export function plannedRequirements(change: Change): ChangePlan["requirements"] {
  return change.deltas.flatMap((d) =>
    d.sections
      .filter((sec) => sec.op === "ADDED" || sec.op === "MODIFIED")
      .flatMap((sec) =>
        sec.requirements.map((r) => ({
          id: r.id,
          title: r.title,
          file: r.headingSpan.file,
          line: r.headingSpan.start.line,
          col: r.headingSpan.start.col,
        })),
      ),
  );
}

/**
 * Checks `text` as the tasks.md of `loaded` in `project`, written by `author` (an actor label).
 * Findings elsewhere in the project are not the plan's: only the file's own and its change's coverage are kept.
 */
export function checkPlan(
  project: LoadedProject,
  loaded: LoadedChange,
  text: string,
  author: string,
): PlanCheck {
  const root = project.project.root;
  const file = planFile(loaded);
  const change: Change = { ...loaded.change, tasksFile: file };
  const changes = [...project.changes.filter((c) => c.id !== change.id || c.archived), change];
  const candidate = tasksFromText({ file, scope: loaded.id, dialect: loaded.layout }, text);
  const tasks = withOthers(root, candidate, file);
  const found = taskRules({
    loaded: tasks,
    requirements: () => livingRequirements(project.specs),
    pending: () => changes.flatMap((c) => changeCovers(c).ids),
    defaults: () => defaultCoversByTasksFile(changes),
    files: () => projectFiles(root),
    changePlans: () => [{ change: change.id, tasksFile: file, requirements: plannedRequirements(change) }],
  }).filter((f) => f.file === file || (f.rule === "tasks/uncovered-requirement" && f.target === change.id));
  const scanner = securityScanner(securitySettings(project.config));
  const untrusted = untrustedBecause({ provenance: authorProvenance(author) }, scanner.policy);
  found.push(
    ...openspecTaskRules(change, text),
    ...scanFileFindings({ text, file, untrusted, target: change.id, parts: [] }, scanner),
  );
  if (candidate.tasks.length === 0) found.push(emptyPlan(file, change.id));
  const report = buildReport(
    {
      items: [{ id: change.id, type: "change", file, findings: found, requirements: 0 }],
      projectFindings: [],
      requirements: 0,
      unread: [],
    },
    { strict: project.config.validate.strict, profile: "keel", rules: project.config.validate.rules },
  );
  return { ok: report.ok, findings: report.findings.sort(compareFindings), tasks: candidate.tasks.length };
}

/** A plan with no task in it plans nothing: refused, though `keel validate` accepts an empty tasks.md. */
function emptyPlan(file: string, change: string): Finding {
  return {
    rule: "run/empty-plan",
    severity: "error",
    file,
    line: 1,
    col: 1,
    message: "the plan holds no task",
    hint: "write each task as a checkbox line, e.g. `- [ ] 1.1 Add the refund key column`",
    target: change,
  };
}

/** The candidate's tasks with every other task file of the project, whose tasks its dependencies may name. */
function withOthers(root: string, candidate: LoadedTasks, file: string): LoadedTasks {
  const others = loadTasks(
    root,
    findTaskSources(root).filter((s) => s.file !== file),
  );
  return {
    tasks: [...others.tasks, ...candidate.tasks],
    diagnostics: [...others.diagnostics, ...candidate.diagnostics],
    sources: [...others.sources, ...candidate.sources],
  };
}
