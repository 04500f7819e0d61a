// Shared by the format-*.test.ts files: the real corpora (OpenSpec's own specs, this repository's examples
// and dogfood specs) and checks of the positions and raw slices every parsed element carries.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { Position, Span } from "../src/model/types.js";

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const OPENSPEC_CORPUS = resolve(REPO, "../shared/corpora/openspec");

export interface CorpusFile {
  /** Path relative to its corpus root, forward slashes. */
  file: string;
  text: string;
  /** For capability and delta specs: the folder path under `specs/`. */
  capability: string;
}

export interface Corpus {
  specs: CorpusFile[];
  deltas: CorpusFile[];
  /** Every Markdown file, specs and deltas included. */
  markdown: CorpusFile[];
  roots: string[];
}

let cached: Corpus | null = null;

/** Loads every corpus present; says on the console which ones are absent. */
export function loadCorpus(): Corpus {
  if (cached) return cached;
  const corpus: Corpus = { specs: [], deltas: [], markdown: [], roots: [] };
  const roots: Array<[string, string]> = [
    ["openspec", OPENSPEC_CORPUS],
    ["examples", join(REPO, "examples")],
    ["keel", join(REPO, "keel")],
  ];
  for (const [name, root] of roots) {
    if (!existsSync(root)) {
      console.log(`[format tests] corpus ${name} not found at ${root}: skipped`);
      continue;
    }
    corpus.roots.push(name);
    for (const abs of walk(root)) {
      if (!abs.endsWith(".md")) continue;
      const file = relative(root, abs).split(sep).join("/");
      const text = readFileSync(abs, "utf8");
      const parts = file.split("/");
      const specsAt = parts.lastIndexOf("specs");
      const capability = specsAt >= 0 ? parts.slice(specsAt + 1, -1).join("/") : "";
      const entry = { file: `${name}/${file}`, text, capability };
      corpus.markdown.push(entry);
      if (parts[parts.length - 1] !== "spec.md" || specsAt < 0 || capability === "") continue;
      if (parts.includes("changes")) corpus.deltas.push(entry);
      else if (specsAt === 0 || parts[specsAt - 1] === "openspec" || parts[specsAt - 1] === "keel")
        corpus.specs.push(entry);
    }
  }
  cached = corpus;
  return corpus;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir).sort()) {
    if (name === "node_modules" || name.startsWith(".")) continue;
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) yield* walk(abs);
    else yield abs;
  }
}

/** Whether the OpenSpec corpus is beside the repository; when not, says so once for `who`'s skipped tests. */
export function hasOpenSpecCorpus(who = "format tests"): boolean {
  const present = existsSync(OPENSPEC_CORPUS);
  if (!present) console.log(`[${who}] OpenSpec corpus not found at ${OPENSPEC_CORPUS}: corpus tests skipped`);
  return present;
}

/** Line starts as the scanner counts lines: LF-terminated, the first line starting after a byte order mark. */
export function lineStarts(text: string): number[] {
  const starts = [text.charCodeAt(0) === 0xfeff ? 1 : 0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

/** Returns a description of what is wrong with a position, or null when it is consistent with the text. */
export function positionProblem(text: string, starts: number[], p: Position): string | null {
  if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > text.length)
    return `offset ${p.offset} out of range`;
  if (!Number.isInteger(p.line) || p.line < 1 || p.line > starts.length) return `line ${p.line} out of range`;
  if (!Number.isInteger(p.col) || p.col < 1) return `col ${p.col} out of range`;
  const lineStart = starts[p.line - 1] as number;
  const lineLimit = p.line < starts.length ? (starts[p.line] as number) - 1 : text.length;
  if (p.offset < lineStart || p.offset > lineLimit) return `offset ${p.offset} is not on line ${p.line}`;
  if (lineStart + p.col - 1 !== p.offset)
    return `line ${p.line} col ${p.col} is offset ${lineStart + p.col - 1}, not ${p.offset}`;
  return null;
}

export function spanProblem(text: string, starts: number[], span: Span): string | null {
  const a = positionProblem(text, starts, span.start);
  if (a) return `start: ${a}`;
  const b = positionProblem(text, starts, span.end);
  if (b) return `end: ${b}`;
  if (span.end.offset < span.start.offset) return `end ${span.end.offset} before start ${span.start.offset}`;
  return null;
}

/**
 * Walks any parsed value and checks every span it holds (an object with `start` and `end` positions), and every
 * `raw` that sits next to a span, against the text of the span's file (`texts` maps file to text; a plain string
 * is the text of every file). Returns the problems found, with the path to each.
 */
export function checkSpans(
  texts: string | ReadonlyMap<string, string>,
  value: unknown,
  path = "$",
): string[] {
  const problems: string[] = [];
  const startsCache = new Map<string, number[]>();
  const textOf = (file: unknown): string | undefined =>
    typeof texts === "string" ? texts : typeof file === "string" ? texts.get(file) : undefined;
  const startsOf = (text: string): number[] => {
    let starts = startsCache.get(text);
    if (!starts) {
      starts = lineStarts(text);
      startsCache.set(text, starts);
    }
    return starts;
  };
  const visit = (v: unknown, at: string) => {
    if (v === null || typeof v !== "object") return;
    if (Array.isArray(v)) {
      v.forEach((x, k) => {
        visit(x, `${at}[${k}]`);
      });
      return;
    }
    const o = v as Record<string, unknown>;
    if (isPosition(o.start) && isPosition(o.end)) {
      const text = textOf(o.file);
      if (text === undefined) problems.push(`${at}: span in unknown file ${String(o.file)}`);
      else {
        const p = spanProblem(text, startsOf(text), o as unknown as Span);
        if (p) problems.push(`${at}: ${p}`);
      }
    }
    const span = o.span as Span | undefined;
    if (typeof o.raw === "string" && span && isPosition(span.start) && isPosition(span.end)) {
      const text = textOf(span.file);
      if (text !== undefined && text.slice(span.start.offset, span.end.offset) !== o.raw) {
        problems.push(`${at}.raw differs from its span`);
      }
    }
    for (const [k, x] of Object.entries(o)) {
      if (k === "scan") continue;
      visit(x, `${at}.${k}`);
    }
  };
  visit(value, path);
  return problems;
}

function isPosition(v: unknown): v is Position {
  return typeof v === "object" && v !== null && "line" in v && "col" in v && "offset" in v;
}

/** Deterministic pseudo-random numbers for tests that pick from corpora (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function toCrlf(text: string): string {
  return text.replace(/\r?\n/g, "\r\n");
}
