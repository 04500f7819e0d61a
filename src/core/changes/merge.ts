// Three-way merge of intent. `mergeRequirement` merges one requirement block: its heading, its normative text
// (sentence by sentence, with node-diff3) and its scenarios (matched by name, each body merged line by line).
// `mergeSpec` merges a whole capability spec for the git merge driver: the text around the requirements merges
// line by line, and each requirement edited on both sides merges as above, so a conflict stays inside the
// requirement block it concerns. Pure functions over text; no file system.
import { diffIndices } from "node-diff3";
import { lineEnding } from "../../format/edit.js";
import { REQUIREMENT_HEADING } from "../../format/requirement.js";
import { type Heading, scan } from "../../format/scan.js";
import { topSections } from "../../format/spec.js";
import { derivedRequirementId, splitExplicitId } from "../../model/ids.js";
import {
  type BlockParts,
  blockCore,
  headingOf,
  joinParts,
  lf,
  parseBlock,
  type ScenarioPart,
  splitBlock,
  splitTrailingBlank,
} from "./blocks.js";

export type MergeOutcome =
  | { ok: true; block: string; how: "unchanged" | "ours" | "theirs" | "merged" }
  | { ok: false; parts: string[] };

// @req CHG-4
/**
 * Merges two versions of a requirement block made independently from `base`. An empty string stands for
 * "absent" (not yet added, or removed). Line endings are normalised to LF in the result.
 */
export function mergeRequirement(
  base: string,
  ours: string,
  theirs: string,
  capability: string,
): MergeOutcome {
  const o = blockCore(base);
  const a = blockCore(ours);
  const b = blockCore(theirs);
  if (a === b) return { ok: true, block: lf(ours), how: a === o ? "unchanged" : "ours" };
  if (a === o) return { ok: true, block: lf(theirs), how: "theirs" };
  if (b === o) return { ok: true, block: lf(ours), how: "ours" };
  if (o === "") return { ok: false, parts: ["added on both sides with different content"] };
  if (a === "") return { ok: false, parts: ["removed on our side, changed on theirs"] };
  if (b === "") return { ok: false, parts: ["changed on our side, removed on theirs"] };
  const P = splitBlock(base, capability);
  const A = splitBlock(ours, capability);
  const B = splitBlock(theirs, capability);
  if (!P || !A || !B) return { ok: false, parts: ["block"] };
  return mergeParts(P, A, B, capability);
}

type Pick<T> = { ok: true; value: T } | { ok: false };

function pick3<T>(o: T, a: T, b: T, eq: (x: T, y: T) => boolean): Pick<T> {
  if (eq(a, b)) return { ok: true, value: a };
  if (eq(a, o)) return { ok: true, value: b };
  if (eq(b, o)) return { ok: true, value: a };
  return { ok: false };
}

const same = (x: string, y: string) => x === y;
const sameTrimmed = (x: string, y: string) => x.trim() === y.trim();
const sameHeading = (x: string, y: string) => {
  const hx = headingOf(x);
  const hy = headingOf(y);
  return hx.title === hy.title && hx.id === hy.id;
};

