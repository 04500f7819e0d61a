// Reads Spec Kit's files (github/spec-kit) as they are: a feature's `specs/<feature>/spec.md` (user stories with
// acceptance scenarios, `FR-###` and `SC-###` items, edge cases, key entities, `[NEEDS CLARIFICATION: …]`
// markers) and the constitution, in both the current layout (`.specify/`) and the older one (`memory/` at the
// root, before Spec Kit 0.0.29). Spec Kit numbers every feature's items from one, so each ID is qualified by the
// feature folder (`001-photo-albums/FR-001`) and the ID as written is kept beside it.
// @req LAY-2, LAY-3, LAY-7, LAY-10
import { requirementFingerprint } from "../../model/fingerprint.js";
import { derivedRequirementId } from "../../model/ids.js";
import {
  type Constitution,
  type Diagnostic,
  type OpenQuestion,
  type Principle,
  REQUIREMENT_STATUSES,
  type Requirement,
  type RequirementStatus,
  type Scenario,
  type ScenarioStep,
  type Span,
  type Spec,
  type SpecNote,
  type StepKeyword,
} from "../../model/types.js";
import { earsPattern } from "../ears.js";
import { parseFrontMatter } from "../frontmatter.js";
import { type ParseOptions, trimmedRegion } from "../requirement.js";
import { type Heading, lineSpan, linesSpan, lineText, type Scan, scan } from "../scan.js";
import { findReferences, type SpecParse, type TopSection, topSections, toSection } from "../spec.js";
import { positionAt } from "./positions.js";

// ---------------------------------------------------------------------------------------------------------------
// spec.md

