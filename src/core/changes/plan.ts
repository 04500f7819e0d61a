// Planning an apply: from the change's delta operations and the living specs as they are now, the new text of
// every spec it touches — or the conflicts, or the problems, that stop it. Reads nothing but what it is given
// (and git, through the base resolver); writes nothing.
// @req CHG-4, CHG-5
import { EditError, type SpecRef, setProvenance, setStatus } from "../../format/edit.js";
import { parseSpec } from "../../format/spec.js";
import { derivedRequirementId } from "../../model/ids.js";
import type { DeltaOp, Origin, Requirement } from "../../model/types.js";
import type { BaseInfo, BaseResolver } from "./base.js";
import {
  blockCore,
  insertBlock,
  lf,
  parseBlock,
  removeBlock,
  renameBlock,
  replaceBlock,
  withHeadingId,
} from "./blocks.js";
import type { ConflictRecord } from "./conflicts.js";
import type { LoadedChange } from "./load.js";
import { mergeRequirement } from "./merge.js";
import { type BaseMap, baseEntry } from "./meta.js";
import { type DeltaItem, deltaItems, findTarget, itemName, type Problem } from "./targets.js";

/** Provenance written on every requirement the apply adds or modifies. */
export interface Stamp {
  origin: Origin;
  actor: string;
  tool: string | null;
  model: string | null;
  change: string;
  at: string;
}

export interface PlanContext {
  change: LoadedChange;
  /** The living spec of a capability: its path, and its text (null when the file does not exist). */
  living(capability: string): { rel: string; text: string | null };
  base: BaseResolver;
  /** A human resolution recorded for this requirement against this living block, if any. */
  resolution(capability: string, requirement: string, living: string): ConflictRecord | null;
  stamp: Stamp;
}

export type How = "added" | "replaced" | "merged" | "resolved" | "removed" | "renamed" | "kept";

export interface PlannedRequirement {
  capability: string;
  op: DeltaOp;
  /** The requirement's ID after the apply (before it, for a removal). */
  id: string;
  /** For RENAMED, and for requirements renamed by the change: the ID before the apply. */
  from?: string;
  title: string;
  how: How;
  beforeFingerprint: string | null;
  afterFingerprint: string | null;
  /** The block as written into the living spec (null when removed). */
  block: string | null;
  base?: { source: BaseInfo["source"]; commit?: string; note?: string; moved: boolean };
  resolution?: string;
}

export interface PlannedConflict {
  capability: string;
  requirement: string;
  op: DeltaOp;
  base: string;
  ours: string;
  theirs: string;
  parts: string[];
}

export interface PlannedFile {
  capability: string;
  rel: string;
  before: string | null;
  after: string;
}

export type Plan =
  | { kind: "invalid"; problems: Problem[] }
  | { kind: "conflict"; conflicts: PlannedConflict[] }
  | {
      kind: "ok";
      files: PlannedFile[];
      requirements: PlannedRequirement[];
      /** Living blocks before the apply, for every requirement modified, removed or renamed (by ID before). */
      before: Record<string, Record<string, string>>;
      /** The base of every target, as used (recorded ones and those found now). */
      bases: BaseMap;
      /** Conflict records whose resolution was used. */
      resolutions: string[];
    };

const OP_ORDER: DeltaOp[] = ["RENAMED", "REMOVED", "MODIFIED", "ADDED"];

/** The spec a new capability starts from when a change adds its first requirements. */
export function newSpecText(capability: string, changeId: string): string {
  return `# ${capability} Specification

## Purpose
Created by applying change \`${changeId}\`. State here what this capability is for and who relies on it.

## Requirements
`;
}

