// The trace scan: every link the repository's files and commits make to requirements and tasks, with its
// file:line:col, and a positioned problem for every file that could not be read as text. How it runs:
// docs/architecture.md, "The trace scan"; what counts as a link: docs/format.md, "Trace annotations".
// @req TRC-1
import { availableParallelism } from "node:os";
import { projectError } from "../../../workspace/errors.js";
import { realpathOrNull } from "../../../workspace/paths.js";
import type { RawLink, ScanProblem, ScanResult } from "../types.js";
import { cacheKey, ScanCache } from "./cache.js";
import { type BatchResult, fileContext, MAX_FILE_BYTES, MAX_LINE } from "./file.js";
import { type Batch, listFiles, trackedCountHint } from "./files.js";
import { knownIds } from "./ids.js";
import { scanBatches, workerEntry } from "./pool.js";
import { commitTrailers } from "./trailers.js";

/** Above this many files a scan uses worker threads; below, their start-up costs more than they save. */
export const PARALLEL_THRESHOLD = 2000;
/** Threads a scan uses at most, this one included. */
export const MAX_THREADS = 4;

export interface ScanOptions {
  /** Read commit trailers (default true; only in a git repository). */
  commits?: boolean;
  /** Explicit requirement IDs of the project: a test name naming one counts even when it is not `CAP-N`-shaped. */
  knownIds?: Iterable<string>;
  /**
   * Worker threads beside the calling one: 0 scans on the calling thread alone; by default one fewer than the
   * available parallelism (at least 1, at most 3) when more than 2,000 files are to be read (and `KEEL_WORKERS=0`
   * is not set), else none.
   */
  workers?: number;
  /** Use and update the scan cache, `.keel/trace-scan.cache` (default true; git work trees only). */
  cache?: boolean;
  /** Files larger than this are skipped with trace/too-large (default 16 MiB). */
  maxFileBytes?: number;
  /** Lines longer than this, in UTF-16 code units, are skipped with trace/long-line (default 1 MiB). */
  maxLineLength?: number;
  /** Told the files scanned so far (read, or taken from the cache) as the scan goes; the total is not known ahead. */
  onProgress?: (scanned: number) => void;
}

export async function scanRepository(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const real = realpathOrNull(root);
  if (real === null) throw projectError(`folder not found: ${root}`, "pass an existing project folder");
  const known = [...new Set(options.knownIds ?? [])];
  const limits = {
    maxFileBytes: options.maxFileBytes ?? MAX_FILE_BYTES,
    maxLine: options.maxLineLength ?? MAX_LINE,
  };
  const ctx = fileContext(real, knownIds(known), limits);
  const links: RawLink[] = [];
  const problems: ScanProblem[] = [];
  const totals = { files: 0, filesWithLinks: 0 };
  const cache = options.cache === false ? null : new ScanCache(real, cacheKey(limits, known));
  const add = (r: BatchResult) => {
    for (const l of r.links) links.push(l);
    for (const p of r.problems) problems.push(p);
    totals.files += r.files;
    totals.filesWithLinks += r.filesWithLinks;
    options.onProgress?.(totals.files);
  };
  const merge = (r: BatchResult) => {
    add(r);
    cache?.scanned(r);
  };

  const wanted = options.workers ?? (process.env.KEEL_WORKERS === "0" ? 0 : defaultWorkers());
  const url = wanted > 0 ? workerEntry() : null;
  // Workers start at once when the git index says the repository is large and no cache will spare the reading
  // (they take tens of milliseconds to start); otherwise the files to read are listed until it is clear whether
  // there are enough of them for workers.
  const hint = url === null || options.workers !== undefined || cache?.warm ? null : trackedCountHint(real);
  const listing = cache === null ? listFiles(real) : cache.filter(listFiles(real), add);
  const first: Batch[] = [];
  let listed = 0;
  let parallel = url !== null && (options.workers !== undefined || (hint ?? 0) > PARALLEL_THRESHOLD);
  while (url !== null && !parallel) {
    const r = await listing.next();
    if (r.done) break;
    first.push(r.value);
    listed += r.value.paths.length;
    parallel = listed > PARALLEL_THRESHOLD;
  }
  const workers = parallel ? wanted : 0;
  // Workers are started first, then git lists the files; the trailers come from one more git process, all
  // running while the files are scanned.
  const scanning = scanBatches(first, listing, ctx, merge, {
    url,
    workers,
    init: { root: real, known, limits },
  });
  const trailers = options.commits === false ? Promise.resolve([]) : commitTrailers(real);
  await scanning;
  if (cache !== null) await cache.save();

  links.sort(byPosition);
  problems.sort(byPosition);
  for (const l of await trailers) links.push(l);
  const { files, filesWithLinks } = totals;
  return { links, problems, files, filesWithLinks, workers, cachedFiles: cache?.hits ?? 0 };
}

/** Threads beside this one (which scans too): one fewer than the cores, at most 3, at least 1. */
function defaultWorkers(): number {
  return Math.max(1, Math.min(MAX_THREADS, availableParallelism()) - 1);
}

function byPosition(
  a: { file: string; line: number; col: number; target?: string },
  b: { file: string; line: number; col: number; target?: string },
): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  if (a.line !== b.line) return a.line - b.line;
  if (a.col !== b.col) return a.col - b.col;
  const x = a.target ?? "";
  const y = b.target ?? "";
  return x < y ? -1 : x > y ? 1 : 0;
}
