// Requirement-like headings that the layout's rules do not read: the requirement blocks they start are in no
// count, no coverage and no check, so a report over the rest ("ok … over 0 requirements") would mislead.
// `keel analyze` reports each (file:line) and `keel status` counts them; `keel validate` explains each one.
// @req LAY-10
//
// What is read follows format/spec.ts and format/delta.ts, on the same scan (ATX headings outside code, comments
// and front matter), for Keel's and OpenSpec's layouts, whose grammar is `### Requirement:` blocks:
// - in a living spec, requirements are read under `## Requirements` only. A `### Requirement:` heading in no
//   `##` section, or under another one (`## ADDED Requirements`, a change's delta header, included), is not;
//   nor is a level-3 heading under `## Requirements` that is not a `### Requirement:` heading (a stray).
// - in a change's delta spec, requirements are read under `## ADDED|MODIFIED|REMOVED Requirements`. A
//   `### Requirement:` heading outside them (RENAMED holds FROM/TO lines, not blocks) is not, nor is another
//   level-3 heading inside them.
// The other layouts (Spec Kit, Kiro, …) have their own grammar and their readers' own diagnostics.
import { REQUIREMENT_HEADING } from "../../format/requirement.js";
import { type Heading, lineText, type Scan, scan } from "../../format/scan.js";
import { type TopSection, topSections } from "../../format/spec.js";
import type { Finding, Layout } from "../../model/types.js";

export const UNREAD_HEADING = "analyze/unread-heading";

export interface UnreadHeading {
  file: string;
  /** 1-based. */
  line: number;
  /** The heading line as written. */
  heading: string;
  /** Why the layout's rules do not read it. */
  why: string;
}

export type HeadingFileKind = "spec" | "delta";

const DELTA_TITLE = /^(ADDED|MODIFIED|REMOVED|RENAMED) Requirements$/i;
/** Delta sections whose level-3 headings are requirement blocks. */
const BLOCK_SECTIONS = /^(ADDED|MODIFIED|REMOVED) Requirements$/i;

/** Layouts whose specs are `### Requirement:` blocks. */
export function readsRequirementHeadings(layout: Layout): boolean {
  return layout === "keel" || layout === "openspec";
}

/** The requirement-like headings of one spec or delta spec that its rules leave unread, in file order. */
export function unreadHeadings(text: string, file: string, kind: HeadingFileKind): UnreadHeading[] {
  const s = scan(text, file);
  const out: UnreadHeading[] = [];
  const sections = topSections(s);
  let next = 0;
  let section: TopSection | null = null;
  for (const h of s.headings) {
    while (next < sections.length && (sections[next] as TopSection).heading.lineIndex <= h.lineIndex)
      section = sections[next++] as TopSection;
    if (h.level !== 3) continue;
    const inSection = section !== null && h.lineIndex < section.endLine ? section : null;
    const why = unreadReason(h, inSection?.heading.text ?? null, kind);
    if (why !== null) out.push({ file, line: h.lineIndex + 1, heading: headingLine(s, h), why });
  }
  return out;
}

function unreadReason(h: Heading, section: string | null, kind: HeadingFileKind): string | null {
  const requirement = REQUIREMENT_HEADING.test(h.text);
  if (kind === "spec") {
    if (section !== null && section.toLowerCase() === "requirements")
      return requirement ? null : "under `## Requirements`, only `### Requirement:` headings are read";
    if (!requirement) return null;
    if (section === null) return "it is in no `##` section; requirements are read under `## Requirements`";
    if (DELTA_TITLE.test(section))
      return `\`## ${section}\` is a change's delta header, not read in a living spec; requirements are read under \`## Requirements\``;
    return `it is under \`## ${section}\`; requirements are read under \`## Requirements\``;
  }
  if (section !== null && BLOCK_SECTIONS.test(section))
    return requirement ? null : `under \`## ${section}\`, only \`### Requirement:\` headings are read`;
  if (!requirement) return null;
  if (section !== null && DELTA_TITLE.test(section))
    return `\`## ${section}\` reads FROM/TO lines, not requirement blocks`;
  return "it is outside every delta section (`## ADDED|MODIFIED|REMOVED Requirements`)";
}

function headingLine(s: Scan, h: Heading): string {
  return lineText(s.text, s.lines[h.lineIndex] as Scan["lines"][number]).trim();
}

/** One finding per unread heading: an error, since what it starts is missing from every count and check. */
export function unreadFindings(list: readonly UnreadHeading[]): Finding[] {
  return list.map((u) => ({
    rule: UNREAD_HEADING,
    severity: "error",
    file: u.file,
    line: u.line,
    col: 1,
    message: `"${u.heading}" could not be read: ${u.why}`,
    hint: "run `keel validate` for this file's findings; move the block where the layout reads it",
  }));
}

/** How many unread headings `keel status` names by `file:line` (it counts them all). */
export const UNREAD_SHOWN = 3;
