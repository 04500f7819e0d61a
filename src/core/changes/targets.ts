// A change's delta operations, one per requirement, and the living requirement each one targets.
// Identity in a delta: the explicit `{#ID}` when the delta gives one, else the title (OpenSpec semantics).
// @req OSC-4
import type { DeltaOp, Requirement, Spec } from "../../model/types.js";
import type { LoadedChange } from "./load.js";

export interface DeltaItem {
  op: DeltaOp;
  capability: string;
  file: string;
  line: number;
  /** The requirement's title as the delta names it (for RENAMED: the FROM title). */
  title: string;
  /** Explicit ID given in the delta, if any. */
  id: string | null;
  /** ADDED / MODIFIED: the proposed block, as written, and its parse. */
  block?: string;
  req?: Requirement;
  /** RENAMED: the new title. */
  to?: string;
}

export interface Problem {
  rule: string;
  message: string;
  hint: string;
  file: string;
  line: number;
}

/** The delta operations of a change, and what is malformed in its delta specs. */
export function deltaItems(lc: LoadedChange): { items: DeltaItem[]; problems: Problem[] } {
  const items: DeltaItem[] = [];
  const problems: Problem[] = [];
  for (const d of lc.diagnostics) {
    if (d.severity !== "error") continue;
    problems.push({
      rule: d.rule,
      message: d.message,
      hint: d.hint ?? "",
      file: d.span.file,
      line: d.span.start.line,
    });
  }
  for (const delta of lc.change.deltas) {
    if (delta.sections.length === 0) {
      problems.push({
        rule: "delta/no-sections",
        message: `${delta.file} has no ## ADDED, MODIFIED, REMOVED or RENAMED Requirements section`,
        hint: "put each requirement under one of those four headings (OpenSpec's delta format)",
        file: delta.file,
        line: 1,
      });
    }
    for (const o of delta.orphans) {
      problems.push({
        rule: "delta/orphan-requirement",
        message: `requirement "${o.title}" is outside any delta section, so it would be ignored`,
        hint: "move it under ## ADDED, ## MODIFIED or ## REMOVED Requirements",
        file: delta.file,
        line: o.span.start.line,
      });
    }
    for (const s of delta.strayHeadings) {
      problems.push({
        rule: "delta/stray-heading",
        message: `"### ${s.text}" inside a delta section is not a requirement heading`,
        hint: "write requirement headings as `### Requirement: <title>`",
        file: delta.file,
        line: s.span.start.line,
      });
    }
    for (const sec of delta.sections) {
      if (sec.op === "ADDED" || sec.op === "MODIFIED") {
        for (const r of sec.requirements) {
          items.push({
            op: sec.op,
            capability: delta.capability,
            file: delta.file,
            line: r.span.start.line,
            title: r.title,
            id: r.explicitId ? r.id : null,
            block: r.raw,
            req: r,
          });
        }
      } else if (sec.op === "REMOVED") {
        for (const r of sec.removed) {
          items.push({
            op: "REMOVED",
            capability: delta.capability,
            file: delta.file,
            line: r.span.start.line,
            title: r.title,
            id: r.id,
          });
        }
      } else {
        for (const r of sec.renames) {
          items.push({
            op: "RENAMED",
            capability: delta.capability,
            file: delta.file,
            line: r.span.start.line,
            title: r.from,
            id: null,
            to: r.to,
          });
        }
      }
    }
  }
  if (items.length === 0 && problems.length === 0) {
    problems.push({
      rule: "delta/empty",
      message: `change "${lc.id}" has no delta requirements: there is nothing to apply`,
      hint: `write requirements under ## ADDED/MODIFIED/REMOVED/RENAMED Requirements in ${lc.dir}/specs/<capability>/spec.md`,
      file: lc.dir,
      line: 1,
    });
  }
  return { items, problems };
}

export type TargetLookup = { req: Requirement } | { missing: true } | { ambiguous: Requirement[] };

/** The living requirement a delta item names: by explicit ID, else by title. */
export function findTarget(
  spec: Pick<Spec, "requirements"> | null,
  title: string,
  id: string | null,
): TargetLookup {
  const reqs = spec?.requirements ?? [];
  if (id !== null) {
    const byId = reqs.filter((r) => r.id === id);
    if (byId.length === 1) return { req: byId[0] as Requirement };
    if (byId.length > 1) return { ambiguous: byId };
  }
  const byTitle = reqs.filter((r) => r.title.trim() === title.trim());
  if (byTitle.length === 1) return { req: byTitle[0] as Requirement };
  if (byTitle.length > 1) return { ambiguous: byTitle };
  return { missing: true };
}

/** How an item is named in messages. */
export function itemName(item: DeltaItem): string {
  return item.id ?? item.title;
}
