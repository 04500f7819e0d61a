// Delta specs inside a change: `## ADDED|MODIFIED|REMOVED|RENAMED Requirements` sections (OpenSpec compatible).
// @req FMT-10, OSC-4
import { splitExplicitId } from "../model/ids.js";
import type { DeltaOp, DeltaSection, DeltaSpec, Diagnostic, Rename, Requirement } from "../model/types.js";
import { REQUIREMENT_HEADING } from "./requirement.js";
import { type Heading, lineSpan, linesSpan, lineText, type Scan, scan } from "./scan.js";
import { collectRequirements, topSections } from "./spec.js";

const DELTA_TITLE = /^(ADDED|MODIFIED|REMOVED|RENAMED) Requirements$/i;
// Prefixes only: the name after them is cut by `headingName`. (The former one-regex forms, with `\s*` on both
// sides of an optional bullet and a lazy name before `\s*$`, backtracked quadratically on long blank runs.)
const REMOVED_BULLET = /^\s*[-*+]\s*`?###\s*Requirement:/;
const FROM = /^\s*(?:[-*+]\s*)?FROM:\s*`?###\s*Requirement:/;
const TO = /^\s*(?:[-*+]\s*)?TO:\s*`?###\s*Requirement:/;

/** The requirement name after a prefix match: trailing whitespace and one closing backtick removed. */
function headingName(line: string, prefix: RegExp): string | null {
  const m = prefix.exec(line);
  if (!m) return null;
  const rest = line.slice(m[0].length);
  if (rest === "") return null;
  let name = rest.trimEnd();
  if (name.length > 1 && name.endsWith("`")) name = name.slice(0, -1);
  return name;
}

export function parseDeltaSpec(
  text: string,
  file: string,
  capability: string,
): { delta: DeltaSpec; diagnostics: Diagnostic[]; scan: Scan } {
  const s = scan(text, file);
  const diagnostics: Diagnostic[] = [];
  const sections: DeltaSection[] = [];
  const strayHeadings: DeltaSpec["strayHeadings"] = [];
  const deltaRanges: Array<[number, number]> = [];
  for (const sec of topSections(s)) {
    const m = DELTA_TITLE.exec(sec.heading.text);
    if (!m) continue;
    deltaRanges.push([sec.heading.lineIndex, sec.endLine]);
    const op = (m[1] as string).toUpperCase() as DeltaOp;
    const requirements: Requirement[] = [];
    const removed: DeltaSection["removed"] = [];
    const renames: Rename[] = [];
    if (op !== "RENAMED") collectRequirements(s, sec, capability, requirements, strayHeadings, diagnostics);
    if (op === "REMOVED") {
      for (const r of requirements)
        removed.push({ title: r.title, id: r.explicitId ? r.id : null, span: r.headingSpan });
      for (let i = sec.heading.lineIndex + 1; i < sec.endLine; i++) {
        const line = s.lines[i]!;
        const b = line.opaque ? null : headingName(lineText(s.text, line), REMOVED_BULLET);
        if (b === null) continue;
        const { title, id } = splitExplicitId(b);
        removed.push({ title, id, span: lineSpan(s, i) });
      }
      removed.sort((a, b) => a.span.start.offset - b.span.start.offset);
    }
    if (op === "RENAMED") readRenames(s, sec.heading.lineIndex + 1, sec.endLine, renames, diagnostics);
    sections.push({
      op,
      span: linesSpan(s, sec.heading.lineIndex, sec.endLine),
      headingSpan: lineSpan(s, sec.heading.lineIndex),
      requirements,
      removed,
      renames,
    });
  }
  const orphans: DeltaSpec["orphans"] = [];
  for (const h of s.headings as Heading[]) {
    if (h.level !== 3 || !REQUIREMENT_HEADING.test(h.text)) continue;
    if (deltaRanges.some(([a, b]) => h.lineIndex > a && h.lineIndex < b)) continue;
    orphans.push({
      title: splitExplicitId(REQUIREMENT_HEADING.exec(h.text)?.[1] ?? "").title,
      span: lineSpan(s, h.lineIndex),
    });
  }
  return { delta: { capability, file, sections, orphans, strayHeadings }, diagnostics, scan: s };
}

/** FROM/TO pairs: a FROM followed by a TO with no second FROM between them; anything else is reported. */
function readRenames(s: Scan, from: number, to: number, into: Rename[], diagnostics: Diagnostic[]): void {
  let pending: { name: string; id: string | null; line: number } | null = null;
  const unpaired = (what: string, name: string, line: number) =>
    diagnostics.push({
      rule: "format/rename-unpaired",
      severity: "error",
      message: `RENAMED ${what} "${name}" has no matching ${what === "FROM" ? "TO" : "FROM"}`,
      hint: "write each rename as a `- FROM: `### Requirement: Old`` line followed by a `- TO: `### Requirement: New`` line",
      span: lineSpan(s, line),
    });
  for (let i = from; i < to; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    const t = lineText(s.text, line);
    const f = headingName(t, FROM);
    if (f !== null) {
      if (pending) unpaired("FROM", pending.name, pending.line);
      const { title, id } = splitExplicitId(f);
      pending = { name: title, id, line: i };
      continue;
    }
    const tt = headingName(t, TO);
    if (tt !== null) {
      const { title: name, id } = splitExplicitId(tt);
      if (!pending) {
        unpaired("TO", name, i);
        continue;
      }
      into.push({
        from: pending.name,
        to: name,
        fromId: pending.id,
        toId: id,
        span: linesSpan(s, pending.line, i + 1),
      });
      pending = null;
    }
  }
  if (pending) unpaired("FROM", pending.name, pending.line);
}
