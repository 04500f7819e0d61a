// Running git for the few facts Keel takes from it (user, history, config). Git is optional: every caller
// copes with null, which means "no git, not a repository, or the command failed".
import { execFileSync } from "node:child_process";

/** The command's stdout (untrimmed: some callers parse exact file content), or null on any failure. */
export function gitOutput(cwd: string, args: string[]): string | null {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch {
    return null;
  }
}
