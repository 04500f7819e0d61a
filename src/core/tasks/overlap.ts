// Parallel tasks whose boundaries overlap: two tasks marked `[P]` that may run at the same time and may touch
// the same files. "May run at the same time": neither waits on the other, directly or transitively, through
// blocking dependencies or parent-child links, and neither is done. "Overlap": one boundary glob matches the
// other's text (`src/**` and `src/refunds/**`), or some file of the project matches both.
// @req TSK-4
import picomatch from "picomatch";
import { isDone, type TaskGraph, type TaskNode } from "./graph.js";

export interface BoundaryOverlap {
  /** Task keys, `a` before `b` in file order. */
  a: string;
  b: string;
  globA: string;
  globB: string;
  /** A project file both globs match; null when one glob matches the other's text. */
  file: string | null;
}

/** A boundary as a glob: `./` dropped, a folder (`src/db/`) taken as everything under it. */
export function boundaryGlob(raw: string): string | null {
  let g = raw.trim().replace(/^(\.\/)+/, "");
  if (g === "" || g.startsWith("!")) return null;
  if (g.endsWith("/")) g = `${g}**`;
  return g;
}

const OPTIONS = { dot: true } as const;

/**
 * @param files the project's files, sorted; asked for only when two concurrent tasks' globs do not match each
 *   other's text. Null: no cheap list, so only the text check is made.
 */
export function parallelOverlaps(graph: TaskGraph, files: () => readonly string[] | null): BoundaryOverlap[] {
  const candidates: Array<{ key: string; globs: string[] }> = [];
  for (const key of graph.order) {
    const node = graph.nodes.get(key) as TaskNode;
    if (!node.task.parallel || isDone(graph, key)) continue;
    const globs = [...new Set(node.task.boundaries.map(boundaryGlob).filter((g): g is string => g !== null))];
    if (globs.length > 0) candidates.push({ key, globs });
  }
  if (candidates.length < 2) return [];

  const matchers = new Map<string, (s: string) => boolean>();
  const matcher = (glob: string) => {
    let m = matchers.get(glob);
    if (!m) {
      m = picomatch(glob, OPTIONS);
      matchers.set(glob, m);
    }
    return m;
  };
  let fileList: readonly string[] | null | undefined;
  const matched = new Map<string, Set<string>>();
  const filesOf = (glob: string): Set<string> | null => {
    if (fileList === undefined) fileList = files();
    if (fileList === null) return null;
    let set = matched.get(glob);
    if (!set) {
      set = new Set();
      const m = matcher(glob);
      for (const f of underBase(fileList, picomatch.scan(glob).base)) if (m(f)) set.add(f);
      matched.set(glob, set);
    }
    return set;
  };
  const reach = new Map<string, Set<string>>();
  const waitsOn = (from: string, to: string): boolean => {
    let set = reach.get(from);
    if (!set) {
      set = reachable(graph, from);
      reach.set(from, set);
    }
    return set.has(to);
  };
  const concurrent = (a: string, b: string) =>
    !isAncestor(graph, a, b) && !isAncestor(graph, b, a) && !waitsOn(a, b) && !waitsOn(b, a);

  const out: BoundaryOverlap[] = [];
  for (let i = 0; i < candidates.length; i++) {
    const A = candidates[i] as { key: string; globs: string[] };
    for (let j = i + 1; j < candidates.length; j++) {
      const B = candidates[j] as { key: string; globs: string[] };
      let found: BoundaryOverlap | null = null;
      for (const ga of A.globs) {
        for (const gb of B.globs) {
          if (matcher(ga)(gb) || matcher(gb)(ga)) {
            found = { a: A.key, b: B.key, globA: ga, globB: gb, file: null };
            break;
          }
        }
        if (found) break;
      }
      if (found) {
        if (concurrent(A.key, B.key)) out.push(found);
        continue;
      }
      if (!concurrent(A.key, B.key)) continue;
      search: for (const ga of A.globs) {
        const fa = filesOf(ga);
        if (fa === null) break;
        if (fa.size === 0) continue;
        for (const gb of B.globs) {
          const fb = filesOf(gb) as Set<string>;
          const [small, large] = fa.size <= fb.size ? [fa, fb] : [fb, fa];
          for (const f of small) {
            if (large.has(f)) {
              out.push({ a: A.key, b: B.key, globA: ga, globB: gb, file: f });
              break search;
            }
          }
        }
      }
    }
  }
  return out;
}

/** The files at or under `base` (a folder or file path, "" for all), from a sorted list. */
function underBase(files: readonly string[], base: string): readonly string[] {
  if (base === "") return files;
  const prefix = `${base}/`;
  let lo = 0;
  let hi = files.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((files[mid] as string) < base) lo = mid + 1;
    else hi = mid;
  }
  const out: string[] = [];
  for (let i = lo; i < files.length; i++) {
    const f = files[i] as string;
    if (f === base || f.startsWith(prefix)) out.push(f);
    // Sorted: once past the prefix range (and not a name that merely starts with `base`), nothing follows.
    else if (!f.startsWith(base)) break;
  }
  return out;
}

function isAncestor(graph: TaskGraph, ancestor: string, key: string): boolean {
  const seen = new Set<string>();
  for (let p = graph.nodes.get(key)?.parent ?? null; p !== null && !seen.has(p); ) {
    if (p === ancestor) return true;
    seen.add(p);
    p = graph.nodes.get(p)?.parent ?? null;
  }
  return false;
}

/**
 * Every task `from` waits on: its blocking dependencies and those of its ancestors (a subtask waits for what its
 * parent waits for), and, for each task waited on, its subtasks (a parent is done when they are), transitively.
 */
function reachable(graph: TaskGraph, from: string): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  for (let q = 0; q < queue.length; q++) {
    const key = queue[q] as string;
    const node = graph.nodes.get(key) as TaskNode;
    const next: string[] = [...node.children];
    const up = new Set<string>();
    for (let k: string | null = key; k !== null && !up.has(k); k = graph.nodes.get(k)?.parent ?? null) {
      up.add(k);
      for (const d of (graph.nodes.get(k) as TaskNode).deps)
        if (d.kind === "blocks" && !d.key.startsWith("?")) next.push(d.key);
    }
    for (const n of next) {
      if (!seen.has(n)) {
        seen.add(n);
        queue.push(n);
      }
    }
  }
  return seen;
}
