// Task rules inside `keel validate`, end to end through the built bundle: the task graph of every discovered
// tasks.md (capability, change, Spec Kit, Kiro), requirement coverage, parallel tasks with overlapping
// boundaries; severities, exit codes, the openspec profile, and the validation cache seeing task-file edits.
// @verifies TSK-4
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { jsonOut, keel, keelWith, type Run } from "./support/cli.js";
import { tempProjects, writeFile as write } from "./support/files.js";

const project = tempProjects("keel-tasks-validate-");
const report = jsonOut;

function findings(run: Run, family = "tasks/"): Finding[] {
  return (report(run).findings as Finding[]).filter((f) => f.rule.startsWith(family));
}

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string, from = 0): number {
  const i = text.split("\n").findIndex((l, k) => k >= from && l.includes(needle));
  expect(i, needle).toBeGreaterThanOrEqual(0);
  return i + 1;
}

function requirement(id: string, title: string, sentence: string, status?: string): string[] {
  return [
    `### Requirement: ${title} {#${id}}`,
    ...(status ? [`> status: ${status}`] : []),
    `The system SHALL ${sentence}.`,
    "",
    `#### Scenario: ${title} happens`,
    `- **WHEN** the ${title.toLowerCase()} case occurs`,
    `- **THEN** the system does it`,
    "",
  ];
}

const PAY_SPEC = [
  "---",
  "status: approved",
  "---",
  "# Payments",
  "",
  "## Purpose",
  "Payments and refunds for the invoices that customers pay, processed exactly once.",
  "",
  "## Requirements",
  "",
  ...requirement("PAY-1", "Idempotent refunds", "process at most one refund per refund key"),
  ...requirement("PAY-2", "Receipts", "email a receipt for every recorded payment"),
  ...requirement("PAY-3", "Cheques", "record cheques received by post", "deprecated"),
  ...requirement("PAY-4", "Payouts", "pay out balances at the end of each day", "proposed"),
].join("\n");

const PAY_TASKS = [
  "## 1. Refunds",
  "- [ ] 1.1 Store the refund key",
  "  - covers: PAY-1, PAY-9",
  "- [ ] 1.2 Accept cheques",
  "  - covers: PAY-3",
  "- [ ] 1.3 Limit refunds",
  "  - covers: PAY-10",
  "- [ ] 1.4 First (depends on 1.6)",
  "- [ ] 1.5 Second (depends on 1.4)",
  "- [ ] 1.6 Third (depends on 1.5)",
  "- [ ] 1.7 Orphan (depends on 9.9)",
  "- [ ] 1.8 Selfish (depends on 1.8)",
  "- [ ] 1.7 Again",
  "- [ ] 1.9 Garbled",
  "  - depends-on: 1.1 1.2",
  "",
].join("\n");

const SHIP_TASKS = [
  "## Shipping",
  "- [ ] T001 [P] Carrier client",
  "  - boundaries: src/shipping/**",
  "- [ ] T002 [P] Label printer",
  "  - boundaries: src/shipping/labels/**",
  "- [ ] T003 [P] Rates table",
  "  - boundaries: src/**/*.sql",
  "- [ ] T004 [P] Tariff migration",
  "  - boundaries: db/tariffs/**, src/rates/**",
  "- [ ] T005 [P] Customs forms (depends on T001)",
  "  - boundaries: src/shipping/customs.ts",
  "- [ ] T006 [P] Tracking (depends on T005)",
  "  - boundaries: src/shipping/tracking.ts",
  "- [x] T007 [P] Old carrier",
  "  - boundaries: src/shipping/**",
  "- [ ] T008 [P] Docs",
  "  - boundaries: docs/**",
  "- [ ] T009 Shared config",
  "  - boundaries: src/shipping/**",
  "- [ ] T010 [P] Returns",
  "  - boundaries: src/returns/**",
  "  - [ ] T011 [P] Return labels",
  "    - boundaries: src/returns/**",
  "- [ ] T013 Packaging (depends on T001)",
  "  - [ ] T014 [P] Box sizes",
  "    - boundaries: src/shipping/boxes.ts",
  "",
].join("\n");

const LIMITS_DELTA = [
  "## ADDED Requirements",
  "",
  ...requirement("PAY-10", "Refund limit", "refuse a refund above the workspace's refund limit"),
].join("\n");

