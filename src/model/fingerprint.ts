// Content fingerprints. A requirement's fingerprint changes when its meaning-bearing content changes and
// stays put under reformatting, so that links made against it become suspect only for real edits.
// The normalisation is documented in docs/format.md ("Fingerprint"); keep the two in step.
//
// This runs for every requirement on a cold validate (100,000 of them in the benchmark), so each step
// is skipped when a cheap test shows it cannot apply.

import { createHash, hash } from "node:crypto";

const HTML_COMMENT = /<!--[\s\S]*?-->/g;
const LIST_MARKER = /^(?:[-*+]|\d+[.)])\s+/;
const EMPHASIS = /(\*\*|__)(?=\S)([\s\S]*?\S)\1|(^|[^\w*])[*_](?=\S)([^*_\n]*?\S)[*_](?=[^\w*]|$)/g;
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
  if (t.includes("<!--")) t = t.replace(HTML_COMMENT, "");
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

/** `**WHEN** x` → `WHEN x`: the shape of nearly every scenario step, handled without a regex. */
function stripLeadingStrong(line: string): string {
  const close = line.indexOf("**", 2);
  if (close <= 2 || line.charCodeAt(2) === 32 || line.charCodeAt(close - 1) === 32) return line;
  return line.slice(2, close) + line.slice(close + 2);
}

function stripEmphasis(line: string): string {
  let prev = "";
  let cur = line;
  // Nested emphasis (`***x***`) needs more than one pass; three suffice for anything people write.
  for (let pass = 0; pass < 3 && prev !== cur; pass++) {
    prev = cur;
    cur = cur.replace(
      EMPHASIS,
      (_m, d: string | undefined, inner: string | undefined, lead: string, inner2: string) =>
        d ? (inner as string) : `${lead}${inner2}`,
    );
  }
  return cur;
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
