// The ready queue without a parse. The claim-free ready set of the last graph is kept in `.keel/`, keyed by the
// build and by the (path, size, change stamp) of every task file. A claim changes the readiness of the claimed
// task only, never of another, so filtering the cached set by the live claims gives exactly what a fresh build
// of the graph would. A file stamped within the racy window of the cache write is not trusted (as the index).
// @req TSK-10
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { BUILD_ID } from "../../model/version.js";
import { STATE_DIR } from "../../store/index-db.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { RACY_WINDOW_MS } from "../../workspace/discover.js";
import { currentGeneration, memoUntilChange } from "../../workspace/freshness.js";
import { keelClosed } from "./claim-ops.js";
import { buildGraph, type IsClaimed, ready } from "./graph.js";
import { type FoundTaskSource, findTaskSources, loadTaskGraph, loadTasks, writesTasks } from "./load.js";
import { type TaskView, taskView } from "./view.js";

const CACHE_FILE = "tasks-ready.json";

interface ReadyCache {
  build: string;
  writtenAt: number;
  files: Array<[file: string, size: number, stamp: number]>;
  ready: TaskView[];
}

/**
 * The task files by path, size and stamp; and, where a layout Keel never writes is read (Beads), the tasks Keel's
 * state closed, which change readiness there as a checkbox does elsewhere (see `withKeelClosed` in load.ts).
 */
function signature(
  sources: FoundTaskSource[],
  closed: ReadonlyMap<string, string> | undefined,
): ReadyCache["files"] {
  const files: ReadyCache["files"] = sources.map((s) => [s.file, s.size, s.stamp]);
  if (closed) {
    const text = [...closed].join(";");
    files.push([`keel-state:${contentHash(text)}`, text.length, 0]);
  }
  return files;
}

/** The cache as last read or written by this process, per project: a server need not parse it on every call. */
const inProcess = new Map<string, ReadyCache>();

function readCache(root: string): ReadyCache | null {
  try {
    return JSON.parse(readFileSync(join(root, STATE_DIR, CACHE_FILE), "utf8")) as ReadyCache;
  } catch {
    return null;
  }
}

/** The cache holds for these task files: same build, same files, and each file older than the racy window. */
function holds(cache: ReadyCache, files: ReadyCache["files"]): boolean {
  if (cache.build !== BUILD_ID || cache.files.length !== files.length) return false;
  const trusted = cache.writtenAt - RACY_WINDOW_MS;
  for (let i = 0; i < files.length; i++) {
    const [file, size, stamp] = files[i] as ReadyCache["files"][number];
    const had = cache.files[i] as ReadyCache["files"][number];
    if (had[0] !== file || had[1] !== size || had[2] !== stamp || stamp >= trusted) return false;
  }
  return true;
}

/** Claim-free ready tasks in file order, from the cache when every task file is as it was. */
function readyViews(root: string): TaskView[] {
  // Stat before reading: a file that changes after its stat is recorded with the older stamp, so the next
  // run sees the difference and rebuilds.
  const sources = findTaskSources(root);
  // A process with a watcher needs neither stamps nor the racy window (which, while agents tick checkboxes, would
  // make every call rebuild): it keeps the queue until the watcher sees a change. Not for a status kept in
  // Keel's store (Beads), which the watcher cannot see.
  if (currentGeneration(root) !== null && sources.every((s) => writesTasks(s.dialect)))
    return memoUntilChange(root, "ready-views", () => {
      const graph = loadTaskGraph(root);
      return ready(graph).map((k) => taskView(graph, k));
    });
  // Read once, for the signature and for the graph (loadTasks would read it again).
  const closed = sources.some((s) => !writesTasks(s.dialect)) ? keelClosed(root) : undefined;
  const files = signature(sources, closed);
  const known = inProcess.get(root);
  if (known && holds(known, files)) return known.ready;
  const stored = readCache(root);
  if (stored && holds(stored, files)) {
    inProcess.set(root, stored);
    return stored.ready;
  }
  const writtenAt = Date.now();
  const graph = buildGraph(loadTasks(root, sources, closed));
  const views = ready(graph).map((k) => taskView(graph, k));
  // A file stamped within the racy window makes the cache refused anyway: while agents keep ticking
  // checkboxes, writing (and flushing) it would only cost every call a write.
  const cache: ReadyCache = { build: BUILD_ID, writtenAt, files, ready: views };
  if (!holds(cache, files)) return views;
  inProcess.set(root, cache);
  try {
    mkdirSync(join(root, STATE_DIR), { recursive: true });
    writeFileAtomic(join(root, STATE_DIR, CACHE_FILE), JSON.stringify(cache));
  } catch {
    // A read-only checkout: the queue is still right, only not cached.
  }
  return views;
}

/** The ready tasks, in file order, as `keel tasks ready` shows them. */
export function readyQueue(root: string, isClaimed: IsClaimed): TaskView[] {
  return readyViews(root).filter((v) => !isClaimed(v.key));
}

/** The queue in the order tasks are taken: highest priority first (P0; unset counts as P2), then file order. */
export function takeOrder(queue: TaskView[]): TaskView[] {
  return queue
    .map((v, i) => ({ v, i }))
    .sort((a, b) => (a.v.priority ?? 2) - (b.v.priority ?? 2) || a.i - b.i)
    .map((x) => x.v);
}
