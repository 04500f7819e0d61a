// The line lexer behind "an annotation counts only inside a comment": for one line it finds the comment and
// string-literal spans, left to right, in the syntax of the file's language (languages.ts). Strings are tracked
// within the line only (a multi-line string is a documented limitation); block comments carry over to the next
// line through the returned state.
import type { Lang } from "./languages.js";

export interface LineLex {
  /** [start, end) offsets into the text, in pairs. */
  comments: number[];
  strings: number[];
  /** Block comment open at the end of the line: 0 for none, else 1 + its index in `lang.block`. */
  block: number;
}

const SPACE = 32;
const TAB = 9;
const STAR = 42;
const SLASH = 47;
const BACKSLASH = 92;
const HASH = 35;
const APOSTROPHE = 39;

/** Lexes `text[start, end)` (one line, without its line ending), starting inside block comment `block`. */
export function lexLine(text: string, start: number, end: number, lang: Lang, block: number): LineLex {
  const comments: number[] = [];
  const strings: number[] = [];
  let i = start;
  if (block > 0) {
    const close = (lang.block[block - 1] as readonly [string, string])[1];
    const at = text.indexOf(close, i);
    if (at === -1 || at + close.length > end) {
      comments.push(start, end);
      return { comments, strings, block };
    }
    i = at + close.length;
    comments.push(start, i);
    block = 0;
  } else if (lang.starLine) {
    let j = start;
    while (j < end && (text.charCodeAt(j) === SPACE || text.charCodeAt(j) === TAB)) j++;
    if (j < end && text.charCodeAt(j) === STAR && text.charCodeAt(j + 1) !== SLASH) {
      comments.push(start, end);
      return { comments, strings, block: 0 };
    }
  }
  scan: while (i < end) {
    const c = text.charCodeAt(i);
    for (let k = 0; k < lang.block.length; k++) {
      const [open, close] = lang.block[k] as readonly [string, string];
      if (c !== open.charCodeAt(0) || !text.startsWith(open, i)) continue;
      const at = text.indexOf(close, i + open.length);
      if (at === -1 || at + close.length > end) {
        comments.push(i, end);
        return { comments, strings, block: k + 1 };
      }
      comments.push(i, at + close.length);
      i = at + close.length;
      continue scan;
    }
    for (const marker of lang.line) {
      if (c !== marker.charCodeAt(0) || !text.startsWith(marker, i)) continue;
      if (c === HASH && lang.hashAfterSpace && i > start) {
        const before = text.charCodeAt(i - 1);
        if (before !== SPACE && before !== TAB) continue;
      }
      comments.push(i, end);
      return { comments, strings, block: 0 };
    }
    if (c === APOSTROPHE && lang.charQuote) {
      const close = charLiteralEnd(text, i, end);
      if (close === -1) {
        i++; // a lifetime (`'a`) or a stray apostrophe: not a string
        continue;
      }
      strings.push(i, close);
      i = close;
      continue;
    }
    if (lang.quotes.length > 0 && lang.quotes.includes(text[i] as string)) {
      let j = i + 1;
      while (j < end) {
        const d = text.charCodeAt(j);
        if (d === BACKSLASH) j += 2;
        else if (d === c) break;
        else j++;
      }
      if (j >= end) {
        strings.push(i, end); // unterminated on this line: the rest of the line is the string
        return { comments, strings, block: 0 };
      }
      strings.push(i, j + 1);
      i = j + 1;
      continue;
    }
    i++;
  }
  return { comments, strings, block: 0 };
}

/** End (exclusive) of a character literal opening at `i` (`'a'`, `'\n'`, `'\u{1F600}'`), or -1. */
function charLiteralEnd(text: string, i: number, end: number): number {
  const first = text.charCodeAt(i + 1);
  if (first === BACKSLASH) {
    const close = text.indexOf("'", i + 3);
    return close !== -1 && close < end && close - i <= 12 ? close + 1 : -1;
  }
  const width = first >= 0xd800 && first <= 0xdbff ? 2 : 1;
  return i + 1 + width < end && text.charCodeAt(i + 1 + width) === APOSTROPHE ? i + 2 + width : -1;
}

/** Index in `spans` of the [start, end) pair holding offset `at`, or -1. */
export function spanAt(spans: number[], at: number): number {
  for (let k = 0; k < spans.length; k += 2) {
    if (at >= (spans[k] as number) && at < (spans[k + 1] as number)) return k;
  }
  return -1;
}
