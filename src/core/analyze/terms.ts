// Inconsistent terminology between specs and tasks: one term written in different surface forms — "refund key",
// "refund-key", "refund_key", "refundKey", "RefundKeys". Forms are the same term when their words agree once
// case, separators and a plural ending are set aside.
//
// Kept precise on purpose: only terms of two to four words, each of at least two letters and none a stop word
// or particle ("end-to-end", "follow-up" and "built-in" are left alone); a term is considered only when some
// file writes it as one token (hyphenated, snake_case, camelCase or PascalCase) — spaced phrases are matched
// against those, never collected on their own; a term must occur both in a spec (living or a change's delta)
// and in a task file; and code (fenced or inline), link targets, URLs, IDs, marker lines and task fields
// (boundaries, verify…) are not prose. Case alone (a capital at the start of a sentence) and number alone
// ("key" / "keys") never make a variant. Nor does English hyphenation: a hyphenated compound modifier ("a
// transitory-entity lookup", also when the noun it modifies is on the next line of the paragraph, or
// when it is one of a series, "context-file, reference and root fields") and the open noun phrase ("a
// transitory entity") are the same term written correctly (see `modifier`).
import type { Finding } from "../../model/types.js";
import { type ProseLine, proseLines, withoutCode } from "./prose.js";
import type { TextFile } from "./sources.js";

export const INCONSISTENT_TERM = "analyze/inconsistent-term";

type Style = "spaced" | "hyphenated" | "snake_case" | "camelCase" | "PascalCase" | "UPPER_SNAKE";
type Side = "spec" | "tasks";

interface Occurrence {
  file: string;
  line: number;
  col: number;
  text: string;
  side: Side;
}

const STOP = new Set(
  (
    "a an the of to in on at by for and or nor but is are be as it its if no not per via with from into onto " +
    "up out off down over back away than then so do does done all any each this that these those we you our " +
    "your my me he she they them his her their who what when where why how which"
  ).split(" "),
);

/** Task field lines (`- boundaries: src/**`, `_Requirements: 1.2_`) and requirement marker lines. */
const FIELD_LINE =
  /^\s*(?:[-*+]\s+)?_?\*{0,2}(?:depends[- ]on|depends|blocked-by|after|related(?:-to)?|parent|covers|requirements?|boundaries|boundary|files|verify|verification|priority|status|origin|actor|by|tool|model|change|at)\*{0,2}\s*:/i;
const MARKER_LINE = /^\s*>\s*(?:status|origin|actor|by|tool|model|change|at)\s*:/i;
const TOKEN = /[A-Za-z][A-Za-z0-9]*(?:[-_][A-Za-z0-9]+)*/g;

