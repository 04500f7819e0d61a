// Reading the IDs that follow an annotation keyword, and telling an ID-shaped token in running text.
// Syntax: docs/format.md, "Trace annotations".

import { localId, ROOT_NAME } from "../../../model/namespace.js";

export type TargetType = "req" | "task";

/** Explicit IDs the project knows: a test name naming one counts even when it is not `CAP-N`-shaped. */
export interface KnownIds {
  all: ReadonlySet<string>;
  /** The known IDs that do not have the `CAP-N` shape (`billing.tax-2`), searched for by name in test files. */
  irregular: readonly string[];
}

/** The conventional requirement ID shape, `CAP-N`. */
export const ID_SHAPE = /^[A-Z][A-Z0-9]*-\d+$/;
/** `CAP-N`-shaped tokens in running text, not part of a longer word. */
export const ID_SHAPE_IN_TEXT = /(?<![A-Za-z0-9_./-])[A-Z][A-Z0-9]*-\d+(?![A-Za-z0-9_])/g;
/**
 * A task key as docs/format.md "Task keys" defines it: an ID as written or `_` and a title's slug, then a repeat
 * number (`3.8@2`), optionally scoped (`add-refunds/1.2`, `billing/tax/_write-the-parser`).
 */
export const TASK_KEY = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)*_?[A-Za-z0-9][A-Za-z0-9_.-]*(?:@[1-9]\d*)?$/;
/**
 * A space-separated follow-up task ID: a conventional written ID (`T003`, Spec Kit's `T105a`, `1.2`) or a title
 * key (`_write-the-parser`), with its repeat number and scope as in TASK_KEY. A prose word has none of these shapes.
 */
const TASK_SHAPE =
  /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)*(?:T\d+[A-Za-z]?|\d+(?:\.\d+)*|_[a-z0-9][a-z0-9-]*)(?:@[1-9]\d*)?$/;
/** The repeat number that may end a task key (`@2`), right after the ID. */
const REPEAT = /@[1-9]\d*/y;

export function knownIds(ids: Iterable<string> = []): KnownIds {
  const all = new Set(ids);
  return { all, irregular: [...all].filter((id) => !ID_SHAPE.test(id)) };
}

export interface IdToken {
  id: string;
  /** Offset of the ID in the text. */
  at: number;
}

const SPACE = 32;
const TAB = 9;
const COLON = 58;
const COMMA = 44;

function isIdChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) ||
    (c >= 65 && c <= 90) ||
    (c >= 48 && c <= 57) ||
    c === 95 ||
    c === 46 ||
    c === 47 ||
    c === 45
  );
}

function isLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

function isAlnum(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57);
}

/**
 * End of the ID token starting at `i` (a trailing `.`, `/` or `-` is dropped: "PAY-1." ends a sentence), or -1.
 * A task key may also begin with `_` (a title key) and end with a repeat number (`3.8@2`).
 */
function tokenEnd(text: string, i: number, end: number, type: TargetType): number {
  if (i >= end) return -1;
  const c = text.charCodeAt(i);
  const letter = isLetter(c);
  const task = type === "task";
  const titleKey = task && c === 95 && i + 1 < end && isAlnum(text.charCodeAt(i + 1));
  if (!(letter || (task && c >= 48 && c <= 57) || titleKey)) return -1;
  let j = i + 1;
  while (j < end && isIdChar(text.charCodeAt(j))) j++;
  // A requirement qualified with its spec root (`payments:PAY-1`, keel.yaml `roots:`): the name, `:`, the ID.
  if (!task && text.charCodeAt(j) === COLON && j + 1 < end && isLetter(text.charCodeAt(j + 1))) {
    if (ROOT_NAME.test(text.slice(i, j))) {
      j += 2;
      while (j < end && isIdChar(text.charCodeAt(j))) j++;
    }
  }
  while (j > i) {
    const last = text.charCodeAt(j - 1);
    if (last !== 46 && last !== 47 && last !== 45) break;
    j--;
  }
  if (j === i) return -1;
  if (task) {
    REPEAT.lastIndex = j;
    const repeat = REPEAT.exec(text);
    const after = repeat ? j + repeat[0].length : j;
    // `3.8@2x` is no repeat number; `3.8@2.` ends a sentence.
    if (repeat && after <= end && !(isAlnum(text.charCodeAt(after)) || text.charCodeAt(after) === 95))
      j = after;
  }
  return j;
}

function skipBlanks(text: string, i: number, end: number): number {
  while (i < end && (text.charCodeAt(i) === SPACE || text.charCodeAt(i) === TAB)) i++;
  return i;
}

/**
 * The IDs after an annotation keyword ending at `from`, up to `end`. The keyword is followed by `:` or a blank,
 * then IDs: any ID first and after a comma; after blanks only, a token continues the list only when it has the
 * conventional shape (`PAY-2`, a known ID, or for tasks `T004`, `T105a`, `1.3`, `_a-title`), so prose after the
 * IDs is not read as one.
 */
export function readIdList(
  text: string,
  from: number,
  end: number,
  type: TargetType,
  known: KnownIds,
): IdToken[] {
  let i = from;
  if (text.charCodeAt(i) === COLON) i = skipBlanks(text, i + 1, end);
  else {
    const after = skipBlanks(text, i, end);
    if (after === i) return [];
    i = after;
  }
  const out: IdToken[] = [];
  let strict = false;
  while (i < end) {
    const stop = tokenEnd(text, i, end, type);
    if (stop === -1) break;
    const id = text.slice(i, stop);
    if (strict && !(type === "req" ? ID_SHAPE.test(localId(id)) || known.all.has(id) : TASK_SHAPE.test(id)))
      break;
    out.push({ id, at: i });
    let j = skipBlanks(text, stop, end);
    if (text.charCodeAt(j) === COMMA) {
      j = skipBlanks(text, j + 1, end);
      strict = false;
    } else if (j > stop) strict = true;
    else break;
    i = j;
  }
  return out;
}

/** Whether `text[at, at + len)` stands alone as an ID (not part of a longer word or ID). */
export function standsAlone(text: string, at: number, len: number): boolean {
  const before = text.charCodeAt(at - 1);
  const after = text.charCodeAt(at + len);
  return !(at > 0 && isIdChar(before)) && !(isIdChar(after) && after !== 46);
}
