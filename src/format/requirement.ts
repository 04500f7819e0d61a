// Parses one `### Requirement:` block into the model: ID, marker line, normative text, scenarios, fingerprint.
// @req FMT-2, FMT-3
import { requirementFingerprint } from "../model/fingerprint.js";
import { derivedRequirementId, splitExplicitId } from "../model/ids.js";
import type {
  Diagnostic,
  Markers,
  Requirement,
  Scenario,
  ScenarioStep,
  Span,
  StepKeyword,
} from "../model/types.js";
import { earsPattern } from "./ears.js";
import { isMarkerLine, parseMarkerLine } from "./markers.js";
import { type Heading, lineSpan, linesSpan, lineText, type Scan } from "./scan.js";

// `[\s\S]*` rather than `.*` in these patterns: `.` stops at U+2028 or a lone CR, and the backtracking that follows
// into the `\s` quantifier before it is quadratic in the length of the line.
export const REQUIREMENT_HEADING = /^Requirement:\s*([\s\S]*)$/i;
const SCENARIO_PREFIX = /^Scenario:\s*/i;
const LIST_ITEM = /^\s*(?:[-*+]|\d+[.)])\s+([\s\S]*)$/;
// The keyword ends at a non-letter (`\b` would not end it before `__`, as in `__And__`).
const STEP = /^(?:\*\*|__)?(GIVEN|WHEN|THEN|AND|BUT)(?![A-Za-z0-9]):?(?:\*\*|__)?:?\s*([\s\S]*)$/i;

export interface ParseOptions {
  /**
   * Compute fingerprints (default true). `keel validate` turns them off: no rule reads them, and
   * normalising and hashing every requirement is the largest part of a cold parse. Without them,
   * `Requirement.fingerprint` is the empty string.
   */
  fingerprints?: boolean;
}

export interface RequirementParse {
  requirement: Requirement;
  diagnostics: Diagnostic[];
}

/**
 * @param headingIndex index into `s.headings` of the requirement heading
 * @param endLine line index (exclusive) where the block ends
 */
export function parseRequirementBlock(
  s: Scan,
  headingIndex: number,
  endLine: number,
  capability: string,
  options: ParseOptions = {},
): RequirementParse {
  const heading = s.headings[headingIndex] as Heading;
  const diagnostics: Diagnostic[] = [];
  const headingText = REQUIREMENT_HEADING.exec(heading.text)?.[1] ?? heading.text;
  const { title, id } = splitExplicitId(headingText);
  const headLine = heading.lineIndex;
  const badId = id === null && title.endsWith("}") ? title.slice(title.lastIndexOf("{#")) : "";
  if (/^\{#[^\s{}]*\}$/.test(badId)) {
    // `{#…}` that is not a valid ID: the author meant an explicit ID, so say where and why it was not taken.
    const lineStart = s.lines[headLine]?.start ?? 0;
    const col = lineText(s.text, s.lines[headLine]!).lastIndexOf("{#");
    const at = (c: number) => ({ line: headLine + 1, col: c + 1, offset: lineStart + c });
    diagnostics.push({
      rule: "format/requirement-id",
      severity: "error",
      message: `"${badId}" is not a valid requirement ID, so the requirement gets a derived ID`,
      hint: "an ID starts with a letter and holds only letters, digits, `_`, `.` and `-`, e.g. {#PAY-4}",
      span: { file: s.file, start: at(col), end: at(col + badId.length) },
    });
  }

  let cursor = headLine + 1;
  while (cursor < endLine && isBlank(s, cursor)) cursor++;
  let markers: Markers | null = null;
  if (
    cursor < endLine &&
    !(s.lines[cursor]?.opaque ?? true) &&
    isMarkerLine(lineText(s.text, s.lines[cursor]!))
  ) {
    const span = lineSpan(s, cursor);
    const parsed = parseMarkerLine(lineText(s.text, s.lines[cursor]!), span);
    markers = parsed.markers;
    for (const p of parsed.problems) {
      // Point at the offending value, not at the start of the line.
      const at = (col: number) => ({ line: cursor + 1, col: col + 1, offset: span.start.offset + col });
      const valueSpan = { file: s.file, start: at(p.at), end: at(p.at + p.length) };
      diagnostics.push({
        rule: "format/marker",
        severity: "error",
        message: p.message,
        hint: p.hint,
        span: valueSpan,
      });
    }
    cursor++;
  }

  // Sub-headings of the block: scenarios are level-4 headings; text runs up to the first sub-heading.
  const subHeadings: Heading[] = [];
  for (let h = headingIndex + 1; h < s.headings.length; h++) {
    const sub = s.headings[h] as Heading;
    if (sub.lineIndex >= endLine) break;
    subHeadings.push(sub);
  }
  const textEnd = subHeadings[0]?.lineIndex ?? endLine;
  const { text, span: textSpan } = trimmedRegion(s, cursor, textEnd);

  const scenarios: Scenario[] = [];
  for (let k = 0; k < subHeadings.length; k++) {
    const sh = subHeadings[k] as Heading;
    if (sh.level !== 4) continue;
    let end = endLine;
    for (let j = k + 1; j < subHeadings.length; j++) {
      if ((subHeadings[j] as Heading).level <= 4) {
        end = (subHeadings[j] as Heading).lineIndex;
        break;
      }
    }
    scenarios.push(parseScenario(s, sh, end));
  }

  const span = linesSpan(s, headLine, endLine);
  const requirement: Requirement = {
    id: id ?? derivedRequirementId(capability, title),
    explicitId: id !== null,
    title,
    text,
    textSpan,
    scenarios,
    markers,
    ears: earsPattern(text),
    fingerprint: "",
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, headLine),
    capability,
  };
  if (options.fingerprints !== false) {
    requirement.fingerprint = requirementFingerprint({
      text,
      scenarios: scenarios.map((sc) => ({ name: sc.name, body: scenarioBody(s, sc) })),
    });
  }
  return { requirement, diagnostics };
}

