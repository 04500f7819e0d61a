// `keel analyze` end to end through the built bundle: a realistic project with one gap of every kind, the ranking,
// the JSON shape, --fail-on and exit codes; then the example project and this repository's own keel/.
// @verifies TSK-11
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const REPO = join(import.meta.dirname, "..");
const project = tempProjects("keel-analyze-");
const report = jsonOut;

/** 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const i = text.split("\n").findIndex((l) => l.includes(needle));
  expect(i, needle).toBeGreaterThanOrEqual(0);
  return i + 1;
}

/** 1-based column of `needle` on its line. */
function colOf(text: string, needle: string): number {
  const line = text.split("\n")[lineOf(text, needle) - 1] as string;
  return line.indexOf(needle) + 1;
}

const CONSTITUTION = [
  "# Constitution",
  "",
  "## Principles",
  "",
  "### Principle: Tested {#P-1}",
  "Everything is tested.",
  "",
  "Gate: `npm test`",
  "",
  "### Principle: Migrations {#P-2}",
  "Migrations are tested.",
  "",
  "Gate: `npm run test:migrations`",
  "",
  "### Principle: No PII {#P-3}",
  "No card data in logs.",
  "",
  "Gate: `npm run scan:pii`",
  "",
  "### Principle: Audited {#P-4}",
  "Money moves are audited.",
  "",
  "Gate: `make audit`",
  "",
  "### Principle: Humans approve {#P-5}",
  "Humans approve intent.",
  "",
].join("\n");

const SPEC = [
  "---",
  "status: approved",
  "---",
  "# Payments",
  "",
  "## Purpose",
  "Payments and refunds for invoices; see [the design](design.md) and `contracts/refunds.yaml`.",
  "",
  "## Requirements",
  "",
  "### Requirement: Refunds are idempotent {#PAY-1}",
  "The system SHALL process at most one refund per refund key.",
  "",
  "#### Scenario: Duplicate",
  "- **GIVEN** a refund with key K recorded in `contracts/ghost.yaml`",
  "- **WHEN** K arrives again",
  "- **THEN** nothing moves",
  "",
  "### Requirement: Receipts {#PAY-2}",
  "The system SHALL send a receipt.",
  "",
  "### Requirement: Payouts {#PAY-3}",
  "> status: proposed",
  "The system SHALL pay out daily.",
  "",
  "### Requirement: Crypto {#PAY-4}",
  "> status: draft",
  "The system SHALL accept coins.",
  "",
].join("\n");

const TASKS = [
  "## 1. Refunds",
  "- [ ] 1.1 Store the refundKey on each refund",
  "  - covers: PAY-1",
  "- [ ] 1.2 Reject a duplicate refund-key",
  "  - covers: PAY-1",
  "- [ ] 1.3 Tidy the logs",
  "- [ ] 1.4 Refund API",
  "  - covers: PAY-1",
  "  - [ ] 1.4.1 Wire the route",
  "- [ ] 1.5 Mystery work",
  "  - covers: PAY-99",
  "- [ ] 1.6 Create `contracts/payouts.yaml`",
  "  - covers: PAY-1",
  "- [ ] 1.7 Contract tests against `contracts/missing.yaml`",
  "  - covers: PAY-1",
  "",
].join("\n");

const DELTA = [
  "## ADDED Requirements",
  "",
  "### Requirement: Refund limit {#PAY-10}",
  "> status: proposed",
  "The system SHALL cap refunds.",
  "",
  "#### Scenario: Cap",
  "- **WHEN** a refund exceeds the cap",
  "- **THEN** it is refused",
  "",
  "### Requirement: Refund audit {#PAY-11}",
  "> status: proposed",
  "The system SHALL audit refunds.",
  "",
  "#### Scenario: Audit",
  "- **WHEN** a refund is made",
  "- **THEN** it is audited",
  "",
].join("\n");

const PROPOSAL = "## Why\nRefunds need limits.\n\n## What Changes\n- Add PAY-10, see `design.md`.\n";
const SPECKIT = "## Phase 1\n- [ ] T001 [US1] Export CSV\n- [ ] T002 Set up lint\n";
const SPECKIT_SPEC = [
  "# Feature Specification: Export",
  "",
  "## User Scenarios & Testing",
  "",
  "### User Story 1 - Export to a spreadsheet (Priority: P1)",
  "",
  "An accountant downloads the month's invoices as one CSV file.",
  "",
  "**Acceptance Scenarios**:",
  "",
  "1. **Given** invoices of March, **When** the accountant downloads March, **Then** the file lists them",
  "",
].join("\n");

