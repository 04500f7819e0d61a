// Fitting the pack into its token budget. The items are in order of relevance; what is kept is always a prefix
// of that order: items kept whole, then at most one item cut short at a line boundary, then nothing — except
// that the task is never cut and each covered requirement keeps at least its heading (ID) and its fingerprint
// line. Every candidate is counted as the whole text it would print, footer included, so the count reported
// is the count of what is printed. The largest candidate within the budget is found by binary search.
import type { Omission } from "./gather.js";
import { type ContextItem, renderItem, renderPack } from "./render.js";
import type { Tokenizer } from "./tokens.js";

export interface KeptSection {
  item: ContextItem;
  text: string;
  tokens: number;
  truncated: boolean;
}

export interface FittedPack {
  sections: KeptSection[];
  /** What the budget left out, least relevant last. */
  omitted: Omission[];
  footer: string;
  /** The printed Markdown pack. */
  text: string;
  /** Tokens of `text`, counted whole. */
  tokens: number;
  /** Even the least that must be kept is over the budget. */
  overBudget: boolean;
}

export type FooterFn = (omitted: Omission[], overBudget: boolean) => string;

/** Steps between an item at its least (left out, or its head) and whole. */
function steps(item: ContextItem): number {
  if (item.keep === "whole") return 0;
  if (item.keep === "head") return item.body.length;
  return Math.max(item.body.length, 1);
}

/** Body lines kept for an item given `j` of its steps; null when it is left out. */
function linesAt(item: ContextItem, j: number): number | null {
  if (item.keep === "whole") return item.body.length;
  if (item.keep === "head") return j;
  if (j === 0) return null;
  return j >= steps(item) ? item.body.length : j;
}

export function fitPack(items: ContextItem[], budget: number, tok: Tokenizer, footer: FooterFn): FittedPack {
  const fullText = items.map((it) => renderItem(it, it.body.length));
  const fullTokens = new Map<number, number>();
  const full = (i: number): number => {
    let n = fullTokens.get(i);
    if (n === undefined) {
      n = tok.count(fullText[i] as string);
      fullTokens.set(i, n);
    }
    return n;
  };
  const total = items.reduce((sum, it) => sum + steps(it), 0);

  const build = (position: number, overBudget: boolean): FittedPack => {
    const sections: KeptSection[] = [];
    const omitted: Omission[] = [];
    let left = position;
    items.forEach((item, i) => {
      const j = Math.min(steps(item), left);
      left -= j;
      const m = linesAt(item, j);
      if (m === null) {
        omitted.push({ kind: item.kind, ref: item.ref, reason: "budget", tokens: full(i) });
        return;
      }
      const truncated = m < item.body.length;
      const text = truncated ? renderItem(item, m) : (fullText[i] as string);
      const tokens = truncated ? tok.count(text) : full(i);
      sections.push({ item, text, tokens, truncated });
      if (truncated)
        omitted.push({
          kind: item.kind,
          ref: item.ref,
          reason: "budget",
          tokens: Math.max(0, full(i) - tokens),
          truncated: true,
        });
    });
    const foot = footer(omitted, overBudget);
    const text = renderPack(
      sections.map((s) => s.text),
      foot,
    );
    return { sections, omitted, footer: foot, text, tokens: tok.count(text), overBudget };
  };

  // Past the first item that takes the running sum of whole items over the budget, nothing can fit.
  let hi = 0;
  let sum = 0;
  for (let i = 0; i < items.length; i++) {
    hi += steps(items[i] as ContextItem);
    sum += full(i);
    if (sum > budget) break;
  }
  const tried = new Map<number, FittedPack>();
  const at = (p: number): FittedPack => {
    let pack = tried.get(p);
    if (!pack) {
      pack = build(p, false);
      tried.set(p, pack);
    }
    return pack;
  };
  if (hi === total && at(total).tokens <= budget) return at(total);
  hi = Math.min(hi, total);
  let lo = 0;
  if (at(0).tokens > budget) {
    // Each item left out adds to the footer, so a longer prefix may still print shorter: try each item's end.
    lo = -1;
    for (let i = 0, p = 0; i < items.length && p < hi; i++) {
      p += steps(items[i] as ContextItem);
      if (at(p).tokens <= budget) {
        lo = p;
        break;
      }
    }
    if (lo < 0) return build(0, true);
  }
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (at(mid).tokens <= budget) lo = mid;
    else hi = mid - 1;
  }
  return at(lo);
}
