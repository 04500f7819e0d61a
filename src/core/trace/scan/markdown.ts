// Links in a Markdown page (outside keel/ and openspec/, which are never scanned): `[[ID]]` anywhere in the
// text, and `@req` / `@verifies` / `@task` inside an HTML comment. Fenced code blocks and inline code spans
// are examples and never count. Fences follow the rules of Keel's spec scanner (format/scan.ts).
import type { LinkKind } from "../types.js";
import { annotationHits } from "./code.js";
import { type KnownIds, readIdList, type TargetType } from "./ids.js";
import { spanAt } from "./lexer.js";
import { type FileSink, lineBounds, NextFinder } from "./sink.js";

const FENCE = /^ {0,3}(`{3,}|~{3,})([\s\S]*)$/;
const REFERENCE = /\[\[([A-Za-z][A-Za-z0-9_./-]*)\]\]/g;
const BACKTICK = 96;

const KINDS: Record<string, { kind: LinkKind; type: TargetType }> = {
  req: { kind: "documents", type: "req" },
  verifies: { kind: "verifies", type: "req" },
  task: { kind: "documents", type: "task" },
};

interface MdLine {
  comments: number[];
  code: number[];
  inComment: boolean;
}

/** Comment and inline-code spans of one line, left to right (a code span's backticks hide `<!--`). */
function lexMarkdownLine(text: string, start: number, end: number, inComment: boolean): MdLine {
  const comments: number[] = [];
  const code: number[] = [];
  let i = start;
  while (i < end) {
    if (inComment) {
      const close = text.indexOf("-->", i);
      if (close === -1 || close + 3 > end) {
        comments.push(i, end);
        return { comments, code, inComment: true };
      }
      comments.push(i, close + 3);
      i = close + 3;
      inComment = false;
      continue;
    }
    const c = text.charCodeAt(i);
    if (c === BACKTICK) {
      let run = i;
      while (run < end && text.charCodeAt(run) === BACKTICK) run++;
      const n = run - i;
      const close = closingRun(text, run, end, n);
      if (close === -1) {
        i = run; // no closing run on this line: the backticks are literal
        continue;
      }
      code.push(i, close + n);
      i = close + n;
      continue;
    }
    if (c === 60 && text.startsWith("<!--", i)) {
      const close = text.indexOf("-->", i + 2); // from i + 2: `<!-->` is a whole comment
      if (close === -1 || close + 3 > end) {
        comments.push(i, end);
        return { comments, code, inComment: true };
      }
      comments.push(i, close + 3);
      i = close + 3;
      continue;
    }
    i++;
  }
  return { comments, code, inComment };
}

/** Start of the next run of exactly `n` backticks in [from, end), or -1. */
function closingRun(text: string, from: number, end: number, n: number): number {
  for (let i = text.indexOf("`", from); i !== -1 && i < end; i = text.indexOf("`", i)) {
    let run = i;
    while (run < end && text.charCodeAt(run) === BACKTICK) run++;
    if (run - i === n) return i;
    i = run;
  }
  return -1;
}

export function extractMarkdown(text: string, sink: FileSink, known: KnownIds, longLine: number): void {
  const hits = annotationHits(text);
  let h = 0;
  const refs = new NextFinder(text, "[[");
  const opens = new NextFinder(text, "<!--");
  let fenceChar = 0;
  let fenceLen = 0;
  let inComment = false;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let line = 1; start <= text.length; line++) {
    const { end, next } = lineBounds(text, start);
    const first = h;
    while (h < hits.length && (hits[h] as { at: number }).at < next) h++;
    const hasRef = refs.in(start, end);
    if (end - start > longLine) {
      if (h > first || hasRef) {
        const at = h > first ? (hits[first] as { at: number }).at : text.indexOf("[[", start);
        sink.longLine(line, at - start + 1, end - start, longLine);
      }
      start = next;
      continue;
    }
    if (fenceLen > 0) {
      if (closesFence(text, start, end, fenceChar, fenceLen)) fenceLen = 0;
      start = next;
      continue;
    }
    if (!inComment) {
      const fence = opensFence(text, start, end);
      if (fence !== null) {
        fenceChar = fence.char;
        fenceLen = fence.len;
        start = next;
        continue;
      }
      if (h === first && !hasRef && !opens.in(start, end)) {
        start = next;
        continue;
      }
    }
    const md = lexMarkdownLine(text, start, end, inComment);
    inComment = md.inComment;
    for (let k = first; k < h; k++) {
      const hit = hits[k] as { at: number; keyword: string; length: number };
      const c = spanAt(md.comments, hit.at);
      if (c === -1) continue;
      const { kind, type } = KINDS[hit.keyword] as { kind: LinkKind; type: TargetType };
      for (const t of readIdList(text, hit.at + hit.length, md.comments[c + 1] as number, type, known))
        sink.link(kind, "markdown", t.id, type, line, t.at - start + 1);
    }
    if (hasRef) {
      const lineText = text.slice(start, end);
      for (const m of lineText.matchAll(REFERENCE)) {
        if (spanAt(md.code, start + m.index) !== -1) continue;
        sink.link("documents", "markdown", m[1] as string, "req", line, m.index + 3);
      }
    }
    start = next;
  }
}

function opensFence(text: string, start: number, end: number): { char: number; len: number } | null {
  let i = start;
  while (i < end && i - start < 3 && text.charCodeAt(i) === 32) i++;
  const c = text.charCodeAt(i);
  if (c !== BACKTICK && c !== 126) return null;
  const m = FENCE.exec(text.slice(start, end));
  if (m === null) return null;
  const run = m[1] as string;
  if (c === BACKTICK && (m[2] as string).includes("`")) return null;
  return { char: c, len: run.length };
}

function closesFence(text: string, start: number, end: number, char: number, len: number): boolean {
  let i = start;
  while (i < end && i - start < 3 && text.charCodeAt(i) === 32) i++;
  let run = i;
  while (run < end && text.charCodeAt(run) === char) run++;
  if (run - i < len) return false;
  for (let j = run; j < end; j++) {
    const c = text.charCodeAt(j);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
