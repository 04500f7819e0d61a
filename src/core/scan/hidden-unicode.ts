// security/hidden-unicode: characters a reader cannot see but a model reads (the "Trojan Source" class).
// Which characters: Unicode's own properties, not a hand list: Bidi_Control (UAX #9's embeddings, overrides
// and isolates) and Default_Ignorable_Code_Point (zero-width characters, tag characters, variation selectors,
// fillers), so that a Unicode update of the engine updates the rule.
// @req TRU-1, TRU-14
import type { ScanHit } from "./types.js";

export const HIDDEN_CHARACTER = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/u;
const HIDDEN_RUN = /[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]+/gu;

const ZWNJ = 0x200c;
const ZWJ = 0x200d;
const BOM = 0xfeff;
const BLACK_FLAG = 0x1f3f4;
const CANCEL_TAG = 0xe007f;

/** Names for the characters met in practice; any other is named by its class. */
const NAMES: Record<number, string> = {
  173: "SOFT HYPHEN",
  847: "COMBINING GRAPHEME JOINER",
  1564: "ARABIC LETTER MARK",
  4447: "HANGUL CHOSEONG FILLER",
  4448: "HANGUL JUNGSEONG FILLER",
  6068: "KHMER VOWEL INHERENT AQ",
  6069: "KHMER VOWEL INHERENT AA",
  6158: "MONGOLIAN VOWEL SEPARATOR",
  8203: "ZERO WIDTH SPACE",
  8204: "ZERO WIDTH NON-JOINER",
  8205: "ZERO WIDTH JOINER",
  8206: "LEFT-TO-RIGHT MARK",
  8207: "RIGHT-TO-LEFT MARK",
  8234: "LEFT-TO-RIGHT EMBEDDING",
  8235: "RIGHT-TO-LEFT EMBEDDING",
  8236: "POP DIRECTIONAL FORMATTING",
  8237: "LEFT-TO-RIGHT OVERRIDE",
  8238: "RIGHT-TO-LEFT OVERRIDE",
  8288: "WORD JOINER",
  8289: "FUNCTION APPLICATION",
  8290: "INVISIBLE TIMES",
  8291: "INVISIBLE SEPARATOR",
  8292: "INVISIBLE PLUS",
  8294: "LEFT-TO-RIGHT ISOLATE",
  8295: "RIGHT-TO-LEFT ISOLATE",
  8296: "FIRST STRONG ISOLATE",
  8297: "POP DIRECTIONAL ISOLATE",
  12644: "HANGUL FILLER",
  65279: "ZERO WIDTH NO-BREAK SPACE",
  65440: "HALFWIDTH HANGUL FILLER",
  917505: "LANGUAGE TAG",
  917631: "CANCEL TAG",
};