const FULL: Record<string, string> = {
  "keel/keel.yaml": "version: 1\n",
  "keel/specs/pay/spec.md": PAY_SPEC,
  "keel/specs/pay/tasks.md": PAY_TASKS,
  "keel/specs/ship/tasks.md": SHIP_TASKS,
  "keel/changes/add-limits/proposal.md":
    "## Why\nRefunds without a limit let a compromised account drain a workspace's balance.\n\n## What Changes\n- Add a refund limit.\n",
  "keel/changes/add-limits/specs/pay/spec.md": LIMITS_DELTA,
  "keel/changes/add-limits/tasks.md": "- [ ] 1.1 Enforce the limit\n  - covers: PAY-10\n",
  "specs/001-export/tasks.md": "## Phase 1: Setup\n- [ ] T001 Export CSV (depends on T999)\n",
  ".kiro/specs/login/tasks.md": "- [ ] 1. Login form\n  - _Requirements: 1.2, 3.1_\n",
  "src/shipping/client.ts": "export {};\n",
  "src/rates/tariff.sql": "select 1;\n",
};

describe("task rules in keel validate", () => {
  const root = project(FULL);
  const run = keel(root, "validate", "--json");

  it("fails the run (exit 1) on the task errors", () => {
    expect(run.code).toBe(1);
    expect(report(run).ok).toBe(false);
  });

  it("reports graph problems at file:line, errors all, the cycle named whole", () => {
    const f = findings(run).filter(
      (x) => x.file === "keel/specs/pay/tasks.md" && !x.rule.includes("requirement"),
    );
    const at = (needle: string) => lineOf(PAY_TASKS, needle);
    expect(f.map(({ rule, severity, line, col }) => ({ rule, severity, line, col }))).toEqual([
      { rule: "tasks/cycle", severity: "error", line: at("1.4 First"), col: 1 },
      { rule: "tasks/duplicate-id", severity: "error", line: at("1.7 Orphan"), col: 1 },
      { rule: "tasks/unknown-dependency", severity: "error", line: at("1.7 Orphan"), col: 1 },
      { rule: "tasks/self-dependency", severity: "error", line: at("1.8 Selfish"), col: 3 },
      { rule: "tasks/duplicate-id", severity: "error", line: at("1.7 Again"), col: 1 },
      { rule: "tasks/bad-dependency", severity: "error", line: at("depends-on: 1.1 1.2"), col: 5 },
    ]);
    expect(f[0]?.message).toBe("dependency cycle: pay/1.4 → pay/1.6 → pay/1.5 → pay/1.4");
    // A repeated ID is an error at both of its lines, each naming the other; the second task is kept as 1.7@2.
    expect(f[1]?.message).toContain(`also on line ${at("1.7 Again")}`);
    expect(f[2]?.message).toBe("task pay/1.7 depends on unknown task 9.9");
    expect(f[4]?.message).toContain(`also on line ${at("1.7 Orphan")}`);
    expect(f[4]?.message).toContain("keyed 1.7@2");
    expect(f[5]?.message).toBe('cannot read dependency "1.1 1.2" of task 1.9');
    for (const x of f) expect(x.target).toBe("pay");
  });

  it("reads Spec Kit's task files, and checks Kiro's requirement numbers against the feature's criteria", () => {
    expect(findings(run).filter((x) => x.file.startsWith("specs/") || x.file.startsWith(".kiro/"))).toEqual([
      // The login feature has no requirements.md, so neither criterion its task names exists.
      ...["1.2", "3.1"].map((n) =>
        expect.objectContaining({
          rule: "tasks/unknown-requirement",
          severity: "error",
          file: ".kiro/specs/login/tasks.md",
          message: `task login/1 covers login/${n}, which names no requirement`,
        }),
      ),
      expect.objectContaining({
        rule: "tasks/unknown-dependency",
        severity: "error",
        file: "specs/001-export/tasks.md",
        line: 2,
        message: "task 001-export/T001 depends on unknown task T999",
      }),
    ]);
  });

  it("checks covers: unknown is an error, deprecated a warning, an open change's new ID is known", () => {
    // Keel's own files only: the Kiro feature's unknown criteria are the test above.
    const f = findings(run).filter((x) => x.rule.endsWith("-requirement") && x.file.startsWith("keel/"));
    expect(f.map(({ rule, severity, file, line }) => ({ rule, severity, file, line }))).toEqual([
      {
        rule: "tasks/uncovered-requirement",
        severity: "warning",
        file: "keel/specs/pay/spec.md",
        line: lineOf(PAY_SPEC, "{#PAY-2}"),
      },
      {
        rule: "tasks/unknown-requirement",
        severity: "error",
        file: "keel/specs/pay/tasks.md",
        line: lineOf(PAY_TASKS, "1.1 Store"),
      },
      {
        rule: "tasks/deprecated-requirement",
        severity: "warning",
        file: "keel/specs/pay/tasks.md",
        line: lineOf(PAY_TASKS, "1.2 Accept"),
      },
    ]);
    expect(f[0]?.message).toBe('approved requirement PAY-2 ("Receipts") is covered by no task');
    expect(f[1]?.message).toBe("task pay/1.1 covers PAY-9, which names no requirement");
    expect(f[2]?.message).toBe('task pay/1.2 covers PAY-3 ("Cheques"), which is deprecated');
  });

  it("counts the findings against the spec (capability tasks) and the change (its tasks)", () => {
    const items = report(run).items as Array<{ id: string; errors: number; warnings: number }>;
    const pay = items.find((i) => i.id === "pay");
    // pay: 7 graph and cover errors in its tasks.md (the repeated 1.7 at both lines); the uncovered and
    // deprecated warnings.
    expect(pay).toMatchObject({ errors: 7, warnings: 2 });
    expect(items.find((i) => i.id === "add-limits")).toMatchObject({ errors: 0 });
  });

  it("reports parallel tasks that may run together with overlapping boundaries, and only those", () => {
    const f = findings(run).filter((x) => x.rule === "tasks/parallel-overlap");
    expect(f.map(({ severity, file, line }) => ({ severity, file, line }))).toEqual([
      { severity: "warning", file: "keel/specs/ship/tasks.md", line: lineOf(SHIP_TASKS, "T002 [P]") },
      { severity: "warning", file: "keel/specs/ship/tasks.md", line: lineOf(SHIP_TASKS, "T004 [P]") },
    ]);
    expect(f[0]?.message).toBe(
      "parallel tasks ship/T001 (keel/specs/ship/tasks.md:2) and ship/T002 may run at the same time, and their boundaries src/shipping/** and src/shipping/labels/** overlap",
    );
    expect(f[1]?.message).toBe(
      "parallel tasks ship/T003 (keel/specs/ship/tasks.md:6) and ship/T004 may run at the same time, and their boundaries src/**/*.sql and src/rates/** both match src/rates/tariff.sql",
    );
  });

  it("drops every task rule under --profile openspec", () => {
    const os = keel(root, "validate", "--json", "--profile", "openspec");
    expect(findings(os)).toEqual([]);
    expect(report(os).summary.errors).toBe(0);
    expect(os.code).toBe(0);
  });

  it("prints the findings in the human format with their hints", () => {
    const human = keel(root, "validate", "--format", "compact");
    expect(human.code).toBe(1);
    expect(human.stdout).toContain(
      `keel/specs/pay/tasks.md:${lineOf(PAY_TASKS, "1.4 First")}:1: error: dependency cycle: pay/1.4 → pay/1.6 → pay/1.5 → pay/1.4 [tasks/cycle]\n  hint: break the cycle`,
    );
  });
});

