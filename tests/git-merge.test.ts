// The git merge driver under real `git merge`, and its registration by `keel init`: the command that starts
// the Keel that ran `keel init`, however it was installed, checked by `keel init` and `keel check`.
// @verifies CHG-10
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DRIVER_ARGS, driverCommand, PLAIN_DRIVER, shellWord } from "../src/core/changes/driver-command.js";
import { initProject } from "../src/core/init.js";
import { parseSpec } from "../src/format/spec.js";
import type { Finding } from "../src/model/types.js";
import {
  CLI,
  cleanup,
  commit,
  env,
  events,
  git,
  json,
  keel,
  keelOnPath,
  PAYMENTS,
  project,
  read,
  tempRoot,
  write,
} from "./changes-support.js";
import { envWithoutKeel, keelFoundBy, layOutLocalInstall } from "./support/install.js";

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
function branches(root: string, a: (t: string) => string, b: (t: string) => string, spec = SPEC): void {
  git(root, "checkout", "-q", "-b", "a");
  write(root, spec, a(read(root, spec)));
  commit(root, "a");
  git(root, "checkout", "-q", "main");
  git(root, "checkout", "-q", "-b", "b");
  write(root, spec, b(read(root, spec)));
  commit(root, "b");
  git(root, "checkout", "-q", "a");
}

/** This checkout's bundle, run by the Node running the tests: neither on PATH nor in a node_modules folder. */
const CHECKOUT = { node: process.execPath, script: CLI };
const ABSOLUTE_DRIVER = `${shellWord(process.execPath)} ${shellWord(CLI)} ${DRIVER_ARGS}`;
/** A shell's environment without `keel` on PATH, as git has it where Keel is not installed globally. */
const noKeel = envWithoutKeel();

