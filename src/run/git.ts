// The git operations of the work loop: a worktree and branch per task, the worker's commit with trailers, the merge
// queue's rebase or merge onto the integration branch, and moving that branch only if it is where it was (a
// compare-and-swap, so a commit someone else landed meanwhile is never overwritten). Asynchronous: many workers
// share one process, and none may stall the others while git runs.
// @req RUN-1, RUN-5, RUN-6
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { GIT_ENV } from "../workspace/git.js";

export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Identity for the worker's commits when the repository has none configured (a fresh CI machine). */
const COMMITTER = {
  GIT_AUTHOR_NAME: "keel run",
  GIT_AUTHOR_EMAIL: "keel-run@localhost",
  GIT_COMMITTER_NAME: "keel run",
  GIT_COMMITTER_EMAIL: "keel-run@localhost",
};

export function git(cwd: string, args: string[], input?: string): Promise<GitResult> {
  return new Promise((resolve) => {
    const env = { ...GIT_ENV(), GIT_TERMINAL_PROMPT: "0" } as NodeJS.ProcessEnv;
    for (const [k, v] of Object.entries(COMMITTER)) if (!process.env[k]) env[k] = v;
    const child = spawn("git", args, {
      cwd,
      env,
      stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on("data", (d: Buffer) => out.push(d));
    child.stderr?.on("data", (d: Buffer) => err.push(d));
    child.on("error", (e) => resolve({ code: 127, stdout: "", stderr: e.message }));
    child.on("close", (code) =>
      resolve({
        code: code ?? 1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8"),
      }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly result: GitResult,
  ) {
    super(`git ${args.join(" ")} failed (${result.code}): ${result.stderr.trim() || result.stdout.trim()}`);
  }
}

/** Stdout of a git command that must succeed. */
export async function gitOk(cwd: string, args: string[], input?: string): Promise<string> {
  const r = await git(cwd, args, input);
  if (r.code !== 0) throw new GitError(args, r);
  return r.stdout;
}

export async function revParse(cwd: string, rev: string): Promise<string | null> {
  const r = await git(cwd, ["rev-parse", "--verify", "--quiet", `${rev}^{commit}`]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** The repository's top folder (a Keel project may live in a subfolder of it). */
export async function gitTop(cwd: string): Promise<string> {
  return (await gitOk(cwd, ["rev-parse", "--show-toplevel"])).trim();
}

/** The branch checked out in `cwd`, or null on a detached HEAD. */
export async function currentBranch(cwd: string): Promise<string | null> {
  const r = await git(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]);
  return r.code === 0 ? r.stdout.trim() : null;
}

/** A ref-safe branch name for a task key: `keel/task/<scope>--<id>`. */
export function taskBranch(key: string): string {
  const safe = key
    .replace(/\//g, "--")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[.-]+|[.]+$/g, "")
    .replace(/\.lock$/, "-lock");
  return `keel/task/${safe || "task"}`;
}

export interface WorktreeInfo {
  path: string;
  branch: string | null;
  head: string | null;
}

export async function listWorktrees(cwd: string): Promise<WorktreeInfo[]> {
  const out = await gitOk(cwd, ["worktree", "list", "--porcelain"]);
  const list: WorktreeInfo[] = [];
  for (const block of out.split("\n\n")) {
    const lines = block.split("\n");
    const path = lines.find((l) => l.startsWith("worktree "))?.slice(9);
    if (!path) continue;
    const branch = lines.find((l) => l.startsWith("branch "))?.slice(7) ?? null;
    const head = lines.find((l) => l.startsWith("HEAD "))?.slice(5) ?? null;
    list.push({ path, branch: branch?.replace(/^refs\/heads\//, "") ?? null, head });
  }
  return list;
}

/** A new worktree at `path` on a new branch made from `base` (an existing branch of that name is replaced). */
export async function addWorktree(top: string, path: string, branch: string, base: string): Promise<void> {
  await gitOk(top, ["worktree", "add", "--quiet", "-B", branch, path, base]);
}

/** Removes the worktree (even with changes in it) and its branch; a missing one is not an error. */
export async function removeWorktree(top: string, path: string, branch: string | null): Promise<void> {
  await git(top, ["worktree", "remove", "--force", "--force", path]);
  if (branch) await git(top, ["branch", "-D", branch]);
}

/** Stages everything in the worktree and commits it (an empty commit when nothing changed): its hash. */
export async function commitAll(worktree: string, message: string): Promise<string> {
  await gitOk(worktree, ["add", "-A"]);
  await gitOk(worktree, ["commit", "--quiet", "--allow-empty", "--no-verify", "-F", "-"], message);
  return (await gitOk(worktree, ["rev-parse", "HEAD"])).trim();
}

/** Whether `commit` is reachable from `ref`. */
export async function isAncestor(cwd: string, commit: string, ref: string): Promise<boolean> {
  return (await git(cwd, ["merge-base", "--is-ancestor", commit, ref])).code === 0;
}

/** Files left in conflict by a failed rebase or merge, with their three versions (base, ours, theirs). */
export interface ConflictedFile {
  path: string;
  base: string;
  ours: string;
  theirs: string;
}

async function conflictedFiles(worktree: string): Promise<ConflictedFile[]> {
  const names = (await git(worktree, ["diff", "--name-only", "--diff-filter=U", "-z"])).stdout
    .split("\0")
    .filter(Boolean);
  const stage = async (n: number, path: string) => (await git(worktree, ["show", `:${n}:${path}`])).stdout;
  return Promise.all(
    names.map(async (path) => ({
      path,
      base: await stage(1, path),
      ours: await stage(2, path),
      theirs: await stage(3, path),
    })),
  );
}

export type IntegrateResult =
  | { ok: true; commit: string }
  | { ok: false; conflicts: ConflictedFile[]; detail: string };

/**
 * Puts the task's work on top of the integration tip in its worktree: rebased (a linear history) or merged (a
 * merge commit whose first parent is the tip). A conflict is aborted, so the worktree is left as it was.
 */
export async function integrateOnto(
  worktree: string,
  branch: string,
  tip: string,
  strategy: "rebase" | "merge",
  message: string,
): Promise<IntegrateResult> {
  if (strategy === "rebase") {
    const r = await git(worktree, ["rebase", "--quiet", tip]);
    if (r.code === 0) return { ok: true, commit: (await gitOk(worktree, ["rev-parse", "HEAD"])).trim() };
    const conflicts = await conflictedFiles(worktree);
    await git(worktree, ["rebase", "--abort"]);
    return { ok: false, conflicts, detail: r.stderr.trim() || r.stdout.trim() };
  }
  const work = (await gitOk(worktree, ["rev-parse", "HEAD"])).trim();
  if (await isAncestor(worktree, tip, work)) return { ok: true, commit: work };
  await gitOk(worktree, ["checkout", "--quiet", "--detach", tip]);
  const r = await git(worktree, ["merge", "--no-ff", "--quiet", "-m", message, work]);
  const conflicts = r.code === 0 ? [] : await conflictedFiles(worktree);
  if (r.code !== 0) await git(worktree, ["merge", "--abort"]);
  const result = r.code === 0 ? (await gitOk(worktree, ["rev-parse", "HEAD"])).trim() : work;
  // Back on the task's branch, at the merge commit or, after a conflict, where it was.
  await gitOk(worktree, ["checkout", "--quiet", "-B", branch, result]);
  return r.code === 0
    ? { ok: true, commit: result }
    : { ok: false, conflicts, detail: r.stderr.trim() || r.stdout.trim() };
}

/**
 * Moves the integration branch from `from` to `to`, only if it is still at `from`. Where the branch is checked out
 * (the main checkout, usually), it is fast-forwarded there, so the checkout's files follow and local edits are kept
 * (git refuses if one would be overwritten); elsewhere the ref is swapped atomically.
 */
export async function advanceBranch(
  top: string,
  branch: string,
  from: string,
  to: string,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const checkedOut = (await listWorktrees(top)).find((w) => w.branch === branch);
  if (checkedOut) {
    // A fast-forward is the compare-and-swap here: it fails when the checkout holds a commit `to` lacks.
    let r = await git(checkedOut.path, ["merge", "--ff-only", "--quiet", to]);
    if (r.code !== 0 && (await clearIdenticalObstacles(checkedOut.path, to, r.stderr)))
      r = await git(checkedOut.path, ["merge", "--ff-only", "--quiet", to]);
    return r.code === 0 ? { ok: true } : { ok: false, reason: r.stderr.trim() || r.stdout.trim() };
  }
  const r = await git(top, ["update-ref", `refs/heads/${branch}`, to, from]);
  return r.code === 0 ? { ok: true } : { ok: false, reason: r.stderr.trim() };
}

/**
 * A fast-forward killed half-way (a killed run) leaves the checkout with some of the new files written but not
 * committed to: the next fast-forward refuses to overwrite them. When every file git names holds exactly what
 * `to` would write there, nothing of anyone's is in the way: they are put back as they were, and true is returned.
 * Any file with other content is left alone (false): git's refusal stands.
 */
async function clearIdenticalObstacles(checkout: string, to: string, stderr: string): Promise<boolean> {
  const files = stderr
    .split("\n")
    .filter((l) => l.startsWith("\t"))
    .map((l) => l.slice(1));
  if (files.length === 0) return false;
  for (const f of files) {
    const here = (await git(checkout, ["hash-object", "--", f])).stdout.trim();
    const there = (await git(checkout, ["rev-parse", "--verify", "--quiet", `${to}:${f}`])).stdout.trim();
    if (!here || here !== there) return false;
  }
  for (const f of files) {
    const tracked = (await git(checkout, ["ls-files", "--error-unmatch", "--", f])).code === 0;
    if (tracked) await gitOk(checkout, ["checkout", "HEAD", "--", f]);
    else rmSync(join(checkout, f), { force: true });
  }
  return true;
}

/** Commits on `ref` whose `Task:` trailer names `key`, newest first. */
export async function commitsForTask(cwd: string, ref: string, key: string): Promise<string[]> {
  const out = await gitOk(cwd, ["log", "--format=%H%x00%(trailers:key=Task,valueonly,separator=%x01)", ref]);
  return out
    .split("\n")
    .map((l) => l.split("\0"))
    .filter(([, t]) => (t ?? "").split("\x01").some((v) => v.trim() === key))
    .map(([h]) => h as string);
}
