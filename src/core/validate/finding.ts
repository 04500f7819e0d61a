// Helpers to build findings from model positions.
import type { Diagnostic, Finding, Severity, Span } from "../../model/types.js";

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
