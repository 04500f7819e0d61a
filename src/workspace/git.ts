// Running git for the facts Keel takes from it (user, history, config, the tree, blame). Git is optional: every
// caller copes with null, which means "no git, not a repository, or the command failed".
import { execFileSync, spawn } from "node:child_process";

/**
 * The environment git runs with: GIT_OPTIONAL_LOCKS=0 so reads never take the index lock away from a concurrent
 * `git commit`, and LC_ALL=C so what is parsed does not depend on the user's language.
 */
export const GIT_ENV = (): NodeJS.ProcessEnv => ({ ...process.env, GIT_OPTIONAL_LOCKS: "0", LC_ALL: "C" });

/** The command's stdout (untrimmed: some callers parse exact file content), or null on any failure. */
export function gitOutput(cwd: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      env: GIT_ENV(),
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch {
    return null;
  }
}

/** gitOutput without blocking: for git runs that overlap other work (the trace scan's listings and log). */
export function gitOutputAsync(cwd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const child = spawn("git", args, { cwd, env: GIT_ENV(), stdio: ["ignore", "pipe", "ignore"] });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.on("error", () => resolve(null));
    child.on("close", (code) => resolve(code === 0 ? Buffer.concat(chunks).toString("utf8") : null));
  });
}
