// The constitution: the project's non-negotiable principles, each optionally enforced by a gate command.
// @req FMT-8
import { derivedRequirementId, splitExplicitId } from "../model/ids.js";
import type { Constitution, Diagnostic, Principle } from "../model/types.js";
import { trimmedRegion } from "./requirement.js";
import { type Heading, linesSpan, lineText, scan } from "./scan.js";

const PRINCIPLE_HEADING = /^Principle:\s*([\s\S]*)$/i;
const GATE = /^\s*Gate:\s*`([^`]+)`\s*$/i;

export function parseConstitution(
  text: string,
  file: string,
): { constitution: Constitution; diagnostics: Diagnostic[] } {
  const s = scan(text, file);
  const principles: Principle[] = [];
  const diagnostics: Diagnostic[] = [];
  for (let h = 0; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    const m = heading.level === 3 ? PRINCIPLE_HEADING.exec(heading.text) : null;
    if (!m) continue;
    let end = s.lines.length;
    for (let k = h + 1; k < s.headings.length; k++) {
      if ((s.headings[k] as Heading).level <= 3) {
        end = (s.headings[k] as Heading).lineIndex;
        break;
      }
    }
    const { title, id } = splitExplicitId(m[1] as string);
    let gate: string | null = null;
    for (let i = heading.lineIndex + 1; i < end; i++) {
      const line = s.lines[i]!;
      const g = line.opaque ? null : GATE.exec(lineText(s.text, line));
      if (g) gate = (g[1] as string).trim();
    }
    const span = linesSpan(s, heading.lineIndex, end);
    const region = trimmedRegion(s, heading.lineIndex + 1, end);
    principles.push({
      id: id ?? derivedRequirementId("principle", title),
      title,
      text:
        gate === null
          ? region.text
          : region.text.replace(/^[ \t]*Gate:[ \t]*`[^`\n]+`[ \t\r]*$/gim, "").trim(),
      gate,
      span,
      raw: s.text.slice(span.start.offset, span.end.offset),
    });
  }
  return { constitution: { kind: "constitution", file, principles }, diagnostics };
}
