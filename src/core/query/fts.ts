// What a user types into `keel search`, turned into a safe FTS5 expression; and the snippet shown per hit.
//
// Query language (documented in docs/cli.md#search): words are ANDed; `"several words"` is a phrase; a word
// with punctuation inside (`PAY-4`, `e-mail`) is a phrase of its parts; a trailing `*` makes a prefix; a bare
// `OR` between two terms makes an alternative. Everything else is a separator, so no input is a syntax error.
// @req QRY-3

export interface Term {
  /** Normalised words (lowercase, no diacritics); more than one for a phrase. */
  words: string[];
  prefix: boolean;
}

export interface ParsedQuery {
  /** The FTS5 MATCH expression. */
  match: string;
  /** Every term, for highlighting. */
  terms: Term[];
}

const WORD = /[\p{L}\p{N}]+/gu;
const CHUNK = /"([^"]*)"(\*?)|(\S+)/g;

/** Lowercase, NFKD, combining marks removed: what the unicode61 tokenizer (remove_diacritics 2) indexes. */
export function normaliseWord(word: string): string {
  return word
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase();
}

function words(text: string): string[] {
  return [...text.matchAll(WORD)].map((m) => normaliseWord(m[0]));
}

export function parseQuery(input: string): ParsedQuery | null {
  const terms: Term[] = [];
  const parts: string[] = [];
  let pendingOr = false;
  for (const m of input.matchAll(CHUNK)) {
    const quoted = m[1] !== undefined;
    const raw = quoted ? (m[1] as string) : (m[3] as string);
    if (!quoted && raw === "OR") {
      if (parts.length > 0) pendingOr = true;
      continue;
    }
    const ws = words(raw);
    if (ws.length === 0) continue;
    const prefix = quoted ? m[2] === "*" : raw.endsWith("*");
    terms.push({ words: ws, prefix });
    const expr = `"${ws.join(" ")}"${prefix ? "*" : ""}`;
    if (pendingOr && parts.length > 0) parts[parts.length - 1] = `${parts[parts.length - 1]} OR ${expr}`;
    else parts.push(expr);
    pendingOr = false;
  }
  if (parts.length === 0) return null;
  return { match: parts.map((p) => (p.includes(" OR ") ? `(${p})` : p)).join(" AND "), terms };
}

export interface Snippet {
  text: string;
  /** [start, end) UTF-16 offsets of each highlighted match in `text`. */
  highlights: Array<[number, number]>;
}

/**
 * A light English stem, for highlighting only: the index itself uses FTS5's Porter stemmer, and this
 * approximates it closely enough to mark "refunded" as a match for "refund".
 */
export function lightStem(word: string): string {
  let w = word.replace(/'s$/, "");
  if (w.length > 4 && w.endsWith("ies")) w = `${w.slice(0, -3)}i`;
  else if (w.length > 3 && w.endsWith("sses")) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us")) w = w.slice(0, -1);
  if (w.length > 5 && w.endsWith("ing")) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith("ed")) w = w.slice(0, -2);
  if (w.length > 3 && w.endsWith("y")) w = `${w.slice(0, -1)}i`;
  if (w.length > 3 && w.endsWith("e")) w = w.slice(0, -1);
  return w;
}

/** Where the terms occur in `text`: ranges of whole words matching a term word (or its prefix). */
export function matchRanges(text: string, terms: Term[]): Array<[number, number]> {
  const stems = new Set<string>();
  const prefixes: string[] = [];
  for (const t of terms) {
    t.words.forEach((w, i) => {
      if (t.prefix && i === t.words.length - 1) prefixes.push(w);
      else stems.add(lightStem(w));
    });
  }
  const out: Array<[number, number]> = [];
  for (const m of text.matchAll(WORD)) {
    const w = normaliseWord(m[0]);
    if (stems.has(lightStem(w)) || prefixes.some((p) => w.startsWith(p))) {
      const start = m.index ?? 0;
      out.push([start, start + m[0].length]);
    }
  }
  return out;
}

/**
 * A window of about `width` characters of `text` around its first match, on word boundaries, with "…"
 * where it was cut. Whitespace runs become single spaces so a snippet fits on one line.
 */
export function snippet(text: string, terms: Term[], width = 160): Snippet {
  const flat = text.replace(/\s+/g, " ").trim();
  const ranges = matchRanges(flat, terms);
  const first = ranges[0]?.[0] ?? 0;
  let start = Math.max(0, first - Math.floor(width / 4));
  if (start > 0) {
    const space = flat.lastIndexOf(" ", start);
    start = space === -1 ? 0 : space + 1;
  }
  let end = Math.min(flat.length, start + width);
  if (end < flat.length) {
    const space = flat.lastIndexOf(" ", end);
    if (space > first) end = space;
  }
  const lead = start > 0 ? "…" : "";
  const body = flat.slice(start, end);
  const highlights = ranges
    .filter(([a, b]) => a >= start && b <= end)
    .map(([a, b]): [number, number] => [a - start + lead.length, b - start + lead.length]);
  return { text: `${lead}${body}${end < flat.length ? "…" : ""}`, highlights };
}
