// Provenance over time: every version of a requirement (`keel history`) and, for a spec, the version that
// introduced each requirement's current content (`keel blame`). Built from three sources:
//   1. git: the spec file at every commit that touched it (one `git log`, one `git cat-file --batch`; each
//      distinct content parsed once, so 1,000 versions cost 1,000 parses, not 1,000²);
//   2. changes (archived or open): who wrote a change, its why, its approvals — the `change:` of a version's
//      marker line names it;
//   3. the audit log: applies not committed yet, and who applied what when.
// The working tree's content comes last when it differs from the newest commit.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { structuredPatch } from "diff";
import { parseSpecOf } from "../../format/layouts/index.js";
import { parseSpec } from "../../format/spec.js";
import type {
  Change,
  Layout,
  NativeLayout,
  Origin,
  Provenance,
  RequirementStatus,
  Spec,
} from "../../model/types.js";
import type { AuditEvent } from "../../store/sqlite/audit-log.js";
import { usageError } from "../../workspace/errors.js";
import { readSource } from "../../workspace/read.js";
import { LAYOUT_DIR } from "../../workspace/root.js";
import { type LoadedProject, loadProject } from "../project.js";
import { fileAtRevisions, fileLog, type GitCommit, insideGit } from "./git.js";
import {
  type ChangeInfo,
  capabilityInChanges,
  changeIndex,
  deltaBlock,
  earlierIds,
  loadEvents,
  type RequirementEvent,
  requirementEvents,
} from "./sources.js";

/** One requirement as it stood in one version of its spec. */
export interface Snapshot {
  id: string;
  title: string;
  fingerprint: string;
  status: RequirementStatus | null;
  provenance: Provenance;
  /** The block's Markdown, line endings LF, trailing blank lines removed. */
  block: string;
}

export type VersionKind = "added" | "modified" | "renamed" | "metadata" | "removed";
export type VersionSource = "git" | "working-tree" | "audit";
export type ActorSource = "marker" | "change" | "audit" | "git";

export interface Attribution {
  /** `kind:name` from the marker line, the change or the audit log; `Name <email>` from git. */
  actor: string | null;
  actorSource: ActorSource | null;
  origin: Origin | null;
  tool: string | null;
  model: string | null;
  change: string | null;
  /** When the version was made: the apply time (marker, audit) or the commit's author date. */
  at: string | null;
  why: string | null;
}

export interface RequirementVersion extends Attribution {
  version: number;
  kind: VersionKind;
  source: VersionSource;
  commit: { sha: string; author: string; email: string; at: string; subject: string } | null;
  /** The audit event that recorded the version, when there is one. */
  event: { seq: number; action: string; actor: string; at: string } | null;
  id: string | null;
  title: string | null;
  fingerprint: string | null;
  status: RequirementStatus | null;
  basis: "explicit" | "inferred" | null;
  /** Null for a removal, and for a version only the audit log knows whose text no change recorded. */
  block: string | null;
  /** Unified line diff from the previous version (no file headers); null when either text is unknown. */
  diff: string | null;
}

export interface RequirementHistory {
  id: string;
  capability: string;
  file: string;
  /** False when the requirement is no longer in the living spec. */
  current: boolean;
  git: boolean;
  /** Earlier IDs followed through RENAMED entries of changes. */
  aliases: string[];
  versions: RequirementVersion[];
}

interface Observation {
  source: VersionSource;
  commit: GitCommit | null;
  snap: Snapshot | null;
  /** Known fingerprint even without a snapshot (audit-only versions). */
  fingerprint: string | null;
  /** ISO time used to place audit-only versions between commits; null = now (working tree). */
  time: string | null;
  event: RequirementEvent | null;
  /** Change that recorded the version, for audit- or change-sourced versions. */
  change: string | null;
}

function normaliseBlock(raw: string): string {
  return `${(raw.includes("\r") ? raw.replace(/\r\n?/g, "\n") : raw).trimEnd()}\n`;
}

/**
 * Every requirement of one version of the spec, without fingerprints: parsing is cheap, normalising and
 * hashing every requirement of every version is not. `fingerprintOf` computes one when a requirement is picked.
 */
function snapshotsOf(
  text: string,
  file: string,
  capability: string,
  layout: Layout,
  only?: Set<string>,
): Map<string, Snapshot> {
  const { spec } = parseSpecOf(layout, text, file, capability, { fingerprints: false });
  return snapshotMap(spec, only);
}

