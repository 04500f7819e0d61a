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
/** Any EARS trigger word at all: when there is none (most requirements), the sentence is ubiquitous. */
const ANY_TRIGGER = /\b(?:while|when|where|if)\b/i;

/** Returns the EARS pattern of the first normative sentence, or null if the text has no SHALL/MUST. */
export function earsPattern(text: string): EarsPattern | null {
  const sentence = firstNormativeSentence(text);
  if (!sentence) return null;
  if (!ANY_TRIGGER.test(sentence)) return "ubiquitous";
  const found = new Set<EarsPattern>();
  if (LEADING.test(sentence) || /,\s*(?:while|when|where)\b/i.test(sentence)) {
    for (const [pattern, re] of CLAUSES) if (re.test(sentence)) found.add(pattern);
  }
  if (UNWANTED.test(sentence)) found.add("unwanted");
  if (found.size === 0) return "ubiquitous";
  if (found.size > 1) return "complex";
  return [...found][0] as EarsPattern;
}

const SENTENCE_END = /[.!?](?=\s|$)/g;

/** The sentence around the first SHALL/MUST: from the previous sentence end to the next one. */
function firstNormativeSentence(text: string): string | null {
  const m = SHALL.exec(text);
  if (!m) return null;
  let start = 0;
  let end = text.length;
  SENTENCE_END.lastIndex = 0;
  for (let e = SENTENCE_END.exec(text); e; e = SENTENCE_END.exec(text)) {
    if (e.index < m.index) start = e.index + 1;
    else {
      end = e.index + 1;
      break;
    }
  }
  const sentence = text.slice(start, end);
  return /\s\s|[^\S ]/.test(sentence) ? sentence.replace(/\s+/g, " ").trim() : sentence.trim();
}
