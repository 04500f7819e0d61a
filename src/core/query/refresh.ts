// Keeps the query index in step with the files. A refresh compares every discovered file's size and mtime
// with what the index recorded; only files that differ are read, and only those whose content hash differs
// are parsed again (delete the file's rows, insert the new ones). Files that vanished lose their rows.
//
// The comparison runs first without a lock; only when something changed does the refresh take the write
// lock (BEGIN IMMEDIATE) and compare again inside it, so two processes refreshing at once serialise and the
// second finds little or nothing left to do.
// @req IDX-2, IDX-3, IDX-5, QRY-6

import { parseChange, type SourceFile } from "../../format/change.js";
import { parseConstitutionOf, parseSpecOf } from "../../format/layouts/index.js";
import { withSidecar } from "../../format/layouts/sidecar.js";
import { contentHash } from "../../model/fingerprint.js";
import type { QueryStore, SourceKind, SourceRow } from "../../store/query-index.js";
import { type Discovery, discover, type SourceEntry } from "../../workspace/discover.js";
import { readSource } from "../../workspace/read.js";
import type { ProjectRoot } from "../../workspace/root.js";
import type { Sidecars } from "../../workspace/sidecars.js";
import { changeSources } from "../change-sources.js";
import { isCurrent, queryFormat, type StoredTree } from "./fresh.js";
import {
  type ConstitutionRecord,
  changeRecord,
  changeRow,
  requirementRecord,
  requirementRow,
  specRow,
  unreadableSpecRow,
} from "./records.js";

export interface RefreshCounts {
  /** Files read and parsed again because their content changed (or was never indexed). */
  parsed: number;
  /** Files whose rows were removed because the file is gone. */
  removed: number;
  /** True when the rows were dropped first: never built, another Keel version, or a corrupt index. */
  rebuilt: boolean;
}

const CHANGE_ROLES = new Set(["proposal", "tasks", "change-meta", "delta"]);

function kindOf(entry: SourceEntry): SourceKind | null {
  if (entry.change) return CHANGE_ROLES.has(entry.role) ? "change" : null;
  if (entry.role === "spec") return "spec";
  if (entry.role === "constitution") return "constitution";
  return null;
}

interface Plan {
  rebuild: boolean;
  candidates: SourceEntry[];
  vanished: SourceRow[];
  /** Change folders to parse again (new ones, and ones whose files changed or vanished). */
  dirtyChanges: Set<string>;
  goneChanges: string[];
}

/** The side files of the project, and the row format they make (fresh.ts, queryFormat). */
interface Overlay {
  sidecars: Sidecars;
  format: string;
}

function plan(store: QueryStore, discovery: Discovery, overlay: Overlay, forceRebuild: boolean): Plan {
  const rebuild = forceRebuild || store.getState("format") !== overlay.format;
  const known = rebuild ? new Map<string, SourceRow>() : store.sources();
  const changeHashes = rebuild ? new Map<string, string>() : store.changeHashes();
  const candidates: SourceEntry[] = [];
  const dirtyChanges = new Set<string>();
  const present = new Set<string>();
  for (const entry of discovery.files) {
    const kind = kindOf(entry);
    if (!kind) continue;
    present.add(entry.rel);
    if (isCurrent(known.get(entry.rel), entry.size, entry.mtimeMs)) continue;
    if (entry.change) dirtyChanges.add(entry.change.dir);
    else candidates.push(entry);
  }
  const vanished = [...known.values()].filter((row) => !present.has(row.rel));
  for (const row of vanished) if (row.owner) dirtyChanges.add(row.owner);
  const liveChanges = new Set(discovery.changes.map((c) => c.dir));
  for (const dir of liveChanges) if (!changeHashes.has(dir)) dirtyChanges.add(dir);
  for (const dir of dirtyChanges) if (!liveChanges.has(dir)) dirtyChanges.delete(dir);
  const goneChanges = [...changeHashes.keys()].filter((dir) => !liveChanges.has(dir));
  return { rebuild, candidates, vanished, dirtyChanges, goneChanges };
}

function isEmpty(p: Plan): boolean {
  return (
    !p.rebuild &&
    p.candidates.length === 0 &&
    p.vanished.length === 0 &&
    p.dirtyChanges.size === 0 &&
    p.goneChanges.length === 0
  );
}

/** Brings the query tables in step with `discovery`. Writes nothing when nothing changed. */
export function refresh(
  store: QueryStore,
  discovery: Discovery,
  overlay: Overlay,
  forceRebuild = false,
): RefreshCounts {
  if (isEmpty(plan(store, discovery, overlay, forceRebuild)))
    return { parsed: 0, removed: 0, rebuilt: false };
  return store.write(() => {
    // Again under the write lock: another process may have done (some of) the work meanwhile.
    const p = plan(store, discovery, overlay, forceRebuild);
    if (isEmpty(p)) return { parsed: 0, removed: 0, rebuilt: false };
    return apply(store, discovery, p, overlay);
  });
}