/** Lines, each with its line break; then each line cut after every sentence end. */
function sentences(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/(?<=\n)/)) {
    for (const s of line.split(/(?<=[.!?]["')\]]*[ \t]+)(?=\S)/)) if (s !== "") out.push(s);
  }
  return out;
}

function lines(text: string): string[] {
  return text === "" ? [] : text.split(/(?<=\n)/);
}

interface Hunk {
  side: "a" | "b";
  /** The replaced range of the base, [oStart, oEnd). */
  oStart: number;
  oEnd: number;
  content: string[];
}

/** Where `x` differs from `o`, as hunks over `o`: common ends trimmed, then `diffSegment`. */
function hunks(o: string[], x: string[], side: "a" | "b"): Hunk[] {
  let head = 0;
  while (head < o.length && head < x.length && o[head] === x[head]) head++;
  let tail = 0;
  while (
    tail < o.length - head &&
    tail < x.length - head &&
    o[o.length - 1 - tail] === x[x.length - 1 - tail]
  ) {
    tail++;
  }
  return diffSegment(o.slice(head, o.length - tail), x.slice(head, x.length - tail), head, side);
}

/**
 * node-diff3's LCS takes time quadratic in the length of what it compares. Long sequences (a spec's requirement
 * blocks, nearly all unique) are first cut at anchors — tokens that occur exactly once on each side, in the
 * longest run that keeps their order (patience diff) — and only the short stretches between anchors go to it.
 */
function diffSegment(o: string[], x: string[], offset: number, side: "a" | "b"): Hunk[] {
  if (o.length === 0 && x.length === 0) return [];
  if (o.length === 0 || x.length === 0)
    return [{ side, oStart: offset, oEnd: offset + o.length, content: x }];
  const direct = () =>
    diffIndices(o, x).map((d) => ({
      side,
      oStart: offset + d.buffer1[0],
      oEnd: offset + d.buffer1[0] + d.buffer1[1],
      content: d.buffer2Content,
    }));
  if (o.length * x.length <= 4096) return direct();
  const anchors = uniqueAnchors(o, x);
  if (anchors.length === 0) return direct();
  const out: Hunk[] = [];
  let po = 0;
  let px = 0;
  for (const [i, j] of [...anchors, [o.length, x.length] as [number, number]]) {
    out.push(...diffSegment(o.slice(po, i), x.slice(px, j), offset + po, side));
    po = i + 1;
    px = j + 1;
  }
  return out;
}

/** Pairs (i in o, j in x) of tokens unique on both sides, the longest increasing run of them. */
function uniqueAnchors(o: string[], x: string[]): Array<[number, number]> {
  const count = new Map<string, { o: number; x: number; j: number }>();
  for (const t of o) {
    const c = count.get(t);
    if (c) c.o++;
    else count.set(t, { o: 1, x: 0, j: -1 });
  }
  x.forEach((t, j) => {
    const c = count.get(t);
    if (c) {
      c.x++;
      c.j = j;
    }
  });
  const pairs: Array<[number, number]> = [];
  o.forEach((t, i) => {
    const c = count.get(t);
    if (c && c.o === 1 && c.x === 1) pairs.push([i, c.j]);
  });
  // Longest increasing subsequence by j (patience sorting).
  const tails: number[] = [];
  const prev: number[] = new Array(pairs.length).fill(-1);
  for (let k = 0; k < pairs.length; k++) {
    const j = (pairs[k] as [number, number])[1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((pairs[tails[mid] as number] as [number, number])[1] < j) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[k] = tails[lo - 1] as number;
    tails[lo] = k;
  }
  const out: Array<[number, number]> = [];
  for (let k = tails.length > 0 ? (tails[tails.length - 1] as number) : -1; k !== -1; k = prev[k] as number) {
    out.push(pairs[k] as [number, number]);
  }
  return out.reverse();
}

export type Region = { ok: string[] } | { conflict: { o: string[]; a: string[]; b: string[] } };

/**
 * Three-way merge of token sequences. Changes of the two sides that touch the same base tokens (or insert at
 * the same place) form one region; such a region is a conflict unless both sides made the same change there.
 * Changes that are merely adjacent merge, unlike diff3's default, so two edits of neighbouring sentences,
 * steps or requirements both survive.
 */
export function merge3(o: string[], a: string[], b: string[]): Region[] {
  const all = [...hunks(o, a, "a"), ...hunks(o, b, "b")].sort(
    (x, y) => x.oStart - y.oStart || x.oEnd - y.oEnd,
  );
  const regions: Region[] = [];
  let pos = 0;
  let okRun: string[] = [];
  const flushOk = () => {
    if (okRun.length > 0) regions.push({ ok: okRun });
    okRun = [];
  };
  for (let i = 0; i < all.length; ) {
    const group = [all[i] as Hunk];
    let start = (all[i] as Hunk).oStart;
    let end = (all[i] as Hunk).oEnd;
    let j = i + 1;
    while (j < all.length) {
      const h = all[j] as Hunk;
      // Overlapping ranges, or two changes starting at the same base token (e.g. two insertions there).
      if (!(h.oStart < end || h.oStart === start)) break;
      group.push(h);
      start = Math.min(start, h.oStart);
      end = Math.max(end, h.oEnd);
      j++;
    }
    i = j;
    for (let k = pos; k < start; k++) okRun.push(o[k] as string);
    pos = end;
    const sides = new Set(group.map((h) => h.side));
    if (sides.size === 1) {
      for (const h of group) okRun.push(...h.content);
      continue;
    }
    // Both sides changed [start, end): rebuild each side's version of that range.
    const side = (name: "a" | "b") => {
      const out: string[] = [];
      let at = start;
      for (const h of group.filter((g) => g.side === name)) {
        for (let k = at; k < h.oStart; k++) out.push(o[k] as string);
        out.push(...h.content);
        at = h.oEnd;
      }
      for (let k = at; k < end; k++) out.push(o[k] as string);
      return out;
    };
    const av = side("a");
    const bv = side("b");
    if (av.length === bv.length && av.every((t, k) => t === bv[k])) {
      okRun.push(...av);
      continue;
    }
    flushOk();
    regions.push({ conflict: { o: o.slice(start, end), a: av, b: bv } });
  }
  for (let k = pos; k < o.length; k++) okRun.push(o[k] as string);
  flushOk();
  return regions;
}

/** Merged tokens; null when the two sides changed the same region differently. */
export function mergeTokens(o: string[], a: string[], b: string[]): string[] | null {
  const out: string[] = [];
  for (const region of merge3(o, a, b)) {
    if ("ok" in region) out.push(...region.ok);
    else return null;
  }
  return out;
}

function mergeText(o: string, a: string, b: string, split: (t: string) => string[]): string | null {
  const picked = pick3(o, a, b, same);
  if (picked.ok) return picked.value;
  const merged = mergeTokens(split(o), split(a), split(b));
  return merged === null ? null : merged.join("");
}

function scenarioKeys(list: ScenarioPart[]): Array<[string, ScenarioPart]> {
  const seen = new Map<string, number>();
  return list.map((sc) => {
    const n = seen.get(sc.name) ?? 0;
    seen.set(sc.name, n + 1);
    return [`${sc.name}\u0000${n}`, sc];
  });
}

const scenarioText = (sc: ScenarioPart) => sc.head + sc.body;

/**
 * Where an item only the other side added goes in our order: after the item that precedes it on their side;
 * with none, before the first item both sides inherited from the base (after items only we added).
 */
function insertAt(order: string[], previous: string | null, inBase: (key: string) => boolean): number {
  if (previous !== null) return order.indexOf(previous) + 1;
  const common = order.findIndex(inBase);
  return common === -1 ? order.length : common;
}

function mergeParts(P: BlockParts, A: BlockParts, B: BlockParts, capability: string): MergeOutcome {
  const conflicts: string[] = [];
  const head = pick3(P.head, A.head, B.head, sameHeading);
  if (!head.ok) conflicts.push("heading");
  // The marker line is metadata, re-stamped by whoever applies the result: a difference is never a conflict.
  const preamble = pick3(P.preamble, A.preamble, B.preamble, sameTrimmed);
  const text = mergeText(P.text, A.text, B.text, sentences);
  if (text === null) conflicts.push("normative text");
  const afterText = pick3(P.afterText, A.afterText, B.afterText, sameTrimmed);
  if (!afterText.ok) conflicts.push("text after the normative text");

  const pMap = new Map(scenarioKeys(P.scenarios));
  const aList = scenarioKeys(A.scenarios);
  const aMap = new Map(aList);
  const bList = scenarioKeys(B.scenarios);
  const bMap = new Map(bList);
  const merged = new Map<string, ScenarioPart>();
  const decide = (key: string): void => {
    const p = pMap.get(key);
    const a = aMap.get(key);
    const b = bMap.get(key);
    const name = (a ?? b ?? p)?.name ?? key;
    if (a && b) {
      if (scenarioText(a) === scenarioText(b)) merged.set(key, a);
      else if (!p) conflicts.push(`scenario "${name}" (added on both sides)`);
      else {
        const h = pick3(p.head, a.head, b.head, sameTrimmed);
        const body = mergeText(p.body, a.body, b.body, lines);
        if (!h.ok || body === null) conflicts.push(`scenario "${name}"`);
        else merged.set(key, { ...a, head: h.value, body });
      }
    } else if (a || b) {
      const kept = (a ?? b) as ScenarioPart;
      if (!p) merged.set(key, kept);
      else if (scenarioText(kept) !== scenarioText(p)) {
        conflicts.push(`scenario "${name}" (removed on one side, changed on the other)`);
      }
    }
  };
  for (const key of new Set([...pMap.keys(), ...aMap.keys(), ...bMap.keys()])) decide(key);
  if (conflicts.length > 0) return { ok: false, parts: conflicts };

  // Order: ours; a scenario only theirs has goes after the scenario that precedes it on their side.
  const order = aList.map(([k]) => k).filter((k) => merged.has(k));
  let previous: string | null = null;
  for (const [key] of bList) {
    if (merged.has(key) && !order.includes(key)) {
      order.splice(
        insertAt(order, previous, (k) => pMap.has(k)),
        0,
        key,
      );
    }
    if (order.includes(key)) previous = key;
  }
  const scenarios = order.map((k) => merged.get(k) as ScenarioPart);
  scenarios.forEach((sc, k) => {
    const last = k === scenarios.length - 1;
    scenarios[k] = { ...sc, gap: last ? "\n" : /\n[ \t]*\n/.test(sc.gap) ? sc.gap : "\n\n" };
  });
  const body = text as string;
  const parts: BlockParts = {
    head: (head as { value: string }).value,
    preamble: (preamble.ok ? preamble.value : A.preamble) as string,
    text: body,
    afterText: (afterText as { value: string }).value,
    scenarios,
  };
  if (body !== "" && A.text === "" && parts.afterText.trim() === "") {
    parts.preamble = `${splitTrailingBlank(parts.preamble)[0]}\n${parts.preamble.trim() === "" ? "" : "\n"}`;
    if (parts.preamble.trim() === "") parts.preamble = "";
    parts.afterText = scenarios.length > 0 ? "\n\n" : "\n";
  } else if (body !== "" && !parts.afterText.startsWith("\n")) {
    parts.afterText = scenarios.length > 0 ? "\n\n" : "\n";
  }
  const block = joinParts(parts);
  if (!parseBlock(block, capability)) return { ok: false, parts: ["the merged block does not parse"] };
  return { ok: true, block, how: "merged" };
}

// ---------------------------------------------------------------------------------------------------------
// Whole specs (the git merge driver)

export interface RequirementConflict {
  id: string;
  base: string;
  ours: string;
  theirs: string;
  parts: string[];
}

export interface SpecMergeResult {
  text: string;
  /** Requirements edited on both sides in ways that overlap; each is wrapped in conflict markers. */
  conflicts: RequirementConflict[];
  /** Conflicting regions outside requirement blocks (front matter, purpose, other sections). */
  otherConflicts: number;
}

export interface MergeLabels {
  ours: string;
  theirs: string;
}

const PLACEHOLDER = "\u0000R\u0000";

interface Side {
  tokens: string[];
  /** Token → requirement ID and raw block. */
  blocks: Map<string, { id: string; raw: string }>;
}

/**
 * The spec as tokens: one per line outside requirement blocks, one per requirement block. Only the headings
 * are looked at (the scanner, not the full parser): blocks are found exactly as the parser finds them — a
 * `### Requirement:` heading in a `## Requirements` section, up to the next heading of level 3 or less.
 */
function tokenize(text: string, capability: string): Side {
  const s = scan(text, "spec.md");
  const tokens: string[] = [];
  const blocks = new Map<string, { id: string; raw: string }>();
  const seen = new Map<string, number>();
  const lineStart = (i: number) =>
    i < s.lines.length ? (s.lines[i] as { start: number }).start : text.length;
  let at = 0;
  const textUpTo = (offset: number) => {
    if (offset > at) tokens.push(...lines(text.slice(at, offset)));
    at = Math.max(at, offset);
  };
  for (const sec of topSections(s)) {
    if (sec.heading.text.toLowerCase() !== "requirements") continue;
    for (let h = sec.headingIndex + 1; h < s.headings.length; h++) {
      const heading = s.headings[h] as Heading;
      if (heading.lineIndex >= sec.endLine) break;
      if (heading.level !== 3) continue;
      const m = REQUIREMENT_HEADING.exec(heading.text);
      if (!m) continue;
      let end = sec.endLine;
      for (let k = h + 1; k < s.headings.length; k++) {
        const next = s.headings[k] as Heading;
        if (next.lineIndex >= sec.endLine || next.level <= 3) {
          end = Math.min(next.lineIndex, sec.endLine);
          break;
        }
      }
      const { title, id } = splitExplicitId(m[1] as string);
      const reqId = id ?? derivedRequirementId(capability, title);
      const start = lineStart(heading.lineIndex);
      const stop = lineStart(end);
      textUpTo(start);
      const raw = text.slice(start, stop);
      const n = seen.get(reqId) ?? 0;
      seen.set(reqId, n + 1);
      const key = n === 0 ? reqId : `${reqId}#${n}`;
      const token = `${PLACEHOLDER}${key}\u0000${raw}`;
      tokens.push(token);
      blocks.set(token, { id: key, raw });
      at = stop;
    }
  }
  textUpTo(text.length);
  return { tokens, blocks };
}

function conflictMarkers(ours: string, theirs: string, labels: MergeLabels): string {
  const o = blockCore(ours);
  const t = blockCore(theirs);
  return `<<<<<<< ${labels.ours}\n${o === "" ? "" : `${o}\n`}=======\n${t === "" ? "" : `${t}\n`}>>>>>>> ${labels.theirs}\n`;
}

// @req CHG-10
/** Merges three versions of a capability spec. The result keeps the line endings of `ours`. */
export function mergeSpec(
  base: string,
  ours: string,
  theirs: string,
  capability: string,
  labels: MergeLabels = { ours: "ours", theirs: "theirs" },
): SpecMergeResult {
  if (ours === theirs || base === theirs) return { text: ours, conflicts: [], otherConflicts: 0 };
  if (base === ours) return { text: theirs, conflicts: [], otherConflicts: 0 };
  const eol = lineEnding(ours);
  const O = tokenize(lf(base), capability);
  const A = tokenize(lf(ours), capability);
  const B = tokenize(lf(theirs), capability);
  const keyOf = (token: string) =>
    token.slice(PLACEHOLDER.length, token.indexOf("\u0000", PLACEHOLDER.length));
  const rawOf = (token: string) =>
    (A.blocks.get(token) ?? B.blocks.get(token) ?? O.blocks.get(token))?.raw ?? "";
  const isBlock = (token: string) => token.startsWith(PLACEHOLDER);

  const conflicts: RequirementConflict[] = [];
  let otherConflicts = 0;
  let out = "";
  const emitBlock = (key: string, o: string, a: string, b: string) => {
    const result = mergeRequirement(o, a, b, capability);
    if (result.ok) {
      out += result.block;
      return;
    }
    conflicts.push({
      id: key.replace(/#\d+$/, ""),
      base: lf(o),
      ours: lf(a),
      theirs: lf(b),
      parts: result.parts,
    });
    const gap = splitTrailingBlank(lf(a || b))[1];
    out += conflictMarkers(a, b, labels) + (gap.startsWith("\n") ? gap.slice(1) : gap);
  };

  for (const region of merge3(O.tokens, A.tokens, B.tokens)) {
    if ("ok" in region) {
      for (const token of region.ok) out += isBlock(token) ? rawOf(token) : token;
      continue;
    }
    const c = region.conflict;
    if (![...c.a, ...c.o, ...c.b].every(isBlock)) {
      // Text around the requirements changed on both sides: ordinary conflict markers around that text.
      otherConflicts++;
      const render = (ts: string[]) => ts.map((t) => (isBlock(t) ? rawOf(t) : t)).join("");
      out += conflictMarkers(render(c.a), render(c.b), labels);
      continue;
    }
    // Only requirement blocks: merge the sequence by ID, then each requirement by itself.
    const byKey = (ts: string[]) => new Map(ts.map((t) => [keyOf(t), rawOf(t)]));
    const o = byKey(c.o);
    const a = byKey(c.a);
    const b = byKey(c.b);
    const order = c.a.map(keyOf);
    let previous: string | null = null;
    for (const t of c.b) {
      const key = keyOf(t);
      if (!order.includes(key))
        order.splice(
          insertAt(order, previous, (k) => o.has(k)),
          0,
          key,
        );
      previous = key;
    }
    for (const key of o.keys()) if (!order.includes(key)) order.push(key);
    for (const key of order) emitBlock(key, o.get(key) ?? "", a.get(key) ?? "", b.get(key) ?? "");
  }
  const text = eol === "\n" ? out : out.replace(/\n/g, "\r\n");
  return { text, conflicts, otherConflicts };
}
