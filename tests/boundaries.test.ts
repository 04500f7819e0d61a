// @verifies TRC-7
import { rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects, writeFile, writeFiles } from "./support/files.js";
import { commitAll as commit, git, gitInit as init } from "./support/git.js";

const project = tempProjects("keel-boundaries-");

const TASKS = `## 1. Payments
- [ ] 1.1 Take partial payments
  - boundaries: src/pay/**, tests/pay/, .github/workflows/pay.yml
- [ ] 1.2 Tidy up
`;

const FILES = {
  ".gitignore": ".keel/\n",
  "keel/keel.yaml": "version: 1\n",
  "keel/specs/pay/tasks.md": TASKS,
  "src/pay/apply.ts": "export const apply = 1;\n",
  "src/billing/tax.ts": "export const tax = 1;\n",
  "src/billing/old.ts": "export const old = 1;\n",
  "README.md": "# Shop\n",
};

interface Checked {
  path: string;
  status: string;
  glob: string | null;
  exempt: boolean;
}

const violations = (out: { violations: Checked[] }) => out.violations.map((v) => [v.path, v.status]);

/** main with one commit; a feature branch with one commit inside and one outside the task's globs. */
function branchRepo(): { root: string; base: string; branchHead: string } {
  const root = project(FILES);
  init(root);
  const base = commit(root, "initial");
  git(root, "checkout", "-q", "-b", "feature");
  writeFile(root, "src/pay/apply.ts", "export const apply = 2;\n");
  writeFile(root, "src/billing/tax.ts", "export const tax = 2;\n");
  const branchHead = commit(root, "partial payments");
  // main moves on meanwhile: its changes are not the branch's.
  git(root, "checkout", "-q", "main");
  writeFile(root, "docs/changelog.md", "# Changes\n");
  commit(root, "changelog on main");
  git(root, "checkout", "-q", "feature");
  return { root, base, branchHead };
}