// `[\s\S]` rather than `.` throughout: `.` stops at U+2028 or a lone CR (see scan.ts).
const FEATURE_TITLE = /^Feature Specification:\s*([\s\S]*)$/i;
const STATUS_LABEL = /^\s*\*\*Status:?\*\*:?/i;
const USER_STORY = /^User Story\b\s*([\s\S]*)$/i;
/** The story number, then a dash, colon or full stop before the title (the template writes `1 - Title`). */
const STORY_NUMBER = /^(\d+)(?:\s*[-–—:.]\s*|\s+|$)([\s\S]*)$/;
const PRIORITY = /\(\s*Priority\s*:([^)]*)\)/i;
const VALID_PRIORITY = /^P\d+$/;
/** The older template (before 0.0.57): one unnumbered story, its scenarios under their own heading. */
const PRIMARY_STORY = /^Primary User Story\b/i;
const ACCEPTANCE_HEADING = /^Acceptance Scenarios\b/i;
const ACCEPTANCE_LABEL = /^\s*(?:\*\*|__)Acceptance Scenarios:?(?:\*\*|__):?\s*$/i;
const EDGE_CASES = /^Edge Cases\b/i;
const KEY_ENTITIES = /^Key Entities\b/i;
const CLARIFICATIONS = /^Clarifications\b/i;
const LIST_ITEM = /^( {0,3})([-*+]|(\d{1,9})[.)])([ \t]+|$)/;
const THEMATIC_BREAK = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
/** A bold label opening an item: `**FR-001**:` or `**FR-001:**`. */
const BOLD_LABEL = /^(\*\*|__)([^*_\n]+?)\1/;
/** Labels that are meant as an FR/SC ID, well formed or not: `FR-001`, `FR001`, `fr-1`, `SC 2`. */
const ID_LIKE = /^(?:FR|SC)(?![A-Za-z])/i;
/** Spec Kit's form: three or more digits, optionally one lowercase letter for an item inserted later (FR-004a). */
const VALID_ITEM_ID = /^(FR|SC)-\d{3,}[a-z]?$/;
const BOLD_STEP = /(\*\*|__)(given|when|then|and|but):?\1:?/gi;
const PLAIN_STEP = /(^|[,;]\s*)(given|when|then|and|but)\b/gi;
const CLARIFICATION_OPEN = /\[NEEDS CLARIFICATION:/gi;
const ANSWERED = /(?:→|->)\s*A:/;

export function parseSpeckitSpec(
  text: string,
  file: string,
  feature: string,
  options: ParseOptions = {},
): SpecParse {
  const s = scan(text, file);
  const { frontMatter, diagnostics } = parseFrontMatter(s);
  const sections = topSections(s);
  const ctx: Ctx = { s, feature, options, diagnostics, headingLines: headingLineMap(s), stray: [] };

  const requirements = [...readStories(ctx), ...readItems(ctx)].sort(
    (a, b) => a.span.start.offset - b.span.start.offset,
  );
  reportDuplicates(ctx, requirements);
  const clarifications = readClarifications(ctx, requirements);
  const notes = [
    ...readListNotes(ctx, EDGE_CASES, "edge-case"),
    ...readListNotes(ctx, KEY_ENTITIES, "entity"),
    ...clarifications,
  ].sort((a, b) => a.span.start.offset - b.span.start.offset);
  const openQuestions: OpenQuestion[] = [
    ...clarifications.map((c) => ({ text: c.text, resolved: false, span: c.span })),
    ...readAnsweredQuestions(ctx, sections),
  ].sort((a, b) => a.span.start.offset - b.span.start.offset);

  const h1 = s.headings.find((h) => h.level === 1);
  const spec: Spec = {
    kind: "spec",
    capability: feature,
    file,
    title: h1 ? (FEATURE_TITLE.exec(h1.text)?.[1] ?? h1.text).trim() : null,
    frontMatter,
    purpose: null,
    purposeSpan: null,
    requirements,
    sections: sections.map((sec) => toSection(s, sec)),
    openQuestions,
    orphans: [],
    strayHeadings: ctx.stray,
    // Spec Kit has no cross-reference syntax of its own; Keel's `[[ID]]` is read by parseSpec for its layouts.
    references: findReferences(s),
    status: readStatus(ctx, sections[0]?.heading.lineIndex ?? s.lines.length),
    layout: "speckit",
    notes,
  };
  return { spec, diagnostics, scan: s };
}

interface Ctx {
  s: Scan;
  feature: string;
  options: ParseOptions;
  diagnostics: Diagnostic[];
  /** Line index → heading on it, so list items and regions can stop at headings in O(1). */
  headingLines: Map<number, Heading>;
  /** Requirement-like elements the layout's rules do not accept (LAY-10), beside their diagnostics. */
  stray: Spec["strayHeadings"];
}

function headingLineMap(s: Scan): Map<number, Heading> {
  return new Map(s.headings.map((h) => [h.lineIndex, h]));
}

/** `**Status**: Draft` in the lines above the first `## ` section, when it names a Keel status. */
function readStatus(ctx: Ctx, beforeLine: number): RequirementStatus | null {
  const { s } = ctx;
  for (let i = 0; i < beforeLine; i++) {
    const line = s.lines[i]!;
    const t = lineText(s.text, line);
    const m = line.opaque ? null : STATUS_LABEL.exec(t);
    if (!m) continue;
    const value = t.slice(m[0].length).trim();
    const known = (REQUIREMENT_STATUSES as readonly string[]).find((st) => st === value.toLowerCase());
    if (known) return known as RequirementStatus;
    const col = value === "" ? t.length : t.indexOf(value, m[0].length);
    ctx.diagnostics.push({
      rule: "speckit/status",
      severity: "info",
      message: `spec status "${value}" is not one Keel knows, so the spec has no status`,
      hint: `Keel reads ${REQUIREMENT_STATUSES.join(", ")} (any case); Spec Kit's template writes Draft`,
      span: spanIn(s, i, col, col + value.length),
    });
    return null;
  }
  return null;
}

// --- user stories ----------------------------------------------------------------------------------------------

function readStories(ctx: Ctx): Requirement[] {
  const { s } = ctx;
  const out: Requirement[] = [];
  /** Lines of `### Acceptance Scenarios` headings a story took in. */
  const taken = new Set<number>();
  for (let h = 0; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    if (heading.level !== 3) continue;
    const story = USER_STORY.exec(heading.text);
    if (story) {
      const identity = storyIdentity(ctx, heading, story[1] as string);
      if (identity) out.push(readStory(ctx, h, identity, taken));
    } else if (PRIMARY_STORY.test(heading.text)) {
      out.push(readStory(ctx, h, { written: null, title: heading.text, priority: null }, taken));
    } else if (ACCEPTANCE_HEADING.test(heading.text) && !taken.has(heading.lineIndex)) {
      const span = lineSpan(s, heading.lineIndex);
      ctx.stray.push({ text: heading.text, span });
      ctx.diagnostics.push({
        rule: "speckit/orphan-scenarios",
        severity: "warning",
        message: "these acceptance scenarios follow no user story, so they are not read",
        hint: "put them right after the `### User Story N - Title (Priority: PN)` they test",
        span,
      });
    }
  }
  return out;
}

interface StoryIdentity {
  /** `US1`, or null for the older template's unnumbered primary story (which gets a derived ID). */
  written: string | null;
  title: string;
  priority: string | null;
}

/** Number, title and priority of `User Story 1 - Title (Priority: P1)`; null (and a finding) without a number. */
function storyIdentity(ctx: Ctx, heading: Heading, rest: string): StoryIdentity | null {
  const { s } = ctx;
  const numbered = STORY_NUMBER.exec(rest);
  const span = lineSpan(s, heading.lineIndex);
  if (!numbered) {
    ctx.stray.push({ text: heading.text, span });
    ctx.diagnostics.push({
      rule: "speckit/user-story-id",
      severity: "error",
      message: `"${heading.text}" has no story number, so it is not read as a user story`,
      hint: "write `### User Story 1 - Title (Priority: P1)`: tasks refer to the story as [US1]",
      span,
    });
    return null;
  }
  const afterNumber = numbered[2] as string;
  const priority = PRIORITY.exec(afterNumber);
  const title = (priority ? afterNumber.replace(priority[0], " ") : afterNumber).replace(/\s+/g, " ").trim();
  const written = `US${numbered[1] as string}`;
  if (!priority) {
    ctx.diagnostics.push({
      rule: "speckit/user-story-priority",
      severity: "warning",
      message: `user story ${written} has no priority`,
      hint: "add `(Priority: P1)` (P1 the most critical) to the heading, as Spec Kit's template does",
      span,
    });
    return { written, title, priority: null };
  }
  const value = (priority[1] as string).trim();
  if (!VALID_PRIORITY.test(value)) {
    const col = lineText(s.text, s.lines[heading.lineIndex]!).indexOf(priority[0]);
    ctx.diagnostics.push({
      rule: "speckit/user-story-priority",
      severity: "warning",
      message: `user story ${written} has priority "${value}", which is not P1, P2, P3…`,
      hint: "write the priority as P followed by a number, P1 the most critical",
      span: spanIn(s, heading.lineIndex, col, col + priority[0].length),
    });
    return { written, title, priority: null };
  }
  return { written, title, priority: value };
}

/**
 * A story block runs to the next heading of level <= 3. Its prose ends at the `**Acceptance Scenarios**:` label
 * (or the first `Given` item); its scenarios are the list items after it. In the older template the scenarios
 * sit under their own `### Acceptance Scenarios` heading right after the story, which the story then takes in.
 */
function readStory(ctx: Ctx, headingIndex: number, id: StoryIdentity, taken: Set<number>): Requirement {
  const { s } = ctx;
  const head = (s.headings[headingIndex] as Heading).lineIndex;
  let end = blockEnd(s, headingIndex, 3);
  let proseTo = end;
  let scenarioFrom = end;
  const next = s.headings[headingIndex + 1];
  const labelled = findAcceptanceStart(ctx, head + 1, end);
  if (labelled) {
    proseTo = labelled.proseTo;
    scenarioFrom = labelled.scenarioFrom;
  } else if (next && next.lineIndex === end && next.level === 3 && ACCEPTANCE_HEADING.test(next.text)) {
    taken.add(next.lineIndex);
    scenarioFrom = end + 1;
    end = blockEnd(s, headingIndex + 1, 3);
  }
  const { text, span: textSpan } = trimmedRegion(s, head + 1, proseEnd(s, head + 1, proseTo));
  const scenarios = listItems(ctx, scenarioFrom, end).map((item, k) => toScenario(s, item, k));
  const span = linesSpan(s, head, end);
  const requirement: Requirement = {
    id: id.written ? `${ctx.feature}/${id.written}` : derivedRequirementId(ctx.feature, id.title),
    explicitId: id.written !== null,
    title: id.title,
    text,
    textSpan,
    scenarios,
    markers: null,
    ears: earsPattern(text),
    fingerprint: "",
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, head),
    capability: ctx.feature,
  };
  if (id.written) requirement.written = id.written;
  if (id.priority) requirement.priority = id.priority;
  if (ctx.options.fingerprints !== false) {
    requirement.fingerprint = requirementFingerprint({
      text,
      scenarios: scenarios.map((sc) => ({ name: sc.name, body: sc.raw })),
    });
  }
  return requirement;
}

