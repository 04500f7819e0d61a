// `keel analyze`: a deterministic cross-artifact report — Spec Kit's /analyze, computed rather than prompted.
// Six categories, each its own module: coverage gaps both ways (coverage-gaps.ts), constitution gates nothing
// runs (gates.ts), referenced files that do not exist (references.ts), one term written several ways between
// specs and tasks (terms.ts), and requirement-like headings the layout does not read (unread.ts), without which
// the rest would be a report over less than the project holds. Findings have validate's shape and are ranked by
// severity, then location.
// @req TSK-11
import type { Finding } from "../../model/types.js";
import type { KeelConfig } from "../../workspace/config.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { buildGraph } from "../tasks/graph.js";
import { type FailOn, rankFindings, tally } from "../validate/finding.js";
import { coverageGaps, REQUIREMENT_WITHOUT_TASK, TASK_WITHOUT_REQUIREMENT } from "./coverage-gaps.js";
import { GATE_NOT_WIRED, gateFindings, PRINCIPLE_WITHOUT_GATE } from "./gates.js";
import { MISSING_FILE, missingFiles } from "./references.js";
import { type AnalyzeSources, readSources } from "./sources.js";
import { INCONSISTENT_TERM, termFindings } from "./terms.js";
import {
  readsRequirementHeadings,
  UNREAD_HEADING,
  type UnreadHeading,
  unreadFindings,
  unreadHeadings,
} from "./unread.js";

export const CATEGORIES = [
  "requirements-without-tasks",
  "tasks-without-requirements",
  "unwired-gates",
  "missing-files",
  "inconsistent-terms",
  "unread-headings",
] as const;
export type Category = (typeof CATEGORIES)[number];

const CATEGORY_OF: Record<string, Category> = {
  [REQUIREMENT_WITHOUT_TASK]: "requirements-without-tasks",
  [TASK_WITHOUT_REQUIREMENT]: "tasks-without-requirements",
  [GATE_NOT_WIRED]: "unwired-gates",
  [PRINCIPLE_WITHOUT_GATE]: "unwired-gates",
  [MISSING_FILE]: "missing-files",
  [INCONSISTENT_TERM]: "inconsistent-terms",
  [UNREAD_HEADING]: "unread-headings",
};

export type { FailOn };

export interface AnalyzeReport {
  version: 1;
  /** True when no finding is at or above `failOn`: the exit code is then 0. */
  ok: boolean;
  failOn: FailOn;
  summary: {
    errors: number;
    warnings: number;
    info: number;
    categories: Record<Category, number>;
    requirements: number;
    tasks: number;
  };
  findings: Finding[];
}

export function analyzeProject(
  project: ProjectRoot,
  config?: KeelConfig,
  failOn: FailOn = "error",
): AnalyzeReport {
  const src = readSources(project, config);
  const graph = buildGraph(src.tasks);
  const unread = sourceUnreadHeadings(src);
  const findings = [
    ...unreadFindings(unread),
    ...coverageGaps(graph, src.specs, src.changes),
    ...gateFindings(project.root, src.constitution, src.config),
    ...missingFiles(project.root, src.files, src.tasks),
    ...termFindings(src.files),
  ].sort(rankFindings);
  const categories = Object.fromEntries(CATEGORIES.map((c) => [c, 0])) as Record<Category, number>;
  for (const f of findings) {
    const c = CATEGORY_OF[f.rule];
    if (c) categories[c]++;
  }
  const { errors, warnings, info, ok } = tally(findings, failOn);
  return {
    version: 1,
    ok,
    failOn,
    summary: {
      errors,
      warnings,
      info,
      categories,
      requirements: src.specs.reduce((n, s) => n + s.requirements.length, 0),
      tasks: graph.order.length,
    },
    findings,
  };
}

/** The unread headings of the specs and open changes' delta specs read for the report, in path order. */
function sourceUnreadHeadings(src: AnalyzeSources): UnreadHeading[] {
  const layoutOf = new Map(src.specs.map((s) => [s.file, s.layout]));
  return src.files
    .filter(
      (f) =>
        f.kind === "delta" || (f.kind === "spec" && readsRequirementHeadings(layoutOf.get(f.rel) ?? "keel")),
    )
    .flatMap((f) => unreadHeadings(f.text, f.rel, f.kind === "delta" ? "delta" : "spec"));
}
