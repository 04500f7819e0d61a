// Recognises the EARS pattern (Easy Approach to Requirements Syntax) of a requirement's normative sentence.
import type { EarsPattern } from "../model/types.js";

const CLAUSES: ReadonlyArray<[EarsPattern, RegExp]> = [
  ["state", /\bwhile\b[^.]*?,/i],
  ["event", /\bwhen\b[^.]*?,/i],
  ["optional", /\bwhere\b[^.]*?,/i],
];
const UNWANTED = /\bif\b[^.]*?,?\s*then\b/i;
const SHALL = /\b(shall|must)\b/i;
const LEADING = /^(?:\s*(?:while|when|where|if)\b)/i;

/** Returns the EARS pattern of the first normative sentence, or null if the text has no SHALL/MUST. */
export function earsPattern(text: string): EarsPattern | null {
  const sentence = firstNormativeSentence(text);
  if (!sentence) return null;
  const found = new Set<EarsPattern>();
  if (LEADING.test(sentence) || /,\s*(?:while|when|where)\b/i.test(sentence)) {
    for (const [pattern, re] of CLAUSES) if (re.test(sentence)) found.add(pattern);
  }
  if (UNWANTED.test(sentence)) found.add("unwanted");
  if (found.size === 0) return "ubiquitous";
  if (found.size > 1) return "complex";
  return [...found][0] as EarsPattern;
}

/** The sentence around the first SHALL/MUST: from the previous sentence end to the next one. */
function firstNormativeSentence(text: string): string | null {
  const m = SHALL.exec(text);
  if (!m) return null;
  let start = m.index;
  while (start > 0 && !isSentenceEnd(text, start - 1)) start--;
  let end = m.index;
  while (end < text.length && !isSentenceEnd(text, end)) end++;
  return text.slice(start, end + 1).replace(/\s+/g, " ").trim();
}

/** A `.`, `!` or `?` followed by whitespace (or the end) closes a sentence; `e.g.` mid-word does not. */
function isSentenceEnd(text: string, i: number): boolean {
  const c = text[i];
  if (c !== "." && c !== "!" && c !== "?") return false;
  const next = text[i + 1];
  return next === undefined || next === " " || next === "\n" || next === "\r" || next === "\t";
}
