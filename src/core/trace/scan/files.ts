// The files a trace scan reads, streamed in batches as they are found. In a git work tree, git lists them
// (tracked plus untracked, ignored ones left out: `git ls-files -z --cached --others --exclude-standard`);
// elsewhere a walk honours every .gitignore on the way (the `ignore` package implements git's pattern rules).
// Never listed: keel/ and openspec/ at the root (specs are not code), the specs, changes and constitution of a
// project nested deeper (an example or a fixture has its own IDs), .keel/ (Keel's state), and, in a walk,
// .git/ and node_modules/ anywhere; a walk never enters a symbolic link.
// @req TRC-2
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { walkFiles } from "../../../workspace/files.js";
import { GIT_ENV } from "../../../workspace/git.js";

/** Root folders that are Keel's or OpenSpec's own, never scanned for links. */
const SKIP_AT_ROOT = new Set(["keel", "openspec", ".keel"]);

/** Intent files of a project nested inside this one (an example, a fixture): its own IDs, not this project's. */
const NESTED_INTENT = /(?:^|\/)(?:keel|openspec)\/(?:specs|changes)\/|(?:^|\/)keel\/constitution\.md$/;

export function skipped(rel: string): boolean {
  return (
    rel.startsWith("keel/") ||
    rel.startsWith("openspec/") ||
    rel.startsWith(".keel/") ||
    NESTED_INTENT.test(rel)
  );
}

/**
 * Paths to scan. `tracked`: they come from git's index, which may list a path whose folder has since been
 * replaced by a symbolic link, so each folder is checked; git's untracked files and a walk never go through one.
 */
export interface Batch {
  paths: string[];
  tracked: boolean;
  /**
   * For tracked paths, each one's blob in the index when the scan cache may hold it (a regular file, stage 0,
   * neither assume-unchanged nor skip-worktree), else null. Absent on untracked batches.
   */
  blobs?: (string | null)[];
}

/**
 * Batches of project-relative `/`-separated paths, each path once. git is asked twice, in parallel: the tracked
 * files come straight from the index and stream at once, while the untracked ones need a walk of the tree
 * (git prints nothing until that walk is done, so one combined call would hold everything back).
 */
export function listFiles(root: string, batchSize = 256): AsyncGenerator<Batch> {
  // Both git processes start now, not when the first batch is asked for.
  // `-s -v`: each index entry as `<tag> <mode> <blob> <stage>\t<path>`, for the scan cache.
  const tracked = gitListing(root, ["--cached", "-s", "-v"]);
  const untracked = gitListing(root, ["--others", "--exclude-standard"]);
  return batches(root, tracked, untracked, batchSize);
}

async function* batches(
  root: string,
  tracked: GitListing,
  untracked: GitListing,
  batchSize: number,
): AsyncGenerator<Batch> {
  let any = false;
  let batch: string[] = [];
  let blobs: (string | null)[] = [];
  let previous = "";
  for (const source of [tracked, untracked]) {
    const fromIndex = source === tracked;
    const flush = (): Batch => {
      const out: Batch = fromIndex
        ? { paths: batch, tracked: true, blobs }
        : { paths: batch, tracked: false };
      any = true;
      batch = [];
      blobs = [];
      return out;
    };
    for await (const chunk of source.chunks) {
      for (const record of chunk) {
        let rel = record;
        let blob: string | null = null;
        if (fromIndex) {
          // `H 100644 <blob> 0\t<path>`: tag, mode, blob (40 or 64 hex digits), stage.
          const tab = record.indexOf("\t");
          if (tab < 12) continue;
          rel = record.slice(tab + 1);
          // Symbolic links and submodules are never scanned (a link is not followed; a submodule is a folder).
          if (record.startsWith("120000", 2) || record.startsWith("160000", 2)) continue;
          if (
            record.charCodeAt(0) === 72 &&
            record.charCodeAt(tab - 1) === 48 &&
            record.charCodeAt(tab - 2) === 32
          )
            blob = record.slice(9, tab - 2);
        }
        // The index is sorted, and lists a path once per stage while it is unmerged: repeats are adjacent.
        if (rel === "" || rel === previous || skipped(rel)) continue;
        previous = rel;
        batch.push(rel);
        if (fromIndex) blobs.push(blob);
        if (batch.length >= batchSize) yield flush();
      }
    }
    if (batch.length > 0) yield flush();
    if (!(await source.ok) && !any) {
      // No git, or not a work tree: walk instead.
      untracked.stop();
      yield* walk(root, batchSize);
      return;
    }
  }
}

interface GitListing {
  chunks: AsyncGenerator<string[]>;
  ok: Promise<boolean>;
  stop: () => void;
}

/**
 * `git ls-files -z <args>` as it comes (NUL-separated chunks), and whether git succeeded. Its output is taken
 * as it arrives, not when the caller gets to it: Node discards the unread output of a child that has exited.
 */
function gitListing(root: string, args: string[]): GitListing {
  const child = spawn("git", ["ls-files", "-z", ...args], {
    cwd: root,
    env: GIT_ENV(),
    stdio: ["ignore", "pipe", "ignore"],
  });
  const ready: string[][] = [];
  let rest = "";
  let ended = false;
  let wake: (() => void) | null = null;
  const signal = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  child.stdout.on("data", (data: Buffer) => {
    const text = rest + data.toString("utf8");
    const cut = text.lastIndexOf("\0");
    if (cut === -1) rest = text;
    else {
      rest = text.slice(cut + 1);
      ready.push(text.slice(0, cut).split("\0"));
      signal();
    }
  });
  const ok = new Promise<boolean>((resolve) => {
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
  void ok.then(() => {
    if (rest !== "") ready.push([rest]);
    ended = true;
    signal();
  });
  async function* chunks(): AsyncGenerator<string[]> {
    for (;;) {
      const next = ready.shift();
      if (next !== undefined) yield next;
      else if (ended) return;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
  }
  return { chunks: chunks(), ok, stop: () => child.kill() };
}

/**
 * How many files git tracks in the repository holding `root`, read from the index header (12 bytes, no git
 * process), or null when there is no plain repository to read. Only a hint, so that a large scan can start
 * its worker threads before the listing has come in; the listing itself decides what is scanned.
 */
export function trackedCountHint(root: string): number | null {
  if (process.env.GIT_DIR !== undefined || process.env.GIT_INDEX_FILE !== undefined) return null;
  for (let dir = root; ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    let gitDir: string | null = null;
    try {
      const st = statSync(dotGit);
      if (st.isDirectory()) gitDir = dotGit;
      else {
        const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
        if (m === null) return null;
        gitDir = resolve(dir, m[1] as string);
      }
    } catch {
      if (dirname(dir) === dir) return null;
      continue;
    }
    try {
      const fd = openSync(join(gitDir, "index"), "r");
      try {
        const head = Buffer.alloc(12);
        if (readSync(fd, head, 0, 12, 0) < 12 || head.toString("latin1", 0, 4) !== "DIRC") return null;
        return head.readUInt32BE(8);
      } finally {
        closeSync(fd);
      }
    } catch {
      return null;
    }
  }
}

/** Files a walk finds (workspace/files.ts: .gitignore honoured, links not followed), in batches. */
async function* walk(root: string, batchSize: number): AsyncGenerator<Batch> {
  let batch: string[] = [];
  for (const rel of walkFiles(root, SKIP_AT_ROOT)) {
    batch.push(rel);
    if (batch.length >= batchSize) {
      yield { paths: batch, tracked: false };
      batch = [];
    }
  }
  if (batch.length > 0) yield { paths: batch, tracked: false };
}
