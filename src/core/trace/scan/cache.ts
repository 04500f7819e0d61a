// The scan cache, `.keel/trace-scan.cache`: what each tracked file yielded, with the git blob (the hash of the
// content) it was read from. A file that git reports unmodified, whose blob in the index is the cached one, is not
// read again. Only a cache, like the rest of .keel/: deleting it loses nothing, and one written by another build
// of Keel, or with other limits or known IDs, is not used.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { BUILD_ID } from "../../../model/version.js";
import { gitOutputAsync } from "../../../workspace/git.js";
import type { RawLink, ScanProblem } from "../types.js";
import type { BatchResult, ScanLimits } from "./file.js";
import type { Batch } from "./files.js";

const MAGIC = "keel-trace-scan-cache 2";

/** What one file yielded, without its path; null for nothing (most files). */
export type CachedResult = { links: Omit<RawLink, "file">[]; problems: Omit<ScanProblem, "file">[] } | null;

export function cachePath(root: string): string {
  return `${root}/.keel/trace-scan.cache`;
}

/**
 * Everything the results depend on besides the file: the build of Keel, the limits, the known IDs (as their
 * count and two 32-bit FNV-style hashes: loading node:crypto for this would cost more than the whole lookup).
 */
export function cacheKey(limits: ScanLimits, known: readonly string[]): string {
  const ids = [...known].sort().join("\n");
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < ids.length; i++) {
    const c = ids.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  const hash = `${known.length}.${(a >>> 0).toString(16)}.${(b >>> 0).toString(16)}`;
  return `${BUILD_ID}|${limits.maxFileBytes}|${limits.maxLine}|${hash}`;
}

/** The cache's entries after its header, or null when there is none, it is unreadable or its key differs. */
export function loadCache(root: string, key: string): CacheCursor | null {
  let text: string;
  try {
    text = readFileSync(cachePath(root), "utf8");
  } catch {
    return null;
  }
  const head = `${MAGIC} ${key}\n`;
  return text.startsWith(head) ? new CacheCursor(text, head.length) : null;
}

/** Code-unit order of `text[from, to)` and `s`: negative, zero or positive. */
function compareAt(text: string, from: number, to: number, s: string): number {
  const n = Math.min(to - from, s.length);
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(from + i) - s.charCodeAt(i);
    if (d !== 0) return d;
  }
  return to - from - s.length;
}

/**
 * Reads the cache's lines — `path\tblob`, or `path\tblob\t{json}` for a file that yielded something — in order,
 * alongside git's listing: both are in index order, so each path is found by moving forward, with no table of
 * 20,000 entries built first. Lines whose path is no longer listed, or whose blob is no longer the index's, are
 * passed over and remembered as dropped.
 */
export class CacheCursor {
  /** [start, end) of every dropped line, in order. */
  readonly dropped: number[] = [];

  constructor(
    readonly text: string,
    readonly start: number,
  ) {
    this.at = start;
  }

  private at: number;

  /**
   * Moves to the line of `rel`. With a `blob`: the entry when the cache holds the file with that blob (what the
   * file yielded; null for nothing), else null. Without (a file modified in the work tree, not looked up): its
   * line is kept as it is, for when the file is back to its blob.
   */
  find(rel: string, blob: string | null): { result: CachedResult } | null {
    const text = this.text;
    while (this.at < text.length) {
      let end = text.indexOf("\n", this.at);
      if (end === -1) end = text.length;
      const tab = text.indexOf("\t", this.at);
      // The usual case first: the line is this path's.
      const same = tab === this.at + rel.length && text.startsWith(rel, this.at);
      const order = same ? 0 : tab === -1 || tab > end ? -1 : compareAt(text, this.at, tab, rel);
      if (order > 0) return null; // not cached: the next cached path comes later
      const line = this.at;
      this.at = end + 1;
      if (order < 0) {
        this.dropped.push(line, this.at);
        continue;
      }
      if (blob === null) return null;
      const more = text.indexOf("\t", tab + 1);
      const json = more !== -1 && more < end;
      if ((json ? more : end) - tab - 1 !== blob.length || !text.startsWith(blob, tab + 1)) {
        this.dropped.push(line, this.at); // the index has another version of the file now
        return null;
      }
      return { result: json ? (JSON.parse(text.slice(more + 1, end)) as CachedResult) : null };
    }
    return null;
  }

