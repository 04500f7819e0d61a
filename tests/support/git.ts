// Real git repositories for tests: git run with no ambient repository variables, commits by a fixed author.
import { execFileSync } from "node:child_process";

export function git(root: string, ...args: string[]): string {
  const env = { ...process.env };
  for (const k of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"]) delete env[k];
  return execFileSync("git", args, { cwd: root, encoding: "utf8", env, stdio: ["ignore", "pipe", "pipe"] });
}

/** `git init` on branch `branch`, with an author and no signing. */
export function gitInit(root: string, branch = "main"): void {
  git(root, "init", "-q", "-b", branch);
  git(root, "config", "user.name", "Alice Example");
  git(root, "config", "user.email", "alice@example.org");
  git(root, "config", "commit.gpgsign", "false");
}

/** Commits everything (an empty commit when nothing changed) and returns the new HEAD. */
export function commitAll(root: string, message: string): string {
  git(root, "add", "-A");
  git(root, "commit", "-q", "--allow-empty", "-m", message);
  return git(root, "rev-parse", "HEAD").trim();
}
