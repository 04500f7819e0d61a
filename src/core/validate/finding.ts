// Helpers to build findings from model positions.
import type { Diagnostic, Finding, Severity, Span } from "../../model/types.js";
import type { ReadProblem } from "../../workspace/read.js";

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

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

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