/** Snapshots of the spec's requirements (only those in `only`, when given; the first of a duplicated ID). */
function snapshotMap(spec: Spec, only?: Set<string>): Map<string, Snapshot> {
  const out = new Map<string, Snapshot>();
  for (const r of spec.requirements) {
    if (out.has(r.id) || (only && !only.has(r.id))) continue;
    out.set(r.id, {
      id: r.id,
      title: r.title,
      fingerprint: r.fingerprint,
      status: r.markers?.status ?? null,
      provenance: r.markers?.provenance ?? {},
      block: normaliseBlock(r.raw),
    });
  }
  return out;
}

/** A block's fingerprint, parsed on its own (the fingerprint depends on nothing outside the block). */
function blockFingerprinter(file: string, capability: string): (block: string) => string {
  const memo = new Map<string, string>();
  return (block) => {
    let fp = memo.get(block);
    if (fp === undefined) {
      const { spec } = parseSpec(`## Requirements\n\n${block}`, file, capability, "keel");
      fp = spec.requirements[0]?.fingerprint ?? "";
      memo.set(block, fp);
    }
    return fp;
  };
}

/** Wraps a picker so that what it picks carries its fingerprint. */
function withFingerprints(
  pick: (snaps: Map<string, Snapshot>) => Snapshot | null,
  fingerprint: (block: string) => string,
): (snaps: Map<string, Snapshot>) => Snapshot | null {
  return (snaps) => {
    const s = pick(snaps);
    if (s && s.fingerprint === "") s.fingerprint = fingerprint(s.block);
    return s;
  };
}

/** The spec file's content at every commit that touched it, oldest first, each distinct content parsed once. */
function gitVersions(
  root: string,
  file: string,
  capability: string,
  layout: Layout,
  only?: Set<string>,
  onProgress?: HistoryOptions["onProgress"],
): Array<{ commit: GitCommit; snaps: Map<string, Snapshot> | null }> {
  const commits = fileLog(root, file).reverse();
  const blobs = fileAtRevisions(
    root,
    file,
    commits.map((c) => c.sha),
  );
  const parsed = new Map<string, Map<string, Snapshot>>();
  return commits.map((commit, i) => {
    onProgress?.(i + 1, commits.length);
    const blob = blobs[i];
    if (!blob) return { commit, snaps: null };
    let snaps = parsed.get(blob.oid);
    if (!snaps) {
      snaps = snapshotsOf(blob.text, file, capability, layout, only);
      parsed.set(blob.oid, snaps);
    }
    return { commit, snaps };
  });
}

function workingTree(
  root: string,
  file: string,
  capability: string,
  layout: Layout,
  only?: Set<string>,
): Map<string, Snapshot> | null {
  const abs = join(root, file);
  if (!existsSync(abs)) return null;
  const r = readSource(abs);
  if (!r.ok) return null;
  return snapshotsOf(r.text, file, capability, layout, only);
}

const same = (a: Snapshot | null, b: Snapshot | null): boolean =>
  a === null || b === null ? a === b : a.block === b.block;

/** Observations of one requirement, oldest first, identical consecutive ones merged. */
function observe(
  gitObs: Array<{ commit: GitCommit; snaps: Map<string, Snapshot> | null }>,
  current: Map<string, Snapshot> | null,
  pick: (snaps: Map<string, Snapshot>) => Snapshot | null,
  useGit: boolean,
): Observation[] {
  const out: Observation[] = [];
  const push = (o: Observation) => {
    const last = out[out.length - 1];
    if (last ? same(last.snap, o.snap) : o.snap === null) return;
    out.push(o);
  };
  for (const g of gitObs) {
    const snap = g.snaps ? pick(g.snaps) : null;
    push({
      source: "git",
      commit: g.commit,
      snap,
      fingerprint: snap?.fingerprint ?? null,
      time: g.commit.at,
      event: null,
      change: null,
    });
  }
  const snap = current ? pick(current) : null;
  const last = out[out.length - 1];
  if (!useGit || !last || !same(last.snap, snap)) {
    push({
      source: "working-tree",
      commit: null,
      snap,
      fingerprint: snap?.fingerprint ?? null,
      time: null,
      event: null,
      change: null,
    });
  }
  return out;
}

/**
 * Weaves the audit log in: an event that produced a known fingerprint attributes that version; one whose
 * result no snapshot shows (an apply overwritten before any commit) becomes a version of its own, placed by
 * time, with the text its change's delta wrote when the change is still on disk.
 */
