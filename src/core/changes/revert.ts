// `keel change revert`: for an applied change, creates the inverse change — ADDED becomes REMOVED, REMOVED
// becomes ADDED with the block as it was before the apply, MODIFIED goes back to that block, RENAMED swaps
// FROM and TO — as a draft, for review like any other change. The living specs are not touched.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { derivedRequirementId } from "../../model/ids.js";
import { localId } from "../../model/namespace.js";
import type { Requirement } from "../../model/types.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import type { KeelConfig } from "../../workspace/config.js";
import { KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { enforce } from "../policy.js";
import { blockCore, headingOf } from "./blocks.js";
import { LivingSpecs } from "./living.js";
import { changeStatus, changesDir, type LoadedChange, requireChange, shownId } from "./load.js";
import {
  type BaseMap,
  baseEntry,
  type ChangeMeta,
  META_FILE,
  OPENSPEC_META_FILE,
  renderMeta,
} from "./meta.js";
import { deltaItems } from "./targets.js";

export interface RevertResult {
  change: string;
  reverts: string;
  dir: string;
  files: string[];
  operations: Array<{ capability: string; op: string; requirement: string }>;
  notes: string[];
}

interface Inverse {
  added: string[];
  modified: string[];
  removed: string[];
  renamed: Array<[string, string]>;
}

export function revertChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  id: string,
  now = new Date(),
): RevertResult {
  const lc = requireChange(project, id);
  if (!lc.archived && changeStatus(lc) !== "applied") {
    throw usageError(
      `change "${lc.id}" is ${changeStatus(lc)}, not applied: there is nothing to revert`,
      changeStatus(lc) === "rejected"
        ? "a rejected change never reached the specs"
        : "reject it instead (`keel change reject`)",
    );
  }
  const before = lc.meta.applied?.before ?? {};
  const notes: string[] = [];
  const { items } = deltaItems(lc);
  const inverse = new Map<string, Inverse>();
  const operations: RevertResult["operations"] = [];
  const of = (cap: string): Inverse => {
    let inv = inverse.get(cap);
    if (!inv) {
      inv = { added: [], modified: [], removed: [], renamed: [] };
      inverse.set(cap, inv);
    }
    return inv;
  };
  const renames = items.filter((i) => i.op === "RENAMED");
  /** The block a requirement had before the apply (recorded then; else the recorded base, with a note). */
  const priorBlock = (cap: string, title: string, explicit: string | null): string | null => {
    const keys = [explicit ?? derivedRequirementId(cap, title)];
    const renamed = renames.find((r) => r.capability === cap && r.to?.trim() === title.trim());
    if (renamed && explicit === null) keys.push(derivedRequirementId(cap, renamed.title));
    for (const k of keys) {
      const hit = before[cap]?.[k];
      if (typeof hit === "string") return hit;
    }
    for (const k of keys) {
      const base = lc.meta.base?.[cap]?.[k];
      if (base) {
        notes.push(`${k}: no pre-apply block was recorded; the change's base is used instead`);
        return base.block;
      }
    }
    return null;
  };
  for (const item of items) {
    const inv = of(item.capability);
    if (item.op === "ADDED") {
      const req = item.req as Requirement;
      inv.removed.push(`### Requirement: ${req.title}${req.explicitId ? ` {#${req.id}}` : ""}`);
      operations.push({ capability: item.capability, op: "REMOVED", requirement: req.id });
    } else if (item.op === "RENAMED") {
      inv.renamed.push([item.to as string, item.title]);
      operations.push({
        capability: item.capability,
        op: "RENAMED",
        requirement: `${item.to} → ${item.title}`,
      });
    } else {
      const block = priorBlock(item.capability, item.title, item.id);
      if (block === null) {
        throw usageError(
          `cannot revert "${lc.id}": the block ${item.op === "REMOVED" ? "it removed" : "it modified"} ("${item.id ?? item.title}") was not recorded when it was applied`,
          "write the inverse change by hand with `keel change new`",
        );
      }
      if (item.op === "REMOVED") inv.added.push(blockCore(block));
      else inv.modified.push(blockCore(block));
      const name = headingOf(block.split("\n")[0] as string);
      operations.push({
        capability: item.capability,
        op: item.op === "REMOVED" ? "ADDED" : "MODIFIED",
        requirement: name.id ?? name.title,
      });
    }
  }

  const state = StateDb.open(project.root);
  try {
    const caps = [...inverse.keys()].sort();
    enforce(
      state,
      project.root,
      actor,
      "revert",
      { capabilities: caps, policy: config.policy },
      {
        action: "change.revert",
        target: lc.id,
      },
    );
    const result = state.exclusive((): RevertResult | KeelError => {
      let newId = `revert-${localId(lc.id)}`;
      for (let n = 2; existsSync(join(project.root, changesDir(project, lc.layout), newId)); n++)
        newId = `revert-${localId(lc.id)}-${n}`;
      const dir = `${changesDir(project, lc.layout)}/${newId}`;
      const base = currentBases(project, lc, inverse);
      const applied = lc.meta.applied;
      const meta: ChangeMeta = {
        id: newId,
        status: "draft",
        author: actorLabel(actor),
        ...(actor.tool ? { tool: actor.tool } : {}),
        ...(actor.model ? { model: actor.model } : {}),
        created: now.toISOString(),
        why: `Reverts change ${lc.id}`,
        reverts: localId(lc.id),
        ...(Object.keys(base).length > 0 ? { base } : {}),
      };
      const files: Array<[string, string]> = [
        [
          `${dir}/proposal.md`,
          `## Why\nReverts change \`${lc.id}\`${applied ? `, applied ${applied.at} by ${applied.by}` : ""}.\n\n## What Changes\n${operations.map((o) => `- ${o.op} ${o.requirement} (${o.capability})`).join("\n")}\n`,
        ],
        [
          `${dir}/tasks.md`,
          `## 1. Revert\n- [ ] 1.1 Review the inverse deltas\n- [ ] 1.2 Undo the code that implemented \`${lc.id}\`\n`,
        ],
        [`${dir}/${META_FILE}`, renderMeta(meta)],
      ];
      if (lc.layout === "openspec") {
        files.push([
          `${dir}/${OPENSPEC_META_FILE}`,
          `schema: spec-driven\ncreated: ${now.toISOString().slice(0, 10)}\n`,
        ]);
      }
      for (const cap of caps)
        files.push([`${dir}/specs/${cap}/spec.md`, renderDelta(inverse.get(cap) as Inverse)]);
      for (const [rel, text] of files) writeFileAtomic(join(project.root, rel), text);
      appendEvent(state, project.root, {
        actor: actorLabel(actor),
        actorKind: actor.kind,
        action: "change.revert",
        target: shownId(project, newId),
        reason: `reverts ${lc.id}`,
        data: { reverts: lc.id, dir, operations },
      });
      return {
        change: shownId(project, newId),
        reverts: lc.id,
        dir,
        files: files.map(([rel]) => rel),
        operations,
        notes,
      };
    });
    if (result instanceof KeelError) throw result;
    return result;
  } finally {
    state.close();
  }
}

/** The inverse change is written by Keel, so its base is recorded now: the living blocks it will modify or remove. */
function currentBases(project: ProjectRoot, lc: LoadedChange, inverse: Map<string, Inverse>): BaseMap {
  const living = new LivingSpecs(project);
  const base: BaseMap = {};
  for (const [cap, inv] of inverse) {
    const reqs = living.get(lc.layout, cap).spec?.requirements ?? [];
    const names = [
      ...inv.modified.map((b) => headingOf(b.split("\n")[0] as string)),
      ...inv.removed.map((h) => headingOf(h)),
      ...inv.renamed.map(([from]) => ({ title: from, id: null })),
    ];
    for (const n of names) {
      const r = reqs.find((x) => (n.id !== null ? x.id === n.id : x.title.trim() === n.title.trim()));
      if (!r) continue;
      base[cap] ??= {};
      (base[cap] as BaseMap[string])[r.id] = baseEntry(r.fingerprint, r.raw);
    }
  }
  return base;
}

function renderDelta(inv: Inverse): string {
  const out: string[] = [];
  if (inv.added.length > 0) out.push(`## ADDED Requirements\n\n${inv.added.join("\n\n")}\n`);
  if (inv.modified.length > 0) out.push(`## MODIFIED Requirements\n\n${inv.modified.join("\n\n")}\n`);
  if (inv.removed.length > 0) out.push(`## REMOVED Requirements\n\n${inv.removed.join("\n\n")}\n`);
  if (inv.renamed.length > 0) {
    out.push(
      `## RENAMED Requirements\n\n${inv.renamed
        .map(([from, to]) => `- FROM: \`### Requirement: ${from}\`\n- TO: \`### Requirement: ${to}\``)
        .join("\n\n")}\n`,
    );
  }
  return out.join("\n");
}