/** Where a story's scenarios start: after the label line or a `#### Acceptance Scenarios` heading, or at the first `Given` item. */
function findAcceptanceStart(
  ctx: Ctx,
  from: number,
  to: number,
): { proseTo: number; scenarioFrom: number } | null {
  const { s } = ctx;
  for (let i = from; i < to; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    const t = lineText(s.text, line);
    const heading = ctx.headingLines.get(i);
    if ((heading && ACCEPTANCE_HEADING.test(heading.text)) || (!heading && ACCEPTANCE_LABEL.test(t))) {
      return { proseTo: i, scenarioFrom: i + 1 };
    }
    const item = LIST_ITEM.exec(t);
    if (item?.[3] !== undefined && /^(?:\*\*|__)?given\b/i.test(t.slice(item[0].length))) {
      return { proseTo: i, scenarioFrom: i };
    }
  }
  return null;
}

/** Line (exclusive) where a heading's block ends: the next heading of level <= `level`, or the end of the text. */
function blockEnd(s: Scan, headingIndex: number, level: number): number {
  for (let k = headingIndex + 1; k < s.headings.length; k++) {
    const h = s.headings[k] as Heading;
    if (h.level <= level) return h.lineIndex;
  }
  return s.lines.length;
}

/** `to`, moved back over blank lines and thematic breaks (the template's `---` between stories). */
function proseEnd(s: Scan, from: number, to: number): number {
  let b = to;
  while (b > from) {
    const line = s.lines[b - 1]!;
    const t = lineText(s.text, line);
    if (line.opaque || (t.trim() !== "" && !THEMATIC_BREAK.test(t))) break;
    b--;
  }
  return b;
}