  /** Drops the lines after the last path asked for (files gone from the end of the listing); whether any. */
  dropRest(): boolean {
    if (this.at >= this.text.length) return false;
    this.dropped.push(this.at, this.text.length);
    this.at = this.text.length;
    return true;
  }
}

/** Writes the cache's lines (a temporary file renamed over the old one); an unwritable folder is no error. */
export function saveCache(root: string, key: string, lines: string[]): void {
  const path = cachePath(root);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    mkdirSync(`${root}/.keel`, { recursive: true });
    writeFileSync(tmp, `${MAGIC} ${key}\n${lines.join("")}`);
    renameSync(tmp, path);
  } catch {
    // read-only project or state folder: scan without a cache
  }
}

/** One cache line, with its line ending; null for a path the format cannot hold (it is read every time). */
function cacheLine(rel: string, blob: string, result: CachedResult): string | null {
  if (rel.includes("\t") || rel.includes("\n")) return null;
  return result === null ? `${rel}\t${blob}\n` : `${rel}\t${blob}\t${JSON.stringify(result)}\n`;
}

/**
 * Tracked files whose working copy may differ from the index, or null: `git diff-files`, which compares stat
 * data with the index (on several threads) and so also lists a file that was only touched; such a file is read
 * again, never served stale.
 */
export async function modifiedFiles(root: string): Promise<Set<string> | null> {
  const out = await gitOutputAsync(root, [
    "diff-files",
    "--name-only",
    "-z",
    "--relative",
    "--ignore-submodules",
  ]);
  return out === null ? null : new Set(out.split("\0").filter((p) => p !== ""));
}

/**
 * One scan's use of the cache. `filter` takes out of the listing the tracked files that git reports unmodified
 * and whose blob is the cached one (their results are added at once); `scanned` collects what the files that
 * were read yield; `save` rewrites the cache only when something changed: the lines kept, plus every tracked file
 * read that git, asked again after the scan, still reports unmodified (so an edit made while the scan ran is
 * never cached under the blob of the index).
 */
