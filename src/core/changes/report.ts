// What `keel change show` and `keel change status` report about open changes: each delta target with its
// base and whether the living requirement moved since, and the overlap between open changes (two changes
// touching one requirement), long before either is applied. Missing bases are recorded here (audited).
import { join } from "node:path";
import type { DeltaOp, NativeLayout } from "../../model/types.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { type BaseInfo, BaseResolver } from "./base.js";
import { LivingSpecs } from "./living.js";
import { changeStatus, findChangeFolder, type LoadedChange, loadChange } from "./load.js";
import { baseEntry, META_FILE, type MetaPatch, metaEditable, patchMeta } from "./meta.js";
import { deltaItems, findTarget, type Problem } from "./targets.js";

/** Which requirement a delta entry targets, and where the entry is written. */
export interface DeltaTarget {
  capability: string;
  op: DeltaOp;
  /** The living requirement's ID; for ADDED, the new requirement's ID; the delta's name when not found. */
  requirement: string;
  title: string;
  /** RENAMED: the new title. */
  to?: string;
  file: string;
  line: number;
}

export interface TargetReport extends DeltaTarget {
  /** Whether the living requirement exists (ADDED: whether the ID is free). */
  found: boolean;
  base: { source: BaseInfo["source"]; fingerprint: string; commit?: string; note?: string } | null;
  livingFingerprint: string | null;
  /** True when the living requirement changed since the base; null when unknown (no base, or ADDED). */
  moved: boolean | null;
}

export interface OverlapReport {
  capability: string;
  requirement: string;
  /** The other open changes that touch the same requirement. */
  changes: string[];
}

export interface ChangeReport {
  id: string;
  dir: string;
  layout: NativeLayout;
  status: string;
  author: string | null;
  created: string | null;
  why: string | null;
  targets: TargetReport[];
  /** IDs of targets that moved since their base. */
  drift: string[];
  overlaps: OverlapReport[];
  problems: Problem[];
}

export function reportChanges(
  project: ProjectRoot,
  changes: LoadedChange[],
  others: LoadedChange[] = changes,
): ChangeReport[] {
  const living = new LivingSpecs(project);
  const resolver = new BaseResolver(project);
  const touches = new Map<string, Set<string>>();
  const targetsOf = new Map<LoadedChange, TargetReport[]>();
  const problemsOf = new Map<LoadedChange, Problem[]>();
  const all = [...new Set([...changes, ...others])];
  for (const lc of all) {
    const { items, problems } = deltaItems(lc);
    const targets: TargetReport[] = [];
    for (const item of items) {
      const spec = living.get(lc.layout, item.capability);
      const t: TargetReport = {
        capability: item.capability,
        op: item.op,
        requirement: item.id ?? item.title,
        title: item.title,
        file: item.file,
        line: item.line,
        found: false,
        base: null,
        livingFingerprint: null,
        moved: null,
      };
      if (item.to) t.to = item.to;
      if (item.op === "ADDED") {
        t.requirement = item.req?.id ?? t.requirement;
        t.found = !spec.spec?.requirements.some((r) => r.id === t.requirement);
      } else {
        const hit = findTarget(spec.spec, item.title, item.id);
        if ("req" in hit) {
          const b = changes.includes(lc)
            ? resolver.resolve(lc, item.capability, item.file, hit.req, item.title, item.id)
            : null;
          t.requirement = hit.req.id;
          t.found = true;
          t.livingFingerprint = hit.req.fingerprint;
          if (b) {
            t.base = { source: b.source, fingerprint: b.fingerprint };
            if (b.commit) t.base.commit = b.commit;
            if (b.note) t.base.note = b.note;
            t.moved = b.fingerprint !== hit.req.fingerprint;
          }
        }
      }
      targets.push(t);
      const key = `${lc.layout}\u0000${t.capability}\u0000${t.requirement}`;
      const set = touches.get(key) ?? new Set<string>();
      set.add(lc.id);
      touches.set(key, set);
    }
    targetsOf.set(lc, targets);
    problemsOf.set(lc, problems);
  }
  return changes.map((lc) => {
    const targets = targetsOf.get(lc) ?? [];
    const overlaps: OverlapReport[] = [];
    for (const t of targets) {
      const others = [
        ...(touches.get(`${lc.layout}\u0000${t.capability}\u0000${t.requirement}`) ?? []),
      ].filter((c) => c !== lc.id);
      if (others.length > 0)
        overlaps.push({ capability: t.capability, requirement: t.requirement, changes: others.sort() });
    }
    return {
      id: lc.id,
      dir: lc.dir,
      layout: lc.layout,
      status: changeStatus(lc),
      author: typeof lc.meta.author === "string" ? lc.meta.author : null,
      created: typeof lc.meta.created === "string" ? lc.meta.created : null,
      why: typeof lc.meta.why === "string" ? lc.meta.why : proseOnly(lc.change.why),
      targets,
      drift: targets.filter((t) => t.moved).map((t) => t.requirement),
      overlaps,
      problems: problemsOf.get(lc) ?? [],
    };
  });
}