function toScenario(s: Scan, item: ListItem, index: number): Scenario {
  const span = itemSpan(s, item);
  return {
    name: `Scenario ${item.number ?? String(index + 1)}`,
    steps: splitSteps(s, item),
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, item.line),
  };
}

/**
 * Splits `**Given** a, **When** b, **Then** c` into steps, each spanning its keyword and text. Bold keywords are
 * the template's form; without them an item that starts with a keyword is split at keywords after commas.
 * Text before the first keyword, or an item with no keyword at all, becomes a step without a keyword, so
 * nothing written is dropped.
 */
function splitSteps(s: Scan, item: ListItem): ScenarioStep[] {
  const body = s.text.slice(item.contentStart, item.contentEnd);
  const bold = [...body.matchAll(BOLD_STEP)].map((m) => ({
    at: m.index ?? 0,
    end: (m.index ?? 0) + m[0].length,
    keyword: (m[2] as string).toUpperCase() as StepKeyword,
  }));
  const tokens =
    bold.length > 0
      ? bold
      : /^(?:given|when|then)\b/i.test(body)
        ? [...body.matchAll(PLAIN_STEP)].map((m) => {
            const at = (m.index ?? 0) + (m[1] as string).length;
            return {
              at,
              end: at + (m[2] as string).length,
              keyword: (m[2] as string).toUpperCase() as StepKeyword,
            };
          })
        : [];
  const base = item.contentStart;
  const steps: ScenarioStep[] = [];
  const prefix = stepText(body, 0, tokens[0]?.at ?? body.length);
  if (prefix.from < prefix.to)
    steps.push(step(s, null, base + prefix.from, base + prefix.from, base + prefix.to));
  tokens.forEach((tok, k) => {
    const piece = stepText(body, tok.end, tokens[k + 1]?.at ?? body.length);
    steps.push(step(s, tok.keyword, base + tok.at, base + piece.from, base + piece.to));
  });
  return steps;
}

