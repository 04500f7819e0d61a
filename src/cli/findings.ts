// Findings as text, the same way in every command that reports them: `file:line:col: severity: message [rule]`.
import type { Finding } from "../model/types.js";
import { type Io, paint } from "./output.js";

const COLOUR = { error: "red", warning: "yellow", info: "cyan" } as const;

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
