// The state of the working tree as git sees it, for evidence and boundaries: the commit checked out, whether
// anything is uncommitted, a digest that identifies the uncommitted state, and the files changed since a base.
// Keel's own folder (`.keel/`, where evidence is written) never counts as a change: recording evidence must not
// make the tree it describes dirty. Git runs as workspace/git.ts runs it (no optional locks).
import { spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join, posix } from "node:path";
import { memoUntilChange } from "./freshness.js";
import { GIT_ENV, gitOutput as git, gitOutputAsync } from "./git.js";
import { AUDIT_DIR } from "./paths.js";

/**
 * Every path of the repository except the project's `.keel/` and its audit segments (`keel/audit/`, which every
 * audited command appends to, recording evidence included), as pathspecs relative to the project root.
 */
const PATHSPEC = [":(top)", ":(exclude).keel", `:(exclude)${AUDIT_DIR}`];

export interface TreeState {
  /** Inside a git work tree. */
  git: boolean;
  /** `git rev-parse HEAD`; null outside git or before the first commit. */
  commit: string | null;
  /** Anything uncommitted (`git status --porcelain`, untracked files included, `.keel/` excluded). */
  dirty: boolean;
  /**
   * When dirty: sha256 over `git diff <HEAD> --binary` and the path and content of every untracked file, so
   * two dirty trees with the same digest hold the same uncommitted changes. Null when clean or outside git.
   */
  digest: string | null;
}

export function isGitRepo(root: string): boolean {
  return git(root, ["rev-parse", "--is-inside-work-tree"])?.trim() === "true";
}

/** The commit checked out; a process with a watcher keeps it until the watcher sees a change (`.git` included). */
export function headCommit(root: string): string | null {
  return memoUntilChange(
    root,
    "head",
    () => git(root, ["rev-parse", "--verify", "-q", "HEAD"])?.trim() || null,
    "git",
  );
}

/** The empty tree's ID in this repository's hash (sha1 or sha256): the base of a repository with no commit. */
function emptyTree(root: string): string {
  return (
    git(root, ["hash-object", "-t", "tree", "--stdin"])?.trim() || "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
  );
}

/** The commit a revision names, or null when it names none. Revisions that look like options are refused. */
export function resolveCommit(root: string, rev: string): string | null {
  if (rev.startsWith("-") || rev.trim() === "") return null;
  return git(root, ["rev-parse", "--verify", "-q", `${rev}^{commit}`])?.trim() || null;
}

/** Streams a git command's stdout into `hash`; false when git fails. Memory stays bounded for any diff size. */
function hashGit(cwd: string, args: string[], hash: Hash): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env: GIT_ENV(), stdio: ["ignore", "pipe", "ignore"] });
    child.stdout.on("data", (chunk: Buffer) => hash.update(chunk));
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
}

function hashFile(abs: string, hash: Hash): Promise<void> {
  return new Promise((resolve) => {
    const stream = createReadStream(abs);
    stream.on("data", (chunk) => hash.update(chunk as Buffer));
    stream.on("error", () => {
      hash.update("\0unreadable\0");
      resolve();
    });
    stream.on("end", () => resolve());
  });
}

/** Null-separated output, without empty entries. */
function zsplit(text: string | null): string[] {
  return (text ?? "").split("\0").filter((s) => s !== "");
}

/** The tree's state; a process with a watcher keeps it until the watcher sees a change (.git's own included). */
export function treeState(root: string): Promise<TreeState> {
  return memoUntilChange(root, "tree-state", () => readTreeState(root));
}