export function planApply(ctx: PlanContext): Plan {
  const { items, problems } = deltaItems(ctx.change);
  if (problems.length > 0) return { kind: "invalid", problems };
  const byCap = new Map<string, DeltaItem[]>();
  for (const item of items) {
    const list = byCap.get(item.capability) ?? [];
    list.push(item);
    byCap.set(item.capability, list);
  }
  const caps = [...byCap.keys()].sort();

  // 1. Check every operation against the living specs before editing anything.
  const texts = new Map<string, { rel: string; text: string | null; start: string }>();
  const targets = new Map<DeltaItem, Requirement>();
  for (const cap of caps) {
    const living = ctx.living(cap);
    const list = byCap.get(cap) as DeltaItem[];
    const start = living.text ?? newSpecText(cap, ctx.change.id);
    texts.set(cap, { ...living, start });
    const spec = parseSpec(start, living.rel, cap).spec;
    checkCapability(cap, living.rel, living.text !== null, spec.requirements, list, targets, problems);
  }
  if (problems.length > 0) return { kind: "invalid", problems };

  // 2. Edit, capability by capability, in OpenSpec's order: RENAMED, REMOVED, MODIFIED, ADDED.
  const files: PlannedFile[] = [];
  const planned: PlannedRequirement[] = [];
  const conflicts: PlannedConflict[] = [];
  const before: Record<string, Record<string, string>> = {};
  const bases: BaseMap = {};
  const resolutions: string[] = [];
  for (const cap of caps) {
    const {
      rel,
      text: original,
      start,
    } = texts.get(cap) as { rel: string; text: string | null; start: string };
    const ref: SpecRef = { capability: cap, file: rel };
    let text = start;
    /** Current ID of each target (renames change derived IDs). */
    const current = new Map<Requirement, string>();
    const list = (byCap.get(cap) as DeltaItem[])
      .slice()
      .sort((a, b) => OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op));
    const rememberBefore = (r: Requirement) => {
      before[cap] ??= {};
      (before[cap] as Record<string, string>)[r.id] ??= r.raw;
    };
    const baseOf = (item: DeltaItem, r: Requirement): BaseInfo => {
      const b = ctx.base.resolve(ctx.change, cap, item.file, r, item.title, item.id);
      bases[cap] ??= {};
      (bases[cap] as Record<string, { fingerprint: string; block: string }>)[r.id] ??= baseEntry(
        b.fingerprint,
        b.block,
      );
      return b;
    };
    const currentReq = (id: string): Requirement => {
      const r = parseSpec(text, rel, cap).spec.requirements.find((x) => x.id === id);
      if (!r) throw new EditError("requirement-not-found", `requirement ${id} vanished while applying`);
      return r;
    };
    try {
      for (const item of list) {
        const target = targets.get(item);
        if (item.op === "RENAMED" && target) {
          rememberBefore(target);
          const b = baseOf(item, target);
          const renamed = renameBlock(text, ref, current.get(target) ?? target.id, item.to as string);
          text = renamed.text;
          current.set(target, renamed.id);
          planned.push({
            capability: cap,
            op: "RENAMED",
            id: renamed.id,
            from: target.id,
            title: item.to as string,
            how: "renamed",
            beforeFingerprint: target.fingerprint,
            afterFingerprint: target.fingerprint,
            block: null,
            base: { source: b.source, moved: b.fingerprint !== target.fingerprint, ...extra(b) },
          });
        } else if ((item.op === "REMOVED" || item.op === "MODIFIED") && target) {
          rememberBefore(target);
          const b = baseOf(item, target);
          const id = current.get(target) ?? target.id;
          const living = currentReq(id);
          const moved = b.fingerprint !== target.fingerprint;
          const theirs =
            item.op === "REMOVED"
              ? ""
              : target.explicitId && !item.req?.explicitId
                ? withHeadingId(item.block as string, target.id)
                : (item.block as string);
          const resolution = ctx.resolution(cap, target.id, target.raw);
          let next: string;
          let how: How;
          if (resolution) {
            next = resolution.resolution ?? "";
            how = "resolved";
            resolutions.push(resolution.id);
          } else if (!moved) {
            next = theirs;
            how = item.op === "REMOVED" ? "removed" : "replaced";
          } else {
            const merged = mergeRequirement(b.block, living.raw, theirs, cap);
            if (!merged.ok) {
              conflicts.push({
                capability: cap,
                requirement: target.id,
                op: item.op,
                base: b.block,
                ours: target.raw,
                theirs,
                parts: merged.parts,
              });
              continue;
            }
            next = merged.block;
            how = merged.block === "" ? "removed" : "merged";
          }
          const entry: PlannedRequirement = {
            capability: cap,
            op: item.op,
            id,
            title: living.title,
            how,
            beforeFingerprint: target.fingerprint,
            afterFingerprint: null,
            block: null,
            base: { source: b.source, moved, ...extra(b) },
          };
          if (id !== target.id) entry.from = target.id;
          if (resolution) entry.resolution = resolution.id;
          if (blockCore(next) === "") {
            text = removeBlock(text, ref, id);
            entry.how = how === "resolved" ? "resolved" : "removed";
          } else if (blockCore(next) === blockCore(living.raw)) {
            entry.how = how === "resolved" ? "resolved" : "kept";
            entry.afterFingerprint = living.fingerprint;
            entry.block = living.raw;
          } else {
            const newId = (parseBlock(next, cap) as NonNullable<ReturnType<typeof parseBlock>>).req.id;
            text = replaceBlock(text, ref, id, stamp(next, cap, newId, basisOf(item), ctx.stamp), newId);
            current.set(target, newId);
            entry.id = newId;
          }
          planned.push(entry);
        } else if (item.op === "ADDED") {
          const id = (item.req as Requirement).id;
          text = insertBlock(text, ref, stamp(item.block as string, cap, id, basisOf(item), ctx.stamp));
          planned.push({
            capability: cap,
            op: "ADDED",
            id,
            title: item.title,
            how: "added",
            beforeFingerprint: null,
            afterFingerprint: null,
            block: null,
          });
        }
      }
    } catch (e) {
      if (!(e instanceof EditError)) throw e;
      return {
        kind: "invalid",
        problems: [
          {
            rule: "delta/invalid-content",
            message: `cannot apply to ${rel}: ${e.message}`,
            hint: "check the delta blocks for headings, code fences or comments that would change the spec's structure",
            file: rel,
            line: 1,
          },
        ],
      };
    }
    // Final blocks and fingerprints, as written.
    const final = parseSpec(text, rel, cap).spec.requirements;
    for (const p of planned) {
      if (p.capability !== cap || p.how === "removed") continue;
      const r = final.find((x) => x.id === p.id);
      if (r) {
        p.block = r.raw;
        p.afterFingerprint = r.fingerprint;
        p.title = r.title;
      }
    }
    if (text !== original) files.push({ capability: cap, rel, before: original, after: text });
  }
  if (conflicts.length > 0) return { kind: "conflict", conflicts };
  return { kind: "ok", files, requirements: planned, before, bases, resolutions };
}