/** body[from, to) without surrounding whitespace and the comma or semicolon before the next keyword. */
function stepText(body: string, from: number, to: number): { from: number; to: number } {
  let a = from;
  let b = to;
  while (a < b && /\s/.test(body[a] as string)) a++;
  while (b > a && /[\s,;]/.test(body[b - 1] as string)) b--;
  return { from: a, to: b };
}

/** A step spanning [start, to): its keyword (from `start`) and its text [from, to). */
function step(s: Scan, keyword: StepKeyword | null, start: number, from: number, to: number): ScenarioStep {
  const raw = s.text.slice(from, to);
  return {
    keyword,
    // A step wrapped over lines reads as one line, as Keel's own scenario steps do.
    text: raw.includes("\n") ? raw.replace(/\s*\n\s*/g, " ") : raw,
    span: spanAt(s, start, to),
  };
}

// --- FR / SC items -------------------------------------------------------------------------------------------------

/** Every `- **FR-###**: …` and `- **SC-###**: …` item outside code, wherever the author put it. */
function readItems(ctx: Ctx): Requirement[] {
  const out: Requirement[] = [];
  for (const item of listItems(ctx, 0, ctx.s.lines.length)) {
    const requirement = readItem(ctx, item);
    if (requirement) out.push(requirement);
  }
  return out;
}

function readItem(ctx: Ctx, item: ListItem): Requirement | null {
  const { s } = ctx;
  const body = s.text.slice(item.contentStart, item.contentEnd);
  const label = BOLD_LABEL.exec(body);
  if (!label) return null;
  const written = (label[2] as string).trim().replace(/:$/, "").trim();
  if (!ID_LIKE.test(written)) return null;
  const labelSpan = spanAt(s, item.contentStart, item.contentStart + label[0].length);
  if (!VALID_ITEM_ID.test(written)) {
    ctx.stray.push({ text: body.split("\n")[0] as string, span: lineSpan(s, item.line) });
    ctx.diagnostics.push({
      rule: "speckit/requirement-id",
      severity: "error",
      message: `"${written}" is not a Spec Kit requirement ID, so this item is not read as a requirement`,
      hint: "write FR-### or SC-### with three digits, e.g. **FR-007**",
      span: labelSpan,
    });
    return null;
  }
  let at = label[0].length;
  if (body[at] === ":") at++;
  while (at < body.length && /\s/.test(body[at] as string)) at++;
  const text = body.slice(at);
  const textSpan = text === "" ? null : spanAt(s, item.contentStart + at, item.contentEnd);
  if (text === "") {
    ctx.diagnostics.push({
      rule: "speckit/empty-requirement",
      severity: "warning",
      message: `${written} has no statement`,
      hint: `write what the system must do after "**${written}**:"`,
      span: labelSpan,
    });
  }
  const span = itemSpan(s, item);
  return {
    id: `${ctx.feature}/${written}`,
    explicitId: true,
    // The statement is the item's only words; it is both title and text, exactly as written.
    title: text,
    text,
    textSpan,
    scenarios: [],
    markers: null,
    ears: earsPattern(text),
    fingerprint: ctx.options.fingerprints === false ? "" : requirementFingerprint({ text, scenarios: [] }),
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, item.line),
    capability: ctx.feature,
    written,
  };
}

