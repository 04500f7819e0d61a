// The answers of `keel trace [id]|drift|coverage --json`, built once for the CLI and the REST API.
// @req SRF-10
import { namespaceOf } from "../../model/namespace.js";
import { inScope, scopedRoot } from "../../workspace/spec-roots.js";
import { findQualified } from "../qualified.js";
import { driftFindings } from "../trace/drift.js";
import { traceProject } from "../trace/project.js";
import { type FailOn, rankFindings, tally } from "../validate/finding.js";

/** `keel trace [id] --json`: the judged chains, one requirement's when `id` is given (null if unknown). */
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
      const found = report.requirements.filter((r) => r.id === x);
      return found.length === 0 ? null : found;
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