function extra(b: BaseInfo): { commit?: string; note?: string } {
  const out: { commit?: string; note?: string } = {};
  if (b.commit) out.commit = b.commit;
  if (b.note) out.note = b.note;
  return out;
}

function basisOf(item: DeltaItem): "explicit" | "inferred" {
  return item.req?.markers?.provenance.basis === "inferred" ? "inferred" : "explicit";
}

const WRAP = "## Requirements\n\n";

// @req CHG-6
/**
 * A requirement block stamped with provenance and approved status (edited on its own, before it goes into
 * the spec, so the spec is parsed once per edit rather than once per field). The provenance fields are
 * cleared first and written again, so the marker line reads in the canonical order (status, origin, basis,
 * actor, tool, model, change, at); fields Keel does not know are kept.
 */
function stamp(
  block: string,
  capability: string,
  id: string,
  basis: "explicit" | "inferred",
  s: Stamp,
): string {
  const ref: SpecRef = { capability, file: "block.md" };
  const approved = setStatus(WRAP + lf(block), ref, id, "approved");
  const cleared = setProvenance(approved, ref, id, {
    origin: null,
    basis: null,
    actor: null,
    tool: null,
    model: null,
    change: null,
    at: null,
  });
  const stamped = setProvenance(cleared, ref, id, {
    origin: s.origin,
    basis,
    actor: s.actor,
    ...(s.tool ? { tool: s.tool } : {}),
    ...(s.model ? { model: s.model } : {}),
    change: s.change,
    at: s.at,
  });
  return stamped.slice(WRAP.length);
}