export interface RecordedBase {
  change: string;
  capability: string;
  requirement: string;
  fingerprint: string;
  source: BaseInfo["source"];
  commit?: string;
  note?: string;
}

/**
 * Records the base of every MODIFIED / REMOVED / RENAMED target that has none yet, for open Keel-layout
 * changes (and changes Keel created in the OpenSpec layout, which have a change.yaml). Audited, one event per
 * change. Returns what was recorded.
 */
export function recordMissingBases(project: ProjectRoot, actor: Actor, ids: string[]): RecordedBase[] {
  const out: RecordedBase[] = [];
  let state: StateDb | null = null;
  try {
    for (const id of ids) {
      const ref = findChangeFolder(project, id);
      if (!ref || ref.archived) continue;
      const peek = loadChange(project, ref);
      if (!needsBase(project, peek)) continue;
      state ??= StateDb.open(project.root);
      const db = state;
      state.exclusive(() => {
        const lc = loadChange(project, ref);
        if (!needsBase(project, lc) || !metaEditable(lc.metaText)) return;
        const living = new LivingSpecs(project);
        const resolver = new BaseResolver(project);
        const patch: MetaPatch = [];
        const recorded: RecordedBase[] = [];
        for (const item of deltaItems(lc).items) {
          if (item.op === "ADDED") continue;
          const hit = findTarget(living.get(lc.layout, item.capability).spec, item.title, item.id);
          if (!("req" in hit) || lc.meta.base?.[item.capability]?.[hit.req.id]) continue;
          if (recorded.some((r) => r.capability === item.capability && r.requirement === hit.req.id))
            continue;
          const b = resolver.resolve(lc, item.capability, item.file, hit.req, item.title, item.id);
          patch.push({
            path: ["base", item.capability, hit.req.id],
            value: baseEntry(b.fingerprint, b.block),
          });
          const r: RecordedBase = {
            change: lc.id,
            capability: item.capability,
            requirement: hit.req.id,
            fingerprint: b.fingerprint,
            source: b.source,
          };
          if (b.commit) r.commit = b.commit;
          if (b.note) r.note = b.note;
          recorded.push(r);
        }
        if (recorded.length === 0) return;
        if (lc.metaText === null)
          patch.unshift({ path: ["id"], value: lc.id }, { path: ["status"], value: "draft" });
        const text = patchMeta(lc.metaText, patch);
        writeFileAtomic(join(lc.abs, META_FILE), text);
        appendEvent(db, project.root, {
          actor: actorLabel(actor),
          actorKind: actor.kind,
          action: "change.base.record",
          target: lc.id,
          reason: "first time Keel saw these targets without a recorded base",
          data: { bases: recorded.map(({ change: _c, ...r }) => r) },
        });
        out.push(...recorded);
      });
    }
  } finally {
    state?.close();
  }
  return out;
}

/** A change whose base Keel may record: open, in Keel's layout or with a Keel change.yaml, and missing a base. */
function needsBase(project: ProjectRoot, lc: LoadedChange): boolean {
  if (lc.archived || changeStatus(lc) === "applied" || changeStatus(lc) === "rejected") return false;
  if (lc.layout !== "keel" && lc.metaText === null) return false;
  const living = new LivingSpecs(project);
  for (const item of deltaItems(lc).items) {
    if (item.op === "ADDED") continue;
    const hit = findTarget(living.get(lc.layout, item.capability).spec, item.title, item.id);
    if ("req" in hit && !lc.meta.base?.[item.capability]?.[hit.req.id]) return true;
  }
  return false;
}

/** Text without HTML comments (a scaffold's guidance); null when nothing else is left. */
function proseOnly(text: string | null): string | null {
  const t = text?.replace(/<!--[\s\S]*?-->/g, "").trim() ?? "";
  return t === "" ? null : t;
}
