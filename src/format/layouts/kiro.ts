// Reads Kiro's files (kiro.dev) as they are: a spec's `.kiro/specs/<feature>/requirements.md` (numbered
// requirements, each with a user story and numbered EARS acceptance criteria) and the steering files of
// `.kiro/steering/` with their inclusion modes. Kiro's tasks link to criteria by number (`_Requirements: 1.2_`),
// so each criterion N.M is one Keel requirement, `<feature>/N.M`; the user story is a note of its group.
// Reading never throws: what cannot be read becomes a positioned diagnostic.
// @req LAY-2, LAY-4, LAY-7
import { basename } from "node:path";
import picomatch from "picomatch";
import { requirementFingerprint } from "../../model/fingerprint.js";
import type { Diagnostic, FrontMatter, Requirement, Span, Spec, SpecNote } from "../../model/types.js";
import { earsPattern } from "../ears.js";
import { parseFrontMatter } from "../frontmatter.js";
import { type ParseOptions, trimmedRegion } from "../requirement.js";
import { type Heading, lineSpan, linesSpan, lineText, type Scan, scan } from "../scan.js";
import { findReferences, type SpecParse, type TopSection, topSections, toSection } from "../spec.js";
import { positionAt } from "./positions.js";

// ---------------------------------------------------------------------------------------------------------
// requirements.md

/** One `### Requirement N` of a requirements document: its story and the IDs of its criteria. */
export interface KiroRequirementGroup {
  /** `<feature>/N`: what the group's user story note names as its requirement. */
  id: string;
  /** N as written. */
  number: string;
  /** The heading's text after the number (`Requirement 1: Trail Generation` → `Trail Generation`), or null. */
  title: string | null;
  story: SpecNote | null;
  /** IDs of the group's criteria, in document order. */
  criteria: string[];
  span: Span;
  headingSpan: Span;
}

export interface KiroRequirementsParse extends SpecParse {
  groups: KiroRequirementGroup[];
}

// `[\s\S]*` rather than `.*` in these patterns: `.` stops at U+2028 or a lone CR (see requirement.ts).
/** `Requirement 1`, `Requirement 1: Title`, `Requirement 1 - Title`, `Requirement 1. Title`. */
const GROUP_HEADING = /^Requirement[ \t]+(\d+)(?!\d)[ \t]*(?:[:.\-–—][ \t]*)?([\s\S]*)$/i;
/** A heading that starts like a requirement heading but carries no number (`Requirement: Foo`). */
const UNNUMBERED_GROUP = /^Requirement(?![A-Za-z0-9])/i;
/** `**User Story:**`, `**User Story**:` or `User Story:` before the story itself. */
const STORY_LABEL = /^ {0,3}(\*\*|__)?User Story[ \t]*(?::[ \t]*\1|\1[ \t]*:)[ \t]*/i;
const STORY_HEADING = /^User Story:?$/i;
/** `#### Acceptance Criteria`, or the same words as a line of their own (`**Acceptance Criteria**`). */
const CRITERIA_HEADING = /^(?:\*\*|__)?Acceptance Criteria:?(?:\*\*|__)?:?$/i;
const CRITERIA_LABEL = /^ {0,3}(\*\*|__)?Acceptance Criteria:?\1:?[ \t]*$/i;
/** A numbered criterion: `1. WHEN …` or `1) WHEN …`. */
const NUMBERED_ITEM = /^( {0,3})(\d{1,9})[.)](?:[ \t]+|$)/;
const BULLET_ITEM = /^ {0,3}(?:[-*+])(?:[ \t]+|$)/;