function apply(store: QueryStore, discovery: Discovery, p: Plan, overlay: Overlay): RefreshCounts {
  if (p.rebuild) store.clear();
  const now = Date.now();
  let parsed = 0;
  const source = (entry: SourceEntry, kind: SourceKind, hash: string): SourceRow => ({
    rel: entry.rel,
    kind,
    owner: entry.change?.dir ?? null,
    size: entry.size,
    mtime: entry.mtimeMs,
    hash,
    indexedAt: now,
  });

  for (const entry of p.candidates) {
    const kind = kindOf(entry) as SourceKind;
    const read = readSource(entry.abs, entry.size);
    const hash = read.ok ? contentHash(read.bytes) : `unreadable:${read.problem.rule}`;
    const old = p.rebuild ? null : store.source(entry.rel);
    if (old && old.hash === hash) {
      store.putSource(source(entry, kind, hash));
      continue;
    }
    parsed++;
    if (kind === "spec") {
      const capability = entry.capability as string;
      if (read.ok) {
        const spec = withSidecar(
          parseSpecOf(entry.layout, read.text, entry.rel, capability).spec,
          overlay.sidecars.byLayout.get(entry.layout),
        );
        store.putSpecFile(
          specRow(spec),
          spec.requirements.map((r) => requirementRow(requirementRecord(spec, r))),
          p.rebuild,
        );
      } else {
        store.putSpecFile(
          unreadableSpecRow(entry.rel, capability, entry.layout, read.problem.message),
          [],
          p.rebuild,
        );
      }
    } else if (read.ok) {
      const { constitution } = parseConstitutionOf(entry.layout, read.text, entry.rel);
      const record: ConstitutionRecord = {
        file: entry.rel,
        principles: constitution.principles.map((x) => ({
          id: x.id,
          title: x.title,
          gate: x.gate,
          line: x.span.start.line,
        })),
      };
      store.setState("constitution", JSON.stringify(record));
    } else {
      store.setState("constitution", JSON.stringify({ file: entry.rel, principles: [] }));
    }
    store.putSource(source(entry, kind, hash));
  }

  for (const row of p.vanished) {
    if (row.kind === "spec") store.deleteSpecFile(row.rel);
    else if (row.kind === "constitution") store.setState("constitution", "null");
    store.deleteSource(row.rel);
  }

  for (const dir of p.goneChanges) store.deleteChange(dir);
  if (p.dirtyChanges.size > 0) {
    const filesOf = new Map<string, SourceEntry[]>();
    for (const entry of discovery.files) {
      if (!entry.change || !p.dirtyChanges.has(entry.change.dir) || !CHANGE_ROLES.has(entry.role)) continue;
      const list = filesOf.get(entry.change.dir) ?? [];
      list.push(entry);
      filesOf.set(entry.change.dir, list);
    }
    const stored = p.rebuild ? new Map<string, string>() : store.changeHashes();
    for (const ref of discovery.changes) {
      if (!p.dirtyChanges.has(ref.dir)) continue;
      const files = filesOf.get(ref.dir) ?? [];
      const texts = new Map<string, SourceFile>();
      const hashes: string[] = [];
      for (const entry of files) {
        const read = readSource(entry.abs, entry.size);
        const hash = read.ok ? contentHash(read.bytes) : `unreadable:${read.problem.rule}`;
        hashes.push(`${entry.rel}\u0000${hash}`);
        if (read.ok) texts.set(entry.rel, { file: entry.rel, text: read.text });
        store.putSource(source(entry, "change", hash));
      }
      const changeHash = contentHash(`${ref.archived}\u0000${ref.layout}\u0000${hashes.join("\n")}`);
      if (stored.get(ref.dir) === changeHash) continue;
      parsed += Math.max(files.length, 1);
      const { change } = parseChange(changeSources(ref, files, (entry) => texts.get(entry.rel) ?? null));
      store.putChange(changeRow(changeRecord(change), changeHash));
    }
  }

  store.setState("format", overlay.format);
  store.setState("refreshed_at", String(now));
  return { parsed, removed: p.vanished.length, rebuilt: p.rebuild };
}

export interface WalkResult extends RefreshCounts {
  /** Files found by the walk. */
  checked: number;
}

/**
 * Walks the project's folders and brings the whole index up to date, then records the folders walked so
 * that the next check (`replay` in fresh.ts) can tell whether anything changed without walking.
 */
export function walkAndRefresh(
  project: ProjectRoot,
  store: QueryStore,
  sidecars: Sidecars,
  forceRebuild: boolean,
): WalkResult {
  const at = Date.now();
  const discovery = discover(project);
  const counts = refresh(
    store,
    discovery,
    { sidecars, format: queryFormat(project, sidecars) },
    forceRebuild,
  );
  // A walk that met unreadable folders or bad links is not replayed: fixing those moves no mtime.
  const tree: StoredTree | null =
    discovery.problems.length > 0
      ? null
      : { layouts: project.layouts, at, dirs: discovery.dirs.map((d) => [d.rel, d.mtimeMs]) };
  store.write(() => store.setState("tree", JSON.stringify(tree)));
  return { ...counts, checked: discovery.files.length };
}