/** Each ID written more than once in the file is reported at every position; every requirement is kept. */
function reportDuplicates(ctx: Ctx, requirements: Requirement[]): void {
  for (const group of groupBy(requirements, (r) => r.id)) {
    if (group.length < 2) continue;
    const lines = lineList(group.map((r) => r.headingSpan.start.line));
    for (const r of group) {
      const name = r.written ?? r.title;
      ctx.diagnostics.push({
        rule: "speckit/duplicate-id",
        severity: "error",
        message: `${name} is written ${group.length} times in this spec (lines ${lines}); each is kept`,
        hint: `renumber one of them: tasks and analyses cite ${name} and cannot tell them apart`,
        span: r.headingSpan,
      });
    }
  }
}

// --- notes and questions -------------------------------------------------------------------------------------------

/** Each top-level item under an `Edge Cases` or `Key Entities` heading, up to the next heading. */
function readListNotes(ctx: Ctx, heading: RegExp, kind: SpecNote["kind"]): SpecNote[] {
  const { s } = ctx;
  const notes: SpecNote[] = [];
  for (let h = 0; h < s.headings.length; h++) {
    const hd = s.headings[h] as Heading;
    if (hd.level < 2 || !heading.test(hd.text)) continue;
    const to = s.headings[h + 1]?.lineIndex ?? s.lines.length;
    for (const item of listItems(ctx, hd.lineIndex + 1, to)) {
      notes.push({
        kind,
        text: s.text.slice(item.contentStart, item.contentEnd),
        span: spanAt(s, item.contentStart, item.contentEnd),
      });
    }
  }
  return notes;
}

/**
 * Every `[NEEDS CLARIFICATION: question]` outside code: the note's text is the question, its span the whole
 * marker, and it belongs to the requirement it is written in. Brackets may nest inside the question.
 */
function readClarifications(ctx: Ctx, requirements: Requirement[]): SpecNote[] {
  const { s } = ctx;
  const notes: SpecNote[] = [];
  const ownerAt = ownerFinder(requirements);
  for (let i = 0; i < s.lines.length; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    const raw = lineText(s.text, line);
    if (!/NEEDS CLARIFICATION/i.test(raw)) continue;
    const t = maskCode(raw);
    // Each marker is searched for after the previous one's end, so no character is scanned twice.
    for (let from = 0; ; ) {
      CLARIFICATION_OPEN.lastIndex = from;
      const m = CLARIFICATION_OPEN.exec(t);
      if (!m) break;
      const open = m.index;
      const close = closingBracket(t, open);
      if (close === -1) {
        ctx.diagnostics.push({
          rule: "speckit/clarification-unclosed",
          severity: "warning",
          message: "a [NEEDS CLARIFICATION: …] marker is not closed on its line",
          hint: "end the question with `]` on the same line",
          span: spanIn(s, i, open, raw.length),
        });
        break;
      }
      const note: SpecNote = {
        kind: "clarification",
        text: raw.slice(open + m[0].length, close).trim(),
        span: spanIn(s, i, open, close + 1),
      };
      const owner = ownerAt(line.start + open);
      if (owner) note.requirement = owner;
      notes.push(note);
      from = close + 1;
    }
  }
  return notes;
}

/**
 * For offsets asked in increasing order, the innermost requirement holding each (requirements sorted by start).
 * Their spans nest or are disjoint (an FR item may sit inside a story block), so a stack sweep finds it.
 */
function ownerFinder(requirements: Requirement[]): (offset: number) => string | undefined {
  let next = 0;
  const open: Requirement[] = [];
  return (offset) => {
    while (next < requirements.length && requirements[next]!.span.start.offset <= offset) {
      open.push(requirements[next++]!);
    }
    while (open.length > 0 && open[open.length - 1]!.span.end.offset <= offset) open.pop();
    return open[open.length - 1]?.id;
  };
}

/** Index of the `]` closing the `[` at `open`, counting nested brackets, or -1. */
function closingBracket(t: string, open: number): number {
  let depth = 0;
  for (let k = open; k < t.length; k++) {
    if (t[k] === "[") depth++;
    else if (t[k] === "]" && --depth === 0) return k;
  }
  return -1;
}