function weaveEvents(
  obs: Observation[],
  events: RequirementEvent[],
  blockOf: (ev: RequirementEvent) => string | null,
  capability: string,
  file: string,
): Observation[] {
  const out = [...obs];
  for (const ev of events) {
    if (ev.after !== null) {
      const target = out.find((o) => o.fingerprint === ev.after && o.event === null && o.snap !== null);
      if (target) {
        target.event = ev;
        continue;
      }
      if (out.some((o) => o.fingerprint === ev.after && o.event?.change === ev.change)) continue;
      // The block the event recorded (apply writes it in `data.block`), else the one its change's delta wrote.
      const recorded = ev.event.data?.block;
      const raw = typeof recorded === "string" ? recorded : blockOf(ev);
      let snap: Snapshot | null = null;
      if (raw !== null) {
        const { spec } = parseSpec(`## Requirements\n\n${raw}`, file, capability, "keel");
        snap = [...snapshotMap(spec).values()][0] ?? null;
        if (snap && snap.fingerprint !== ev.after) snap = null;
      }
      const at = Date.parse(ev.event.at);
      let index = out.findIndex((o) => o.time === null || Date.parse(o.time) > at);
      if (index === -1) index = out.length;
      out.splice(index, 0, {
        source: "audit",
        commit: null,
        snap,
        fingerprint: ev.after,
        time: ev.event.at,
        event: ev,
        change: ev.change,
      });
    } else if (ev.before !== null) {
      const idx = out.findIndex(
        (o, i) => o.snap === null && o.event === null && i > 0 && out[i - 1]?.fingerprint === ev.before,
      );
      if (idx !== -1) (out[idx] as Observation).event = ev;
    }
  }
  return out;
}

function actorFromMarker(p: Provenance): string | null {
  if (!p.actor) return null;
  return p.actor.includes(":") || !p.origin ? p.actor : `${p.origin}:${p.actor}`;
}

function gitActor(c: GitCommit): string {
  return c.email ? `${c.author} <${c.email}>` : c.author;
}

function attribute(
  o: Observation,
  prev: Observation | null,
  changes: Map<string, { info: ChangeInfo; change: Change }>,
): Attribution {
  const p = o.snap?.provenance ?? {};
  const markerChange = p.change && p.change !== prev?.snap?.provenance.change ? p.change : null;
  const changeId = markerChange ?? o.event?.change ?? o.change ?? null;
  const info = changeId ? changes.get(changeId)?.info : undefined;
  const ev = o.event?.event ?? null;
  const evTool = typeof ev?.data?.tool === "string" ? ev.data.tool : null;
  const evModel = typeof ev?.data?.model === "string" ? ev.data.model : null;
  if (changeId) {
    const fromMarker = markerChange ? actorFromMarker(p) : null;
    const actor = fromMarker ?? info?.author ?? ev?.actor ?? (o.commit ? gitActor(o.commit) : null);
    const actorSource: ActorSource | null = fromMarker
      ? "marker"
      : info?.author
        ? "change"
        : ev
          ? "audit"
          : o.commit
            ? "git"
            : null;
    const kind = actor?.split(":")[0];
    return {
      actor,
      actorSource,
      origin: (markerChange ? p.origin : undefined) ?? (isOrigin(kind) ? kind : null),
      tool: (markerChange ? p.tool : undefined) ?? info?.tool ?? evTool,
      model: (markerChange ? p.model : undefined) ?? info?.model ?? evModel,
      change: changeId,
      at: (markerChange ? p.at : undefined) ?? ev?.at ?? info?.applied ?? o.commit?.at ?? null,
      why: info?.why ?? ev?.reason ?? o.commit?.subject ?? null,
    };
  }
  if (ev) {
    return {
      actor: ev.actor,
      actorSource: "audit",
      origin: ev.actorKind,
      tool: evTool,
      model: evModel,
      change: null,
      at: ev.at,
      why: ev.reason ?? o.commit?.subject ?? null,
    };
  }
  if (o.commit) {
    return {
      actor: gitActor(o.commit),
      actorSource: "git",
      origin: null,
      tool: null,
      model: null,
      change: null,
      at: o.commit.at,
      why: o.commit.subject,
    };
  }
  return {
    actor: null,
    actorSource: null,
    origin: null,
    tool: null,
    model: null,
    change: null,
    at: null,
    why: null,
  };
}

function isOrigin(v: string | undefined): v is Origin {
  return v === "human" || v === "agent" || v === "system";
}