export function parseKiroRequirements(
  text: string,
  file: string,
  feature: string,
  options: ParseOptions = {},
): KiroRequirementsParse {
  const s = scan(text, file);
  const { frontMatter, diagnostics } = parseFrontMatter(s);
  const sections = topSections(s);
  const intro = sections.find((sec) => sec.heading.text.toLowerCase() === "introduction");
  const introRegion = intro ? trimmedRegion(s, intro.heading.lineIndex + 1, intro.endLine) : null;
  const notes: SpecNote[] = [];
  if (introRegion?.span) notes.push({ kind: "introduction", text: introRegion.text, span: introRegion.span });

  const requirements: Requirement[] = [];
  const groups: KiroRequirementGroup[] = [];
  for (const block of groupBlocks(s, diagnostics)) {
    const group = readGroup(s, block, feature, options, requirements, diagnostics);
    groups.push(group);
    if (group.story) notes.push(group.story);
  }
  reportDuplicateGroups(groups, diagnostics);

  const spec: Spec = {
    kind: "spec",
    capability: feature,
    file,
    title: s.headings.find((h) => h.level === 1)?.text ?? null,
    frontMatter,
    purpose: introRegion ? introRegion.text : null,
    purposeSpan: introRegion?.span ?? null,
    requirements,
    sections: sections.map((sec) => toSection(s, sec)),
    openQuestions: [],
    orphans: [],
    strayHeadings: strayHeadings(s, sections),
    references: findReferences(s),
    status: null,
    layout: "kiro",
    notes,
  };
  return { spec, diagnostics, scan: s, groups };
}

interface GroupBlock {
  headingIndex: number;
  number: string;
  title: string | null;
  /** Line index (exclusive) where the block ends: the next heading of the same level or higher. */
  endLine: number;
}

/**
 * The `Requirement N` headings (level 2 or 3, wherever they are: Kiro puts them under `## Requirements`, some
 * hand-written specs do not) and the extent of each. A numberless one is reported: its criteria get no IDs.
 */
function groupBlocks(s: Scan, diagnostics: Diagnostic[]): GroupBlock[] {
  const out: GroupBlock[] = [];
  for (let h = 0; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    if (heading.level !== 2 && heading.level !== 3) continue;
    const m = GROUP_HEADING.exec(heading.text);
    if (!m) {
      if (UNNUMBERED_GROUP.test(heading.text)) {
        diagnostics.push({
          rule: "kiro/unnumbered-requirement",
          severity: "error",
          message: `"${heading.text}" has no number, so its acceptance criteria get no IDs and are not read`,
          hint: "number the requirement as Kiro does: `### Requirement 3` or `### Requirement 3: Title`",
          span: lineSpan(s, heading.lineIndex),
        });
      }
      continue;
    }
    let endLine = s.lines.length;
    for (let k = h + 1; k < s.headings.length; k++) {
      if ((s.headings[k] as Heading).level <= heading.level) {
        endLine = (s.headings[k] as Heading).lineIndex;
        break;
      }
    }
    const title = (m[2] as string).trim();
    out.push({ headingIndex: h, number: m[1] as string, title: title === "" ? null : title, endLine });
  }
  return out;
}

/** Reads one group's user story and criteria; the criteria go into `into` as requirements. */
function readGroup(
  s: Scan,
  block: GroupBlock,
  feature: string,
  options: ParseOptions,
  into: Requirement[],
  diagnostics: Diagnostic[],
): KiroRequirementGroup {
  const heading = s.headings[block.headingIndex] as Heading;
  const headingSpan = lineSpan(s, heading.lineIndex);
  const id = `${feature}/${block.number}`;
  const criteriaAt = findCriteria(s, block);
  const story = findStory(s, block, criteriaAt?.labelLine ?? block.endLine, id);
  if (!story) {
    diagnostics.push({
      rule: "kiro/missing-user-story",
      severity: "warning",
      message: `Requirement ${block.number} has no user story`,
      hint: "write `**User Story:** As a <role>, I want <capability>, so that <benefit>` under the heading",
      span: headingSpan,
    });
  }
  const criteria = criteriaAt ? readCriteria(s, criteriaAt.from, criteriaAt.to, diagnostics) : [];
  if (criteria.length === 0) {
    diagnostics.push({
      rule: "kiro/no-acceptance-criteria",
      severity: "error",
      message: criteriaAt
        ? `Requirement ${block.number} has an Acceptance Criteria heading but no numbered criterion under it`
        : `Requirement ${block.number} has no acceptance criteria`,
      hint: "list its criteria under `#### Acceptance Criteria` as `1. WHEN <event> THEN the system SHALL <response>`",
      span: headingSpan,
    });
  }
  reportDuplicateCriteria(s, block.number, criteria, diagnostics);

  const groupTitle = block.title ?? `Requirement ${block.number}`;
  const ids: string[] = [];
  for (const c of criteria) {
    const written = `${block.number}.${c.number}`;
    const requirement = criterionRequirement(s, c, `${feature}/${written}`, written, groupTitle, feature);
    if (options.fingerprints !== false) {
      requirement.fingerprint = requirementFingerprint({ text: requirement.text, scenarios: [] });
    }
    into.push(requirement);
    ids.push(requirement.id);
  }
  return {
    id,
    number: block.number,
    title: block.title,
    story,
    criteria: ids,
    span: linesSpan(s, heading.lineIndex, block.endLine),
    headingSpan,
  };
}