async function readTreeState(root: string): Promise<TreeState> {
  // One git process says all three: inside a work tree (status fails outside one), the commit (the
  // `# branch.oid` header, `(initial)` before the first commit) and whether anything is uncommitted (any entry).
  // Asynchronous, as the git runs below: a server answering other clients is not held up while git works.
  const status = await gitOutputAsync(root, [
    "status",
    "--porcelain=v2",
    "--branch",
    "-z",
    "--untracked-files=all",
    "--",
    ...PATHSPEC,
  ]);
  if (status === null) return { git: false, commit: null, dirty: false, digest: null };
  const entries = zsplit(status);
  const oid = entries.find((e) => e.startsWith("# branch.oid "))?.slice("# branch.oid ".length) ?? null;
  const commit = oid === null || oid === "(initial)" ? null : oid;
  const dirty = entries.some((e) => !e.startsWith("# "));
  if (!dirty) return { git: true, commit, dirty: false, digest: null };
  const hash = createHash("sha256");
  hash.update(`keel-tree-v1\0${commit ?? "unborn"}\0diff\0`);
  const diffArgs = ["diff", "--binary", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames"];
  await hashGit(root, [...diffArgs, "--full-index", commit ?? emptyTree(root), "--", ...PATHSPEC], hash);
  hash.update("\0untracked\0");
  // Paths relative to the project root (`../x` for files elsewhere in the repository), readable from it.
  const untracked = zsplit(
    await gitOutputAsync(root, ["ls-files", "--others", "--exclude-standard", "-z", "--", ...PATHSPEC]),
  ).sort();
  for (const rel of untracked) {
    hash.update(`${rel}\0`);
    await hashFile(join(root, rel), hash);
    hash.update("\0");
  }
  return { git: true, commit, dirty: true, digest: hash.digest("hex") };
}

export type ChangeStatus = "added" | "modified" | "deleted" | "type-changed" | "untracked" | "other";

export interface ChangedFile {
  /** Project-relative, `/`-separated; `../…` for a file of the repository outside the project. */
  path: string;
  status: ChangeStatus;
}

const STATUS: Record<string, ChangeStatus> = { A: "added", M: "modified", D: "deleted", T: "type-changed" };

/**
 * Files that differ between `base` (a commit) and the working tree — committed since, staged or not — plus
 * untracked files (not ignored ones), sorted by path. `base` null: the repository has no commit, so every
 * tracked file counts as added.
 */
export function changedFiles(root: string, base: string | null): ChangedFile[] {
  const prefix = git(root, ["rev-parse", "--show-prefix"])?.trim() ?? "";
  const toProject = (repoRel: string): string =>
    prefix === ""
      ? repoRel
      : repoRel.startsWith(prefix)
        ? repoRel.slice(prefix.length)
        : posix.relative(prefix, repoRel);
  const out = new Map<string, ChangeStatus>();
  const diff = zsplit(
    git(root, ["diff", "--name-status", "-z", "--no-renames", base ?? emptyTree(root), "--", ...PATHSPEC]),
  );
  for (let i = 0; i + 1 < diff.length; i += 2) {
    const code = (diff[i] as string)[0] as string;
    out.set(toProject(diff[i + 1] as string), STATUS[code] ?? "other");
  }
  const untracked = git(root, [
    "ls-files",
    "--others",
    "--exclude-standard",
    "-z",
    "--full-name",
    "--",
    ...PATHSPEC,
  ]);
  for (const p of zsplit(untracked)) out.set(toProject(p), "untracked");
  return [...out]
    .map(([path, status]) => ({ path, status }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export interface DefaultBase {
  /** The commit compared against, or null in a repository with no commit. */
  commit: string | null;
  /** How it was chosen, for the output: `merge-base with origin/main`, `HEAD`, `no commit yet`. */
  how: string;
}

/**
 * The base for "changed on this branch": the merge-base of HEAD with the default branch — origin's HEAD, else
 * the local `init.defaultBranch`, `main` or `master`, else `origin/main` or `origin/master` — or HEAD when there
 * is no such branch (or no common history), so that only uncommitted changes count.
 */
export function defaultBase(root: string): DefaultBase {
  const head = headCommit(root);
  if (head === null) return { commit: null, how: "no commit yet" };
  const candidates: string[] = [];
  const originHead = git(root, ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"])?.trim();
  if (originHead) candidates.push(originHead);
  const configured = git(root, ["config", "--get", "init.defaultBranch"])?.trim();
  for (const name of [configured, "main", "master"]) if (name) candidates.push(`refs/heads/${name}`);
  candidates.push("refs/remotes/origin/main", "refs/remotes/origin/master");
  for (const ref of candidates) {
    if (!git(root, ["rev-parse", "--verify", "-q", `${ref}^{commit}`])?.trim()) continue;
    const base = git(root, ["merge-base", "HEAD", ref])?.trim();
    const short = ref.replace(/^refs\/(heads|remotes)\//, "");
    if (base) return { commit: base, how: `merge-base with ${short}` };
  }
  return { commit: head, how: "HEAD" };
}