/** Inline code spans blanked out (same length), so a marker quoted in backticks is not taken for one. */
function maskCode(t: string): string {
  return t.includes("`") ? t.replace(/`[^`]*`/g, (c) => " ".repeat(c.length)) : t;
}

/** `/speckit.clarify` records each answer under `## Clarifications` as `- Q: … → A: …`: answered questions. */
function readAnsweredQuestions(ctx: Ctx, sections: TopSection[]): OpenQuestion[] {
  const out: OpenQuestion[] = [];
  for (const sec of sections) {
    if (!CLARIFICATIONS.test(sec.heading.text)) continue;
    for (const item of listItems(ctx, sec.heading.lineIndex + 1, sec.endLine)) {
      const text = ctx.s.text.slice(item.contentStart, item.contentEnd);
      if (!/^Q:/i.test(text)) continue;
      out.push({
        text,
        resolved: ANSWERED.test(text),
        span: spanAt(ctx.s, item.contentStart, item.contentEnd),
      });
    }
  }
  return out;
}

// --- list items ----------------------------------------------------------------------------------------------------

interface ListItem {
  /** Line index of the item's marker. */
  line: number;
  /** Last line index of the item (continuation lines included). */
  lastLine: number;
  /** The number of an ordered item, as written. */
  number: string | null;
  /** Offsets of the item's content: after the marker, up to the end of its last non-blank line, trimmed. */
  contentStart: number;
  contentEnd: number;
}

/**
 * Top-level list items starting in lines [from, to), outside code. An item takes the lines indented to its
 * content (nested lists, wrapped text, across blank lines) and lazy continuation lines of its paragraph; it
 * ends at a blank line followed by less indented text, a new item, a heading, code or a thematic break.
 */
function listItems(ctx: Ctx, from: number, to: number): ListItem[] {
  const { s } = ctx;
  const items: ListItem[] = [];
  let i = from;
  while (i < to) {
    const line = s.lines[i]!;
    const m = line.opaque || ctx.headingLines.has(i) ? null : LIST_ITEM.exec(lineText(s.text, line));
    if (!m || THEMATIC_BREAK.test(lineText(s.text, line))) {
      i++;
      continue;
    }
    const contentCol = m[0].length;
    const lastLine = itemLastLine(ctx, i, to, contentCol);
    const contentStart = line.start + contentCol;
    let contentEnd = s.lines[lastLine]!.end;
    while (contentEnd > contentStart && /\s/.test(s.text[contentEnd - 1] as string)) contentEnd--;
    items.push({
      line: i,
      lastLine,
      number: m[3] ?? null,
      contentStart,
      contentEnd: Math.max(contentStart, contentEnd),
    });
    i = lastLine + 1;
  }
  return items;
}

function itemLastLine(ctx: Ctx, first: number, to: number, contentCol: number): number {
  const { s } = ctx;
  let last = first;
  let afterBlank = false;
  for (let j = first + 1; j < to; j++) {
    const line = s.lines[j]!;
    const t = lineText(s.text, line);
    if (t.trim() === "") {
      afterBlank = true;
      continue;
    }
    const indent = t.length - t.trimStart().length;
    if (indent >= contentCol && !ctx.headingLines.has(j)) {
      last = j;
      afterBlank = false;
      continue;
    }
    const lazy =
      !afterBlank &&
      !line.opaque &&
      !ctx.headingLines.has(j) &&
      !LIST_ITEM.test(t) &&
      !THEMATIC_BREAK.test(t) &&
      !/^ {0,3}(?:`{3,}|~{3,}|<!--)/.test(t);
    if (!lazy) break;
    last = j;
  }
  return last;
}

function itemSpan(s: Scan, item: ListItem): Span {
  return spanAt(s, s.lines[item.line]!.start, item.contentEnd);
}

// --- spans ---------------------------------------------------------------------------------------------------------

/** Span of columns [fromCol, toCol) (0-based) of line `lineIndex`. */
function spanIn(s: Scan, lineIndex: number, fromCol: number, toCol: number): Span {
  const start = s.lines[lineIndex]!.start;
  return spanAt(s, start + fromCol, start + toCol);
}

function spanAt(s: Scan, start: number, end: number): Span {
  return { file: s.file, start: positionAt(s, start), end: positionAt(s, end) };
}

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(key(item));
    if (group) group.push(item);
    else groups.set(key(item), [item]);
  }
  return [...groups.values()];
}

/** `12, 40` — the first few lines only, so that a file repeating one ID thousands of times stays readable. */
function lineList(lines: number[]): string {
  const shown = lines.slice(0, 5).join(", ");
  return lines.length > 5 ? `${shown} and ${lines.length - 5} more` : shown;
}

// ---------------------------------------------------------------------------------------------------------------
// constitution.md

const PRINCIPLES_SECTION = /^(?:Core )?Principles\b/i;
const NUMBERED_PRINCIPLE = /^([IVXLCDM]+|\d+)\.\s+([\s\S]+)$/;
/** The template's unfilled heading, `[PRINCIPLE_1_NAME]`. */
const PLACEHOLDER = /^\[[A-Z0-9_]+\]$/;

/**
 * Spec Kit's constitution: the `### ` headings of `## Core Principles` are its principles; other sections
 * (Governance, constraints, workflow) are not. A principle numbered as Spec Kit numbers them (`### III.
 * Test-First`) gets the ID `principle/III`: the numeral is what plans and reviews cite ("Principle III"), and
 * `principle/` is the namespace of Keel's own derived principle IDs. An unnumbered one gets Keel's derived ID
 * from its title. Spec Kit has no gate commands, so `gate` is always null.
 */
export function parseSpeckitConstitution(
  text: string,
  file: string,
): { constitution: Constitution; diagnostics: Diagnostic[] } {
  const s = scan(text, file);
  const diagnostics: Diagnostic[] = [];
  const principles: Principle[] = [];
  const section = topSections(s).find((sec) => PRINCIPLES_SECTION.test(sec.heading.text));
  const constitution: Constitution = { kind: "constitution", file, principles };
  if (!section) {
    diagnostics.push({
      rule: "speckit/constitution-principles",
      severity: "warning",
      message: "the constitution has no `## Core Principles` section, so it holds no principles",
      hint: "put each principle under `## Core Principles` as `### I. Name`, as Spec Kit's template does",
      span: spanAt(s, s.contentStart, s.contentStart),
    });
    return { constitution, diagnostics };
  }
  for (let h = section.headingIndex + 1; h < s.headings.length; h++) {
    const heading = s.headings[h] as Heading;
    if (heading.lineIndex >= section.endLine) break;
    if (heading.level !== 3) continue;
    if (PLACEHOLDER.test(heading.text)) {
      diagnostics.push({
        rule: "speckit/constitution-placeholder",
        severity: "info",
        message: `principle heading ${heading.text} is still the template's placeholder, so it is not read`,
        hint: "run /speckit.constitution, or write the principle's name in place of the placeholder",
        span: lineSpan(s, heading.lineIndex),
      });
      continue;
    }
    const end = Math.min(blockEnd(s, h, 3), section.endLine);
    const numbered = NUMBERED_PRINCIPLE.exec(heading.text);
    const span = linesSpan(s, heading.lineIndex, end);
    principles.push({
      id: numbered ? `principle/${numbered[1] as string}` : derivedRequirementId("principle", heading.text),
      title: numbered ? (numbered[2] as string).trim() : heading.text,
      text: trimmedRegion(s, heading.lineIndex + 1, end).text,
      gate: null,
      span,
      raw: s.text.slice(span.start.offset, span.end.offset),
    });
  }
  reportDuplicatePrinciples(s, principles, diagnostics);
  return { constitution, diagnostics };
}

function reportDuplicatePrinciples(s: Scan, principles: Principle[], diagnostics: Diagnostic[]): void {
  for (const group of groupBy(principles, (p) => p.id)) {
    if (group.length < 2) continue;
    for (const p of group) {
      diagnostics.push({
        rule: "speckit/duplicate-principle",
        severity: "warning",
        message: `principle ${p.id} appears ${group.length} times in the constitution; each is kept`,
        hint: "renumber the principles so each numeral is used once",
        span: lineSpan(s, p.span.start.line - 1),
      });
    }
  }
}