describe("severities and exit codes", () => {
  const WARNINGS: Record<string, string> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/pay/spec.md": PAY_SPEC,
    "keel/specs/pay/tasks.md": "- [ ] 1.1 Refunds\n  - covers: PAY-1\n- [ ] 1.2 Cheques\n  - covers: PAY-3\n",
  };

  it("exits 0 on task warnings alone, and 1 under --strict", () => {
    const root = project(WARNINGS);
    const normal = keel(root, "validate", "--json");
    expect(normal.code).toBe(0);
    expect(findings(normal).map((f) => `${f.severity} ${f.rule}`)).toEqual([
      "warning tasks/uncovered-requirement",
      "warning tasks/deprecated-requirement",
    ]);
    const strict = keel(root, "validate", "--strict", "--json");
    expect(strict.code).toBe(1);
    expect(report(strict).ok).toBe(false);
  });

  // @verifies VAL-15
  it("honours validate.rules overrides for task rules", () => {
    const root = project({
      ...WARNINGS,
      "keel/keel.yaml": "version: 1\nvalidate:\n  rules:\n    tasks/uncovered-requirement: off\n",
    });
    expect(findings(keel(root, "validate", "--json")).map((f) => f.rule)).toEqual([
      "tasks/deprecated-requirement",
    ]);
  });
});

