// The project's own files, for checks that compare file globs with real paths (task boundaries). Git knows
// them cheaply (tracked plus untracked, ignored ones left out); without git a bounded walk stands in, and a
// project too large to walk cheaply gets no list at all (null), so callers fall back to what they can do without.
import { type Dirent, readdirSync } from "node:fs";
import { join } from "node:path";
import { gitOutput } from "./git.js";

/** Above this many files the walk gives up: the check it serves is not worth a long walk. */
export const WALK_LIMIT = 20_000;

/** Folders a walk never enters: version control, dependencies, Keel's own state. */
const SKIP = new Set([".git", "node_modules", ".keel"]);

/** Project-relative `/`-separated paths of the project's files, sorted; null when they cannot be had cheaply. */
export function projectFiles(root: string, limit = WALK_LIMIT): string[] | null {
  const listed = gitOutput(root, ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]);
  if (listed !== null) return [...new Set(listed.split("\0").filter((f) => f !== ""))].sort();
  return walk(root, limit);
}

function walk(root: string, limit: number): string[] | null {
  const out: string[] = [];
  const pending: string[] = [""];
  while (pending.length > 0) {
    const rel = pending.pop() as string;
    let entries: Dirent[];
    try {
      entries = readdirSync(rel === "" ? root : join(root, rel), { withFileTypes: true });
    } catch {
      continue; // unreadable: its files are simply not listed
    }
    for (const e of entries) {
      const path = rel === "" ? e.name : `${rel}/${e.name}`;
      // Symbolic links are not followed: one could lead out of the project, or loop.
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) pending.push(path);
      } else if (e.isFile()) {
        out.push(path);
        if (out.length > limit) return null;
      }
    }
  }
  return out.sort();
}