/** Checks one capability's operations against its living spec; fills `targets`, reports into `problems`. */
function checkCapability(
  cap: string,
  rel: string,
  exists: boolean,
  living: Requirement[],
  list: DeltaItem[],
  targets: Map<DeltaItem, Requirement>,
  problems: Problem[],
): void {
  const spec = { requirements: living };
  const problem = (item: DeltaItem, rule: string, message: string, hint: string) =>
    problems.push({ rule, message, hint, file: item.file, line: item.line });
  const touched = new Map<Requirement, DeltaItem[]>();
  const renamedTo = new Map<string, Requirement>();
  const removed = new Set<Requirement>();
  const lookup = (item: DeltaItem, title: string, id: string | null): Requirement | null => {
    const found = findTarget(spec, title, id);
    if ("req" in found) return found.req;
    if ("ambiguous" in found) {
      problem(
        item,
        "delta/ambiguous-target",
        `${item.op} "${itemName(item)}" matches ${found.ambiguous.length} requirements in ${rel} (lines ${found.ambiguous.map((r) => r.span.start.line).join(", ")})`,
        "give the requirements explicit {#ID}s and name the ID in the delta",
      );
      return null;
    }
    problem(
      item,
      "delta/target-missing",
      exists
        ? `${item.op} requirement "${itemName(item)}" does not exist in ${rel}`
        : `${item.op} requirement "${itemName(item)}": there is no living spec ${rel}`,
      exists
        ? "use the exact title (or {#ID}) of a living requirement (`keel list requirements`), or ADDED for a new one"
        : "use ADDED to create the capability's first requirements, or fix the capability folder name",
    );
    return null;
  };
  for (const item of list.filter((i) => i.op === "RENAMED")) {
    const r = lookup(item, item.title, null);
    if (!r) continue;
    targets.set(item, r);
    const to = (item.to as string).trim();
    const newId = r.explicitId ? r.id : derivedRequirementId(cap, to);
    const clash = living.find((x) => x !== r && (x.title.trim() === to || x.id === newId));
    if (clash || renamedTo.has(to)) {
      problem(
        item,
        "delta/rename-onto-existing",
        `RENAMED "${item.title}" to "${to}", but ${rel} already has a requirement named "${to}"${clash ? ` (${clash.id}, line ${clash.span.start.line})` : " (renamed to by another line of this change)"}`,
        "choose a title no other requirement has, or remove (or rename) the other requirement first",
      );
      continue;
    }
    renamedTo.set(to, r);
    touched.set(r, [...(touched.get(r) ?? []), item]);
  }
  for (const item of list.filter((i) => i.op === "REMOVED" || i.op === "MODIFIED")) {
    const renamed = item.id === null ? renamedTo.get(item.title.trim()) : undefined;
    const r = renamed ?? lookup(item, item.title, item.id);
    if (!r) continue;
    targets.set(item, r);
    const prior = (touched.get(r) ?? []).filter((t) => t.op !== "RENAMED");
    if (prior.length > 0) {
      problem(
        item,
        "delta/duplicate-target",
        `requirement ${r.id} is ${prior[0]?.op} and ${item.op} by the same change`,
        "name each requirement once per change (MODIFIED already replaces the whole block)",
      );
      continue;
    }
    touched.set(r, [...(touched.get(r) ?? []), item]);
    if (item.op === "REMOVED") removed.add(r);
    if (item.op === "MODIFIED") {
      const parsed = parseBlock(item.block as string, cap);
      const expected = renamed ? (item.to ?? item.title) : r.title;
      if (
        parsed &&
        !(r.explicitId && parsed.req.explicitId && parsed.req.id === r.id) &&
        parsed.req.title.trim() !== expected.trim() &&
        !renamed
      ) {
        problem(
          item,
          "delta/modified-renames",
          `MODIFIED "${itemName(item)}" has the title "${parsed.req.title}", which is not the living requirement's ("${r.title}")`,
          "keep the title in MODIFIED, and rename with a RENAMED entry",
        );
      }
      if (parsed?.req.explicitId && r.explicitId && parsed.req.id !== r.id) {
        problem(
          item,
          "delta/modified-renames",
          `MODIFIED "${itemName(item)}" carries the ID ${parsed.req.id}, but the living requirement's ID is ${r.id}`,
          "keep the living requirement's {#ID} in the MODIFIED block",
        );
      }
    }
  }
  const remaining = living.filter((r) => !removed.has(r));
  const addedIds = new Set<string>();
  for (const item of list.filter((i) => i.op === "ADDED")) {
    const req = item.req as Requirement;
    const clash = remaining.find((x) => {
      const renamedTitle = [...renamedTo.entries()].find(([, v]) => v === x)?.[0];
      const title = renamedTitle ?? x.title;
      const id = renamedTitle && !x.explicitId ? derivedRequirementId(cap, renamedTitle) : x.id;
      return id === req.id || title.trim() === req.title.trim();
    });
    if (clash || addedIds.has(req.id)) {
      problem(
        item,
        "delta/added-exists",
        `ADDED requirement "${itemName(item)}" already exists in ${rel}${clash ? ` (${clash.id}, line ${clash.span.start.line})` : " (added twice by this change)"}`,
        "use MODIFIED to change an existing requirement, or give the new one another title or ID",
      );
      continue;
    }
    addedIds.add(req.id);
  }
}