const GAPS: Record<string, string> = {
  "keel/keel.yaml": "version: 1\ngates:\n  migrations: npm run test:migrations\n",
  "package.json": JSON.stringify({ name: "shop", scripts: { test: "vitest run", lint: "biome check ." } }),
  ".github/workflows/ci.yml": "on: push\njobs:\n  ci:\n    steps:\n      - run: npm run scan:pii\n",
  "keel/constitution.md": CONSTITUTION,
  "keel/specs/payments/spec.md": SPEC,
  "keel/specs/payments/contracts/refunds.yaml": "openapi: 3.1.0\n",
  "keel/specs/payments/tasks.md": TASKS,
  "keel/changes/add-refunds/proposal.md": PROPOSAL,
  "keel/changes/add-refunds/specs/payments/spec.md": DELTA,
  "keel/changes/add-refunds/tasks.md": "- [ ] 1.1 Enforce the cap\n  - covers: PAY-10\n",
  "specs/001-export/tasks.md": SPECKIT,
  // The feature's spec, so that the story tag `[US1]` names a requirement (001-export/US1).
  "specs/001-export/spec.md": SPECKIT_SPEC,
};

const SPEC_FILE = "keel/specs/payments/spec.md";
const TASK_FILE = "keel/specs/payments/tasks.md";