export function termFindings(files: readonly TextFile[]): Finding[] {
  const names = folderNames(files);
  const compounds = new Map<string, Map<Style, Occurrence[]>>();
  const wordLines: Array<{ file: string; side: Side; line: number; text: string; words: Word[] }> = [];
  const add = (key: string, style: Style, occ: Occurrence) => {
    let styles = compounds.get(key);
    if (!styles) {
      styles = new Map();
      compounds.set(key, styles);
    }
    const list = styles.get(style) ?? [];
    list.push(occ);
    styles.set(style, list);
  };

  for (const file of files) {
    const side: Side | null =
      file.kind === "spec" || file.kind === "delta" ? "spec" : file.kind === "tasks" ? "tasks" : null;
    if (side === null) continue;
    const lines = proseLines(file.text);
    for (const [i, { line, text }] of lines.entries()) {
      if (FIELD_LINE.test(text) || MARKER_LINE.test(text)) continue;
      const words: Word[] = [];
      const plain = prose(text);
      const follows = continuation(lines, i);
      for (const t of tokens(plain)) {
        const form = classify(t.text);
        if (form === null) {
          words.push({ text: t.text, start: t.start, end: t.start + t.text.length, part: null });
          continue;
        }
        if (form.style === null) {
          words.push({
            text: t.text,
            start: t.start,
            end: t.start + t.text.length,
            part: form.parts[0] as string,
          });
          continue;
        }
        if (
          form.style !== "hyphenated" ||
          !(names.has(t.text.toLowerCase()) || modifier(plain, t, form.parts, follows))
        )
          add(keyOf(form.parts), form.style, { file: file.rel, line, col: t.start + 1, text: t.text, side });
        words.push({ text: t.text, start: t.start, end: t.start + t.text.length, part: null });
      }
      wordLines.push({ file: file.rel, side, line, text: plain, words });
    }
  }
  if (compounds.size === 0) return [];

  // Spaced forms of the terms found above: runs of two to four plain words separated only by spaces.
  for (const { file, side, line, text, words } of wordLines) {
    for (let i = 0; i < words.length; i++) {
      for (let n = 2; n <= 4 && i + n <= words.length; n++) {
        const run = words.slice(i, i + n);
        if (run.some((w) => w.part === null)) break;
        if (text.slice((run[n - 2] as Word).end, (run[n - 1] as Word).start) !== " ") break;
        const key = keyOf(run.map((w) => w.part as string));
        if (!compounds.has(key)) continue;
        const first = run[0] as Word;
        add(key, "spaced", {
          file,
          line,
          col: first.start + 1,
          text: run.map((w) => w.text).join(" "),
          side,
        });
      }
    }
  }

  const out: Finding[] = [];
  for (const [key, styles] of compounds) {
    if (styles.size < 2) continue;
    const sides = new Set([...styles.values()].flatMap((list) => list.map((o) => o.side)));
    if (!sides.has("spec") || !sides.has("tasks")) continue;
    const variants = [...styles.entries()].map(([style, list]) => ({ style, list: sortOccurrences(list) }));
    variants.sort((a, b) => compareOccurrence(a.list[0] as Occurrence, b.list[0] as Occurrence));
    // The spec's own usual form is the one to keep.
    const specCount = (v: (typeof variants)[number]) => v.list.filter((o) => o.side === "spec").length;
    const reference = [...variants].sort(
      (a, b) => specCount(b) - specCount(a),
    )[0] as (typeof variants)[number];
    for (const v of variants) {
      const first = v.list[0] as Occurrence;
      const others = variants
        .filter((o) => o !== v)
        .map((o) => `"${display(o.list)}" (${where(o.list)})`)
        .join(", ");
      out.push({
        rule: INCONSISTENT_TERM,
        severity: "warning",
        file: first.file,
        line: first.line,
        col: first.col,
        message: `"${display(v.list)}" (${v.style}, ${count(v.list.length)}) is also written ${others}`,
        hint:
          v === reference
            ? `this is the spec's usual form: write "${display(v.list)}" everywhere`
            : `write the term one way everywhere; the spec mostly writes "${display(reference.list)}"`,
        target: key,
      });
    }
  }
  return out;
}

interface Word {
  text: string;
  start: number;
  end: number;
  /** Lowercased plain word usable in a spaced term, or null (a compound, a stop word, digits…). */
  part: string | null;
}

/** The line with code spans, link targets, URLs, `[[ID]]`, `{#ID}` and inline task fields blanked out. */
function prose(text: string): string {
  const blank = (s: string) => " ".repeat(s.length);
  return withoutCode(text)
    .replace(/\]\([^)]*\)/g, blank)
    .replace(/\b[A-Za-z][A-Za-z0-9+.-]*:\/\/\S+/g, blank)
    .replace(/\[\[[^\]]*\]\]/g, blank)
    .replace(/\{#[^}]*\}/g, blank)
    .replace(/\[[A-Za-z][A-Za-z -]*:[^\]]*\]/g, blank);
}

function tokens(text: string): Array<{ text: string; start: number }> {
  const out: Array<{ text: string; start: number }> = [];
  TOKEN.lastIndex = 0;
  for (let m = TOKEN.exec(text); m !== null; m = TOKEN.exec(text)) {
    const before = text[m.index - 1] ?? "";
    const after = text[m.index + m[0].length] ?? "";
    const afterNext = text[m.index + m[0].length + 1] ?? "";
    // Part of a path, a file name, an e-mail address or a dotted name: not prose.
    if (
      /[/\\@.#$<]/.test(before) ||
      /[/\\@>]/.test(after) ||
      (after === "." && /[A-Za-z0-9]/.test(afterNext))
    )
      continue;
    out.push({ text: m[0], start: m.index });
  }
  return out;
}

/** A token's words and style; style null for a single plain word; null for a token that is no term. */
function classify(token: string): { parts: string[]; raw: string[]; style: Style | null } | null {
  let raw: string[];
  let style: Style | null;
  if (token.includes("-") || token.includes("_")) {
    if (token.includes("-") && token.includes("_")) return null;
    raw = token.split(/[-_]/);
    style = token.includes("-") ? "hyphenated" : token === token.toUpperCase() ? "UPPER_SNAKE" : "snake_case";
  } else {
    raw = token.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+/g) ?? [token];
    if (raw.join("") !== token) return null;
    style = raw.length === 1 ? null : /^[a-z]/.test(token) ? "camelCase" : "PascalCase";
  }
  const parts = raw.map((p) => p.toLowerCase());
  if (!parts.every((p) => /^[a-z]{2,}$/.test(p) && !STOP.has(p))) return null;
  if (style !== null && (parts.length < 2 || parts.length > 4)) return null;
  return { parts, raw, style };
}

