// Is the query index still in step with the files? The cheap checks, kept apart from the parsers so that a
// command answering from an up-to-date index loads no parsing code (core/query/refresh.ts is loaded lazily).
import { statSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { BUILD_ID } from "../../model/version.js";
import type { QueryStore, SourceRow } from "../../store/query-index.js";
import { changeStamp, RACY_WINDOW_MS } from "../../workspace/discover.js";
import { currentGeneration, markVerified, stillVerified } from "../../workspace/freshness.js";
import type { ProjectRoot } from "../../workspace/root.js";
import type { Sidecars } from "../../workspace/sidecars.js";
import { rootsSignature } from "../../workspace/spec-roots.js";

/** Rows written by another parser version are dropped and rebuilt. Bump the suffix when the rows change. */
const QUERY_FORMAT = `${BUILD_ID}/q2`;

/**
 * The format the rows are in: the parser version, the spec roots, and the side files' statuses (workspace/sidecars.ts), which
 * change rows of spec files that did not move; a side file edited is a rebuild (they change rarely).
 */
export function queryFormat(project: ProjectRoot, sidecars: Sidecars): string {
  // The spec roots name their files' IDs: renaming one is a rebuild too (nothing is added without roots).
  const roots =
    project.roots.length === 0 ? "" : `/${contentHash(rootsSignature(project.roots)).slice(0, 16)}`;
  const base = `${QUERY_FORMAT}${roots}`;
  return sidecars.signature === "" ? base : `${base}/${sidecars.signature.slice(0, 16)}`;
}

/** The folders of the last walk, stored in the index to check later without walking again. */
export interface StoredTree {
  layouts: string[];
  /** When the walk began: entries with an older mtime (by more than the racy window) can be trusted. */
  at: number;
  dirs: Array<[string, number]>;
}

/**
 * Is the recorded row still good for a file with this size and change stamp? "mtime" here and in the rows
 * is the discovery's change stamp: the later of mtime and ctime, so a same-size edit whose mtime was set
 * back is still seen.
 */
export function isCurrent(row: SourceRow | undefined | null, size: number, mtimeMs: number): boolean {
  return (
    row !== undefined &&
    row !== null &&
    row.size === size &&
    row.mtime === mtimeMs &&
    mtimeMs < row.indexedAt - RACY_WINDOW_MS
  );
}

/**
 * The number of folders and files checked when nothing changed since the last walk; null when something
 * may have. One stat per folder (its mtime moves when an entry is added, removed or renamed in it) and one
 * per indexed file (its size or mtime moves when it is written).
 */
export function replay(project: ProjectRoot, store: QueryStore, format: string): number | null {
  if (store.getState("format") !== format) return null;
  const text = store.getState("tree");
  const tree = text ? (JSON.parse(text) as StoredTree | null) : null;
  if (!tree || tree.layouts.join() !== project.layouts.join()) return null;
  // A watcher that has seen nothing since this tree was last checked vouches for it (workspace/freshness.ts).
  const key = `query:${format}:${tree.at}`;
  const generation = currentGeneration(project.root);
  const vouched = stillVerified(project.root, key);
  if (vouched !== null) return vouched;
  const checked = statPass(project, store, tree);
  if (checked !== null) markVerified(project.root, key, generation, checked);
  return checked;
}

function statPass(project: ProjectRoot, store: QueryStore, tree: StoredTree): number | null {
  const trusted = tree.at - RACY_WINDOW_MS;
  for (const [rel, mtimeMs] of tree.dirs) {
    if (mtimeMs >= trusted) return null;
    const st = statSync(join(project.root, rel), { throwIfNoEntry: false });
    if (!st || changeStamp(st) !== mtimeMs) return null;
  }
  const sources = store.sourceStats();
  for (const [rel, size, mtimeMs, indexedAt] of sources) {
    if (mtimeMs >= indexedAt - RACY_WINDOW_MS) return null;
    const st = statSync(join(project.root, rel), { throwIfNoEntry: false });
    if (!st || st.size !== size || changeStamp(st) !== mtimeMs) return null;
  }
  return tree.dirs.length + sources.length;
}

/**
 * Checks only the given files against the index (one stat each). True when every one is unchanged;
 * false when any was edited, replaced, removed, or is too recent to trust its mtime.
 */
export function filesUnchanged(project: ProjectRoot, store: QueryStore, rels: Iterable<string>): boolean {
  for (const rel of new Set(rels)) {
    const row = store.source(rel);
    if (!row) return false;
    const st = statSync(join(project.root, rel), { throwIfNoEntry: false });
    if (!st?.isFile() || !isCurrent(row, st.size, changeStamp(st))) return false;
  }
  return true;
}
