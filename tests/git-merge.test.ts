// The git merge driver under real `git merge`, and its registration by `keel init`.
// @verifies CHG-10
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { initProject, MERGE_DRIVER } from "../src/core/init.js";
import { parseSpec } from "../src/format/spec.js";
import {
  cleanup,
  commit,
  env,
  events,
  git,
  json,
  keel,
  keelOnPath,
  project,
  read,
  tempRoot,
  write,
} from "./changes-support.js";

afterAll(cleanup);

const SPEC = "keel/specs/payments/spec.md";

/** A project whose git config and attributes are set by `keel init`, with `keel` on PATH for git. */
function repo(): { root: string; env: NodeJS.ProcessEnv } {
  const root = project();
  const r = keel(root, ["init", "--root", "."]);
  expect(r.code, r.stderr).toBe(0);
  commit(root, "keel init");
  return { root, env: env({ PATH: `${keelOnPath()}:${process.env.PATH}` }) };
}

function merge(root: string, e: NodeJS.ProcessEnv, branch: string) {
  return spawnSync("git", ["merge", "--no-edit", branch], { cwd: root, encoding: "utf8", env: e });
}

/** Two branches from main, each editing the spec; returns to the first branch. */
function branches(root: string, a: (t: string) => string, b: (t: string) => string): void {
  git(root, "checkout", "-q", "-b", "a");
  write(root, SPEC, a(read(root, SPEC)));
  commit(root, "a");
  git(root, "checkout", "-q", "main");
  git(root, "checkout", "-q", "-b", "b");
  write(root, SPEC, b(read(root, SPEC)));
  commit(root, "b");
  git(root, "checkout", "-q", "a");
}

describe("keel init registers the merge driver", () => {
  it("writes .gitattributes and git config in a git repository, idempotently", () => {
    const root = project();
    const first = initProject(root);
    expect(first.created).toContain(".gitattributes");
    expect(first.updated).toContain("git config merge.keel");
    expect(read(root, ".gitattributes")).toContain("\nkeel/specs/**/spec.md merge=keel\n");
    expect(git(root, "config", "--get", "merge.keel.driver").trim()).toBe(MERGE_DRIVER);
    expect(git(root, "check-attr", "merge", SPEC).trim()).toBe(`${SPEC}: merge: keel`);
    const before = read(root, ".gitattributes");
    const again = initProject(root);
    expect(again.kept).toEqual(expect.arrayContaining([".gitattributes", "git config merge.keel"]));
    expect(again.updated).toEqual([]);
    expect(read(root, ".gitattributes")).toBe(before);
  });

  it("appends only missing lines, keeps a pattern that already has a merge driver, and adds the OpenSpec layout", () => {
    const root = project({
      ".gitattributes": "*.png binary\r\nkeel/specs/**/spec.md merge=union\r\n",
      "openspec/specs/auth/spec.md": "# Auth\n\n## Purpose\nAuth.\n\n## Requirements\n",
    });
    git(root, "config", "merge.keel.driver", "my-own-driver %O %A %B");
    const report = initProject(root);
    expect(report.updated).toContain(".gitattributes");
    expect(read(root, ".gitattributes")).toBe(
      "*.png binary\r\nkeel/specs/**/spec.md merge=union\r\nopenspec/specs/**/spec.md merge=keel\r\n",
    );
    expect(report.warnings).toEqual([
      expect.objectContaining({
        file: "git config merge.keel",
        message: expect.stringContaining("my-own-driver"),
      }),
    ]);
    expect(git(root, "config", "--get", "merge.keel.driver").trim()).toBe("my-own-driver %O %A %B");
  });

  it("does nothing git-related outside a git repository", () => {
    const root = join(tempRoot(), "plain");
    mkdirSync(root, { recursive: true });
    const report = initProject(root);
    expect(report.created).not.toContain(".gitattributes");
    expect(report.warnings).toEqual([]);
  });
});