describe("clean projects stay clean", () => {
  const SPEC = [
    "# Payments",
    "",
    "## Purpose",
    "Payments and refunds for the invoices that customers pay, processed exactly once.",
    "",
    "## Requirements",
    "",
    ...requirement("PAY-1", "Idempotent refunds", "process at most one refund per refund key", "approved"),
    ...requirement("PAY-2", "Receipts", "email a receipt for every recorded payment", "approved"),
  ].join("\n");

  it("a project that covers every approved requirement, with well-formed parallel tasks", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/pay/spec.md": SPEC,
      "keel/specs/pay/tasks.md": [
        "- [ ] 1.1 [P] Refund handler",
        "  - covers: PAY-1",
        "  - boundaries: src/refunds/**",
        "- [ ] 1.2 [P] Receipt mailer",
        "  - covers: PAY-2",
        "  - boundaries: src/receipts/**",
        "- [ ] 1.3 [P] Refund docs (depends on 1.1)",
        "  - covers: PAY-1",
        "  - boundaries: src/refunds/README.md",
        "",
      ].join("\n"),
    });
    const run = keel(root, "validate", "--json");
    expect(report(run).findings).toEqual([]);
    expect(run.code).toBe(0);
  });

  it("a project whose tasks use no covers gets no coverage findings", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/pay/spec.md": SPEC,
      "keel/changes/add-x/proposal.md":
        "## Why\nThe refund flow needs a second look before the next audit of the ledger.\n\n## What Changes\n- Review.\n",
      "keel/changes/add-x/specs/pay/spec.md": [
        "## ADDED Requirements",
        "",
        ...requirement("PAY-3", "Refund review", "log every refund for review"),
      ].join("\n"),
      "keel/changes/add-x/tasks.md": "## 1. Review\n- [ ] 1.1 Review refunds\n- [x] 1.2 Log refunds\n",
    });
    const run = keel(root, "validate", "--json");
    expect(report(run).findings).toEqual([]);
    expect(run.code).toBe(0);
  });
});

describe("coverage is judged per planned capability", () => {
  it("warns of an uncovered approved requirement where the capability is planned, not elsewhere", () => {
    const spec = (cap: string, ids: string[]) =>
      [
        `# ${cap}`,
        "",
        "## Purpose",
        `The ${cap} capability of the invoicing product, as customers and auditors see it.`,
        "",
        "## Requirements",
        "",
        ...ids.flatMap((id) =>
          requirement(id, `Rule ${id}`, `apply rule ${id} to every invoice`, "approved"),
        ),
      ].join("\n");
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/pay/spec.md": spec("pay", ["PAY-1", "PAY-2"]),
      "keel/specs/tax/spec.md": spec("tax", ["TAX-1", "TAX-2"]),
      "keel/specs/pay/tasks.md": "- [ ] 1.1 Refund handler\n  - covers: PAY-1\n",
    });
    const found = report(keel(root, "validate", "--json")).findings as Finding[];
    expect(found.map((f) => [f.rule, f.target])).toEqual([["tasks/uncovered-requirement", "PAY-2"]]);
  });

  it("holds a change's tasks to what the change adds or modifies, once they use covers", () => {
    const delta = [
      "## ADDED Requirements",
      "",
      ...requirement("PAY-3", "Refund review", "log every refund for review"),
      ...requirement("PAY-4", "Refund limits", "refuse refunds above the invoice total"),
    ].join("\n");
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/pay/spec.md": PAY_SPEC,
      "keel/changes/add-review/proposal.md":
        "## Why\nRefunds need a review trail before the next audit of the ledger.\n\n## What Changes\n- Review.\n",
      "keel/changes/add-review/specs/pay/spec.md": delta,
      "keel/changes/add-review/tasks.md": "- [ ] 1.1 Review log\n  - covers: PAY-3\n- [ ] 1.2 Docs\n",
    });
    const found = (report(keel(root, "validate", "--json")).findings as Finding[]).filter(
      (f) => f.rule === "tasks/uncovered-requirement",
    );
    expect(found.map((f) => [f.file, f.line, f.target])).toEqual([
      ["keel/changes/add-review/specs/pay/spec.md", lineOf(delta, "{#PAY-4}"), "add-review"],
    ]);
  });
});

