// Links in a source file (anything but Markdown): `@req` / `@verifies` / `@task` annotations inside comments,
// and, in test files, requirement IDs in the names of tests. Only the lines that hold a candidate are lexed in
// full; the others are looked at only when they may open or close a block comment.
import type { LinkKind } from "../types.js";
import { ID_SHAPE_IN_TEXT, type KnownIds, readIdList, standsAlone, type TargetType } from "./ids.js";
import type { FileKind } from "./languages.js";
import { lexLine, spanAt } from "./lexer.js";
import { type FileSink, lineBounds, NextFinder } from "./sink.js";
import { declaresTest } from "./test-names.js";

/** An annotation keyword, not part of a longer word (`@request`, `bob@req.example`). */
export const ANNOTATION = /@(req|verifies|task)(?=[\s:])/g;

const ANNOTATION_KIND: Record<string, { kind: LinkKind; type: TargetType }> = {
  req: { kind: "implements", type: "req" },
  verifies: { kind: "verifies", type: "req" },
  task: { kind: "implements", type: "task" },
};

interface Hit {
  at: number;
  /** An annotation keyword (`req`, `verifies`, `task`), or "" for an ID-shaped token (test names). */
  keyword: string;
  length: number;
}

/** Annotation keywords in the text: `@` at a word start. */
export function annotationHits(text: string): Hit[] {
  const hits: Hit[] = [];
  for (const m of text.matchAll(ANNOTATION)) {
    const before = text.charCodeAt(m.index - 1);
    if (m.index > 0 && isWordChar(before)) continue;
    hits.push({ at: m.index, keyword: m[1] as string, length: m[0].length });
  }
  return hits;
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 64;
}

/**
 * ID candidates in a test file. When the project's IDs are known, only those count: test names are full of
 * ID-shaped words that are not requirements ("UTF-8", "ISO-8601", a fixture's "PAY-1").
 */
function idHits(text: string, known: KnownIds): Hit[] {
  const hits: Hit[] = [];
  for (const m of text.matchAll(ID_SHAPE_IN_TEXT))
    if (known.all.size === 0 || known.all.has(m[0]))
      hits.push({ at: m.index, keyword: "", length: m[0].length });
  for (const id of known.irregular) {
    for (let at = text.indexOf(id); at !== -1; at = text.indexOf(id, at + id.length)) {
      if (standsAlone(text, at, id.length)) hits.push({ at, keyword: "", length: id.length });
    }
  }
  return hits;
}

export function extractCode(text: string, sink: FileSink, kind: FileKind, known: KnownIds, longLine: number) {
  const hits = annotationHits(text);
  if (kind.test) hits.push(...idHits(text, known));
  if (hits.length === 0) return;
  hits.sort((a, b) => a.at - b.at);
  const lang = kind.lang;
  const openers = lang.block.map(([open]) => new NextFinder(text, open));
  const closers = lang.block.map(([, close]) => new NextFinder(text, close));
  let block = 0;
  let h = 0;
  let start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (let line = 1; h < hits.length && start <= text.length; line++) {
    const { end, next } = lineBounds(text, start);
    const first = h;
    while (h < hits.length && (hits[h] as Hit).at < next) h++;
    if (end - start > longLine) {
      // Not lexed: a block comment opened or closed on this line is not seen either.
      if (h > first) sink.longLine(line, (hits[first] as Hit).at - start + 1, end - start, longLine);
    } else if (h > first) {
      const lex = lexLine(text, start, end, lang, block);
      block = lex.block;
      let declares: boolean | null = null;
      for (let k = first; k < h; k++) {
        const hit = hits[k] as Hit;
        if (hit.keyword !== "") {
          const c = spanAt(lex.comments, hit.at);
          if (c === -1 || inCodeSpan(text, lex.comments[c] as number, hit.at)) continue;
          const { kind: linkKind, type } = ANNOTATION_KIND[hit.keyword] as {
            kind: LinkKind;
            type: TargetType;
          };
          const commentEnd = lex.comments[c + 1] as number;
          for (const t of readIdList(text, hit.at + hit.length, commentEnd, type, known))
            sink.link(linkKind, "annotation", t.id, type, line, t.at - start + 1);
        } else if (spanAt(lex.strings, hit.at) !== -1) {
          declares ??= declaresTest(text.slice(start, end), previousLine(text, start));
          if (declares)
            sink.link(
              "verifies",
              "test-name",
              text.slice(hit.at, hit.at + hit.length),
              "req",
              line,
              hit.at - start + 1,
            );
        }
      }
    } else if (
      block > 0 ? (closers[block - 1] as NextFinder).in(start, end) : openers.some((o) => o.in(start, end))
    ) {
      block = lexLine(text, start, end, lang, block).block;
    }
    start = next;
  }
}

/** Whether `at` lies inside a backtick code span of the comment starting at `from`: an example, not a link. */
function inCodeSpan(text: string, from: number, at: number): boolean {
  let ticks = 0;
  for (let i = text.indexOf("`", from); i !== -1 && i < at; i = text.indexOf("`", i + 1)) ticks++;
  return ticks % 2 === 1;
}

/** The nearest non-blank line above the line starting at `start`, or "" (looks back a few lines only). */
function previousLine(text: string, start: number): string {
  let end = start - 1;
  for (let tries = 0; tries < 4 && end > 0; tries++) {
    const from = text.lastIndexOf("\n", end - 1) + 1;
    const line = text.slice(from, end).replace(/\r$/, "");
    if (line.trim() !== "") return line;
    end = from - 1;
  }
  return "";
}
