// Content fingerprints. A requirement's fingerprint changes when its meaning-bearing content changes and
// stays put under reformatting, so that links made against it become suspect only for real edits.
// The normalisation is documented in docs/format.md ("Fingerprint"); keep the two in step.
//
// This runs for every requirement on a cold validate (100,000 of them in the benchmark), so each step
// is skipped when a cheap test shows it cannot apply.
// @req FMT-12, FMT-13

import { createHash, hash } from "node:crypto";

const LIST_MARKER = /^(?:[-*+]|\d+[.)])\s+/;
const STEP_KEYWORD = /^(given|when|then|and|but)\b:?/i;
const NON_ASCII = /[\u0080-\uffff]/;
const ODD_WHITESPACE = /[^\S ]/;

/**
 * Normalises a block of Markdown prose for fingerprinting: one logical line per list item, and one for any
 * prose before the first item. Every other line break, blank lines included, counts as whitespace, so
 * re-wrapping a paragraph or a step does not change the fingerprint.
 */
export function normaliseProse(text: string): string {
  let t = text;
  if (t.includes("\r")) t = t.replace(/\r\n?/g, "\n");
  if (t.includes("<!--")) t = stripHtmlComments(t);
  if (NON_ASCII.test(t)) t = t.normalize("NFC");
  let out = "";
  let logical: string | null = null;
  let logicalIsItem = false;
  const flush = () => {
    if (logical === null) return;
    let line = logical;
    if (line.startsWith("**")) line = stripLeadingStrong(line);
    if (line.includes("*") || line.includes("_")) line = stripEmphasis(line);
    if (line.includes("`")) line = line.replaceAll("`", "");
    if (line.includes("  ") || ODD_WHITESPACE.test(line)) line = line.replace(/\s+/g, " ").trim();
    if (line === "") return;
    if (logicalIsItem) line = `- ${line.replace(STEP_KEYWORD, (k) => k.replace(":", "").toUpperCase())}`;
    out = out === "" ? line : `${out}\n${line}`;
  };
  for (const rawLine of t.split("\n")) {
    const line = rawLine.trim();
    if (line === "") continue;
    const c = line.charCodeAt(0);
    // -, *, + or a digit may start a list item.
    const isItem = (c === 45 || c === 42 || c === 43 || (c >= 48 && c <= 57)) && LIST_MARKER.test(line);
    if (!isItem && logical !== null) {
      // A continuation line (or a later paragraph): whitespace, joined to the current logical line.
      logical = `${logical} ${line}`;
      continue;
    }
    flush();
    logical = isItem ? line.replace(LIST_MARKER, "") : line;
    logicalIsItem = isItem;
  }
  flush();
  return out;
}

/**
 * Removes `<!-- … -->` comments, like `/<!--[\s\S]*?-->/g` but in linear time: that regex rescans the rest of
 * the text for every `<!--` that is never closed.
 */
function stripHtmlComments(t: string): string {
  let out = "";
  let at = 0;
  for (;;) {
    const open = t.indexOf("<!--", at);
    if (open === -1) break;
    const close = t.indexOf("-->", open + 4);
    if (close === -1) break;
    out += t.slice(at, open);
    at = close + 3;
  }
  return at === 0 ? t : out + t.slice(at);
}

/** `**WHEN** x` → `WHEN x`: the shape of nearly every scenario step, handled without a regex. */
function stripLeadingStrong(line: string): string {
  const close = line.indexOf("**", 2);
  if (close <= 2 || line.charCodeAt(2) === 32 || line.charCodeAt(close - 1) === 32) return line;
  return line.slice(2, close) + line.slice(close + 2);
}

/** Removes emphasis markers. Exported for its tests only. */
export function stripEmphasis(line: string): string {
  let prev = "";
  let cur = line;
  // Nested emphasis (`***x***`) needs more than one pass; three suffice for anything people write.
  for (let pass = 0; pass < 3 && prev !== cur; pass++) {
    prev = cur;
    cur = emphasisPass(cur);
  }
  return cur;
}