describe("the validation cache and task files", () => {
  const ENV = { KEEL_RACY_WINDOW_MS: "0" };
  const BASE: Record<string, string> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/pay/spec.md": PAY_SPEC.replace("status: approved", "status: draft"),
  };

  /** Adds a finding no file causes to the stored result: seen only when the result is replayed. */
  function plant(root: string): void {
    const db = new Database(join(root, ".keel", "index.db"));
    try {
      const row = db.prepare("SELECT value FROM meta WHERE key = 'result'").get() as { value: string };
      const result = JSON.parse(row.value);
      result.projectFindings.push({
        rule: "planted/marker",
        severity: "info",
        file: "keel/keel.yaml",
        line: 1,
        col: 1,
        message: "planted",
        hint: "",
      });
      db.prepare("UPDATE meta SET value = ? WHERE key = 'result'").run(JSON.stringify(result));
      // The answers rendered from the result are kept beside it: dropped, so a replay renders the planted one.
      db.prepare("DELETE FROM meta WHERE key LIKE 'kept:%'").run();
    } finally {
      db.close();
    }
  }
  const rules = (run: Run) => (report(run).findings as Finding[]).map((f) => f.rule);
  const validate = (root: string) => keelWith(ENV, root, "validate", "--json");

  it("replays the result until a capability's tasks.md changes, then sees the edit", () => {
    const root = project({ ...BASE, "keel/specs/pay/tasks.md": "- [ ] 1.1 Refunds\n  - covers: PAY-1\n" });
    expect(rules(validate(root))).toEqual([]);
    plant(root);
    expect(rules(validate(root))).toEqual(["planted/marker"]);
    write(root, "keel/specs/pay/tasks.md", "- [ ] 1.1 Refunds\n  - covers: PAY-1, PAY-77\n");
    expect(rules(validate(root))).toEqual(["tasks/unknown-requirement"]);
  });

  it("sees a capability tasks.md that appears, and a Spec Kit folder created after the last run", () => {
    const root = project(BASE);
    expect(rules(validate(root))).toEqual([]);
    plant(root);
    expect(rules(validate(root))).toEqual(["planted/marker"]);
    write(root, "keel/specs/pay/tasks.md", "- [ ] 1.1 Loop (depends on 1.1)\n");
    expect(rules(validate(root))).toEqual(["tasks/self-dependency"]);
    plant(root);
    expect(rules(validate(root))).toContain("planted/marker");
    write(root, "specs/002-import/tasks.md", "- [ ] T001 Import (depends on T404)\n");
    expect(rules(validate(root))).toEqual(["tasks/self-dependency", "tasks/unknown-dependency"]);
    plant(root);
    write(root, "specs/002-import/tasks.md", "- [ ] T001 Import\n");
    expect(rules(validate(root))).toEqual(["tasks/self-dependency"]);
  });

  it("watches no extra folder for a project without task files (the warm path is unchanged)", () => {
    const root = project(BASE);
    expect(validate(root).code).toBe(0);
    const db = new Database(join(root, ".keel", "index.db"), { readonly: true });
    const tree = JSON.parse(
      (db.prepare("SELECT value FROM meta WHERE key = 'tree'").get() as { value: string }).value,
    );
    db.close();
    expect((tree.dirs as Array<[string, number]>).map(([rel]) => rel)).toEqual([
      "keel",
      "keel/specs",
      "keel/specs/pay",
    ]);
    expect((tree.files as Array<[string]>).map(([rel]) => rel)).toEqual(["keel/specs/pay/spec.md"]);
  });
});

const HAVE_GIT = spawnSync("git", ["--version"]).status === 0;

describe.skipIf(!HAVE_GIT)("parallel overlap in a git repository", () => {
  it("matches boundaries against git's file list: untracked files count, ignored ones do not", () => {
    const tasks = [
      "- [ ] T001 [P] Importer",
      "  - boundaries: src/**/*.csv",
      "- [ ] T002 [P] Fixtures",
      "  - boundaries: src/fixtures/**",
      "",
    ].join("\n");
    const files = {
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/data/tasks.md": tasks,
      ".gitignore": "src/fixtures/\n",
      "src/fixtures/ignored.csv": "a,b\n",
    };
    const ignored = project(files);
    expect(spawnSync("git", ["init", "-q"], { cwd: ignored }).status).toBe(0);
    // The only file matching both globs is ignored by git, so git's list has none: no overlap.
    expect(findings(keel(ignored, "validate", "--json"))).toEqual([]);

    const untracked = project({ ...files, ".gitignore": "" });
    expect(spawnSync("git", ["init", "-q"], { cwd: untracked }).status).toBe(0);
    const f = findings(keel(untracked, "validate", "--json"));
    expect(f.map((x) => x.message)).toEqual([
      "parallel tasks data/T001 (keel/specs/data/tasks.md:1) and data/T002 may run at the same time, and their boundaries src/**/*.csv and src/fixtures/** both match src/fixtures/ignored.csv",
    ]);
  });
});