describe("keel analyze on a project with every kind of gap", () => {
  const root = project(GAPS);
  const run = keel(root, "analyze", "--json");
  const out = report(run);
  const of = (rule: string) => (out.findings as Finding[]).filter((f) => f.rule === rule);
  const brief = (f: Finding) => ({ severity: f.severity, file: f.file, line: f.line, col: f.col });

  it("prints one JSON document of the documented shape, and exits 1 on the error", () => {
    expect(run.code).toBe(1);
    expect(Object.keys(out)).toEqual(["version", "ok", "failOn", "summary", "findings"]);
    expect(out).toMatchObject({ version: 1, ok: false, failOn: "error" });
    expect(out.summary).toEqual({
      errors: 1,
      warnings: 10,
      info: 3,
      categories: {
        "requirements-without-tasks": 3,
        "tasks-without-requirements": 3,
        "unwired-gates": 2,
        "missing-files": 3,
        "inconsistent-terms": 3,
        "unread-headings": 0,
      },
      requirements: 5,
      tasks: 11,
    });
    for (const f of out.findings as Finding[]) {
      expect(Object.keys(f)).toEqual([
        "rule",
        "severity",
        "file",
        "line",
        "col",
        "message",
        "hint",
        "target",
      ]);
      expect(f.hint).not.toBe("");
    }
  });

  it("ranks findings by severity, then file, line and column", () => {
    const rank = { error: 0, warning: 1, info: 2 };
    const keys = (out.findings as Finding[]).map((f) => [rank[f.severity], f.file, f.line, f.col] as const);
    const sorted = [...keys].sort(
      (a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) || a[2] - b[2] || a[3] - b[3],
    );
    expect(keys).toEqual(sorted);
    expect((out.findings as Finding[]).map((f) => f.severity)).toEqual([
      "error",
      ...Array(10).fill("warning"),
      ...Array(3).fill("info"),
    ]);
  });

  it("lists approved (warning) and proposed (info) requirements no task covers, living or added by a change", () => {
    const f = of("analyze/requirement-without-task");
    expect(f.map(brief)).toEqual([
      { severity: "warning", file: SPEC_FILE, line: lineOf(SPEC, "{#PAY-2}"), col: 1 },
      {
        severity: "info",
        file: "keel/changes/add-refunds/specs/payments/spec.md",
        line: lineOf(DELTA, "{#PAY-11}"),
        col: 1,
      },
      { severity: "info", file: SPEC_FILE, line: lineOf(SPEC, "{#PAY-3}"), col: 1 },
    ]);
    expect(f.map((x) => x.message)).toEqual([
      'approved requirement PAY-2 ("Receipts") has no task',
      'proposed requirement PAY-11 ("Refund audit"), added by an open change, has no task',
      'proposed requirement PAY-3 ("Payouts") has no task',
    ]);
  });

  it("lists leaf tasks tied to no requirement, by covers, a covered parent or a Spec Kit story", () => {
    const f = of("analyze/task-without-requirement");
    expect(f.map(brief)).toEqual([
      { severity: "warning", file: TASK_FILE, line: lineOf(TASKS, "1.3 Tidy"), col: 3 },
      { severity: "warning", file: TASK_FILE, line: lineOf(TASKS, "1.5 Mystery"), col: 3 },
      { severity: "warning", file: "specs/001-export/tasks.md", line: lineOf(SPECKIT, "T002"), col: 3 },
    ]);
    expect(f.map((x) => x.message)).toEqual([
      'task payments/1.3 ("Tidy the logs") covers no requirement',
      'task payments/1.5 ("Mystery work") covers only unknown requirement(s) PAY-99',
      'task 001-export/T002 ("Set up lint") covers no requirement',
    ]);
  });

  it("lists gates nothing runs (keel.yaml gates, package.json scripts and CI lines wire them)", () => {
    expect(of("analyze/gate-not-wired").map(brief)).toEqual([
      { severity: "warning", file: "keel/constitution.md", line: lineOf(CONSTITUTION, "make audit"), col: 1 },
    ]);
    expect(of("analyze/gate-not-wired")[0]?.message).toBe(
      'the gate of principle P-4 ("Audited"), `make audit`, is not wired: no keel.yaml gate, package.json script or CI file runs it',
    );
    expect(of("analyze/principle-without-gate").map(brief)).toEqual([
      { severity: "info", file: "keel/constitution.md", line: lineOf(CONSTITUTION, "{#P-5}"), col: 1 },
    ]);
  });

  it("lists referenced files that are missing: a broken link (error) and named paths (warning)", () => {
    const f = of("analyze/missing-file");
    expect(f.map(brief)).toEqual([
      {
        severity: "error",
        file: SPEC_FILE,
        line: lineOf(SPEC, "[the design]"),
        col: colOf(SPEC, "design.md)"),
      },
      {
        severity: "warning",
        file: "keel/changes/add-refunds/proposal.md",
        line: lineOf(PROPOSAL, "`design.md`"),
        col: colOf(PROPOSAL, "design.md`"),
      },
      {
        severity: "warning",
        file: TASK_FILE,
        line: lineOf(TASKS, "contracts/missing.yaml"),
        col: colOf(TASKS, "contracts/missing.yaml"),
      },
    ]);
    expect(f.map((x) => x.target)).toEqual([
      "keel/specs/payments/design.md",
      "keel/changes/add-refunds/design.md",
      "contracts/missing.yaml",
    ]);
    // Not reported: an existing contract, a path in a scenario step, the output of a "Create…" task.
    const messages = f.map((x) => x.message).join("\n");
    for (const quiet of ["refunds.yaml", "ghost.yaml", "payouts.yaml"]) expect(messages).not.toContain(quiet);
  });

  it("lists each form of a term written differently in the spec and the tasks", () => {
    const f = of("analyze/inconsistent-term");
    expect(f.map(brief)).toEqual([
      {
        severity: "warning",
        file: SPEC_FILE,
        line: lineOf(SPEC, "refund key."),
        col: colOf(SPEC, "refund key."),
      },
      {
        severity: "warning",
        file: TASK_FILE,
        line: lineOf(TASKS, "refundKey"),
        col: colOf(TASKS, "refundKey"),
      },
      {
        severity: "warning",
        file: TASK_FILE,
        line: lineOf(TASKS, "refund-key"),
        col: colOf(TASKS, "refund-key"),
      },
    ]);
    const at = (needle: string, text: string, file: string) => `${file}:${lineOf(text, needle)}`;
    expect(f.map((x) => x.message)).toEqual([
      `"refund key" (spaced, once) is also written "refundKey" (${at("refundKey", TASKS, TASK_FILE)}), "refund-key" (${at("refund-key", TASKS, TASK_FILE)})`,
      `"refundKey" (camelCase, once) is also written "refund key" (${at("refund key.", SPEC, SPEC_FILE)}), "refund-key" (${at("refund-key", TASKS, TASK_FILE)})`,
      `"refund-key" (hyphenated, once) is also written "refund key" (${at("refund key.", SPEC, SPEC_FILE)}), "refundKey" (${at("refundKey", TASKS, TASK_FILE)})`,
    ]);
    expect(f.every((x) => x.target === "refund key")).toBe(true);
    expect(f[1]?.hint).toBe('write the term one way everywhere; the spec mostly writes "refund key"');
  });

  it("prints the same findings as text, with counts per category and a verdict", () => {
    const human = keel(root, "analyze");
    expect(human.code).toBe(1);
    const lines = human.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(
      `${SPEC_FILE}:${lineOf(SPEC, "[the design]")}:${colOf(SPEC, "design.md)")}: error: link to design.md: no such file (keel/specs/payments/design.md) [analyze/missing-file]`,
    );
    expect(lines.at(-2)).toBe(
      "requirements without tasks: 3 · tasks without requirements: 3 · unwired gates: 2 · missing files: 3 · inconsistent terms: 3 · unread headings: 0",
    );
    expect(lines.at(-1)).toBe(
      "failed (--fail-on error): 1 error, 10 warnings, 3 info over 5 requirements and 11 tasks",
    );
  });

  it("is deterministic: the same project gives the same bytes", () => {
    expect(keel(root, "analyze", "--json").stdout).toBe(run.stdout);
  });
});

