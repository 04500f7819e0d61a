// `keel check`, the one command CI runs: validation, drift, and the latest status of every project and
// constitution gate on the tree as it is. It runs no gate itself (`keel verify` does, and records evidence):
// a CI job runs `keel verify` and then `keel check`, and `keel check` alone tells whether intent, code and
// evidence agree.
// @req TRC-9
import type { Finding } from "../model/types.js";
import { treeState } from "../workspace/git-tree.js";
import { driftFindings } from "./trace/drift.js";
import { traceProject } from "./trace/project.js";
import { analyseProject } from "./validate/engine.js";
import { type FailOn, rankFindings, tally } from "./validate/finding.js";
import { buildReport } from "./validate/report.js";
import { type GateStatus, gateStatuses } from "./verify/backpressure.js";
import { loadGateContext, selectAll } from "./verify/gates.js";

export interface CheckReport {
  version: 1;
  ok: boolean;
  failOn: FailOn;
  summary: {
    /** Over every finding; `ok` is the report's. */
    total: ReturnType<typeof tally>;
    validate: ReturnType<typeof tally>;
    drift: ReturnType<typeof tally>;
    gates: { passed: number; failed: number; missing: number };
  };
  gates: GateStatus[];
  /** Every finding of the three parts, ranked by severity. */
  findings: Finding[];
}

/** A gate's status as a finding, where the gate is declared (`keel/keel.yaml:12`). */
function gateFinding(s: GateStatus): Finding | null {
  if (s.state === "passed") return null;
  const [file, line] = s.gate.source.split(" ")[0]?.split(":") ?? [];
  const where = { file: file ?? "keel/keel.yaml", line: Number(line) || 1, col: 1 };
  const e = s.evidence;
  if (s.state === "missing")
    return {
      rule: "check/gate-not-run",
      severity: "warning",
      ...where,
      message: `gate ${s.gate.name} (\`${s.gate.command}\`) has no evidence on this tree${s.elsewhere ? `; it last ran on ${s.elsewhere.commit?.slice(0, 12) ?? "another tree"} (${s.elsewhere.passed ? "passed" : "failed"})` : ""}`,
      hint: "run `keel verify` before `keel check`",
      target: s.gate.name,
    };
  return {
    rule: "check/gate-failed",
    severity: "error",
    ...where,
    message: `gate ${s.gate.name} (\`${s.gate.command}\`) ${s.state === "timed-out" ? "timed out" : `failed with exit ${e?.exitCode}`} on this tree (evidence #${e?.id})`,
    hint: `see its output with \`keel verify --gate ${s.gate.name}\`, fix it, and run it again`,
    target: s.gate.name,
  };
}

export async function runCheck(start: string, explicitRoot: boolean, failOn: FailOn): Promise<CheckReport> {
  const traced = await traceProject(start, explicitRoot);
  const project = traced.project.project;
  const config = traced.project.config;
  const { result } = analyseProject(project, config);
  const validation = buildReport(result, {
    strict: config.validate.strict,
    profile: "keel",
    rules: config.validate.rules,
  });
  const drift = driftFindings(project.root, traced.report, traced.graph);
  const ctx = loadGateContext(project.root, {
    explicitRoot: true,
    graph: traced.graph,
    loaded: traced.project,
  });
  const gates = gateStatuses(ctx, selectAll(ctx).gates, await treeState(project.root));
  const gateFindings = gates.map(gateFinding).filter((f): f is Finding => f !== null);
  const findings = [...validation.findings, ...drift, ...gateFindings].sort(rankFindings);
  // Validation keeps its own strictness (`validate.strict` in keel.yaml): a strict project fails on warnings.
  const total = tally(findings, failOn);
  const ok = total.ok && validation.ok;
  return {
    version: 1,
    ok,
    failOn,
    summary: {
      total: { ...total, ok },
      validate: tally(validation.findings, failOn),
      drift: tally(drift, failOn),
      gates: {
        passed: gates.filter((g) => g.state === "passed").length,
        failed: gates.filter((g) => g.state === "failed" || g.state === "timed-out").length,
        missing: gates.filter((g) => g.state === "missing").length,
      },
    },
    gates,
    findings,
  };
}
