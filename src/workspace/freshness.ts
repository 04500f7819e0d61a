// Has anything under the project changed since a check last found it unchanged? A one-shot CLI run answers by
// stat-ing every file it indexed; a long-lived process (`keel daemon`, `keel serve`, `keel mcp`) installs a
// watcher here and answers by comparing one counter.
//
// The counter is deliberately coarse: any event anywhere in the project moves it, and the next check falls back
// to the full stat pass, which then finds which files changed (and only those are parsed again). A coarse
// counter cannot be fooled by an event it missed: the kernel drops events only when its queue overflows, and the
// events that fill it move the counter as well.

/**
 * Which changes a kept value depends on. `all`: any. `code`: any but the intent folders (`keel/`, `openspec/`), which
 * the trace scan never reads (it is told the requirement IDs instead). `git`: `.git` only (HEAD, the index, branches).
 */
export type Scope = "all" | "code" | "git";

/** What a watcher tells: how many changes it has seen under `root`, or null when it does not cover `root`. */
export interface Freshness {
  generation(root: string, scope?: Scope): number | null;
  /** Resolves once every change made before the call has been counted. */
  sync(): Promise<void>;
  /** Counts a write of this process's own at once, in the scopes its path belongs to. */
  wrote(path: string): void;
}

let installed: Freshness | null = null;

/**
 * Called by every writer of project files (workspace/atomic.ts and the few that rename or remove) with the path
 * written: a request that writes and then reads must not be answered from memory made before its own write,
 * whose event the watcher has not delivered yet.
 */
export function noteLocalWrite(path: string): void {
  installed?.wrote(path);
}

/** Checks that succeeded, by project and key, with the generation they were made at and what they counted. */
const verified = new Map<string, { generation: number; count: number }>();

/** Values kept by memoUntilChange, by project and key, with the generation they were computed at. */
const memos = new Map<string, { generation: number; value: unknown }>();

/** Installs (or, with null, removes) the watcher this process answers freshness from. */
export function installFreshness(freshness: Freshness | null): void {
  installed = freshness;
  verified.clear();
  memos.clear();
}

/**
 * Waits until the watcher has counted every change made before the call: a long-lived process calls it as each
 * request arrives, before the request reads anything. Without a watcher it returns at once.
 */
export function syncFreshness(): Promise<void> {
  return installed ? installed.sync() : Promise.resolve();
}

/**
 * The current generation of `root`, to be read *before* a stat pass begins: a change during the pass moves
 * the counter past it, so the pass is not trusted for longer than it deserves.
 */
export function currentGeneration(root: string, scope: Scope = "all"): number | null {
  return installed?.generation(root, scope) ?? null;
}

/**
 * What a check with this key counted when it succeeded at the current generation (nothing has changed since),
 * or null when it must be made again.
 */
export function stillVerified(root: string, key: string): number | null {
  const generation = currentGeneration(root);
  const known = verified.get(`${root}\0${key}`);
  return generation !== null && known?.generation === generation ? known.count : null;
}

/** Records that a check with this key, counting `count`, succeeded at `generation` (read before it began). */
export function markVerified(root: string, key: string, generation: number | null, count: number): void {
  if (generation === null) return;
  if (verified.size > 1000) verified.clear();
  verified.set(`${root}\0${key}`, { generation, count });
}

/**
 * A value computed from the files, kept while the watcher sees no change: `compute` runs again after any event.
 * Without a watcher it always runs, which is what a one-shot process wants.
 */
export function memoUntilChange<T>(root: string, key: string, compute: () => T, scope: Scope = "all"): T {
  const generation = currentGeneration(root, scope);
  const slot = `${root}\0${scope}\0${key}`;
  if (generation !== null) {
    const kept = memos.get(slot);
    if (kept && kept.generation === generation) return kept.value as T;
  }
  const value = compute();
  if (generation !== null) {
    if (memos.size > 100) memos.clear();
    memos.set(slot, { generation, value });
    // A failed computation is not kept: the next call tries again (it may have been a busy lock).
    if (value instanceof Promise)
      value.catch(() => {
        if (memos.get(slot)?.value === value) memos.delete(slot);
      });
  }
  return value;
}