describe("exit codes and --fail-on", () => {
  const WARNINGS_ONLY: Record<string, string> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/changes/add-x/tasks.md": "- [ ] 1.1 Do something\n",
  };
  const INFO_ONLY: Record<string, string> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/constitution.md": "# C\n\n## Principles\n\n### Principle: Care {#P-1}\nBe careful.\n",
  };

  it("exits 0 on warnings by default, 1 with --fail-on warning", () => {
    const root = project(WARNINGS_ONLY);
    const normal = keel(root, "analyze", "--json");
    expect(normal.code).toBe(0);
    expect(report(normal)).toMatchObject({ ok: true, failOn: "error", summary: { errors: 0, warnings: 1 } });
    const strict = keel(root, "analyze", "--json", "--fail-on", "warning");
    expect(strict.code).toBe(1);
    expect(report(strict)).toMatchObject({ ok: false, failOn: "warning" });
    expect(keel(root, "analyze", "--fail-on", "warning").stdout).toContain("failed (--fail-on warning)");
  });

  it("exits 0 on info alone, even with --fail-on warning", () => {
    const root = project(INFO_ONLY);
    const run = keel(root, "analyze", "--json", "--fail-on", "warning");
    expect(run.code).toBe(0);
    expect(report(run).summary).toMatchObject({ errors: 0, warnings: 0, info: 1 });
  });

  it("refuses a bad --fail-on or an argument with exit 2", () => {
    const root = project(INFO_ONLY);
    const bad = keel(root, "analyze", "--fail-on", "info");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown --fail-on value "info"');
    expect(keel(root, "analyze", "extra").code).toBe(2);
  });

  it("exits 3 outside a project", () => {
    const empty = project({});
    expect(keel(empty, "analyze", "--root", empty).code).toBe(3);
  });
});

describe("what analyze does not report", () => {
  const spec = (text: string) =>
    [
      "# Billing",
      "",
      "## Purpose",
      "Billing of workspaces for the invoices they send, month by month.",
      "",
      "## Requirements",
      "",
      "### Requirement: Billing {#BIL-1}",
      "> status: draft",
      `The system SHALL bill. ${text}`,
      "",
    ].join("\n");

  it("keeps terms precise: case, plural, modifiers, stop words and code are not variants", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/billing/spec.md": spec(
        "Refund keys are unique. A single change, end to end, with a follow up and an API token.",
      ),
      "keel/specs/billing/tasks.md": [
        "- [ ] 1.1 Store the refund key (one refund key per refund)",
        "- [ ] 1.2 Ship a single-change workflow, end-to-end",
        "- [ ] 1.3 Plan the follow-up",
        "- [ ] 1.4 Rename `refundKey` in the code",
        "- [ ] 1.5 Issue an apiToken",
        "",
      ].join("\n"),
    });
    const terms = (report(keel(root, "analyze", "--json")).findings as Finding[]).filter(
      (f) => f.rule === "analyze/inconsistent-term",
    );
    // Only the real variant: "API token" in the spec, apiToken in the tasks.
    expect(terms.map((f) => [f.target, f.file])).toEqual([
      ["api token", "keel/specs/billing/spec.md"],
      ["api token", "keel/specs/billing/tasks.md"],
    ]);
  });

  it("wires gates run by a package.json script with arguments, or contained in a script's command", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "package.json": JSON.stringify({
        scripts: { test: "vitest run", check: "tsc --noEmit && keel validate --strict" },
      }),
      "keel/constitution.md": [
        "# C",
        "",
        "## Principles",
        "",
        "### Principle: Money {#P-1}",
        "Exact.",
        "",
        "Gate: `npm test -- --project money`",
        "",
        "### Principle: Valid {#P-2}",
        "Valid.",
        "",
        "Gate: `keel validate --strict`",
        "",
        "### Principle: Styled {#P-3}",
        "Styled.",
        "",
        "Gate: `yarn lint`",
        "",
        "### Principle: Partial {#P-4}",
        "A prefix of a command is not the command.",
        "",
        "Gate: `tsc --no`",
        "",
      ].join("\n"),
    });
    const gates = (report(keel(root, "analyze", "--json")).findings as Finding[]).filter(
      (f) => f.rule === "analyze/gate-not-wired",
    );
    expect(gates.map((f) => f.target)).toEqual(["P-3", "P-4"]);
  });

  it("never looks outside the project, and ignores URLs, anchors and placeholders", () => {
    const outside = project({});
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/billing/spec.md": spec(
        [
          "See [up](../../../../../../../../etc/keel-nothing.md), [site](https://example.com/x.md),",
          "[here](#billing), `keel/changes/<id>/design.md`, `docs/*.md` and [away](linked/gone.md).",
        ].join(" "),
      ),
    });
    symlinkSync(outside, join(root, "keel/specs/billing/linked"));
    const run = keel(root, "analyze", "--json");
    expect((report(run).findings as Finding[]).filter((f) => f.rule === "analyze/missing-file")).toEqual([]);
  });
});

