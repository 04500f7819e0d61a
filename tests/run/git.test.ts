// The merge queue's compare-and-swap of the integration branch, in a real repository: a fast-forward where the
// branch is checked out, and what a fast-forward killed half-way leaves in the checkout.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { advanceBranch } from "../../src/run/git.js";

function repo() {
  const top = mkdtempSync(join(tmpdir(), "keel-run-git-"));
  const git = (...args: string[]) =>
    execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
      cwd: top,
      encoding: "utf8",
    }).trim();
  git("init", "-q", "-b", "main");
  writeFileSync(join(top, "a.txt"), "a\n");
  git("add", "-A");
  git("commit", "-qm", "a");
  const from = git("rev-parse", "HEAD");
  git("checkout", "-q", "-b", "work");
  writeFileSync(join(top, "b.txt"), "b\n");
  writeFileSync(join(top, "a.txt"), "a2\n");
  git("add", "-A");
  git("commit", "-qm", "b");
  const to = git("rev-parse", "HEAD");
  git("checkout", "-q", "main");
  return { top, git, from, to };
}

describe("advanceBranch", () => {
  // @verifies RUN-6, RUN-12
  it("finishes a fast-forward that was killed half-way when the files in the way hold what it would write", async () => {
    const { top, git, from, to } = repo();
    writeFileSync(join(top, "b.txt"), "b\n"); // written by the killed fast-forward, not yet committed to
    writeFileSync(join(top, "a.txt"), "a2\n");
    expect(await advanceBranch(top, "main", from, to)).toEqual({ ok: true });
    expect(git("rev-parse", "HEAD")).toBe(to);
    expect(git("status", "--porcelain")).toBe("");
  });

  it("refuses, and keeps the file, when a file in the way holds something else", async () => {
    const { top, git, from, to } = repo();
    writeFileSync(join(top, "b.txt"), "someone's own work\n");
    const r = await advanceBranch(top, "main", from, to);
    expect(r.ok).toBe(false);
    expect(git("rev-parse", "HEAD")).toBe(from);
    expect(readFileSync(join(top, "b.txt"), "utf8")).toBe("someone's own work\n");
  });

  it("moves a branch no checkout holds only from where it was", async () => {
    const { top, git, from, to } = repo();
    git("checkout", "-q", "--detach");
    expect(await advanceBranch(top, "main", to, to)).toMatchObject({ ok: false });
    expect(await advanceBranch(top, "main", from, to)).toEqual({ ok: true });
    expect(git("rev-parse", "main")).toBe(to);
    expect(existsSync(join(top, "b.txt"))).toBe(false);
  });
});