describe("keel boundaries check", () => {
  it("reports every file changed on the branch outside the globs — committed, modified, deleted, untracked — and ignores those inside", () => {
    const { root, base } = branchRepo();
    writeFile(root, "README.md", "# Shop\n\nNow with partial payments.\n");
    rmSync(join(root, "src/billing/old.ts"));
    writeFiles(root, {
      "tests/pay/apply.test.ts": "// test\n",
      "notes.txt": "todo\n",
      ".github/workflows/pay.yml": "on: push\n",
    });
    const r = keel(root, "boundaries", "check", "--task", "1.1");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("task pay/1.1 may touch: src/pay/**, tests/pay/, .github/workflows/pay.yml");
    expect(r.stdout).toContain(
      `changed since ${base.slice(0, 12)} (merge-base with main): 7 files, 4 outside the boundaries`,
    );
    expect(r.stdout).toMatch(/✗ README\.md\s+modified/);
    expect(r.stdout).toMatch(/✗ notes\.txt\s+untracked/);
    expect(r.stdout).toMatch(/✗ src\/billing\/old\.ts\s+deleted/);
    expect(r.stdout).toMatch(/✗ src\/billing\/tax\.ts\s+modified/);
    expect(r.stdout).not.toContain("apply");
    expect(r.stdout).not.toContain("changelog");

    const out = jsonOut(keel(root, "boundaries", "check", "--task", "pay/1.1", "--json"));
    expect(out.base).toEqual({ rev: null, commit: base, how: "merge-base with main" });
    expect(out.checked).toBe(true);
    expect(out.files.map((f: Checked) => [f.path, f.status, f.glob])).toEqual([
      [".github/workflows/pay.yml", "untracked", ".github/workflows/pay.yml"],
      ["README.md", "modified", null],
      ["notes.txt", "untracked", null],
      ["src/billing/old.ts", "deleted", null],
      ["src/billing/tax.ts", "modified", null],
      ["src/pay/apply.ts", "modified", "src/pay/**"],
      ["tests/pay/apply.test.ts", "untracked", "tests/pay/"],
    ]);
    expect(violations(out)).toEqual([
      ["README.md", "modified"],
      ["notes.txt", "untracked"],
      ["src/billing/old.ts", "deleted"],
      ["src/billing/tax.ts", "modified"],
    ]);
  });

  it("honours --base: only what changed since that revision counts", () => {
    const { root, branchHead } = branchRepo();
    // Nothing uncommitted: against the branch's own head nothing changed.
    const clean = keel(root, "boundaries", "check", "--task", "1.1", "--base", "HEAD");
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain(
      `changed since ${branchHead.slice(0, 12)} (--base HEAD): 0 files, 0 outside`,
    );
    writeFile(root, "src/pay/more.ts", "export {};\n");
    writeFile(root, "Makefile", "all:\n");
    const head = jsonOut(keel(root, "boundaries", "check", "--task", "1.1", "--base", "HEAD", "--json"));
    expect(head.base).toMatchObject({ rev: "HEAD", commit: branchHead });
    expect(violations(head)).toEqual([["Makefile", "untracked"]]);
    // Against main's tip the changelog main gained since is a difference too (it is absent here).
    const main = jsonOut(keel(root, "boundaries", "check", "--task", "1.1", "--base", "main", "--json"));
    expect(violations(main)).toEqual([
      ["Makefile", "untracked"],
      ["docs/changelog.md", "deleted"],
      ["src/billing/tax.ts", "modified"],
    ]);

    const unknown = keel(root, "boundaries", "check", "--task", "1.1", "--base", "no-such-branch");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--base no-such-branch names no commit");
    expect(keel(root, "boundaries", "check", "--task", "1.1", "--base", "--all").code).toBe(2);
  });

  it("does not count the task's own checkbox, written by `keel tasks done`", () => {
    const root = project(FILES);
    init(root);
    commit(root, "initial");
    const claim = JSON.parse(keel(root, "tasks", "claim", "1.1", "--as", "agent:a", "--json").stdout).claim;
    writeFile(root, "src/pay/apply.ts", "export const apply = 3;\n");
    expect(keel(root, "tasks", "done", "1.1", "--token", String(claim.token), "--as", "agent:a").code).toBe(
      0,
    );
    expect(git(root, "status", "--porcelain")).toContain("keel/specs/pay/tasks.md");
    const out = jsonOut(keel(root, "boundaries", "check", "--task", "1.1", "--json"));
    // On main itself the base is HEAD: only uncommitted changes count.
    expect(out.base.how).toBe("merge-base with main");
    expect(out.files.find((f: Checked) => f.path === "keel/specs/pay/tasks.md")).toMatchObject({
      exempt: true,
    });
    expect(out.violations).toEqual([]);
  });

  it("a task without boundaries has nothing to check (exit 0)", () => {
    const root = project(FILES);
    init(root);
    commit(root, "initial");
    writeFile(root, "anything.txt", "x\n");
    const r = keel(root, "boundaries", "check", "--task", "pay/1.2");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("task pay/1.2 declares no boundaries: nothing to check");
    expect(jsonOut(keel(root, "boundaries", "check", "--task", "1.2", "--json"))).toMatchObject({
      checked: false,
      boundaries: [],
      violations: [],
    });
  });

  it("without a default branch compares with HEAD; a repository with no commit counts every file", () => {
    const root = project(FILES);
    init(root, "trunk");
    const fresh = jsonOut(keel(root, "boundaries", "check", "--task", "1.1", "--json"));
    expect(fresh.base).toEqual({ rev: null, commit: null, how: "no commit yet" });
    expect(violations(fresh)).toContainEqual(["README.md", "untracked"]);
    const head = commit(root, "initial");
    writeFile(root, "src/billing/tax.ts", "export const tax = 9;\n");
    const out = jsonOut(keel(root, "boundaries", "check", "--task", "1.1", "--json"));
    expect(out.base).toEqual({ rev: null, commit: head, how: "HEAD" });
    expect(violations(out)).toEqual([["src/billing/tax.ts", "modified"]]);
  });

  it("in a project inside a larger repository, files outside the project are violations", () => {
    const root = project({});
    init(root);
    writeFiles(
      root,
      Object.fromEntries(
        Object.entries(FILES).map(([rel, text]) => [rel === ".gitignore" ? rel : `app/${rel}`, text]),
      ),
    );
    writeFile(root, "lib/shared.ts", "export {};\n");
    commit(root, "initial");
    writeFile(root, "lib/shared.ts", "export const x = 1;\n");
    writeFile(root, "app/src/pay/apply.ts", "export const apply = 5;\n");
    const out = jsonOut(keel(join(root, "app"), "boundaries", "check", "--task", "1.1", "--json"));
    expect(out.files.map((f: Checked) => f.path)).toEqual(["../lib/shared.ts", "src/pay/apply.ts"]);
    expect(violations(out)).toEqual([["../lib/shared.ts", "modified"]]);
  });

  it("needs a git repository, a task and the check subcommand", () => {
    const root = project(FILES);
    const r = keel(root, "boundaries", "check", "--task", "1.1");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("is not in a git repository");
    init(root);
    expect(keel(root, "boundaries", "check").code).toBe(2);
    expect(keel(root, "boundaries", "--task", "1.1").code).toBe(2);
    const unknown = keel(root, "boundaries", "check", "--task", "9.9");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown task: 9.9");
  });
});
