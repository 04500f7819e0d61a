// Reading a file's past from git with two processes, whatever the number of versions: one `git log` lists
// the commits that touched the file, one `git cat-file --batch` returns its content at each of them. No
// `git show` per commit (a process each) and no `--follow -p` (a diff per commit, re-applied by hand).
import { spawnSync } from "node:child_process";
import { GIT_ENV } from "../../workspace/git.js";

export interface GitCommit {
  sha: string;
  parents: string[];
  author: string;
  email: string;
  /** Author date, ISO 8601 with offset. */
  at: string;
  subject: string;
}

const FIELD = "\x1f";
const RECORD = "\x1e";
/** Enough for thousands of versions of a large spec; git's output is read once and parsed in place. */
const MAX_BUFFER = 1 << 30;

function git(cwd: string, args: string[], input?: string) {
  return spawnSync("git", args, {
    cwd,
    input,
    maxBuffer: MAX_BUFFER,
    stdio: ["pipe", "pipe", "pipe"],
    env: GIT_ENV(),
  });
}

/** True when `cwd` is inside a git work tree (and git is installed). */
export function insideGit(cwd: string): boolean {
  const r = git(cwd, ["rev-parse", "--is-inside-work-tree"]);
  return r.status === 0 && r.stdout.toString().trim() === "true";
}

/**
 * Commits that touched `path` (relative to `cwd`), newest first, including the one that deleted it.
 * Renames are not followed: a spec's identity is its capability folder.
 */
export function fileLog(cwd: string, path: string): GitCommit[] {
  const r = git(cwd, [
    "log",
    "--no-color",
    "--no-show-signature",
    `--format=%H${FIELD}%P${FIELD}%an${FIELD}%ae${FIELD}%aI${FIELD}%s${RECORD}`,
    "--",
    path,
  ]);
  if (r.status !== 0) return [];
  const out: GitCommit[] = [];
  for (const rec of r.stdout.toString("utf8").split(RECORD)) {
    const text = rec.replace(/^\n/, "");
    if (text === "") continue;
    const [sha, parents, author, email, at, subject] = text.split(FIELD);
    if (!sha) continue;
    out.push({
      sha,
      parents: parents ? parents.split(" ") : [],
      author: author ?? "",
      email: email ?? "",
      at: at ?? "",
      subject: subject ?? "",
    });
  }
  return out;
}

export interface Blob {
  /** The blob's object ID: equal IDs mean equal bytes, so a caller can parse each distinct content once. */
  oid: string;
  text: string;
}

/**
 * Files at commits this process read, by folder, path and commit ID: a commit's content never changes, so these
 * are kept without any check (a long-lived server reads the same specs at the same commits for every trace).
 */
const atCommits = new Map<string, Blob | null>();
const KEPT_BLOBS = 4096;
const COMMIT_ID = /^[0-9a-f]{40,64}$/;

/** The content of `path` (relative to `cwd`) at each revision, or null where it does not exist. */
export function fileAtRevisions(cwd: string, path: string, revisions: string[]): Array<Blob | null> {
  if (revisions.length === 0) return [];
  const key = (rev: string) => `${cwd}\0${path}\0${rev}`;
  // Only commit IDs are kept: a name like HEAD moves.
  if (revisions.every((rev) => COMMIT_ID.test(rev) && atCommits.has(key(rev))))
    return revisions.map((rev) => atCommits.get(key(rev)) ?? null);
  const read = readAtRevisions(cwd, path, revisions);
  if (atCommits.size > KEPT_BLOBS) atCommits.clear();
  revisions.forEach((rev, i) => {
    if (COMMIT_ID.test(rev)) atCommits.set(key(rev), read[i] ?? null);
  });
  return read;
}

function readAtRevisions(cwd: string, path: string, revisions: string[]): Array<Blob | null> {
  const rel = path.startsWith("./") ? path : `./${path}`;
  const r = git(cwd, ["cat-file", "--batch"], revisions.map((rev) => `${rev}:${rel}\n`).join(""));
  if (r.status !== 0) {
    throw new Error(`git cat-file failed: ${r.stderr.toString("utf8").trim() || `exit ${r.status}`}`);
  }
  const buf = r.stdout;
  const out: Array<Blob | null> = [];
  let pos = 0;
  for (let i = 0; i < revisions.length; i++) {
    const nl = buf.indexOf(10, pos);
    if (nl === -1) throw new Error("git cat-file: output ended early");
    const header = buf.toString("utf8", pos, nl);
    pos = nl + 1;
    // `<oid> blob <size>` or `<rev:path> missing` (also `ambiguous`); a tree or a link is not a file.
    const m = /^([0-9a-f]{40,64}) (\w+) (\d+)$/.exec(header);
    if (!m) {
      out.push(null);
      continue;
    }
    const size = Number(m[3]);
    out.push(m[2] === "blob" ? { oid: m[1] as string, text: buf.toString("utf8", pos, pos + size) } : null);
    pos += size + 1;
  }
  return out;
}