export class ScanCache {
  private readonly old: CacheCursor | null;
  private readonly modified: Promise<Set<string> | null> | null;
  private hitCount = 0;
  /** Tracked files read by this scan that may go into the cache: path → blob, in listing order. */
  private readonly candidates = new Map<string, string>();
  private readonly results = new Map<string, NonNullable<CachedResult>>();
  private readonly skipped = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly key: string,
  ) {
    // git starts comparing the work tree with the index before the cache file is even read.
    this.modified = existsSync(cachePath(root)) ? modifiedFiles(root) : null;
    this.old = loadCache(root, key);
  }

  /** Whether a usable cache was found (then most files will not need reading). */
  get warm(): boolean {
    return this.old !== null;
  }

  /** Files answered from the cache. */
  get hits(): number {
    return this.hitCount;
  }

  async *filter(listing: AsyncGenerator<Batch>, add: (r: BatchResult) => void): AsyncGenerator<Batch> {
    const old = this.old;
    const modified = old === null ? null : await this.modified;
    for await (const batch of listing) {
      if (batch.blobs === undefined) {
        yield batch;
        continue;
      }
      const paths: string[] = [];
      const hits: BatchResult = { links: [], problems: [], files: 0, filesWithLinks: 0, skipped: [] };
      for (let i = 0; i < batch.paths.length; i++) {
        const rel = batch.paths[i] as string;
        const blob = batch.blobs[i];
        if (blob === null || blob === undefined) {
          paths.push(rel);
          continue;
        }
        const unmodified = modified !== null && !modified.has(rel);
        const cached = old === null ? null : old.find(rel, unmodified ? blob : null);
        if (cached !== null) {
          this.hitCount++;
          hits.files++;
          const r = cached.result;
          if (r !== null) {
            if (r.links.length > 0) hits.filesWithLinks++;
            for (const l of r.links) hits.links.push(withFile(l, rel));
            for (const p of r.problems) hits.problems.push({ file: rel, ...p });
          }
          continue;
        }
        paths.push(rel);
        if (modified === null || unmodified) this.candidates.set(rel, blob);
      }
      if (hits.files > 0) add(hits);
      if (paths.length > 0) yield { paths, tracked: true };
    }
  }

  scanned(r: BatchResult): void {
    for (const rel of r.skipped) this.skipped.add(rel);
    for (const l of r.links) {
      if (!this.candidates.has(l.file)) continue;
      const { file, ...rest } = l;
      this.resultOf(file).links.push(rest);
    }
    for (const p of r.problems) {
      if (!this.candidates.has(p.file)) continue;
      const { file, ...rest } = p;
      this.resultOf(file).problems.push(rest);
    }
  }

  private resultOf(rel: string): NonNullable<CachedResult> {
    let r = this.results.get(rel);
    if (r === undefined) {
      r = { links: [], problems: [] };
      this.results.set(rel, r);
    }
    return r;
  }

  async save(): Promise<void> {
    const old = this.old;
    const droppedAtEnd = old?.dropRest() ?? false;
    // Nothing dropped, nothing new: the cache on disk is this scan's already.
    if (old !== null && this.candidates.size === 0 && old.dropped.length === 0 && !droppedAtEnd) return;
    const after = this.candidates.size === 0 ? new Set<string>() : await modifiedFiles(this.root);
    const fresh: Array<[string, string]> = [];
    for (const [rel, blob] of this.candidates) {
      if (after === null || after.has(rel) || this.skipped.has(rel)) continue;
      const result = this.results.get(rel) ?? null;
      // A file that could not be read says nothing about its blob.
      if (result?.problems.some((p) => p.rule === "trace/unreadable")) continue;
      const line = cacheLine(rel, blob, result);
      if (line !== null) fresh.push([rel, line]);
    }
    // Nothing to remember (no tracked file, or not a git work tree): no file, and no .keel/ made for it.
    if (old === null && fresh.length === 0) return;
    saveCache(this.root, this.key, old === null ? fresh.map(([, l]) => l) : merged(old, fresh));
  }
}

/** The old cache's kept lines and the fresh ones, merged in index order. */
function merged(old: CacheCursor, fresh: Array<[string, string]>): string[] {
  const out: string[] = [];
  const text = old.text;
  let f = 0;
  let d = 0;
  for (let at = old.start; at < text.length; ) {
    let end = text.indexOf("\n", at);
    end = end === -1 ? text.length : end + 1;
    if (d < old.dropped.length && old.dropped[d] === at) {
      at = old.dropped[d + 1] as number;
      d += 2;
      continue;
    }
    const tab = text.indexOf("\t", at);
    while (f < fresh.length && compareAt(text, at, tab, (fresh[f] as [string, string])[0]) > 0) {
      out.push((fresh[f] as [string, string])[1]);
      f++;
    }
    out.push(text.slice(at, end));
    at = end;
  }
  for (; f < fresh.length; f++) out.push((fresh[f] as [string, string])[1]);
  return out;
}

/** A cached link put back at `rel`, its fields in the order of a scanned one. */
function withFile(l: Omit<RawLink, "file">, rel: string): RawLink {
  return {
    kind: l.kind,
    source: l.source,
    target: l.target,
    targetType: l.targetType,
    file: rel,
    line: l.line,
    col: l.col,
  };
}
