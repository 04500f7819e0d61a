// `keel check`, the one command CI runs: validation, drift, the latest status of every project and
// constitution gate on the tree as it is, and whether git can start the merge driver registered in this
// clone. It runs no gate itself (`keel verify` does, and records evidence): a CI job runs `keel verify` and
// then `keel check`, and `keel check` alone tells whether intent, code and evidence agree.
// @req TRC-9, TRU-11
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Finding } from "../../model/types.js";
import { treeState } from "../../workspace/git-tree.js";
import { type DriverStatus, isKeelDriver, registeredDriver } from "../changes/driver-command.js";
import { driftFindings } from "../trace/drift.js";
import { type BaselineSummary, type JudgedFinding, judgeAgainstBaseline } from "../trace/drift-baseline.js";
import { traceProject } from "../trace/project.js";
import { analyseProject } from "../validate/engine.js";
import { type FailOn, rankFindings, tally } from "../validate/finding.js";
import { buildReport } from "../validate/report.js";
import { type GateStatus, gateStatuses } from "../verify/backpressure.js";
import { loadGateContext, selectAll } from "../verify/gates.js";

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
  /** The merge driver git runs for spec files in this clone, checked by running it; null when none is set up. */
  mergeDriver: DriverStatus | null;
  /** The drift baseline the drift findings were judged against; null when there is none or it was not used. */
  baseline: BaselineSummary | null;
  /** Every finding of the three parts, ranked by severity; drift the baseline holds is marked `baselined`. */
  findings: JudgedFinding[];
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

/** A registered merge driver git cannot start, where the spec files are sent to it (`.gitattributes`). */
function driverFinding(root: string, driver: DriverStatus | null): Finding | null {
  if (driver === null || driver.problem === null) return null;
  return {
    rule: "check/merge-driver",
    severity: "warning",
    file: ".gitattributes",
    line: attributeLine(root),
    col: 1,
    message: `git cannot start the merge driver \`${driver.command}\` (${driver.problem}), so it merges spec files line by line`,
    hint: isKeelDriver(driver.command)
      ? "run `keel init` again the way you run Keel (`npx keel init` for a project dependency) to register a driver that starts, or put `keel` on PATH"
      : "fix merge.keel.driver in git config, or unset it (`git config --unset merge.keel.driver`) and run `keel init` again",
  };
}

/** The line of `.gitattributes` that sends spec files to `merge=keel`; 1 when it is not at the project root. */
function attributeLine(root: string): number {
  try {
    const lines = readFileSync(join(root, ".gitattributes"), "utf8").split(/\r?\n|\r/);
    const at = lines.findIndex((l) => /\smerge=keel(\s|$)/.test(l));
    return at === -1 ? 1 : at + 1;
  } catch {
    return 1;
  }
}

/** `useBaseline`: drift the project's baseline holds is counted apart and fails nothing (core/trace/drift-baseline.ts). */
export async function runCheck(
  start: string,
  explicitRoot: boolean,
  failOn: FailOn,
  useBaseline: boolean,
): Promise<CheckReport> {
  const traced = await traceProject(start, explicitRoot);
  const project = traced.project.project;
  const config = traced.project.config;
  const { result } = analyseProject(project, config);
  const validation = buildReport(result, {
    strict: config.validate.strict,
    profile: "keel",
    rules: config.validate.rules,
  });
  const allDrift = driftFindings(project.root, traced.report, traced.graph);
  const judged = useBaseline ? judgeAgainstBaseline(project.root, allDrift) : null;
  const drift = judged?.fresh ?? allDrift;
  const ctx = loadGateContext(project.root, {
    explicitRoot: true,
    graph: traced.graph,
    loaded: traced.project,
  });
  const gates = await gateStatuses(ctx, selectAll(ctx).gates, await treeState(project.root));
  const gateFindings = gates.map(gateFinding).filter((f): f is Finding => f !== null);
  const mergeDriver = registeredDriver(project.root);
  const setup = [driverFinding(project.root, mergeDriver)].filter((f): f is Finding => f !== null);
  const failing = [...validation.findings, ...drift, ...gateFindings, ...setup];
  const findings = [...failing, ...(judged?.findings.filter((f) => f.baselined) ?? [])].sort(rankFindings);
  // Validation keeps its own strictness (`validate.strict` in keel.yaml): a strict project fails on warnings.
  const total = tally(failing, failOn);
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
    mergeDriver,
    baseline: judged?.summary ?? null,
    findings,
  };
}