/**
 * One pass of `line.replace(EMPHASIS, …)` with
 *   EMPHASIS = /(\*\*|__)(?=\S)([\s\S]*?\S)\1|(^|[^\w*])[*_](?=\S)([^*_\n]*?\S)[*_](?=[^\w*]|$)/g
 * (strong `**x**` / `__x__` becomes `x`; emphasis `*x*` / `_x_` after a non-word character becomes `x`), written
 * out by hand: the regex rescans the rest of the line for every `**` that is never closed, which is quadratic
 * on a long line. Here the closers of strong emphasis are listed once and found by binary search.
 */
function emphasisPass(line: string): string {
  const n = line.length;
  const closers: Record<number, number[]> = { 42: [], 95: [] };
  for (let q = 1; q + 1 < n; q++) {
    const c = line.charCodeAt(q);
    if ((c === 42 || c === 95) && line.charCodeAt(q + 1) === c && !isSpace(line.charCodeAt(q - 1))) {
      (closers[c] as number[]).push(q);
    }
  }
  // `_x_` / `*x*` with its marker at `a`, after `lead`: the shortest inner text without `*`, `_` or a newline
  // before its last character, followed by a marker and then by a non-word character or the end.
  const single = (a: number, lead: string): { end: number; text: string } | null => {
    const m = line.charCodeAt(a);
    if ((m !== 42 && m !== 95) || a + 1 >= n || isSpace(line.charCodeAt(a + 1))) return null;
    for (let j = a + 1; j + 1 < n; j++) {
      const s = line.charCodeAt(j);
      const close = line.charCodeAt(j + 1);
      if (!isSpace(s) && (close === 42 || close === 95)) {
        const after = line.charCodeAt(j + 2);
        if (j + 2 >= n || (!isWordChar(after) && after !== 42))
          return { end: j + 2, text: lead + line.slice(a + 1, j + 1) };
      }
      if (s === 42 || s === 95 || s === 10) return null;
    }
    return null;
  };
  let out = "";
  let from = 0;
  let pos = 0;
  while (pos < n) {
    const c = line.charCodeAt(pos);
    let match: { end: number; text: string } | null = null;
    if (
      (c === 42 || c === 95) &&
      line.charCodeAt(pos + 1) === c &&
      pos + 2 < n &&
      !isSpace(line.charCodeAt(pos + 2))
    ) {
      const q = firstAtLeast(closers[c] as number[], pos + 3);
      if (q !== null) match = { end: q + 2, text: line.slice(pos + 2, q) };
    }
    if (!match && pos === 0) match = single(0, "");
    if (!match && !isWordChar(c) && c !== 42 && pos + 1 < n) match = single(pos + 1, line[pos] as string);
    if (match) {
      out += line.slice(from, pos) + match.text;
      from = pos = match.end;
    } else pos++;
  }
  return from === 0 ? line : out + line.slice(from);
}

function firstAtLeast(sorted: number[], min: number): number | null {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] as number) < min) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length ? (sorted[lo] as number) : null;
}

const SPACE = /\s/;
/** `\s` of a JavaScript regex, for one UTF-16 code unit. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || (c > 127 && SPACE.test(String.fromCharCode(c)));
}

/** `\w` of a JavaScript regex (without the u flag). */
function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

export interface FingerprintInput {
  text: string;
  scenarios: ReadonlyArray<{ name: string; body: string }>;
}

export function requirementFingerprint(input: FingerprintInput): string {
  let material = `T\n${normaliseProse(input.text)}`;
  for (const s of input.scenarios) material += `\nS ${normaliseProse(s.name)}\n${normaliseProse(s.body)}`;
  return hash("sha256", material, "hex").slice(0, 16);
}

export function contentHash(data: string | Buffer): string {
  return typeof data === "string"
    ? hash("sha256", data, "hex")
    : createHash("sha256").update(data).digest("hex");
}