function kindOf(o: Observation, prev: Observation | null): VersionKind {
  if (o.snap === null && o.fingerprint === null) return "removed";
  if (!prev || (prev.snap === null && prev.fingerprint === null)) return "added";
  if (o.fingerprint !== prev.fingerprint) return "modified";
  if (o.snap && prev.snap && o.snap.title !== prev.snap.title) return "renamed";
  return "metadata";
}

/** A unified line diff without file headers: `@@` hunks with ` `, `-` and `+` lines. */
export function lineDiff(before: string, after: string): string {
  const patch = structuredPatch("a", "b", before, after, "", "", { context: 3 });
  const out: string[] = [];
  for (const h of patch.hunks) {
    // As GNU diff writes them: an empty side starts at line 0.
    const oldStart = h.oldLines === 0 ? h.oldStart - 1 : h.oldStart;
    const newStart = h.newLines === 0 ? h.newStart - 1 : h.newStart;
    out.push(`@@ -${oldStart},${h.oldLines} +${newStart},${h.newLines} @@`);
    for (const line of h.lines) if (!line.startsWith("\\")) out.push(line);
  }
  return out.join("\n");
}

function toVersions(
  obs: Observation[],
  changes: Map<string, { info: ChangeInfo; change: Change }>,
): RequirementVersion[] {
  const versions: RequirementVersion[] = [];
  let prev: Observation | null = null;
  for (const o of obs) {
    const who = attribute(o, prev, changes);
    const before = prev === null ? "" : prev.snap ? prev.snap.block : prev.fingerprint === null ? "" : null;
    const after = o.snap ? o.snap.block : o.fingerprint === null ? "" : null;
    versions.push({
      version: versions.length + 1,
      kind: kindOf(o, prev),
      source: o.source,
      commit: o.commit
        ? {
            sha: o.commit.sha,
            author: o.commit.author,
            email: o.commit.email,
            at: o.commit.at,
            subject: o.commit.subject,
          }
        : null,
      event: o.event
        ? {
            seq: o.event.event.seq,
            action: o.event.event.action,
            actor: o.event.event.actor,
            at: o.event.event.at,
          }
        : null,
      id: o.snap?.id ?? null,
      title: o.snap?.title ?? null,
      fingerprint: o.fingerprint,
      status: o.snap?.status ?? null,
      basis: o.snap?.provenance.basis ?? null,
      block: o.snap?.block ?? null,
      diff: before === null || after === null ? null : lineDiff(before, after),
      ...who,
    });
    prev = o;
  }
  return versions;
}

function specFileFor(loaded: LoadedProject, capability: string): { file: string; layout: Layout } {
  const spec = loaded.specs.find((s) => s.capability === capability);
  if (spec) return { file: spec.file, layout: spec.layout };
  const layout: NativeLayout = loaded.project.native[0] ?? "keel";
  return { file: `${LAYOUT_DIR[layout]}/specs/${capability}/spec.md`, layout };
}

/** Where a requirement lives (or lived): its capability and spec file. */
function locate(
  loaded: LoadedProject,
  id: string,
): { capability: string; file: string; layout: Layout; current: boolean } | null {
  for (const spec of [...loaded.specs].sort((a, b) => (a.file < b.file ? -1 : 1))) {
    if (spec.requirements.some((r) => r.id === id)) {
      return { capability: spec.capability, file: spec.file, layout: spec.layout, current: true };
    }
  }
  const capability =
    capabilityInChanges(id, loaded.changes) ??
    (id.includes("/") && loaded.specs.some((s) => s.capability === id.slice(0, id.lastIndexOf("/")))
      ? id.slice(0, id.lastIndexOf("/"))
      : null);
  if (capability === null) return null;
  return { capability, ...specFileFor(loaded, capability), current: false };
}

export interface HistoryOptions {
  /** Told the commits of the spec file read so far, of all of them, as the history is built. */
  onProgress?: (done: number, total: number) => void;
}

