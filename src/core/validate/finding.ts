// Helpers to build findings from model positions.
import type { Diagnostic, Finding, Severity, Span } from "../../model/types.js";
import type { ReadProblem } from "../../workspace/read.js";

// @req VAL-14
export function finding(
  rule: string,
  severity: Severity,
  span: Span,
  message: string,
  hint: string,
  target?: string,
): Finding {
  const f: Finding = {
    rule,
    severity,
    file: span.file,
    line: span.start.line,
    col: span.start.col,
    message,
    hint,
  };
  if (target !== undefined) f.target = target;
  return f;
}

/** A file that could not be read (see workspace/read.ts), as a finding at the problem's position. */
export function unreadableFinding(file: string, problem: ReadProblem, target?: string): Finding {
  const f: Finding = {
    rule: problem.rule,
    severity: "error",
    file,
    line: problem.line,
    col: problem.col,
    message: problem.message,
    hint: problem.hint,
  };
  if (target !== undefined) f.target = target;
  return f;
}

export function fromDiagnostic(d: Diagnostic, target?: string): Finding {
  return finding(d.rule, d.severity, d.span, d.message, d.hint ?? "", target);
}

/** Most severe first: the order of ranked reports and of grouped listings (cli/finding-report.ts). */
export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

// @req VAL-16, VAL-17
/** Deterministic order: file, line, column, severity, rule, message. */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
    a.line - b.line ||
    a.col - b.col ||
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/** The lowest severity that fails a report: `error` (the default) or `warning` too. */
export type FailOn = "error" | "warning";

/** Severity first, then file, line, column, rule and message: the order of ranked reports (analyze, drift). */
export function rankFindings(a: Finding, b: Finding): number {
  return SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || compareFindings(a, b);
}

/** Counts by severity, and whether nothing at or above `failOn` was found. */
export function tally(findings: readonly Finding[], failOn: FailOn) {
  const errors = findings.filter((f) => f.severity === "error").length;
  const warnings = findings.filter((f) => f.severity === "warning").length;
  return {
    errors,
    warnings,
    info: findings.length - errors - warnings,
    ok: failOn === "error" ? errors === 0 : errors + warnings === 0,
  };
}