/** A criterion as a Keel requirement. Kiro criteria are one sentence with no scenarios: the text is all of it. */
function criterionRequirement(
  s: Scan,
  c: Criterion,
  id: string,
  written: string,
  groupTitle: string,
  feature: string,
): Requirement {
  const span = linesSpan(s, c.firstLine, c.lastLine + 1);
  return {
    id,
    explicitId: true,
    written,
    title: `${groupTitle} — ${written}`,
    text: c.text,
    textSpan: c.textSpan,
    scenarios: [],
    markers: null,
    ears: earsPattern(c.text),
    fingerprint: "",
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, c.firstLine),
    capability: feature,
  };
}

/**
 * Where a group's criteria are: after its `Acceptance Criteria` heading (any level below the group's) or label
 * line, up to the next heading or the end of the group.
 */
function findCriteria(s: Scan, block: GroupBlock): { labelLine: number; from: number; to: number } | null {
  const groupLine = (s.headings[block.headingIndex] as Heading).lineIndex;
  const subHeadings = headingsWithin(s, block);
  const nextHeadingAfter = (line: number) =>
    subHeadings.find((h) => h.lineIndex > line)?.lineIndex ?? block.endLine;
  const asHeading = subHeadings.find((h) => CRITERIA_HEADING.test(h.text));
  for (let i = groupLine + 1; i < block.endLine; i++) {
    if (asHeading && i === asHeading.lineIndex) break;
    const line = s.lines[i]!;
    if (!line.opaque && CRITERIA_LABEL.test(lineText(s.text, line))) {
      return { labelLine: i, from: i + 1, to: nextHeadingAfter(i) };
    }
  }
  if (!asHeading) return null;
  return {
    labelLine: asHeading.lineIndex,
    from: asHeading.lineIndex + 1,
    to: nextHeadingAfter(asHeading.lineIndex),
  };
}

function headingsWithin(s: Scan, block: GroupBlock): Heading[] {
  const out: Heading[] = [];
  for (let k = block.headingIndex + 1; k < s.headings.length; k++) {
    const h = s.headings[k] as Heading;
    if (h.lineIndex >= block.endLine) break;
    out.push(h);
  }
  return out;
}

/**
 * The user story: the paragraph after a `**User Story:**` label, or the paragraph under a `User Story`
 * heading, searched between the group heading and its criteria. The note's text is the story without its label.
 */
function findStory(s: Scan, block: GroupBlock, before: number, requirement: string): SpecNote | null {
  const groupLine = (s.headings[block.headingIndex] as Heading).lineIndex;
  const storyHeading = headingsWithin(s, block).find(
    (h) => h.lineIndex < before && STORY_HEADING.test(h.text.replace(/\*\*|__/g, "")),
  );
  for (let i = groupLine + 1; i < before; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    if (storyHeading && i === storyHeading.lineIndex) {
      let first = i + 1;
      while (first < before && isBlank(s, first)) first++;
      if (first >= before || isHeadingLine(s, first)) return null;
      return storyNote(s, first, 0, paragraphEnd(s, first, before), requirement);
    }
    const label = STORY_LABEL.exec(lineText(s.text, line));
    if (label) return storyNote(s, i, label[0].length, paragraphEnd(s, i, before), requirement);
  }
  return null;
}

function storyNote(s: Scan, first: number, col: number, end: number, requirement: string): SpecNote | null {
  const story = trimmedSlice(s, s.lines[first]!.start + col, s.lines[end - 1]!.end);
  return story ? { kind: "user-story", text: story.text, span: story.span, requirement } : null;
}