describe("git merge with the driver", () => {
  it("merges two branches that edited different requirements of one spec, cleanly", () => {
    const { root, env: e } = repo();
    branches(
      root,
      (t) => t.replace("Refunds are logged.", "Refunds are logged daily."),
      (t) => t.replace("each charge before capture", "every charge before capture"),
    );
    const r = merge(root, e, "b");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const text = read(root, SPEC);
    expect(text).toContain("Refunds are logged daily.");
    expect(text).toContain("every charge before capture");
    expect(text).not.toContain("<<<<<<<");
    expect(git(root, "status", "--porcelain")).toBe("");
    expect(events(root).filter((x) => x.action === "merge.conflict")).toEqual([]);
  });

  it("keeps two requirements added at the same place by two branches, which line-based git would not", () => {
    const { root, env: e } = repo();
    const added = (id: string) =>
      `### Requirement: Added on ${id} {#${id}}\nThe system SHALL do ${id}.\n\n#### Scenario: ${id}\n- **WHEN** ${id} happens\n- **THEN** it is done\n\n`;
    branches(
      root,
      (t) => t.replace("## Out of Scope", `${added("NEW-A")}## Out of Scope`),
      (t) => t.replace("## Out of Scope", `${added("NEW-B")}## Out of Scope`),
    );
    const r = merge(root, e, "b");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const ids = parseSpec(read(root, SPEC), SPEC, "payments").spec.requirements.map((x) => x.id);
    expect(ids).toEqual(["PAY-4", "PAY-5", "payments/receipts-are-sent", "NEW-A", "NEW-B"]);
    expect(read(root, SPEC)).not.toContain("<<<<<<<");
  });

  it("merges different sentences of the same requirement, which line-based git would not", () => {
    const { root, env: e } = repo();
    branches(
      root,
      (t) => t.replace("per refund key.", "for each refund key."),
      (t) => t.replace("Refunds are logged.", "Refunds are logged daily."),
    );
    const r = merge(root, e, "b");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(read(root, SPEC)).toContain("at most one refund for each refund key. Refunds are logged daily.");
  });

  it("confines the conflict markers to the requirement both branches changed, exits non-zero and records a conflict", () => {
    const { root, env: e } = repo();
    branches(
      root,
      (t) =>
        t
          .replace("at most one refund", "exactly one refund")
          .replace("Chargebacks.", "Chargebacks and disputes."),
      (t) =>
        t.replace("at most one refund", "no more than one refund").replace("each charge", "every charge"),
    );
    const r = merge(root, e, "b");
    expect(r.status).not.toBe(0);
    expect(r.stderr + r.stdout).toContain("conflict in requirement PAY-4");
    const text = read(root, SPEC);
    const lines = text.split("\n");
    const open = lines.indexOf("<<<<<<< ours");
    const mid = lines.indexOf("=======");
    const close = lines.indexOf(">>>>>>> theirs");
    expect([open, mid, close].every((n) => n > 0)).toBe(true);
    expect(lines.filter((l) => /^(<<<<<<<|=======|>>>>>>>)/.test(l))).toHaveLength(3);
    const inside = lines.slice(open + 1, close).join("\n");
    expect(inside.match(/^### Requirement: /gm)).toEqual(["### Requirement: ", "### Requirement: "]);
    expect(inside).toContain("exactly one refund");
    expect(inside).toContain("no more than one refund");
    expect(inside).not.toContain("PAY-5");
    // Everything outside the markers merged.
    const outside = [...lines.slice(0, open), ...lines.slice(close + 1)].join("\n");
    expect(outside).toContain("every charge before capture");
    expect(outside).toContain("Chargebacks and disputes.");
    const recorded = json<{ conflicts: Array<Record<string, string>> }>(
      keel(root, ["conflicts", "--json"]),
    ).conflicts;
    expect(recorded).toMatchObject([
      { change: "git-merge", capability: "payments", requirement: "PAY-4", status: "open" },
    ]);
    expect(recorded[0]?.base).toContain("at most one refund");
    expect(recorded[0]?.ours).toContain("exactly one refund");
    expect(recorded[0]?.theirs).toContain("no more than one refund");
    // A human settles it in the file; `keel conflicts` then closes the record.
    const fixed = [...lines.slice(0, open), ...lines.slice(open + 1, mid), ...lines.slice(close + 1)].join(
      "\n",
    );
    write(root, SPEC, fixed);
    expect(parseSpec(fixed, SPEC, "payments").spec.requirements.map((x) => x.id)).toEqual([
      "PAY-4",
      "PAY-5",
      "payments/receipts-are-sent",
    ]);
    const after = json<{ conflicts: unknown[]; closed: string[] }>(keel(root, ["conflicts", "--json"]));
    expect(after.conflicts).toEqual([]);
    expect(after.closed).toEqual([recorded[0]?.id]);
  });

  it("the driver alone: writes the merge to %A and exits 0, or 1 on a conflict", () => {
    const root = project();
    const dir = join(tempRoot(), "driver");
    mkdirSync(dir, { recursive: true });
    const base = read(root, SPEC);
    const files = (ours: string, theirs: string) => {
      writeFileSync(join(dir, "O"), base);
      writeFileSync(join(dir, "A"), ours);
      writeFileSync(join(dir, "B"), theirs);
    };
    files(
      base.replace("Refunds are logged.", "Refunds are kept."),
      base.replace("each charge", "every charge"),
    );
    const ok = keel(root, ["merge-driver", join(dir, "O"), join(dir, "A"), join(dir, "B"), SPEC]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(read(dir, "A")).toBe(
      base.replace("Refunds are logged.", "Refunds are kept.").replace("each charge", "every charge"),
    );
    files(base.replace("each charge", "any charge"), base.replace("each charge", "every charge"));
    const bad = keel(root, ["merge-driver", join(dir, "O"), join(dir, "A"), join(dir, "B"), SPEC]);
    expect(bad.code).toBe(1);
    expect(read(dir, "A")).toContain("<<<<<<< ours\n### Requirement: Charges are authorised {#PAY-5}");
    expect(keel(root, ["merge-driver", "only-one"]).code).toBe(2);
    expect(keel(root, ["help"]).stdout).not.toContain("merge-driver");
  });
});