describe("keel init registers the merge driver", () => {
  it("writes .gitattributes and git config in a git repository, idempotently", () => {
    const root = project();
    const first = initProject(root, { keel: CHECKOUT, env: noKeel });
    expect(first.created).toContain(".gitattributes");
    expect(first.updated).toContain("git config merge.keel");
    expect(first.warnings).toEqual([]);
    expect(first.mergeDriver).toBe(ABSOLUTE_DRIVER);
    expect(read(root, ".gitattributes")).toContain("\nkeel/specs/**/spec.md merge=keel\n");
    expect(git(root, "config", "--get", "merge.keel.driver").trim()).toBe(ABSOLUTE_DRIVER);
    expect(git(root, "check-attr", "merge", SPEC).trim()).toBe(`${SPEC}: merge: keel`);
    const before = read(root, ".gitattributes");
    const again = initProject(root, { keel: CHECKOUT, env: noKeel });
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
    const report = initProject(root, { keel: CHECKOUT, env: noKeel });
    expect(report.updated).toContain(".gitattributes");
    expect(read(root, ".gitattributes")).toBe(
      "*.png binary\r\nkeel/specs/**/spec.md merge=union\r\nkeel/audit/*.jsonl merge=keel\r\nopenspec/specs/**/spec.md merge=keel\r\n",
    );
    // Left as the user set it, and reported when git cannot start it.
    expect(report.warnings).toEqual([
      {
        file: "git config merge.keel",
        message: 'merge.keel.driver is already set to "my-own-driver %O %A %B"; left alone',
        hint: `Keel's driver is \`${ABSOLUTE_DRIVER}\`; unset the key and run \`keel init\` again to use it`,
      },
      expect.objectContaining({
        file: "git config merge.keel",
        message: expect.stringMatching(
          /^git cannot start the merge driver `my-own-driver %O %A %B` \(sh could not start it: .*not found\)/,
        ),
        hint: expect.stringContaining("git config --unset merge.keel.driver"),
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

  // @verifies TRU-4
  it("merges two branches of one clone that both extended its audit segment into the longer, one chain", () => {
    const { root, env: e } = repo();
    write(root, "keel/specs/payments/tasks.md", "## 1. Build\n- [ ] 1.1 Schema\n- [ ] 1.2 API\n");
    commit(root, "tasks");
    const claim = (task: string) =>
      expect(keel(root, ["tasks", "claim", task, "--as", "agent:w1", "--ttl", "1h"]).code).toBe(0);
    git(root, "checkout", "-q", "-b", "a");
    claim("payments/1.1");
    commit(root, "a: one event");
    git(root, "checkout", "-q", "main");
    git(root, "checkout", "-q", "-b", "b");
    claim("payments/1.2");
    commit(root, "b: the segment brought up to date, then a second event");
    git(root, "checkout", "-q", "a");
    const r = merge(root, e, "b");
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const verified = json(keel(root, ["audit", "verify", "--json"]));
    expect(verified).toMatchObject({ ok: true, events: 2 });
    const segment = (verified.store as { segment: string }).segment;
    expect(read(root, segment).trimEnd().split("\n")).toHaveLength(2);

    // Two copies where neither extends the other are a conflict for a person; ours is left as it was.
    const dir = join(tempRoot(), "segments");
    mkdirSync(dir, { recursive: true });
    const [one, two] = read(root, segment).trimEnd().split("\n");
    writeFileSync(join(dir, "O"), "");
    writeFileSync(join(dir, "A"), `${one}\n`);
    writeFileSync(join(dir, "B"), `${two}\n`);
    const bad = keel(root, ["merge-driver", join(dir, "O"), join(dir, "A"), join(dir, "B"), segment]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("neither branch's copy of the audit segment extends the other's");
    expect(read(dir, "A")).toBe(`${one}\n`);
  });
});

// @verifies TRU-11
describe("the merge driver starts the Keel that registered it", () => {
  const driverOf = (root: string) => git(root, "config", "--get", "merge.keel.driver").trim();
  let n = 0;
  const folder = (name: string) => {
    const dir = join(tempRoot(), `${name}-${++n}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  };

  it("picks node_modules/.bin/keel inside the work tree, plain keel for the Keel on PATH, else an absolute command", () => {
    expect(keelFoundBy(noKeel, tempRoot())).toBeNull();
    const top = folder("forms");
    const bin = layOutLocalInstall(top);
    expect(driverCommand(top, { node: process.execPath, script: bin }, noKeel)).toBe(
      `node_modules/.bin/keel ${DRIVER_ARGS}`,
    );
    // A monorepo: Keel is a dependency of a package below the top, where git runs the driver.
    const app = join(top, "packages", "my app");
    const appBin = layOutLocalInstall(app);
    expect(driverCommand(top, { node: process.execPath, script: appBin }, noKeel)).toBe(
      `'packages/my app/node_modules/.bin/keel' ${DRIVER_ARGS}`,
    );
    // Installed outside the work tree: not relative to the top.
    expect(driverCommand(join(top, "packages"), { node: process.execPath, script: bin }, noKeel)).toBe(
      `${shellWord(process.execPath)} ${shellWord(join(top, "node_modules/keel/dist/keel.cjs"))} ${DRIVER_ARGS}`,
    );
    // `keel` on PATH is the running Keel (a link to it, as a global install makes): plain keel.
    const global = folder("global-bin");
    symlinkSync(CLI, join(global, "keel"));
    const withGlobal = { ...noKeel, PATH: `${global}${delimiter}${noKeel.PATH}` };
    expect(driverCommand(top, CHECKOUT, withGlobal)).toBe(PLAIN_DRIVER);
    // Another `keel` on PATH (a wrapper script) is not known to be this Keel.
    const other = folder("other-bin");
    writeFileSync(join(other, "keel"), "#!/bin/sh\nexit 0\n");
    chmodSync(join(other, "keel"), 0o755);
    expect(driverCommand(top, CHECKOUT, { ...noKeel, PATH: `${other}${delimiter}${noKeel.PATH}` })).toBe(
      ABSOLUTE_DRIVER,
    );
  });

  it("does not count the node_modules/.bin folders npx puts on PATH, which git will not have", () => {
    const elsewhere = folder("parent");
    const linked = join(elsewhere, "node_modules", ".bin");
    mkdirSync(linked, { recursive: true });
    symlinkSync(CLI, join(linked, "keel"));
    const path = `${linked}${delimiter}${noKeel.PATH}`;
    const top = folder("project");
    expect(driverCommand(top, CHECKOUT, { ...noKeel, PATH: path })).toBe(PLAIN_DRIVER);
    expect(driverCommand(top, CHECKOUT, { ...noKeel, PATH: path, npm_command: "exec" })).toBe(
      ABSOLUTE_DRIVER,
    );
    expect(
      driverCommand(top, CHECKOUT, { ...noKeel, PATH: path, npm_config_user_agent: "pnpm/9.0.0 node/v20" }),
    ).toBe(ABSOLUTE_DRIVER);
  });

  it("merges cleanly with Keel a dependency of a monorepo package, run through npx, and no keel on PATH", () => {
    const top = folder("monorepo");
    const app = join(top, "packages", "app");
    const spec = "packages/app/keel/specs/payments/spec.md";
    write(top, "packages/app/package.json", '{ "name": "app", "private": true }\n');
    write(top, "packages/app/keel/keel.yaml", "version: 1\n");
    write(top, spec, PAYMENTS);
    write(top, ".gitignore", "node_modules/\n.keel/\n");
    layOutLocalInstall(app);
    git(top, "init", "-q", "-b", "main");
    git(top, "config", "user.name", "tester");
    git(top, "config", "user.email", "tester@example.com");
    git(top, "config", "commit.gpgsign", "false");
    const init = spawnSync("npx", ["--no-install", "keel", "--json", "init", "--root", "."], {
      cwd: app,
      env: noKeel,
      encoding: "utf8",
    });
    expect(init.status, init.stderr).toBe(0);
    const report = JSON.parse(init.stdout);
    expect(report.warnings).toEqual([]);
    expect(report.mergeDriver).toBe(`packages/app/node_modules/.bin/keel ${DRIVER_ARGS}`);
    expect(driverOf(top)).toBe(report.mergeDriver);
    commit(top, "keel init");
    branches(
      top,
      (t) => t.replace("Refunds are logged.", "Refunds are logged daily."),
      (t) => t.replace("each charge before capture", "every charge before capture"),
      spec,
    );
    // git runs the driver from the top of the work tree, wherever `git merge` is typed.
    const r = merge(join(app, "keel"), noKeel, "b");
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const text = read(top, spec);
    expect(text).toContain("Refunds are logged daily.");
    expect(text).toContain("every charge before capture");
    expect(text).not.toContain("<<<<<<<");
    expect(git(top, "status", "--porcelain")).toBe("");
  });

  it("replaces the plain driver of an older keel init that no longer starts, and keeps one that starts", () => {
    const olderInit = (root: string) => {
      git(root, "config", "merge.keel.driver", PLAIN_DRIVER);
      git(root, "config", "merge.keel.name", "Keel: merge specs requirement by requirement");
      return root;
    };
    const stale = olderInit(project());
    const upgraded = json<{ updated: string[]; warnings: unknown[]; mergeDriver: string }>(
      keel(stale, ["--json", "init"], { PATH: noKeel.PATH }),
    );
    expect(upgraded.updated).toContain("git config merge.keel");
    expect(upgraded.warnings).toEqual([]);
    expect(upgraded.mergeDriver).toBe(ABSOLUTE_DRIVER);
    expect(driverOf(stale)).toBe(ABSOLUTE_DRIVER);

    const working = olderInit(project());
    const kept = json<{ kept: string[]; updated: string[]; warnings: unknown[] }>(
      keel(working, ["--json", "init"], { PATH: `${keelOnPath()}${delimiter}${noKeel.PATH}` }),
    );
    expect(kept.kept).toContain("git config merge.keel");
    expect(kept.updated).not.toContain("git config merge.keel");
    expect(kept.warnings).toEqual([]);
    expect(driverOf(working)).toBe(PLAIN_DRIVER);
  });

  it("keel init warns when the driver it registers cannot start", () => {
    const root = project();
    // A library caller names no running Keel, so the driver is plain `keel`, which this PATH lacks.
    const report = initProject(root, { env: noKeel });
    expect(report.mergeDriver).toBe(PLAIN_DRIVER);
    expect(report.warnings).toEqual([
      {
        file: "git config merge.keel",
        message: expect.stringMatching(
          /^git cannot start the merge driver `keel merge-driver %O %A %B %P` \(sh could not start it: .*keel: not found\), so it merges spec files line by line$/,
        ),
        hint: "install Keel as a project dependency (`npm install --save-dev keel`) and run `npx keel init`, or put `keel` on PATH and run `keel init` again",
      },
    ]);
  });

  it("keel check reports a registered driver git cannot start, and keel init repairs Keel's", () => {
    const { root } = repo();
    type Check = { mergeDriver: { command: string; problem: string | null } | null; findings: Finding[] };
    const check = (...flags: string[]) => keel(root, ["--json", "check", ...flags], { PATH: noKeel.PATH });
    const driverFindings = (r: Check) => r.findings.filter((f) => f.rule === "check/merge-driver");
    const healthy = json<Check>(check());
    expect(healthy.mergeDriver).toEqual({ command: ABSOLUTE_DRIVER, problem: null });
    expect(driverFindings(healthy)).toEqual([]);

    // Keel moved away since `keel init`: the absolute command it wrote no longer starts.
    const moved = `${shellWord(process.execPath)} ${shellWord(join(tempRoot(), "gone", "keel.mjs"))} ${DRIVER_ARGS}`;
    git(root, "config", "merge.keel.driver", moved);
    const broken = check();
    expect(broken.code).toBe(0);
    expect(driverFindings(json<Check>(broken))).toEqual([
      {
        rule: "check/merge-driver",
        severity: "warning",
        file: ".gitattributes",
        line: 2,
        col: 1,
        message: expect.stringMatching(
          /^git cannot start the merge driver `.*\/gone\/keel\.mjs merge-driver %O %A %B %P` \(it exited with 1: Error: Cannot find module .*\), so it merges spec files line by line$/,
        ),
        hint: "run `keel init` again the way you run Keel (`npx keel init` for a project dependency) to register a driver that starts, or put `keel` on PATH",
      },
    ]);
    expect(check("--fail-on", "warning").code).toBe(1);
    expect(keel(root, ["init"], { PATH: noKeel.PATH }).code).toBe(0);
    expect(driverOf(root)).toBe(ABSOLUTE_DRIVER);
    expect(driverFindings(json<Check>(check()))).toEqual([]);

    // The user's own driver is theirs to fix: `keel init` leaves it, `keel check` says it cannot start.
    git(root, "config", "merge.keel.driver", "no-such-merge-tool %O %A %B");
    const theirs = driverFindings(json<Check>(check()));
    expect(theirs).toMatchObject([
      { rule: "check/merge-driver", message: expect.stringContaining("not found") },
    ]);
    expect(theirs[0]?.hint).toContain("git config --unset merge.keel.driver");
  });
});
