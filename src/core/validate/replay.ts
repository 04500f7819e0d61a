// The cheap half of `keel validate`'s warm path, apart from the analysis so that a warm run loads no parser or
// rule (importing the engine costs about 100 ms): is the stored result still good (one stat per folder and file,
// or nothing while a watcher vouches), and the rendered answers kept with it.
// @req IDX-6

import { statSync } from "node:fs";
import { sep } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { BUILD_ID } from "../../model/version.js";
import { IndexDb } from "../../store/index-db.js";
import type { KeelConfig } from "../../workspace/config.js";
import { changeStamp, RACY_WINDOW_MS } from "../../workspace/discover.js";
import { currentGeneration, markVerified, stillVerified } from "../../workspace/freshness.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { loadSidecars, type Sidecars } from "../../workspace/sidecars.js";
import { rootsSignature } from "../../workspace/spec-roots.js";
import type { RunStats } from "./engine.js";

/** Results stored by another build may differ from what this one computes. */
export const ENGINE_VERSION = `${BUILD_ID}/1`;

export interface Tree {
  dirs: Array<[string, number]>;
  files: Array<[string, number, number]>;
}

/** A command's rendered answer, kept with the stored result it was rendered from. */
export interface KeptAnswer {
  code: number;
  text: string;
}

/**
 * The answer a command rendered for `key` from the stored result, when nothing changed since (the same check as
 * the warm replay): printing it costs no parse of the result. `key` names everything else that shapes it.
 */
export function keptAnswer(project: ProjectRoot, config: KeelConfig, key: string): KeptAnswer | null {
  let index: IndexDb;
  try {
    index = IndexDb.open(project.root);
  } catch {
    return null;
  }
  try {
    const replayable = replayedStamp(index, project, signatureOf(project, config, loadSidecars(project)));
    const kept = replayable === null ? null : index.keptForResult(key, replayable.writtenAt);
    if (kept === null) return null;
    const nl = kept.indexOf("\n");
    return { code: Number(kept.slice(0, nl)), text: kept.slice(nl + 1) };
  } finally {
    index.close();
  }
}

/** Keeps a rendered answer with the stored result `stats.writtenAt` names, for keptAnswer. */
export function keepAnswer(project: ProjectRoot, stats: RunStats, key: string, answer: KeptAnswer): void {
  if (stats.writtenAt === null) return;
  try {
    const index = IndexDb.open(project.root);
    try {
      index.keepForResult(key, stats.writtenAt, `${answer.code}\n${answer.text}`);
    } finally {
      index.close();
    }
  } catch {
    // Locked past the timeout, or not writable: the answer is simply not kept.
  }
}

export function signatureOf(project: ProjectRoot, config: KeelConfig, sidecars: Sidecars): string {
  // The spec roots name their files' IDs, so they are part of it (nothing is added without them).
  const roots = rootsSignature(project.roots);
  return contentHash(
    JSON.stringify([ENGINE_VERSION, config, project.layouts, sidecars.signature, ...(roots ? [roots] : [])]),
  );
}

/**
 * The stamp of the stored result and the files it covers when it can be replayed (same signature, nothing
 * changed since), else null.
 */
export function replayedStamp(
  index: IndexDb,
  project: ProjectRoot,
  configSignature: string,
): { writtenAt: string; files: number } | null {
  if (index.getMeta("config_signature") !== configSignature) return null;
  const writtenAt = index.getMeta("written_at") ?? "0";
  // A watcher that has seen nothing since this very result was last checked vouches for it (workspace/freshness.ts).
  const key = `validate:${writtenAt}`;
  const generation = currentGeneration(project.root);
  const vouched = stillVerified(project.root, key);
  if (vouched !== null) return { writtenAt, files: vouched };
  const treeText = index.getMeta("tree");
  if (!treeText) return null;
  const files = unchangedTree(JSON.parse(treeText) as Tree, project, Number(writtenAt) - RACY_WINDOW_MS);
  if (files === null) return null;
  markVerified(project.root, key, generation, files);
  return { writtenAt, files };
}

/**
 * The number of files in `tree` when no folder or file in it has changed (by change stamp and size, and none is
 * recent enough to have changed within the file system's timestamp granularity); otherwise null.
 */
function unchangedTree(tree: Tree, project: ProjectRoot, trusted: number): number | null {
  // Plain concatenation: `rel` is already normalised (forward slashes, no `..`), and path.join over
  // 20,000 entries is a measurable part of a warm run.
  const prefix = `${project.root}${sep}`;
  for (const [rel, mtimeMs] of tree.dirs) {
    if (mtimeMs >= trusted) return null;
    const st = statSync(rel === "" ? project.root : prefix + rel, { throwIfNoEntry: false });
    if (!st || changeStamp(st) !== mtimeMs) return null;
  }
  for (const [rel, size, mtimeMs] of tree.files) {
    if (mtimeMs >= trusted) return null;
    const st = statSync(prefix + rel, { throwIfNoEntry: false });
    if (!st || st.size !== size || changeStamp(st) !== mtimeMs) return null;
  }
  return tree.files.length;
}
