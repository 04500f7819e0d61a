// Findings as text, the same way in every command that reports them: `file:line:col: severity: message [rule]`.
// @req VAL-16
import type { FailOn, tally } from "../core/validate/finding.js";
import type { Finding } from "../model/types.js";
import { usageError } from "../workspace/errors.js";
import { type Io, paint } from "./output.js";

export const COLOUR = { error: "red", warning: "yellow", info: "cyan" } as const;

export function findingLines(io: Io, findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(
      `${f.file}:${f.line}:${f.col}: ${paint(io, COLOUR[f.severity], f.severity)}: ${f.message} ${paint(io, "dim", `[${f.rule}]`)}`,
    );
    if (f.hint) lines.push(`  ${paint(io, "dim", "hint:")} ${f.hint}`);
  }
  return lines;
}

/** `--fail-on error|warning`, error by default. */
export function parseFailOn(raw: string | undefined): FailOn {
  const failOn = raw ?? "error";
  if (failOn !== "error" && failOn !== "warning")
    throw usageError(`unknown --fail-on value "${raw}"`, "use --fail-on error (default) or warning");
  return failOn;
}

/** `ok (--fail-on error): 1 error, 2 warnings, 0 info`. */
export function verdictLine(io: Io, t: ReturnType<typeof tally>, failOn: FailOn): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const verdict = t.ok ? paint(io, "green", "ok") : paint(io, "red", "failed");
  return `${verdict} (--fail-on ${failOn}): ${plural(t.errors, "error")}, ${plural(t.warnings, "warning")}, ${t.info} info`;
}
