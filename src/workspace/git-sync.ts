// Carrying intent between the checkouts of a team (team mode, docs/team.md): fetch what others pushed, bring this
// checkout up to it, commit what this one wrote and push it. A push the remote rejects (it moved) is retried after
// a rebase; a rebase that conflicts is undone and the commit kept on a branch of its own — never a force push,
// never a commit dropped.
// @req TEAM-10
import { gitOutput, gitOutputAsync } from "./git.js";

/** The upstream branch of the checked-out branch (`origin/main`), or null: no remote to carry intent. */
export function upstreamOf(root: string): string | null {
  return gitOutput(root, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"])?.trim() || null;
}

const git = (root: string, ...args: string[]) => gitOutputAsync(root, args);

/** Changes to tracked files (the ignored `.keel/` aside): a checkout that has them is not moved under its writer. */
async function dirty(root: string): Promise<boolean> {
  const status = await git(root, "status", "--porcelain", "--untracked-files=no");
  return status === null || status.trim() !== "";
}

export type CatchUp = "current" | "moved" | "dirty" | "unreachable" | "diverged";

/**
 * Fetches and brings the checkout up to its upstream: a fast-forward, or a rebase of commits not yet pushed. A
 * checkout with uncommitted edits is left as it is; a rebase that conflicts is undone.
 */
export async function catchUp(root: string, upstream: string): Promise<CatchUp> {
  if ((await git(root, "fetch", "--quiet")) === null) return "unreachable";
  const behind = (await git(root, "rev-list", "--count", `HEAD..${upstream}`))?.trim();
  if (behind === "0") return "current";
  if (await dirty(root)) return "dirty";
  if ((await git(root, "merge", "--ff-only", "--quiet", upstream)) !== null) return "moved";
  if ((await git(root, "rebase", "--quiet", upstream)) !== null) return "moved";
  await git(root, "rebase", "--abort");
  return "diverged";
}

export type Published =
  | { kind: "nothing" }
  | { kind: "pushed"; commit: string }
  | { kind: "kept"; commit: string; branch: string; reason: string };

/** How often a rejected push is tried again after a rebase before the commit is kept aside. */
const PUSH_ATTEMPTS = 3;

/** Commits every change to the tracked and new files of the checkout and pushes it to its upstream. */
export async function publish(root: string, upstream: string, message: string): Promise<Published> {
  await git(root, "add", "-A");
  if ((await git(root, "diff", "--cached", "--quiet")) !== null) return { kind: "nothing" };
  if ((await git(root, "commit", "--quiet", "-m", message)) === null)
    return { kind: "kept", commit: "", branch: "", reason: "git commit failed" };
  const commit = ((await git(root, "rev-parse", "HEAD")) ?? "").trim();
  for (let attempt = 0; attempt < PUSH_ATTEMPTS; attempt++) {
    if ((await git(root, "push", "--quiet")) !== null) return { kind: "pushed", commit: await head(root) };
    // Rejected (the remote moved) or unreachable: bring the commit onto what is there now, and try again.
    const caught = await catchUp(root, upstream);
    if (caught === "diverged")
      return keepAside(root, upstream, commit, "its rebase onto the remote conflicts");
  }
  return keepAside(root, upstream, commit, `the remote refused it ${PUSH_ATTEMPTS} times`);
}

async function head(root: string): Promise<string> {
  return ((await git(root, "rev-parse", "HEAD")) ?? "").trim();
}

/** The commit on a branch of its own, and the checkout back on its upstream, so the server goes on from there. */
async function keepAside(root: string, upstream: string, commit: string, reason: string): Promise<Published> {
  const branch = `keel/unpushed-${commit.slice(0, 12)}`;
  await git(root, "branch", "--force", branch, commit);
  await git(root, "reset", "--hard", "--quiet", upstream);
  return { kind: "kept", commit, branch, reason };
}