/**
 * Whether a hyphenated token may be a compound modifier rather than a name: English hyphenates a compound before
 * the noun it modifies ("a single-change workflow", "backward-compatible output", "first-run `--json` call") and
 * not elsewhere, so such a hyphen is grammar, not a second spelling. A hyphenated token counts as a form of the
 * term only where it cannot modify anything:
 * - not before a word other than a stop word (a conjunction still may join a second modifier: "single-change
 *   and bulk archive"), the next line of the paragraph included, since prose is wrapped anywhere;
 * - not before a comma in a sentence that goes on with a conjunction: one of a series of modifiers sharing the
 *   noun at its end ("apply state, context-file, reference, and root fields");
 * - not ending in a word that makes a compound an adjective ("config-only", "schema-aware"), which the open
 *   words ("create config only when") never are.
 * A keyword in capitals ("REMOVED-only") is never a form either.
 */
function modifier(
  line: string,
  token: { text: string; start: number },
  parts: readonly string[],
  follows: string,
): boolean {
  if (token.text.split("-").some((p) => p.length > 1 && p === p.toUpperCase())) return true;
  if (ADJECTIVE_HEADS.has(parts[parts.length - 1] as string)) return true;
  const after = line.slice(token.start + token.text.length);
  const rest = follows === "" ? after : `${after.trimEnd()} ${follows.trimStart()}`;
  if (/^\s*,/.test(rest)) return /\b(?:and|or|nor)\b/i.test(sentenceOf(rest));
  if (/^\s*$/.test(rest) || /^[.;:!?)"']/.test(rest)) return false;
  const next = /^ ([A-Za-z]+)\b/.exec(rest);
  if (next === null) return true;
  const word = (next[1] as string).toLowerCase();
  return !STOP.has(word) || word === "and" || word === "or" || word === "nor";
}

/** Last words that make a hyphenated compound an adjective (or adverb), whatever precedes them. */
const ADJECTIVE_HEADS = new Set(
  (
    "only based aware free safe specific wide like ready friendly driven scoped compatible agnostic " +
    "dependent independent sensitive insensitive facing oriented centric proof bound"
  ).split(" "),
);

/** Text up to the end of its sentence (a full stop, semicolon, colon, question or exclamation mark). */
function sentenceOf(text: string): string {
  const end = text.search(/[.;:!?](?:\s|$)/);
  return end === -1 ? text : text.slice(0, end);
}

/** Markdown lines that start a block of their own rather than continue the paragraph above them. */
const BLOCK_START = /^\s*(?:[-*+]\s|\d+[.)]\s|#{1,6}(?:\s|$)|>|\|)/;

/**
 * The prose that continues line `i`'s paragraph on the next line (with code and links blanked), or "" when the
 * paragraph ends there: a blank line, a new block (list item, heading, quote, table row) or the file's end.
 */
function continuation(lines: readonly ProseLine[], i: number): string {
  const here = lines[i] as ProseLine;
  const next = lines[i + 1];
  if (next === undefined || next.line !== here.line + 1) return "";
  if (/^\s{0,3}#{1,6}(?:\s|$)/.test(here.text) || /^\s*\|/.test(here.text)) return "";
  if (BLOCK_START.test(next.text) || FIELD_LINE.test(next.text) || MARKER_LINE.test(next.text)) return "";
  return prose(next.text);
}

/** Folder names of capabilities, changes and features: slugs such as `change-creation` name things, not terms. */
function folderNames(files: readonly TextFile[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) for (const segment of f.rel.split("/").slice(0, -1)) out.add(segment.toLowerCase());
  return out;
}

function singular(word: string): string {
  if (/ies$/.test(word) && word.length > 4) return `${word.slice(0, -3)}y`;
  if (/(?:ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/s$/.test(word) && !/(?:ss|us|is)$/.test(word) && word.length > 3) return word.slice(0, -1);
  return word;
}

function keyOf(parts: readonly string[]): string {
  const words = [...parts];
  words[words.length - 1] = singular(words[words.length - 1] as string);
  return words.join(" ");
}

function sortOccurrences(list: Occurrence[]): Occurrence[] {
  return [...list].sort(compareOccurrence);
}

function compareOccurrence(a: Occurrence, b: Occurrence): number {
  return (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line || a.col - b.col;
}

/** How a variant is shown: its first occurrence, lowercased when it is a spaced phrase (case is no variant). */
function display(list: readonly Occurrence[]): string {
  const first = list[0] as Occurrence;
  return first.text.includes(" ") ? first.text.toLowerCase() : first.text;
}

function where(list: readonly Occurrence[]): string {
  const shown = list.slice(0, 3).map((o) => `${o.file}:${o.line}`);
  return list.length > 3 ? `${shown.join(", ")} and ${list.length - 3} more` : shown.join(", ");
}

function count(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}
