// The answers of `keel trace [id]|drift|coverage --json`, built once for the CLI and the REST API.
// @req SRF-10
import { driftFindings } from "../trace/drift.js";
import { traceProject } from "../trace/project.js";
import type { RequirementTrace, TraceReport } from "../trace/report.js";
import { type FailOn, rankFindings, tally } from "../validate/finding.js";

/**
 * `keel trace [id] --json`: the judged chains of the living requirements, or one requirement's when `id` is
 * given: a living one, else one an open change proposes (marked `proposed`); null if neither.
 */
export async function traceAnswer(start: string, explicit: boolean, id: string | null) {
  const { report } = await traceProject(start, explicit);
  const one = id === null ? undefined : requirementTrace(report, id);
  if (id !== null && one === undefined) return null;
  const requirements = one === undefined ? report.requirements : [one];
  return {
    version: 1 as const,
    requirements,
    dangling: id === null ? report.dangling : [],
    coverage: id === null ? report.coverage : undefined,
    scan: report.scan,
  };
}

/** The trace of the living requirement `id`, else of the requirement an open change proposes under it. */
export function requirementTrace(report: TraceReport, id: string): RequirementTrace | undefined {
  return report.requirements.find((r) => r.id === id) ?? report.proposed.find((r) => r.id === id);
}

/** `keel drift --json`: where intent and code have come apart, ranked. */
export async function driftAnswer(start: string, explicit: boolean, failOn: FailOn) {
  const traced = await traceProject(start, explicit);
  const findings = driftFindings(traced.project.project.root, traced.report, traced.graph).sort(rankFindings);
  const t = tally(findings, failOn);
  const { ok, ...summary } = t;
  return { answer: { version: 1 as const, ok, failOn, summary, findings }, tally: t };
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