/** Principles of a constitution, with whether they carry a `Gate:` line. */
function principles(text: string): Array<{ id: string; gated: boolean }> {
  const blocks = text.split(/^### Principle: /m).slice(1);
  return blocks.map((b) => ({
    id: /\{#([^}]+)\}/.exec(b.split("\n")[0] as string)?.[1] as string,
    gated: /^\s*Gate:\s*`/m.test(b.split(/^## /m)[0] as string),
  }));
}

describe("keel analyze on real projects", () => {
  it("the example project: gates nothing runs, and the contract its tasks test against, which is missing", () => {
    const example = join(REPO, "examples/acme-invoicing");
    const run = keel(example, "analyze", "--json");
    expect(run.code).toBe(0);
    const out = report(run);
    const findings = out.findings as Finding[];
    const constitution = readFileSync(join(example, "keel/constitution.md"), "utf8");
    const ps = principles(constitution);
    // The example has no package.json and no CI: no gate is wired.
    expect(findings.filter((f) => f.rule === "analyze/gate-not-wired").map((f) => f.target)).toEqual(
      ps.filter((p) => p.gated).map((p) => p.id),
    );
    expect(findings.filter((f) => f.rule === "analyze/principle-without-gate").map((f) => f.target)).toEqual(
      ps.filter((p) => !p.gated).map((p) => p.id),
    );
    const tasksFile = "keel/changes/add-partial-payments/tasks.md";
    const tasks = readFileSync(join(example, tasksFile), "utf8");
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: "analyze/missing-file",
        file: tasksFile,
        line: lineOf(tasks, "api/openapi.yaml"),
        target: "api/openapi.yaml",
      }),
    );
    // The partial-payments tasks name what they cover; the disputes tasks do not, so they cover what their
    // change adds and modifies (tests/change-coverage.test.ts): no task is without a requirement.
    expect(out.summary.categories["tasks-without-requirements"]).toBe(0);
    const withoutTask = findings
      .filter((f) => f.rule === "analyze/requirement-without-task")
      .map((f) => f.target);
    const covered = [...tasks.matchAll(/covers: ([A-Z]+-\d+)/g)].map((m) => m[1]);
    expect(covered.length).toBeGreaterThan(0);
    for (const id of covered) expect(withoutTask).not.toContain(id);
    expect(withoutTask.length).toBeGreaterThan(0);
  });

  it("this repository's keel/: every gate is wired, and the counts agree with keel validate", () => {
    const run = keel(REPO, "analyze", "--json");
    expect(run.code).toBe(0);
    const out = report(run);
    const findings = out.findings as Finding[];
    expect(findings.filter((f) => f.rule === "analyze/gate-not-wired")).toEqual([]);
    const ps = principles(readFileSync(join(REPO, "keel/constitution.md"), "utf8"));
    expect(findings.filter((f) => f.rule === "analyze/principle-without-gate").map((f) => f.target)).toEqual(
      ps.filter((p) => !p.gated).map((p) => p.id),
    );
    const validate = report(keel(REPO, "validate", "--json"));
    expect(out.summary.requirements).toBe(validate.summary.requirements);
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
  });
});