/** Line index (exclusive) where the paragraph starting at `first` ends: a blank line, a heading or `limit`. */
function paragraphEnd(s: Scan, first: number, limit: number): number {
  let i = first + 1;
  while (
    i < limit &&
    !isBlank(s, i) &&
    !s.lines[i]!.opaque &&
    !isHeadingLine(s, i) &&
    !CRITERIA_LABEL.test(lineText(s.text, s.lines[i]!))
  ) {
    i++;
  }
  return i;
}

interface Criterion {
  /** M as written. */
  number: string;
  text: string;
  textSpan: Span;
  firstLine: number;
  lastLine: number;
}

/**
 * The numbered items of an Acceptance Criteria region. An item runs over its continuation lines: lines
 * indented to its text (after a blank line too, as in CommonMark), and unindented lines right below it (lazy
 * continuation). A bullet item there is a criterion that has no number, and is reported.
 */
function readCriteria(s: Scan, from: number, to: number, diagnostics: Diagnostic[]): Criterion[] {
  const out: Criterion[] = [];
  let current: {
    number: string;
    firstLine: number;
    lastLine: number;
    textStart: number;
    indent: number;
  } | null = null;
  let afterBlank = false;
  const flush = () => {
    if (!current) return;
    const c = current;
    current = null;
    const text = trimmedSlice(s, c.textStart, s.lines[c.lastLine]!.end);
    if (!text) {
      diagnostics.push({
        rule: "kiro/empty-criterion",
        severity: "error",
        message: `acceptance criterion ${c.number} is empty`,
        hint: "write the criterion after its number, or remove the line",
        span: lineSpan(s, c.firstLine),
      });
      return;
    }
    out.push({
      number: c.number,
      text: text.text,
      textSpan: text.span,
      firstLine: c.firstLine,
      lastLine: c.lastLine,
    });
  };
  for (let i = from; i < to; i++) {
    const line = s.lines[i]!;
    if (line.opaque) {
      // A fenced block or comment is not part of a criterion's sentence; it ends the item above it.
      flush();
      afterBlank = false;
      continue;
    }
    const t = lineText(s.text, line);
    if (t.trim() === "") {
      afterBlank = true;
      continue;
    }
    const indent = t.length - t.trimStart().length;
    if (current && indent >= current.indent) {
      current.lastLine = i;
    } else {
      const numbered = NUMBERED_ITEM.exec(t);
      if (numbered) {
        flush();
        current = {
          number: numbered[2] as string,
          firstLine: i,
          lastLine: i,
          textStart: line.start + numbered[0].length,
          indent: numbered[0].length,
        };
      } else if (BULLET_ITEM.test(t)) {
        flush();
        diagnostics.push({
          rule: "kiro/unnumbered-criterion",
          severity: "error",
          message: "an acceptance criterion without a number gets no ID, so no task can refer to it",
          hint: "number the criteria of a requirement `1.`, `2.`, … as Kiro writes them",
          span: lineSpan(s, i),
        });
      } else if (current && !afterBlank) {
        current.lastLine = i;
      } else {
        // Prose after the list (or before it) belongs to no criterion.
        flush();
      }
    }
    afterBlank = false;
  }
  flush();
  return out;
}

function reportDuplicateCriteria(
  s: Scan,
  group: string,
  criteria: Criterion[],
  diagnostics: Diagnostic[],
): void {
  for (const [number, same] of duplicatesBy(criteria, (c) => c.number)) {
    const lines = same.map((c) => c.firstLine + 1).join(", ");
    for (const c of same) {
      diagnostics.push({
        rule: "kiro/duplicate-criterion",
        severity: "error",
        message: `acceptance criterion ${group}.${number} is numbered twice (lines ${lines}); both are kept with the same ID`,
        hint: "number the criteria of a requirement 1, 2, 3, … with no repeats",
        span: lineSpan(s, c.firstLine),
      });
    }
  }
}

