// Where the audit log is anchored outside `.keel/`, and how Keel knows that local state existed.
//
// Every audit event is also appended to `keel/audit/<store-id>.jsonl` in the working tree: one file per
// store (one per clone or worktree), so branches of different clones never touch the same file and a
// merge of them never conflicts; the file only ever grows, so a commit carries it, a clone has it and a
// push shares it. Which of those files is this clone's own is recorded in the git directory
// (`<git dir>/keel-store`), which `rm -rf .keel` does not reach and a fresh clone does not have: a fresh
// clone legitimately starts a store of its own, while a clone that had one must never start over silently.
// @req TRU-4, TRU-6
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { writeFileAtomic } from "../workspace/atomic.js";

/** The folder of audit segments, relative to the project root. */
export const AUDIT_DIR = "keel/audit";
const MARKER = "keel-store";

/** The project's git directory (a worktree's own one, not the common one), found on disk without running git. */
export function gitDirOf(projectRoot: string): string | null {
  for (let dir = resolve(projectRoot); ; dir = dirname(dir)) {
    const dotGit = join(dir, ".git");
    const st = statOrNull(dotGit);
    if (st?.isDirectory()) return dotGit;
    if (st?.isFile()) {
      // Worktrees and submodules: `.git` is a file holding `gitdir: <path>`.
      const m = /^gitdir:\s*(.+?)\s*$/m.exec(readFileSync(dotGit, "utf8"));
      if (m) return isAbsolute(m[1] as string) ? (m[1] as string) : resolve(dir, m[1] as string);
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The segment file of one store. */
export function segmentPath(projectRoot: string, storeId: string): string {
  return join(projectRoot, AUDIT_DIR, `${storeId}.jsonl`);
}

/** The IDs of every store whose segment is in the working tree (this clone's and those of others). */
export function segmentIds(projectRoot: string): string[] {
  let names: string[];
  try {
    names = readdirSync(join(projectRoot, AUDIT_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith(".jsonl"))
    .map((n) => n.slice(0, -".jsonl".length))
    .sort();
}

/** This clone's store ID as recorded in its git directory; null outside git or before its first store. */
export function readLocalStoreId(projectRoot: string): string | null {
  const gitDir = gitDirOf(projectRoot);
  if (gitDir === null) return null;
  try {
    const id = readFileSync(join(gitDir, MARKER), "utf8").trim();
    return /^[0-9a-f]{8,64}$/.test(id) ? id : null;
  } catch {
    return null;
  }
}

/** Records this clone's store ID in its git directory (nothing outside git, where no other clone exists). */
export function writeLocalStoreId(projectRoot: string, storeId: string): void {
  const gitDir = gitDirOf(projectRoot);
  if (gitDir !== null && existsSync(gitDir)) writeFileAtomic(join(gitDir, MARKER), `${storeId}\n`);
}

/**
 * Why the repository says this clone had local state, or null when it never did. Inside git: the clone's
 * marker names a store whose segment holds events. Outside git there is only one copy of the project, so
 * any non-empty segment is its own.
 */
export function stateExisted(projectRoot: string): { reason: string; segment: string } | null {
  const inGit = gitDirOf(projectRoot) !== null;
  const own = readLocalStoreId(projectRoot);
  const candidates = inGit ? (own === null ? [] : [own]) : segmentIds(projectRoot);
  for (const id of candidates) {
    const path = segmentPath(projectRoot, id);
    if ((statOrNull(path)?.size ?? 0) > 0) {
      return {
        reason: `${AUDIT_DIR}/${id}.jsonl records this ${inGit ? "clone's" : "project's"} audit events`,
        segment: `${AUDIT_DIR}/${id}.jsonl`,
      };
    }
  }
  return null;
}

function statOrNull(path: string): ReturnType<typeof statSync> | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}