/** `U+202E RIGHT-TO-LEFT OVERRIDE`, `U+E0041 TAG LATIN CAPITAL LETTER A`, `U+FE0F VARIATION SELECTOR-16`, … */
export function codePointName(cp: number): string {
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, "0")}`;
  const known = NAMES[cp];
  if (known) return `${hex} ${known}`;
  if (cp >= 0xe0020 && cp <= 0xe007e)
    return `${hex} TAG ${JSON.stringify(String.fromCodePoint(cp - 0xe0000))}`;
  if (cp >= 0xfe00 && cp <= 0xfe0f) return `${hex} VARIATION SELECTOR-${cp - 0xfe00 + 1}`;
  if (cp >= 0xe0100 && cp <= 0xe01ef) return `${hex} VARIATION SELECTOR-${cp - 0xe0100 + 17}`;
  if (cp >= 0x180b && cp <= 0x180f) return `${hex} MONGOLIAN FREE VARIATION SELECTOR`;
  return `${hex} (invisible: default-ignorable)`;
}

const EMOJI = /\p{Emoji}/u;
const PICTOGRAPH = /[\p{Extended_Pictographic}\p{Emoji_Modifier}]/u;
const IDEOGRAPH = /\p{Ideographic}/u;
const LETTER = /[\p{L}\p{M}]/u;
/** The scripts look-alike identifiers are built from: a joiner between two of their letters has no use. */
const SPOOFABLE = /[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}]/u;
const TAG_SPEC = /^[\u{e0030}-\u{e0039}\u{e0061}-\u{e007a}]$/u;

/**
 * The hidden characters that have a visible purpose where they stand, and are not flagged:
 * - one emoji variation selector (U+FE0E/U+FE0F) after an emoji (`❤️`, keycaps);
 * - a ZWJ inside an emoji ZWJ sequence (`👩‍💻`);
 * - ZWJ/ZWNJ between two letters of a script that shapes with them (Arabic, Persian, Indic scripts…), i.e. not
 *   Latin, Greek or Cyrillic;
 * - one ideographic variation selector (U+E0100…U+E01EF) after a CJK ideograph;
 * - the tag characters of a flag's emoji tag sequence (🏴 + 2 to 6 lowercase letters or digits + CANCEL TAG,
 *   as in the flag of England), nothing longer, since tags are how text is smuggled invisibly;
 * - a byte-order mark at offset 0 (the start of a file).
 * Anything else, and any long run (a second variation selector smuggles bytes), is flagged.
 */
function exempt(
  text: string,
  i: number,
  cp: number,
  prev: number | undefined,
  next: number | undefined,
): boolean {
  if (cp === BOM) return i === 0;
  const before = prev === undefined ? "" : String.fromCodePoint(prev);
  const after = next === undefined ? "" : String.fromCodePoint(next);
  if (cp === 0xfe0e || cp === 0xfe0f) return EMOJI.test(before) && !HIDDEN_CHARACTER.test(before);
  if (cp >= 0xe0100 && cp <= 0xe01ef) return IDEOGRAPH.test(before);
  if (cp === ZWJ && (PICTOGRAPH.test(before) || prev === 0xfe0f) && PICTOGRAPH.test(after)) return true;
  if (cp === ZWJ || cp === ZWNJ)
    return LETTER.test(before) && LETTER.test(after) && !SPOOFABLE.test(before) && !SPOOFABLE.test(after);
  if (cp >= 0xe0020 && cp <= CANCEL_TAG) return inFlagTagSequence(text, i);
  return false;
}

/** Whether the tag character at `i` belongs to `🏴` + 2…6 tag letters/digits + CANCEL TAG. */
function inFlagTagSequence(text: string, i: number): boolean {
  let start = i;
  while (start >= 2 && TAG_SPEC.test(text.slice(start - 2, start))) start -= 2;
  if (text.codePointAt(start - 2) !== BLACK_FLAG) return false;
  let end = start;
  while (TAG_SPEC.test(text.slice(end, end + 2))) end += 2;
  const letters = (end - start) / 2;
  return letters >= 2 && letters <= 6 && text.codePointAt(end) === CANCEL_TAG && i <= end;
}

function codePointBefore(text: string, i: number): number | undefined {
  if (i === 0) return undefined;
  const low = text.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(i - 2);
  }
  return low;
}

/** One hit per run of adjacent flagged characters, naming each distinct code point in order. */
export function scanHiddenUnicode(text: string): ScanHit[] {
  const hits: ScanHit[] = [];
  for (const m of text.matchAll(HIDDEN_RUN)) {
    let runStart = -1;
    let names: string[] = [];
    let count = 0;
    let i = m.index;
    const runEnd = m.index + m[0].length;
    const flush = (end: number) => {
      if (runStart < 0) return;
      hits.push(hiddenHit(runStart, end, count, names));
      runStart = -1;
      names = [];
      count = 0;
    };
    while (i < runEnd) {
      const cp = text.codePointAt(i) as number;
      const width = cp > 0xffff ? 2 : 1;
      if (exempt(text, i, cp, codePointBefore(text, i), text.codePointAt(i + width))) flush(i);
      else {
        if (runStart < 0) runStart = i;
        count++;
        const name = codePointName(cp);
        if (!names.includes(name)) names.push(name);
      }
      i += width;
    }
    flush(runEnd);
  }
  return hits;
}

function hiddenHit(start: number, end: number, count: number, names: string[]): ScanHit {
  const shown = names.length > 6 ? [...names.slice(0, 6), `and ${names.length - 6} more`] : names;
  const what = count === 1 ? "hidden character" : `${count} hidden characters`;
  return {
    rule: "security/hidden-unicode",
    start,
    end,
    message: `${what}: ${shown.join(", ")}`,
    hint: "delete it, or write it visibly (e.g. `\\u202E`): a reader cannot see it, but an agent reads it",
  };
}