function reportDuplicateGroups(groups: KiroRequirementGroup[], diagnostics: Diagnostic[]): void {
  for (const [number, same] of duplicatesBy(groups, (g) => g.number)) {
    const lines = same.map((g) => g.headingSpan.start.line).join(", ");
    for (const g of same) {
      diagnostics.push({
        rule: "kiro/duplicate-requirement",
        severity: "error",
        message: `Requirement ${number} is numbered twice (lines ${lines}); the criteria of both are kept with the same IDs`,
        hint: "renumber one of them: Kiro's tasks refer to criteria by number (`_Requirements: 1.2_`)",
        span: g.headingSpan,
      });
    }
  }
}

/** The groups of items sharing a key, for keys used more than once, in order of first use. */
function duplicatesBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const byKey = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = byKey.get(k);
    if (list) list.push(item);
    else byKey.set(k, [item]);
  }
  for (const [k, list] of byKey) if (list.length < 2) byKey.delete(k);
  return byKey;
}

/** Level-3 headings under `## Requirements` that are not `Requirement N` headings: likely mistakes. */
function strayHeadings(s: Scan, sections: TopSection[]): Spec["strayHeadings"] {
  const out: Spec["strayHeadings"] = [];
  for (const sec of sections) {
    if (sec.heading.text.toLowerCase() !== "requirements") continue;
    for (let h = sec.headingIndex + 1; h < s.headings.length; h++) {
      const heading = s.headings[h] as Heading;
      if (heading.lineIndex >= sec.endLine) break;
      if (heading.level === 3 && !UNNUMBERED_GROUP.test(heading.text)) {
        out.push({ text: heading.text, span: lineSpan(s, heading.lineIndex) });
      }
    }
  }
  return out;
}

function isBlank(s: Scan, i: number): boolean {
  return lineText(s.text, s.lines[i]!).trim() === "";
}

const headingLines = new WeakMap<Scan, Set<number>>();

function isHeadingLine(s: Scan, i: number): boolean {
  let lines = headingLines.get(s);
  if (!lines) {
    lines = new Set(s.headings.map((h) => h.lineIndex));
    headingLines.set(s, lines);
  }
  return lines.has(i);
}