export function requirementHistory(
  start: string,
  id: string,
  explicitRoot = false,
  options: HistoryOptions = {},
): RequirementHistory {
  const loaded = loadProject(start, { explicitRoot, includeArchived: true });
  const root = loaded.project.root;
  let where = locate(loaded, id);
  let events: AuditEvent[] = [];
  if (!where) {
    // Only the audit log may know it (added and removed before any commit): take its capability from there.
    events = loadEvents(root, [id]);
    const cap = events.map((e) => e.data?.capability).find((c): c is string => typeof c === "string");
    if (cap) where = { capability: cap, ...specFileFor(loaded, cap), current: false };
  }
  if (!where) {
    throw usageError(
      `no requirement "${id}" in the living specs, the changes or the audit log`,
      "run `keel list requirements` for requirement IDs",
    );
  }
  const { capability, file, layout } = where;
  const aliases = earlierIds(id, capability, loaded.changes);
  const ids = [id, ...aliases];
  const pick = (snaps: Map<string, Snapshot>): Snapshot | null => {
    for (const i of ids) {
      const s = snaps.get(i);
      if (s) return s;
    }
    return null;
  };
  const useGit = insideGit(root);
  const idSet = new Set(ids);
  const gitObs = useGit ? gitVersions(root, file, capability, layout, idSet, options.onProgress) : [];
  const changes = changeIndex(loaded.changes);
  const fingerprint = blockFingerprinter(file, capability);
  let obs = observe(
    gitObs,
    workingTree(root, file, capability, layout, idSet),
    withFingerprints(pick, fingerprint),
    useGit,
  );
  if (events.length === 0) events = loadEvents(root, ids);
  obs = weaveEvents(
    obs,
    requirementEvents(events, capability, ids),
    (ev) => {
      const c = ev.change ? changes.get(ev.change)?.change : undefined;
      return c ? deltaBlock(c, capability, idSet) : null;
    },
    capability,
    file,
  );
  return {
    id,
    capability,
    file,
    current: where.current,
    git: useGit,
    aliases,
    versions: toVersions(obs, changes),
  };
}

export interface BlameEntry extends Attribution {
  id: string;
  title: string;
  line: number;
  fingerprint: string;
  /** How many versions the requirement has had (see `keel history`). */
  versions: number;
  /** The version that introduced the current content (same fingerprint ever since). */
  introduced: {
    version: number;
    source: VersionSource;
    commit: { sha: string; author: string; at: string; subject: string } | null;
    event: { seq: number; action: string } | null;
  };
}

export interface SpecBlame {
  capability: string;
  file: string;
  git: boolean;
  requirements: BlameEntry[];
}

/** Attributes every requirement of a spec (by capability or file) to the version that introduced its content. */
export function specBlame(start: string, target: string, explicitRoot = false): SpecBlame {
  const loaded = loadProject(start, { explicitRoot, includeArchived: true });
  const root = loaded.project.root;
  const norm = target.replace(/\\/g, "/").replace(/^\.\//, "");
  const spec =
    loaded.specs.find((s) => s.capability === norm) ??
    loaded.specs.find((s) => s.file === norm) ??
    loaded.specs.find((s) => join(root, s.file) === join(start, target));
  if (!spec) {
    throw usageError(
      `no spec "${target}"`,
      "name a capability (`payments`) or a spec file (`keel/specs/payments/spec.md`); `keel list` lists them",
    );
  }
  const current = snapshotMap(spec);
  const useGit = insideGit(root);
  const gitObs = useGit ? gitVersions(root, spec.file, spec.capability, spec.layout) : [];
  const changes = changeIndex(loaded.changes);
  const allEvents = loadEvents(root);
  const fingerprint = blockFingerprinter(spec.file, spec.capability);
  const entries: BlameEntry[] = [];
  for (const r of spec.requirements) {
    if (entries.some((e) => e.id === r.id)) continue;
    const ids = [r.id, ...earlierIds(r.id, spec.capability, loaded.changes)];
    const pick = (snaps: Map<string, Snapshot>): Snapshot | null => {
      for (const i of ids) {
        const s = snaps.get(i);
        if (s) return s;
      }
      return null;
    };
    const obs = weaveEvents(
      observe(gitObs, current, withFingerprints(pick, fingerprint), useGit),
      requirementEvents(allEvents, spec.capability, ids),
      () => null,
      spec.capability,
      spec.file,
    );
    // The last run of versions with today's fingerprint: its first version introduced this content.
    let first = obs.length - 1;
    while (first > 0 && obs[first - 1]?.fingerprint === r.fingerprint) first--;
    const o = obs[first] as Observation;
    const who = attribute(o, first > 0 ? (obs[first - 1] as Observation) : null, changes);
    entries.push({
      id: r.id,
      title: r.title,
      line: r.headingSpan.start.line,
      fingerprint: r.fingerprint,
      versions: obs.length,
      introduced: {
        version: first + 1,
        source: o.source,
        commit: o.commit
          ? { sha: o.commit.sha, author: o.commit.author, at: o.commit.at, subject: o.commit.subject }
          : null,
        event: o.event ? { seq: o.event.event.seq, action: o.event.event.action } : null,
      },
      ...who,
    });
  }
  return { capability: spec.capability, file: spec.file, git: useGit, requirements: entries };
}
