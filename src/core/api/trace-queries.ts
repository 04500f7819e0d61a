// The answers of `keel trace [id]|drift|coverage --json`, built once for the CLI and the REST API.
// @req SRF-10
import { namespaceOf } from "../../model/namespace.js";
import { inScope, scopedRoot } from "../../workspace/spec-roots.js";
import { findQualified } from "../query/qualified.js";
import { driftFindings } from "../trace/drift.js";
import { judgeAgainstBaseline } from "../trace/drift-baseline.js";
import { traceProject } from "../trace/project.js";
import type { RequirementTrace, TraceReport } from "../trace/report.js";
import { type FailOn, rankFindings, tally } from "../validate/finding.js";

/**
 * `keel trace [id] --json`: the judged chains of the living requirements, or one requirement's when `id` is
 * given — a living one, else one an open change proposes (marked `proposed`), resolved in the spec roots
 * (core/query/qualified.ts); null if neither. `scope` keeps the chains to one spec root.
 */
export async function traceAnswer(
  start: string,
  explicit: boolean,
  id: string | null,
  scope: string | null = null,
) {
  const { project, report } = await traceProject(start, explicit);
  const { roots } = project.project;
  const root = scopedRoot(project.project, scope);
  if (id !== null) {
    const named = (x: string) => {
      const living = report.requirements.filter((r) => r.id === x);
      if (living.length > 0) return living;
      const proposed = requirementTrace(report, x);
      return proposed === undefined ? null : [proposed];
    };
    const requirements = await findQualified(roots, root, id, named);
    if (requirements === null) return null;
    return { version: 1 as const, requirements, dangling: [], coverage: undefined, scan: report.scan };
  }
  // Kept to a root: its requirements, the links in its folder naming none, its capabilities' coverage.
  return {
    version: 1 as const,
    requirements: report.requirements.filter((r) => inScope(root, r.file)),
    dangling: report.dangling.filter((l) => root === null || l.root === root.name),
    coverage: report.coverage.filter((c) => root === null || namespaceOf(c.capability) === root.name),
    scan: report.scan,
  };
}

/** The trace of the living requirement `id`, else of the requirement an open change proposes under it. */
export function requirementTrace(report: TraceReport, id: string): RequirementTrace | undefined {
  return report.requirements.find((r) => r.id === id) ?? report.proposed.find((r) => r.id === id);
}

/**
 * `keel drift --json`: where intent and code have come apart, ranked. The CLI judges it against the project's
 * drift baseline (`useBaseline`): the summary and `ok` then count only the findings the baseline does not hold.
 * REST and MCP do not, so that they answer what the findings are, not what a committed file lets pass.
 */
export async function driftAnswer(start: string, explicit: boolean, failOn: FailOn, useBaseline = false) {
  const traced = await traceProject(start, explicit);
  const root = traced.project.project.root;
  const all = driftFindings(root, traced.report, traced.graph).sort(rankFindings);
  const judged = useBaseline ? judgeAgainstBaseline(root, all) : null;
  const fresh = judged?.fresh ?? all;
  const t = tally(fresh, failOn);
  const { ok, ...summary } = t;
  const findings = judged?.findings ?? all;
  const answer = {
    version: 1 as const,
    ok,
    failOn,
    summary,
    findings,
    // Only when there is one: without a baseline the answer is the one REST and MCP give (they judge no baseline).
    ...(judged ? { baseline: judged.summary } : {}),
  };
  return { answer, tally: t, root, fresh };
}

/**
 * `keel coverage --json`: per capability, approved requirements implemented, tested and verified; and how many
 * requirements there are in all, so that rows of zeros on a project that approves few read for what they are.
 */
export async function coverageAnswer(start: string, explicit: boolean) {
  const { report } = await traceProject(start, explicit);
  const approved = report.coverage.reduce((n, c) => n + c.approved, 0);
  return {
    version: 1 as const,
    capabilities: report.coverage,
    requirements: { total: report.requirements.length, approved },
  };
}