/** The text between two offsets without surrounding whitespace, with its span; null when nothing is left. */
function trimmedSlice(s: Scan, from: number, to: number): { text: string; span: Span } | null {
  const raw = s.text.slice(from, to);
  const text = raw.trim();
  if (text === "") return null;
  const start = from + raw.length - raw.trimStart().length;
  return {
    text,
    span: { file: s.file, start: positionAt(s, start), end: positionAt(s, start + text.length) },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Steering

/**
 * When Kiro puts a steering file into the agent's context: always; when a file in context matches
 * `fileMatchPattern`; when the user names it (`#name` in chat); or, for `auto`, when Kiro judges its
 * description relevant. A file with no front matter is `always` (kiro.dev/docs/steering).
 */
export const STEERING_INCLUSIONS = ["always", "fileMatch", "manual", "auto"] as const;
export type SteeringInclusion = (typeof STEERING_INCLUSIONS)[number];

export interface Steering {
  file: string;
  /** The first `# ` heading of the body, if any. */
  title: string | null;
  inclusion: SteeringInclusion;
  /** `fileMatchPattern` as written, when it is one string. */
  fileMatchPattern: string | null;
  /** Every pattern: the one string, or each entry of the list form (`["**\/*.ts", "**\/*.tsx"]`). */
  fileMatchPatterns: string[];
  frontMatter: FrontMatter | null;
  /** The text after the front matter, exactly. */
  body: string;
  bodySpan: Span;
}

export function parseSteering(text: string, file: string): { steering: Steering; diagnostics: Diagnostic[] } {
  const s = scan(text, file);
  const { frontMatter, diagnostics } = parseFrontMatter(s);
  const bodyFrom = s.frontMatter ? s.frontMatter.closeLine + 1 : 0;
  const bodySpan = linesSpan(s, bodyFrom, s.lines.length);
  const data = frontMatter?.data ?? {};
  const unreadable = diagnostics.length > 0;
  const inclusion = readInclusion(data.inclusion, frontMatter, unreadable, diagnostics);
  const patterns = readPatterns(data.fileMatchPattern, frontMatter, diagnostics);
  if (inclusion === "fileMatch" && patterns.all.length === 0 && frontMatter) {
    diagnostics.push({
      rule: "kiro/steering-pattern",
      severity: "error",
      message: "a fileMatch steering file with no fileMatchPattern is never included",
      hint: 'add `fileMatchPattern: "src/**/*.ts"` (or a list of patterns) to the front matter',
      span: frontMatter.span,
    });
  }
  const steering: Steering = {
    file,
    title: s.headings.find((h) => h.level === 1)?.text ?? null,
    inclusion,
    fileMatchPattern: patterns.single,
    fileMatchPatterns: patterns.all,
    frontMatter,
    body: text.slice(bodySpan.start.offset, bodySpan.end.offset),
    bodySpan,
  };
  return { steering, diagnostics };
}

function readInclusion(
  value: unknown,
  frontMatter: FrontMatter | null,
  unreadable: boolean,
  diagnostics: Diagnostic[],
): SteeringInclusion {
  if (!frontMatter) return "always";
  // Front matter that does not parse says nothing reliable; never pushing the file into every context is safer.
  if (unreadable) return "manual";
  if (value === undefined) return "always";
  if (typeof value === "string" && (STEERING_INCLUSIONS as readonly string[]).includes(value)) {
    return value as SteeringInclusion;
  }
  diagnostics.push({
    rule: "kiro/steering-inclusion",
    severity: "error",
    message: `unknown steering inclusion "${String(value)}"; read as manual`,
    hint: `use one of: ${STEERING_INCLUSIONS.join(", ")}`,
    span: frontMatter.span,
  });
  return "manual";
}

function readPatterns(
  value: unknown,
  frontMatter: FrontMatter | null,
  diagnostics: Diagnostic[],
): { single: string | null; all: string[] } {
  if (value === undefined || value === null || !frontMatter) return { single: null, all: [] };
  const list = typeof value === "string" ? [value] : Array.isArray(value) ? value : null;
  const all = (list ?? []).filter((p): p is string => typeof p === "string" && p.trim() !== "");
  if (list === null || all.length !== list.length) {
    diagnostics.push({
      rule: "kiro/steering-pattern",
      severity: "error",
      message: "fileMatchPattern must be a glob or a list of globs",
      hint: 'write `fileMatchPattern: "components/**/*.tsx"` or `fileMatchPattern: ["**/*.ts", "**/*.tsx"]`',
      span: frontMatter.span,
    });
  }
  for (const p of all) {
    if (hasTopLevelComma(p)) {
      diagnostics.push({
        rule: "kiro/steering-pattern",
        severity: "warning",
        message: `fileMatchPattern "${p}" is one glob with a comma in it, not a list, and matches no file`,
        hint: 'write a list: `fileMatchPattern: ["src/**/*.ts", "tests/**/*.ts"]`',
        span: frontMatter.span,
      });
    }
  }
  return { single: typeof value === "string" && all.length === 1 ? value : null, all };
}

/** A comma outside `{…}`: `a/*.ts,b/*.ts` (meant as a list) but not `*.{ts,tsx}` (a brace expansion). */
function hasTopLevelComma(pattern: string): boolean {
  let depth = 0;
  for (const c of pattern) {
    if (c === "{") depth++;
    else if (c === "}") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) return true;
  }
  return false;
}

/**
 * Whether Kiro would include the steering file for work on `files` (project-relative, forward slashes), with
 * the steering files the user named (`askedFor`: `api-standards` or `api-standards.md`). Keel cannot judge an
 * `auto` file's relevance, so it is included only when named, like a manual one.
 */
export function steeringApplies(
  steering: Steering,
  files: readonly string[],
  askedFor: readonly string[] = [],
): boolean {
  switch (steering.inclusion) {
    case "always":
      return true;
    case "fileMatch": {
      if (steering.fileMatchPatterns.length === 0) return false;
      const matches = compileMatcher(steering.fileMatchPatterns);
      return files.some((f) => matches(f));
    }
    default: {
      const name = basename(steering.file);
      const stem = name.replace(/\.md$/i, "");
      return askedFor.some((a) => a === name || a === stem);
    }
  }
}

function compileMatcher(patterns: string[]): (file: string) => boolean {
  try {
    return picomatch(patterns, { dot: true });
  } catch {
    // picomatch refuses some inputs (a pattern over 64 KB); such a pattern matches nothing, as in Kiro.
    return () => false;
  }
}
