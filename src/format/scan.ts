// A line-level structural scanner for the subset of CommonMark the dialect depends on: ATX headings,
// fenced code, HTML comment blocks and YAML front matter. It is hand-written rather than built on a
// Markdown library because the dialect needs byte-exact spans for surgical edits and must parse
// ~100 MB/s to validate 100,000 requirements quickly; a full CommonMark parser gives neither. The
// tests check its heading detection against markdown-it on real corpora.
// @req FMT-11

import type { Position, Span } from "../model/types.js";

/** One physical line. `end` excludes the line terminator; `next` is the offset of the following line. */
export interface Line {
  start: number;
  end: number;
  next: number;
  /** True when the line is inside front matter, a fenced code block or an HTML comment block. */
  opaque: boolean;
}

export interface Heading {
  level: number;
  /** Heading text with the ATX markers and optional closing sequence removed, trimmed. */
  text: string;
  lineIndex: number;
}

export interface FrontMatterBlock {
  /** Line indices of the opening and closing `---` fences. */
  openLine: number;
  closeLine: number;
}

export interface Scan {
  text: string;
  file: string;
  lines: Line[];
  headings: Heading[];
  frontMatter: FrontMatterBlock | null;
  /** Offset at which content starts (1 when the text begins with a BOM). */
  contentStart: number;
}

// `[\s\S]*` rather than `.*`: `.` stops at U+2028 or a lone CR, and the backtracking that follows is quadratic.
const FENCE = /^ {0,3}(`{3,}|~{3,})([\s\S]*)$/;
// OpenSpec also accepts `###Requirement:` with no space; CommonMark would not, so that one form is special-cased.
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+|$|(?=(?:Requirement|Scenario):))([\s\S]*)$/i;

export function scan(text: string, file: string): Scan {
  const contentStart = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const lines: Line[] = [];
  let pos = contentStart;
  while (pos < text.length) {
    let nl = text.indexOf("\n", pos);
    if (nl === -1) nl = text.length;
    const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    lines.push({ start: pos, end, next: Math.min(nl + 1, text.length), opaque: false });
    pos = nl + 1;
  }
  // A lone CR line ending (classic Mac) is not split above; such files are treated as one line per LF.

  const headings: Heading[] = [];
  let frontMatter: FrontMatterBlock | null = null;
  let i = 0;
  if (lines.length > 0 && lineText(text, lines[0] as Line) === "---") {
    for (let j = 1; j < lines.length; j++) {
      const t = lineText(text, lines[j] as Line);
      if (t === "---" || t === "...") {
        frontMatter = { openLine: 0, closeLine: j };
        for (let k = 0; k <= j; k++) (lines[k] as Line).opaque = true;
        i = j + 1;
        break;
      }
    }
  }

  let fenceChar = "";
  let fenceLen = 0;
  let inComment = false;
  for (; i < lines.length; i++) {
    const line = lines[i] as Line;
    const t = text.slice(line.start, line.end);
    if (fenceLen > 0) {
      line.opaque = true;
      const m = FENCE.exec(t);
      if (
        m &&
        (m[1] as string)[0] === fenceChar &&
        (m[1] as string).length >= fenceLen &&
        /^[ \t]*$/.test(m[2] as string) // only spaces and tabs may follow a closing fence (CommonMark 4.5)
      ) {
        fenceLen = 0;
      }
      continue;
    }
    if (inComment) {
      line.opaque = true;
      if (t.includes("-->")) inComment = false;
      continue;
    }
    const first = firstNonSpace(t);
    if (first === "`" || first === "~") {
      const m = FENCE.exec(t);
      // A backtick fence's info string may not contain backticks (CommonMark 4.5).
      if (m && !((m[1] as string)[0] === "`" && (m[2] as string).includes("`"))) {
        fenceChar = (m[1] as string)[0] as string;
        fenceLen = (m[1] as string).length;
        line.opaque = true;
        continue;
      }
    }
    if (first === "<" && /^ {0,3}<!--/.test(t)) {
      // As in CommonMark (HTML block condition 2), a `-->` anywhere on the opening line ends the block there,
      // even one overlapping the opener: `<!-->` and `<!--->` are complete comments.
      if (!t.includes("-->")) {
        inComment = true;
        line.opaque = true;
        continue;
      }
    }
    if (first === "#") {
      const m = ATX.exec(t);
      if (m) {
        const content = stripClosingSequence(m[2] as string).trim();
        headings.push({ level: (m[1] as string).length, text: content, lineIndex: i });
      }
    }
  }
  return { text, file, lines, headings, frontMatter, contentStart };
}

/**
 * Removes an ATX heading's closing sequence: a final run of `#` preceded by a space or tab (or alone), with
 * trailing spaces and tabs. Done by hand: the equivalent regex backtracks quadratically on long runs of spaces.
 */
function stripClosingSequence(s: string): string {
  let end = s.length;
  while (end > 0 && (s[end - 1] === " " || s[end - 1] === "\t")) end--;
  let h = end;
  while (h > 0 && s[h - 1] === "#") h--;
  if (h === end || (h > 0 && s[h - 1] !== " " && s[h - 1] !== "\t")) return s;
  return s.slice(0, h);
}

function firstNonSpace(s: string): string {
  for (let k = 0; k < s.length && k < 4; k++) {
    const c = s[k] as string;
    if (c !== " ") return c;
  }
  return "";
}

export function lineText(text: string, line: Line): string {
  return text.slice(line.start, line.end);
}

/** Position of a line's first character. */
export function linePos(s: Scan, lineIndex: number, col = 1): Position {
  const line = s.lines[lineIndex];
  if (!line) return endPos(s);
  return { line: lineIndex + 1, col, offset: line.start + col - 1 };
}

export function endPos(s: Scan): Position {
  const last = s.lines.length;
  const lastLine = s.lines[last - 1];
  if (!lastLine) return { line: 1, col: 1, offset: s.text.length };
  if (lastLine.next > lastLine.end && s.text.length === lastLine.next && s.text.endsWith("\n")) {
    return { line: last + 1, col: 1, offset: s.text.length };
  }
  // Measured to the end of the text, not of the line: a final lone CR is part of the last line.
  return { line: last, col: s.text.length - lastLine.start + 1, offset: s.text.length };
}

/** Span covering whole lines [from, to) — from the start of line `from` to the start of line `to`. */
export function linesSpan(s: Scan, from: number, to: number): Span {
  const start = linePos(s, from);
  const end = to < s.lines.length ? linePos(s, to) : endPos(s);
  return { file: s.file, start, end };
}

/** Span of the content of a single line (terminator excluded). */
export function lineSpan(s: Scan, lineIndex: number): Span {
  const line = s.lines[lineIndex] as Line;
  return {
    file: s.file,
    start: { line: lineIndex + 1, col: 1, offset: line.start },
    end: { line: lineIndex + 1, col: line.end - line.start + 1, offset: line.end },
  };
}

/** Offset at which line `index` starts, or the end of the text. */
export function lineStartOffset(s: Scan, index: number): number {
  const line = s.lines[index];
  return line ? line.start : s.text.length;
}
