// Parses a capability spec (Keel dialect, a superset of OpenSpec's) into the model.
// @req FMT-1, FMT-16, OSC-6

import { splitExplicitId } from "../model/ids.js";
import {
  type Diagnostic,
  type Layout,
  type OpenQuestion,
  REQUIREMENT_STATUSES,
  type Reference,
  type Requirement,
  type RequirementStatus,
  type Section,
  type Spec,
} from "../model/types.js";
import { parseFrontMatter } from "./frontmatter.js";
import {
  type ParseOptions,
  parseRequirementBlock,
  REQUIREMENT_HEADING,
  trimmedRegion,
} from "./requirement.js";
import { type Heading, lineSpan, linesSpan, lineText, type Scan, scan } from "./scan.js";

export interface SpecParse {
  spec: Spec;
  diagnostics: Diagnostic[];
  scan: Scan;
}

const OPEN_QUESTION = /^\s*[-*+]\s+\[( |x|X)\]\s+([\s\S]*)$/;
/** `[[PAY-1]]`, or qualified with a spec root's name to reach another root's requirement, `[[payments:PAY-1]]`. */
const REFERENCE = /\[\[((?:[a-z][a-z0-9-]*:)?[A-Za-z][A-Za-z0-9_./-]*)\]\]/g;

export function parseSpec(
  text: string,
  file: string,
  capability: string,
  layout: Layout = "keel",
  options: ParseOptions = {},
): SpecParse {
  const s = scan(text, file);
  const { frontMatter, diagnostics } = parseFrontMatter(s);
  const sections = topSections(s);
  const title = s.headings.find((h) => h.level === 1)?.text ?? null;

  let purpose: string | null = null;
  let purposeSpan = null;
  const requirements: Requirement[] = [];
  const strayHeadings: Spec["strayHeadings"] = [];
  const openQuestions: OpenQuestion[] = [];

  for (const sec of sections) {
    const name = sec.heading.text.toLowerCase();
    if (name === "purpose" && purpose === null) {
      const region = trimmedRegion(s, sec.heading.lineIndex + 1, sec.endLine);
      purpose = region.text;
      purposeSpan = region.span;
    } else if (name === "requirements") {
      collectRequirements(s, sec, capability, requirements, strayHeadings, diagnostics, options);
    } else if (name === "open questions") {
      for (let i = sec.heading.lineIndex + 1; i < sec.endLine; i++) {
        const line = s.lines[i]!;
        if (line.opaque) continue;
        const m = OPEN_QUESTION.exec(lineText(s.text, line));
        if (m)
          openQuestions.push({ text: (m[2] as string).trim(), resolved: m[1] !== " ", span: lineSpan(s, i) });
      }
    }
  }

  const status = specStatus(frontMatter?.data.status);
  if (frontMatter && frontMatter.data.status !== undefined && status === null) {
    diagnostics.push({
      rule: "format/front-matter",
      severity: "error",
      message: `unknown spec status "${String(frontMatter.data.status)}"`,
      hint: `use one of: ${REQUIREMENT_STATUSES.join(", ")}`,
      span: frontMatter.span,
    });
  }

  const firstSection = sections[0]?.heading.lineIndex ?? s.lines.length;
  const orphans: Spec["orphans"] = [];
  for (const h of s.headings) {
    if (h.lineIndex >= firstSection) break;
    const m = h.level === 3 ? REQUIREMENT_HEADING.exec(h.text) : null;
    if (m) orphans.push({ title: splitExplicitId(m[1] as string).title, span: lineSpan(s, h.lineIndex) });
  }

  const spec: Spec = {
    kind: "spec",
    capability,
    file,
    title,
    frontMatter,
    purpose,
    purposeSpan,
    requirements,
    sections: sections.map((sec) => toSection(s, sec)),
    openQuestions,
    orphans,
    strayHeadings,
    references: findReferences(s),
    status,
    layout,
  };
  return { spec, diagnostics, scan: s };
}

export interface TopSection {
  heading: Heading;
  headingIndex: number;
  /** Line index (exclusive) where the section ends: the next heading of level <= 2, or end of file. */
  endLine: number;
}

/** `## ` sections (and `# ` titles close them), in order. */
export function topSections(s: Scan): TopSection[] {
  const out: TopSection[] = [];
  for (let h = 0; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    if (heading.level !== 2) continue;
    let endLine = s.lines.length;
    for (let k = h + 1; k < s.headings.length; k++) {
      if ((s.headings[k] as Heading).level <= 2) {
        endLine = (s.headings[k] as Heading).lineIndex;
        break;
      }
    }
    out.push({ heading, headingIndex: h, endLine });
  }
  return out;
}

/** Requirement blocks of one section: each runs to the next heading of level <= 3 or the section's end. */
export function collectRequirements(
  s: Scan,
  sec: TopSection,
  capability: string,
  into: Requirement[],
  stray: Spec["strayHeadings"] | null,
  diagnostics: Diagnostic[],
  options: ParseOptions = {},
): void {
  for (let h = sec.headingIndex + 1; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    if (heading.lineIndex >= sec.endLine) break;
    if (heading.level !== 3) continue;
    if (!REQUIREMENT_HEADING.test(heading.text)) {
      stray?.push({ text: heading.text, span: lineSpan(s, heading.lineIndex) });
      continue;
    }
    let end = sec.endLine;
    for (let k = h + 1; k < s.headings.length; k++) {
      const next = s.headings[k] as Heading;
      if (next.lineIndex >= sec.endLine) break;
      if (next.level <= 3) {
        end = next.lineIndex;
        break;
      }
    }
    const parsed = parseRequirementBlock(s, h, end, capability, options);
    into.push(parsed.requirement);
    diagnostics.push(...parsed.diagnostics);
  }
}

/** A `## ` section as the model keeps it: its raw text and the spans of the section and its heading. */
export function toSection(s: Scan, sec: TopSection): Section {
  const span = linesSpan(s, sec.heading.lineIndex, sec.endLine);
  return {
    title: sec.heading.text,
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, sec.heading.lineIndex),
  };
}

function specStatus(value: unknown): RequirementStatus | null {
  return typeof value === "string" && (REQUIREMENT_STATUSES as readonly string[]).includes(value)
    ? (value as RequirementStatus)
    : null;
}

/** `[[id]]` references outside code, each with its span. */
// @req FMT-7
export function findReferences(s: Scan): Reference[] {
  const refs: Reference[] = [];
  if (!s.text.includes("[[")) return refs;
  for (let i = 0; i < s.lines.length; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    const t = lineText(s.text, line);
    if (!t.includes("[[")) continue;
    for (const m of t.replace(/`[^`]*`/g, (c) => " ".repeat(c.length)).matchAll(REFERENCE)) {
      const col = (m.index ?? 0) + 1;
      refs.push({
        id: m[1] as string,
        span: {
          file: s.file,
          start: { line: i + 1, col, offset: line.start + col - 1 },
          end: { line: i + 1, col: col + m[0].length, offset: line.start + col - 1 + m[0].length },
        },
      });
    }
  }
  return refs;
}
