// `keel change diff`: the change's intent, requirement by requirement, with word-level changes (jsdiff).
// A MODIFIED requirement is compared with its base — what the author changed — and flagged when the living
// requirement has moved since. Marker lines (provenance) are left out: they are re-stamped on apply.
import { diffWordsWithSpace } from "diff";
import type { ProjectRoot } from "../../workspace/root.js";
import { type BaseInfo, BaseResolver } from "./base.js";
import { blockCore, lf, parseBlock } from "./blocks.js";
import { LivingSpecs } from "./living.js";
import type { LoadedChange } from "./load.js";
import type { DeltaTarget } from "./report.js";
import { deltaItems, findTarget, type Problem } from "./targets.js";

export interface WordPart {
  /** "=" unchanged, "+" added, "-" removed. */
  op: "=" | "+" | "-";
  text: string;
}

export interface RequirementDiff extends DeltaTarget {
  /** The text compared from (base, or living) and to (the delta); null when absent. */
  before: string | null;
  after: string | null;
  parts: WordPart[];
  base: { source: BaseInfo["source"]; commit?: string; note?: string } | null;
  /** The living requirement changed since the base (the apply will merge); null when unknown. */
  moved: boolean | null;
  /** The target does not exist in the living spec (MODIFIED / REMOVED / RENAMED), or already exists (ADDED). */
  problem?: string;
}

export interface ChangeDiff {
  change: string;
  requirements: RequirementDiff[];
  problems: Problem[];
}

/** The block without its marker line, LF line ends, no trailing blank lines. */
export function withoutMarkers(raw: string, capability: string): string {
  const parsed = parseBlock(raw, capability);
  if (!parsed?.req.markers) return blockCore(raw);
  const text = parsed.text;
  const start = parsed.req.markers.span.start.offset;
  const nl = text.indexOf("\n", start);
  return blockCore(text.slice(parsed.offset, start) + text.slice(nl === -1 ? text.length : nl + 1));
}

export function wordDiff(before: string | null, after: string | null): WordPart[] {
  return diffWordsWithSpace(before ?? "", after ?? "").map((p) => ({
    op: p.added ? "+" : p.removed ? "-" : "=",
    text: p.value,
  }));
}

export function diffChange(project: ProjectRoot, lc: LoadedChange): ChangeDiff {
  const living = new LivingSpecs(project);
  const resolver = new BaseResolver(project);
  const { items, problems } = deltaItems(lc);
  const out: RequirementDiff[] = [];
  for (const item of items) {
    const spec = living.get(lc.layout, item.capability).spec;
    const d: RequirementDiff = {
      capability: item.capability,
      op: item.op,
      requirement: item.id ?? item.title,
      title: item.title,
      file: item.file,
      line: item.line,
      before: null,
      after: null,
      parts: [],
      base: null,
      moved: null,
    };
    if (item.op === "ADDED") {
      d.requirement = item.req?.id ?? d.requirement;
      d.after = withoutMarkers(item.block as string, item.capability);
      if (spec?.requirements.some((r) => r.id === d.requirement))
        d.problem = "already exists in the living spec";
    } else {
      const hit = findTarget(spec, item.title, item.id);
      if (!("req" in hit)) {
        d.problem = "ambiguous" in hit ? "matches several living requirements" : "not in the living spec";
        if (item.op === "MODIFIED") d.after = withoutMarkers(item.block as string, item.capability);
      } else {
        const b = resolver.resolve(lc, item.capability, item.file, hit.req, item.title, item.id);
        d.requirement = hit.req.id;
        d.base = { source: b.source };
        if (b.commit) d.base.commit = b.commit;
        if (b.note) d.base.note = b.note;
        d.moved = b.fingerprint !== hit.req.fingerprint;
        if (item.op === "RENAMED") {
          d.to = item.to as string;
          d.before = `### Requirement: ${item.title}`;
          d.after = `### Requirement: ${item.to}`;
        } else {
          d.before = withoutMarkers(lf(b.block), item.capability);
          d.after = item.op === "REMOVED" ? null : withoutMarkers(item.block as string, item.capability);
        }
      }
    }
    d.parts = wordDiff(d.before, d.after);
    out.push(d);
  }
  return { change: lc.id, requirements: out, problems };
}
