// How `keel check`, `keel validate` and `keel drift` list their findings without --json: grouped by rule, then by
// file (`text`, the default), one line per rule (`summary`), or one compiler-style line each (`compact`, for
// editors' problem matchers). `--quiet` and `--max` trim the listing only: each command prints its verdict after
// it, from every finding, so no flag here changes an exit code.
// @req RPT-1, RPT-2, RPT-3, RPT-4, RPT-5

import type { BaselineSummary } from "../core/trace/drift-baseline.js";
import { compareFindings, SEVERITY_ORDER } from "../core/validate/finding.js";
import type { Finding, Severity } from "../model/types.js";
import { usageError } from "../workspace/errors.js";
import type { Flags } from "./command.js";
import { COLOUR, findingLines } from "./findings.js";
import { type Io, paint } from "./output.js";

export const FORMATS = ["text", "summary", "compact"] as const;
export type Format = (typeof FORMATS)[number];

export interface ListingFlags {
  /** List errors only. */
  quiet: boolean;
  /** At most this many findings listed; 0 lists them all. */
  max: number;
  format: Format;
}

/** The listing flags, in the grammar of each command that takes them. */
export const LISTING_FLAGS = {
  quiet: { type: "boolean", help: "list errors only (warnings and info are still counted)" },
  max: {
    type: "string",
    value: "N",
    help: "list at most N findings, then how many more (0, the default: all)",
  },
  format: {
    type: "string",
    value: "text|summary|compact",
    help: "grouped by rule and file (text, the default), one line per rule (summary), or file:line:col lines (compact)",
    complete: FORMATS,
  },
} as const satisfies Flags;

/** Drift and check judge every finding, the baselined ones too. */
export const NO_BASELINE_FLAG = {
  "no-baseline": { type: "boolean", help: "judge every finding, ignoring keel/drift-baseline.json" },
} as const satisfies Flags;

export const LISTING_USAGE = "[--quiet] [--max <N>] [--format text|summary|compact]";

export function parseListingFlags(values: { quiet?: boolean; max?: string; format?: string }): ListingFlags {
  const format = values.format ?? "text";
  if (!(FORMATS as readonly string[]).includes(format))
    throw usageError(`unknown --format value "${format}"`, "use --format text (default), summary or compact");
  const max = values.max ?? "0";
  if (!/^\d+$/.test(max))
    throw usageError(
      `--max takes a whole number of findings, not "${max}"`,
      "use --max 20 to list 20 findings, or --max 0 to list them all",
    );
  return { quiet: values.quiet ?? false, max: Number(max), format: format as Format };
}

export interface RuleGroup {
  rule: string;
  /** The most severe of the group's findings: groups are listed by it. */
  severity: Severity;
  counts: Record<Severity, number>;
  /** By file name; each file's findings by line and column. */
  files: Array<{ file: string; findings: Finding[] }>;
}

/** Findings by rule: most severe first, then the most findings, then by rule name. */
export function groupFindings(findings: readonly Finding[]): RuleGroup[] {
  const byRule = new Map<string, Finding[]>();
  for (const f of findings) {
    const list = byRule.get(f.rule);
    if (list) list.push(f);
    else byRule.set(f.rule, [f]);
  }
  const groups: RuleGroup[] = [];
  for (const [rule, list] of byRule) {
    const counts: Record<Severity, number> = { error: 0, warning: 0, info: 0 };
    const files: RuleGroup["files"] = [];
    for (const f of [...list].sort(compareFindings)) {
      counts[f.severity]++;
      const last = files.at(-1);
      if (last?.file === f.file) last.findings.push(f);
      else files.push({ file: f.file, findings: [f] });
    }
    const severity = counts.error > 0 ? "error" : counts.warning > 0 ? "warning" : "info";
    groups.push({ rule, severity, counts, files });
  }
  const size = (g: RuleGroup) => g.counts.error + g.counts.warning + g.counts.info;
  return groups.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      size(b) - size(a) ||
      (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0),
  );
}

const WORDS: Record<Severity, [string, string]> = {
  error: ["error", "errors"],
  warning: ["warning", "warnings"],
  info: ["info", "info"],
};

/** `drift/untested: 3 warnings in 2 files`: a group's header, and its line in the summary format. */
function headerLine(io: Io, g: RuleGroup): string {
  const counts = (["error", "warning", "info"] as const)
    .filter((s) => g.counts[s] > 0)
    .map((s) => paint(io, COLOUR[s], `${g.counts[s]} ${WORDS[s][g.counts[s] === 1 ? 0 : 1]}`));
  const files = `${g.files.length} file${g.files.length === 1 ? "" : "s"}`;
  return `${paint(io, "bold", g.rule)}: ${counts.join(", ")} in ${files}`;
}

/** The groups' lines, listing at most `limit` findings; a hint every finding of a group shares is written once. */
function groupedLines(io: Io, groups: readonly RuleGroup[], limit: number): string[] {
  const lines: string[] = [];
  let left = limit;
  for (const g of groups) {
    if (left === 0) break;
    if (lines.length > 0) lines.push("");
    lines.push(headerLine(io, g));
    const all = g.files.flatMap((f) => f.findings);
    const hints = new Set(all.map((f) => f.hint));
    const shared = hints.size === 1 ? all[0]?.hint : undefined;
    const mixed = Object.values(g.counts).filter((n) => n > 0).length > 1;
    for (const { file, findings } of g.files) {
      if (left === 0) break;
      lines.push(`  ${file}`);
      for (const f of findings.slice(0, left)) {
        const severity = mixed ? `${paint(io, COLOUR[f.severity], f.severity)}: ` : "";
        lines.push(`    ${f.line}:${f.col} ${severity}${f.message}`);
        if (shared === undefined && f.hint) lines.push(`      ${paint(io, "dim", "hint:")} ${f.hint}`);
        left--;
      }
    }
    if (shared) lines.push(`  ${paint(io, "dim", "hint:")} ${shared}`);
  }
  return lines;
}

/** The listing of `findings` as the flags ask; the command adds its verdict after it. */
export function listingLines(io: Io, findings: readonly Finding[], flags: ListingFlags): string[] {
  const listed = flags.quiet ? findings.filter((f) => f.severity === "error") : findings;
  if (flags.format === "summary") return groupFindings(listed).map((g) => headerLine(io, g));
  const limit = flags.max === 0 ? listed.length : Math.min(flags.max, listed.length);
  const lines =
    flags.format === "compact"
      ? findingLines(io, listed.slice(0, limit))
      : groupedLines(io, groupFindings(listed), limit);
  if (limit < listed.length) lines.push(`… and ${listed.length - limit} more (use --max 0 for all)`);
  return lines;
}

/** What the drift baseline held back from the listing, and what it holds that is gone (core/trace/drift-baseline.ts). */
export function baselineLines(baseline: BaselineSummary | null): string[] {
  if (baseline === null) return [];
  const findings = (n: number) => `${n} baselined finding${n === 1 ? "" : "s"}`;
  const lines: string[] = [];
  if (baseline.baselined > 0)
    lines.push(`${findings(baseline.baselined)} not listed (${baseline.file}; --no-baseline lists them)`);
  if (baseline.gone > 0)
    lines.push(
      `${findings(baseline.gone)} ${baseline.gone === 1 ? "is" : "are"} gone; run keel drift --baseline to shrink it`,
    );
  return lines;
}
