// security/instruction-like: text addressed to an AI reader rather than a human one. In hidden places
// (comments, link definitions, collapsed or hidden HTML, alt texts) it is flagged whoever wrote it: nobody hides
// an instruction from the people reviewing a spec for a good reason. In visible text it is flagged only when the
// text is untrusted, because visible imperative sentences are what specs are made of.
// @req TRU-1, TRU-3
import { type HiddenRegion, hiddenRegions } from "./hidden-markdown.js";
import type { SecurityPolicy } from "./policy.js";
import type { ScanHit, Trust } from "./types.js";

export function scanInstructions(text: string, policy: SecurityPolicy, trust: Trust): ScanHit[] {
  const regions = hiddenRegions(text);
  // Trusted text is searched in its hidden places only; untrusted text everywhere.
  const scopes: Array<[number, number]> =
    trust === "untrusted" ? [[0, text.length]] : regions.map((r) => [r.start, r.end]);
  const precheck = policy.instructionPrecheck;
  const searched = precheck ? scopes.filter(([a, b]) => precheck.test(text.slice(a, b))) : scopes;
  if (searched.length === 0) return [];
  const byRegion = new Map<HiddenRegion, string>();
  const visible: ScanHit[] = [];
  for (const [from, to] of searched) {
    const scope = text.slice(from, to);
    for (const pattern of policy.instructionPatterns) {
      // matchAll works on a copy of the pattern: the shared, global RegExp keeps lastIndex 0.
      for (const m of scope.matchAll(pattern)) {
        if (m[0].length === 0) continue;
        const start = from + m.index;
        const end = start + m[0].length;
        const region = innermost(regions, start, end);
        if (region) {
          if (!byRegion.has(region)) byRegion.set(region, m[0]);
        } else if (trust === "untrusted") {
          visible.push(instructionHit(start, end, `instruction-like text "${quote(m[0])}"`));
        }
      }
    }
  }
  const hidden = [...byRegion].map(([r, phrase]) =>
    instructionHit(r.start, r.end, `instruction-like text in ${article(r.place)}: "${quote(phrase)}"`),
  );
  return dedupe([...hidden, ...visible]);
}

/** The smallest hidden region holding the whole match, so that the hit is what a delivery would fence. */
function innermost(regions: HiddenRegion[], start: number, end: number): HiddenRegion | undefined {
  let best: HiddenRegion | undefined;
  for (const r of regions) {
    if (r.start > start) break;
    if (r.end >= end && (!best || r.end - r.start < best.end - best.start)) best = r;
  }
  return best;
}

/** Two patterns matching the same stretch give one hit. */
function dedupe(hits: ScanHit[]): ScanHit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const key = `${h.start}:${h.end}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function instructionHit(start: number, end: number, message: string): ScanHit {
  return {
    rule: "security/instruction-like",
    start,
    end,
    message,
    hint: "remove it, or write it as visible prose a reviewer can see; agents receive it fenced as untrusted content",
  };
}

function article(place: string): string {
  return /^(?:[aeiou]|HTML)/u.test(place) ? `an ${place}` : `a ${place}`;
}

function quote(phrase: string): string {
  const flat = phrase.replace(/\s+/gu, " ");
  return flat.length > 60 ? `${flat.slice(0, 57)}…` : flat;
}
