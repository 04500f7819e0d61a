// Recognises the EARS pattern (Easy Approach to Requirements Syntax) of a requirement's normative sentence.
// @req FMT-6
import type { EarsPattern } from "../model/types.js";

// A trigger word followed, before the next full stop, by a comma (or, for "if", by "then"). Tested by
// `followedBy` in linear time: the regex forms (`/\bwhile\b[^.]*?,/`) rescan the rest of the sentence for
// every trigger word, which is quadratic on a long sentence repeating it. Kiro writes its criteria without the
// comma, `WHEN x THEN the system SHALL y` or `WHEN x THE SYSTEM SHALL y`: a "then", or an upper-case "THE",
// closes the clause too.
const CLAUSE_END = /,|\b(?:then|Then|THEN|THE)\b/;
const CLAUSES: ReadonlyArray<[EarsPattern, RegExp, RegExp]> = [
  ["state", /\bwhile\b/gi, CLAUSE_END],
  ["event", /\bwhen\b/gi, CLAUSE_END],
  ["optional", /\bwhere\b/gi, CLAUSE_END],
];
const UNWANTED: [RegExp, RegExp] = [/\bif\b/gi, /then\b/i];

/** True when some match of `trigger` is followed by a match of `next` with no `.` between them. */
function followedBy(sentence: string, trigger: RegExp, next: RegExp): boolean {
  trigger.lastIndex = 0;
  let searchedTo = -1;
  for (let m = trigger.exec(sentence); m; m = trigger.exec(sentence)) {
    const from = m.index + m[0].length;
    // Each stretch between full stops needs checking once: from its first trigger on.
    if (from <= searchedTo) continue;
    const stop = sentence.indexOf(".", from);
    const end = stop === -1 ? sentence.length : stop;
    if (next.test(sentence.slice(from, end))) return true;
    searchedTo = end;
  }
  return false;
}
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
    for (const [pattern, trigger, next] of CLAUSES)
      if (followedBy(sentence, trigger, next)) found.add(pattern);
  }
  if (followedBy(sentence, ...UNWANTED)) found.add("unwanted");
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