function parseScenario(s: Scan, heading: Heading, endLine: number): Scenario {
  const steps: ScenarioStep[] = [];
  for (let i = heading.lineIndex + 1; i < endLine; i++) {
    const line = s.lines[i]!;
    if (line.opaque) continue;
    const t = lineText(s.text, line);
    const item = LIST_ITEM.exec(t);
    if (item) {
      const body = (item[1] as string).trim();
      const step = STEP.exec(body);
      steps.push({
        keyword: step ? ((step[1] as string).toUpperCase() as StepKeyword) : null,
        text: step ? (step[2] as string).trim() : body,
        span: lineSpan(s, i),
      });
    } else if (t.trim() !== "" && steps.length > 0) {
      // A lazy continuation line belongs to the step above it.
      const last = steps[steps.length - 1] as ScenarioStep;
      last.text = `${last.text} ${t.trim()}`;
      last.span = { ...last.span, end: lineSpan(s, i).end };
    }
  }
  const span = linesSpan(s, heading.lineIndex, endLine);
  return {
    name: heading.text.replace(SCENARIO_PREFIX, "").trim(),
    steps,
    raw: s.text.slice(span.start.offset, span.end.offset),
    span,
    headingSpan: lineSpan(s, heading.lineIndex),
  };
}

/** The scenario's source text without its heading line. */
function scenarioBody(s: Scan, sc: Scenario): string {
  const firstBodyLine = s.lines[sc.headingSpan.start.line];
  const from = firstBodyLine ? firstBodyLine.start : sc.span.end.offset;
  return s.text.slice(Math.min(from, sc.span.end.offset), sc.span.end.offset);
}

function isBlank(s: Scan, i: number): boolean {
  const line = s.lines[i]!;
  return s.text.slice(line.start, line.end).trim() === "";
}

/** The text of lines [from, to) without leading and trailing blank lines, with its span. */
export function trimmedRegion(s: Scan, from: number, to: number): { text: string; span: Span | null } {
  let a = from;
  let b = to;
  while (a < b && isBlank(s, a)) a++;
  while (b > a && isBlank(s, b - 1)) b--;
  if (a >= b) return { text: "", span: null };
  const startOffset = s.lines[a]!.start;
  const endOffset = s.lines[b - 1]!.end;
  const span: Span = {
    file: s.file,
    start: { line: a + 1, col: 1, offset: startOffset },
    end: { line: b, col: endOffset - s.lines[b - 1]!.start + 1, offset: endOffset },
  };
  return { text: s.text.slice(startOffset, endOffset), span };
}
