// `keel import` and `keel export` through the real CLI, on every layout fixture: a round trip import → export →
// import keeps every requirement ID, text and fingerprint; imported tasks keep their keys, statuses and
// dependency edges as Keel reads them from the source; nothing is ever overwritten. Counts are checked against
// regular expressions over the fixtures' own text or JSON.parse of their task files.
// @verifies LAY-12
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../src/core/project.js";
import { keel } from "./support/cli.js";
import { tempProjects, treeDigests } from "./support/files.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "layouts");
const project = tempProjects("keel-convert-");

/** A temp copy of a fixture, or of part of a folder. */
function copyOf(from: string, only?: string): string {
  const root = project({});
  cpSync(only ? join(from, only) : from, only ? join(root, only) : root, { recursive: true });
  return root;
}

function json<T>(cwd: string, ...args: string[]): T {
  const r = keel(cwd, ...args, "--json");
  expect(r.stderr).toBe("");
  expect(r.code, r.stdout).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface Req {
  id: string;
  text: string;
  fingerprint: string;
  scenarios: number;
}

/** The requirements Keel reads in `root`, by ID. */
function requirements(root: string): Req[] {
  return loadProject(root, { explicitRoot: true })
    .specs.flatMap((s) => s.requirements)
    .map((r) => ({ id: r.id, text: r.text, fingerprint: r.fingerprint, scenarios: r.scenarios.length }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

interface ListedTask {
  key: string;
  status: string;
  dependsOn: string[];
  related: string[];
  parent: string | null;
}

/** Keys, statuses and dependency edges of every task, as `keel tasks list --json` gives them. */
function tasks(root: string): ListedTask[] {
  return json<{ tasks: ListedTask[] }>(root, "tasks", "list")
    .tasks.map(({ key, status, dependsOn, related, parent }) => ({
      key,
      status,
      dependsOn: [...dependsOn].sort(),
      related: [...related].sort(),
      parent,
    }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Imports `layout` in `root` and returns a fresh project holding only the keel/ it wrote. */
function importToKeel(root: string, layout: string): string {
  const r = keel(root, "import", layout);
  expect(r.code, r.stderr).toBe(0);
  return copyOf(root, "keel");
}

/** Requirements a Spec Kit spec holds, counted from its text: user stories, FR and SC items. */
function speckitCount(text: string): number {
  return (
    [...text.matchAll(/^### (?:User Story \d+|Primary User Story)/gm)].length +
    [...text.matchAll(/^- \*\*(?:FR|SC)-\d{3}\*\*:/gm)].length
  );
}

/** Kiro's numbered acceptance criteria, counted from the text of each `#### Acceptance Criteria` block. */
function kiroCount(text: string): number {
  return text
    .split(/^#### Acceptance Criteria\s*$/m)
    .slice(1)
    .reduce((n, block) => n + [...(block.split(/^#{2,3} /m)[0] as string).matchAll(/^\d+\. /gm)].length, 0);
}

const specFiles = (root: string, dir: string, name: string) =>
  readdirSync(join(root, dir)).map((f) => readFileSync(join(root, dir, f, name), "utf8"));

// @verifies LAY-12
describe("keel import → export → import, Spec Kit", () => {
  for (const fixture of ["speckit", "speckit-legacy"]) {
    it(`${fixture}: the same requirement IDs, texts and fingerprints after the round trip`, () => {
      const source = copyOf(join(FIXTURES, fixture));
      // The current fixture writes 002-album-sharing/FR-003 twice on purpose; that import is refused below.
      const dup = join(source, "specs", "002-album-sharing", "spec.md");
      if (fixture === "speckit") {
        const text = readFileSync(dup, "utf8");
        const last = text.lastIndexOf("**FR-003**");
        writeFileSync(dup, `${text.slice(0, last)}**FR-010**${text.slice(last + 10)}`);
      }
      const original = requirements(source);
      expect(original.length).toBe(
        specFiles(source, "specs", "spec.md").reduce((n, t) => n + speckitCount(t), 0),
      );
      const sourceTasks = tasks(source);

      const first = importToKeel(source, "speckit");
      const imported = requirements(first);
      expect(imported.map((r) => [r.id, r.text, r.scenarios])).toEqual(
        original.map((r) => [r.id, r.text, r.scenarios]),
      );
      // Without scenarios the fingerprint is the text's alone, so it is the source's too.
      for (const [k, r] of imported.entries())
        if (r.scenarios === 0) expect(r.fingerprint).toBe(original[k]?.fingerprint);
      expect(tasks(first)).toEqual(sourceTasks);

      const exported = project({});
      expect(keel(first, "export", "speckit", "--out", exported).code).toBe(0);
      const again = importToKeel(exported, "speckit");
      expect(requirements(again)).toEqual(imported);
      const principles = (root: string) =>
        loadProject(root, { explicitRoot: true }).constitution?.principles.map((p) => [
          p.id,
          p.title,
          p.text,
        ]);
      expect(principles(again)).toEqual(principles(first));
      expect(principles(first)?.map((p) => p[0])).toEqual(
        loadProject(source, { explicitRoot: true }).constitution?.principles.map((p) => p.id),
      );
    });
  }

  it("marks each requirement with its status as written and where it was imported from", () => {
    const source = copyOf(join(FIXTURES, "speckit-legacy"));
    const first = importToKeel(source, "speckit");
    const text = readFileSync(join(first, "keel", "specs", "001-kanban-board", "spec.md"), "utf8");
    const status = /^\*\*Status\*\*: (\w+)/m
      .exec(readFileSync(join(source, "specs", "001-kanban-board", "spec.md"), "utf8"))?.[1]
      ?.toLowerCase();
    const markers = [...text.matchAll(/^> (.*)$/gm)].map((m) => m[1]);
    expect(markers.length).toBe(
      speckitCount(readFileSync(join(source, "specs", "001-kanban-board", "spec.md"), "utf8")),
    );
    for (const m of markers) {
      expect(m).toContain(`status: ${status}`);
      expect(m).toContain("imported-from: speckit:specs/001-kanban-board/spec.md");
      expect(m).not.toContain("origin:");
    }
  });
});

describe("keel import kiro → export openspec", () => {
  it("keeps every criterion's ID N.M, text and fingerprint", () => {
    const source = copyOf(join(FIXTURES, "kiro"));
    const original = requirements(source);
    expect(original.length).toBe(
      specFiles(source, ".kiro/specs", "requirements.md").reduce((n, t) => n + kiroCount(t), 0),
    );
    const sourceTasks = tasks(source);
    const first = importToKeel(source, "kiro");
    expect(requirements(first)).toEqual(original);
    expect(tasks(first)).toEqual(sourceTasks);
    // Kiro's user stories are kept as a section, one item per requirement group.
    const spec = readFileSync(join(first, "keel", "specs", "pantry-inventory", "spec.md"), "utf8");
    const stories = readFileSync(
      join(source, ".kiro", "specs", "pantry-inventory", "requirements.md"),
      "utf8",
    );
    expect([...spec.matchAll(/^- \*\*Requirement \d+\*\*: As a /gm)].length).toBe(
      [...stories.matchAll(/^\*\*User Story:\*\*/gm)].length,
    );

    const exported = project({});
    const r = json<{ files: Array<{ file: string }> }>(first, "export", "openspec", "--out", exported);
    expect(r.files.map((f) => f.file).sort()).toEqual([
      "openspec/specs/expiry-alerts/spec.md",
      "openspec/specs/pantry-inventory/spec.md",
    ]);
    expect(requirements(exported)).toEqual(original);
  });
});

/** Tasks in each task fixture, counted with JSON.parse (tombstoned Beads issues are not work). */
const taskCount: Record<string, (root: string) => number> = {
  taskmaster: (root: string) => {
    const data = JSON.parse(readFileSync(join(root, ".taskmaster", "tasks", "tasks.json"), "utf8"));
    return Object.values(data as Record<string, { tasks: Array<{ subtasks?: unknown[] }> }>).reduce(
      (n, tag) => n + tag.tasks.reduce((m, t) => m + 1 + (t.subtasks?.length ?? 0), 0),
      0,
    );
  },
  "taskmaster-legacy": (root: string) => {
    const data = JSON.parse(readFileSync(join(root, "tasks", "tasks.json"), "utf8"));
    return (data.tasks as Array<{ subtasks?: unknown[] }>).reduce(
      (m, t) => m + 1 + (t.subtasks?.length ?? 0),
      0,
    );
  },
  beads: (root: string) =>
    readFileSync(join(root, ".beads", "issues.jsonl"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map((l) => JSON.parse(l) as { status?: string })
      .filter((i) => i.status !== "tombstone").length,
};

describe("keel import of tasks", () => {
  for (const [fixture, count] of Object.entries(taskCount)) {
    it(`${fixture}: the same task keys, statuses and dependency edges`, () => {
      const source = copyOf(join(FIXTURES, fixture));
      const before = tasks(source);
      expect(before.length).toBe(count(source));
      const layout = fixture.replace("-legacy", "");
      expect(tasks(importToKeel(source, layout))).toEqual(before);
    });
  }

  it("keeps Beads' hash IDs and Task Master's dotted subtask IDs exactly as written", () => {
    const beads = importToKeel(copyOf(join(FIXTURES, "beads")), "beads");
    expect(readFileSync(join(beads, "keel", "specs", "beads", "tasks.md"), "utf8")).toMatch(
      /^- \[ \] Invoice numbering \{#bd-a1b2\}$/m,
    );
    const tm = importToKeel(copyOf(join(FIXTURES, "taskmaster-legacy")), "taskmaster");
    expect(readFileSync(join(tm, "keel", "specs", "master", "tasks.md"), "utf8")).toMatch(
      /^ {2}- \[x\] 2\.1 Schema validation$/m,
    );
  });
});

describe("details and copies", () => {
  it("keeps a detail line Keel would read as a field as a detail, and the task's status as written", () => {
    const issue = {
      id: "bd-x1",
      title: "Ship it",
      status: "open",
      priority: 2,
      description: "status: blocked on legal\n- [ ] not a task",
    };
    const root = project({ ".beads/issues.jsonl": `${JSON.stringify(issue)}\n` });
    const imported = importToKeel(root, "beads");
    const text = readFileSync(join(imported, "keel", "specs", "beads", "tasks.md"), "utf8");
    expect(text).toContain("  - > status: blocked on legal\n  - > - [ ] not a task\n");
    const [task] = json<{ tasks: Array<{ key: string; status: string; details: string[] }> }>(
      imported,
      "tasks",
      "list",
    ).tasks;
    expect(task).toMatchObject({ key: "beads/bd-x1", status: "open" });
    expect(task?.details).toEqual(["> status: blocked on legal", "> - [ ] not a task"]);
  });

  it("exports a Keel spec to OpenSpec byte for byte", () => {
    const spec =
      "# Pay\n\n## Purpose\n\nPay.\n\n## Requirements\n\n### Requirement: Refund {#PAY-4}\n> status: approved · origin: agent\nThe system SHALL refund once.\n\n#### Scenario: Twice\n- **WHEN** sent twice\n- **THEN** applied once\n";
    const root = project({ "keel/keel.yaml": "version: 1\n", "keel/specs/pay/spec.md": spec });
    const out = project({});
    expect(keel(root, "export", "openspec", "--out", out).code).toBe(0);
    expect(readFileSync(join(out, "openspec", "specs", "pay", "spec.md"), "utf8")).toBe(spec);
  });
});

describe("never overwrite", () => {
  it("refuses an import whose target spec exists, and writes nothing", () => {
    const root = copyOf(join(FIXTURES, "speckit-legacy"));
    mkdirSync(join(root, "keel", "specs", "001-kanban-board"), { recursive: true });
    writeFileSync(join(root, "keel", "specs", "001-kanban-board", "spec.md"), "# Mine\n");
    const before = treeDigests(root);
    const r = keel(root, "import", "speckit");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("keel/specs/001-kanban-board/spec.md exists");
    expect(treeDigests(root)).toEqual(before);
  });

  it("refuses a spec with an ID written twice, naming both lines, and writes nothing", () => {
    const root = copyOf(join(FIXTURES, "speckit"));
    const text = readFileSync(join(root, "specs", "002-album-sharing", "spec.md"), "utf8");
    const lines = text.split("\n").flatMap((l, i) => (l.startsWith("- **FR-003**") ? [i + 1] : []));
    expect(lines.length).toBe(2);
    const before = treeDigests(root);
    const r = keel(root, "import", "speckit");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`002-album-sharing/FR-003 is written 2 times (lines ${lines.join(", ")})`);
    expect(treeDigests(root)).toEqual(before);
  });

  it("--dry-run lists what would be written and writes nothing", () => {
    const root = copyOf(join(FIXTURES, "beads"));
    const before = treeDigests(root);
    const r = json<{
      dryRun: boolean;
      files: Array<{ file: string; count: number }>;
      counts: { tasks: number };
    }>(root, "import", "beads", "--dry-run");
    expect(r.dryRun).toBe(true);
    expect(r.files.map((f) => f.file)).toEqual(["keel/keel.yaml", "keel/specs/beads/tasks.md"]);
    expect(r.counts.tasks).toBe(taskCount.beads?.(root));
    expect(treeDigests(root)).toEqual(before);
  });

  it("refuses an export into a folder that already holds the files", () => {
    const first = importToKeel(copyOf(join(FIXTURES, "speckit-legacy")), "speckit");
    const out = project({});
    expect(keel(first, "export", "speckit", "--out", out).code).toBe(0);
    const before = treeDigests(out);
    const r = keel(first, "export", "speckit", "--out", out);
    expect(r.code).toBe(3);
    expect(treeDigests(out)).toEqual(before);
  });

  it("rejects an unknown layout as a usage error", () => {
    const root = copyOf(join(FIXTURES, "beads"));
    expect(keel(root, "import", "jira").code).toBe(2);
    expect(keel(root, "export", "kiro").code).toBe(2);
    expect(keel(root, "import", "speckit").code).toBe(2);
  });
});

describe("what a target cannot hold", () => {
  it("says which IDs Spec Kit renumbers and that it has no provenance", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/payments/spec.md": [
        "# Payments",
        "",
        "## Purpose",
        "",
        "Take payments.",
        "",
        "## Requirements",
        "",
        "### Requirement: Refunds are idempotent {#PAY-4}",
        "> status: approved · origin: agent · actor: codex-7",
        "A refund SHALL be applied once.",
        "",
        "#### Scenario: Retry",
        "- **WHEN** a refund is sent twice",
        "- **THEN** it is applied once",
        "",
        "### Requirement: Receipts",
        "The system SHALL email a receipt.",
        "",
      ].join("\n"),
    });
    const out = project({});
    const r = json<{ losses: Array<{ message: string }> }>(root, "export", "speckit", "--out", out);
    const messages = r.losses.map((l) => l.message);
    expect(messages).toContain("PAY-4 is written as US1: Spec Kit numbers its own IDs (US#, FR-###, SC-###)");
    expect(messages).toContain(
      "payments/receipts is written as FR-001: Spec Kit numbers its own IDs (US#, FR-###, SC-###)",
    );
    expect(messages.some((m) => m.startsWith("provenance of 1 requirement(s)"))).toBe(true);
    const written = readFileSync(join(out, "specs", "payments", "spec.md"), "utf8");
    expect(written).toContain("### User Story 1 - Refunds are idempotent");
    expect(written).toContain("1. **When** a refund is sent twice, **Then** it is applied once");
    expect(written).toContain("- **FR-001**: The system SHALL email a receipt.");
  });
});

// @verifies LAY-12
describe("after keel import, Keel reads keel/'s copy and not the toolkit's files", () => {
  it("records the layout in keel.yaml, keeping the file as written, and reads every ID once", () => {
    const root = copyOf(join(FIXTURES, "speckit-legacy"));
    const config = "# our settings\nversion: 1\nproject: kanban # the board\n";
    mkdirSync(join(root, "keel"), { recursive: true });
    writeFileSync(join(root, "keel", "keel.yaml"), config);
    const before = json<{ specs: { requirements: number } }>(root, "status").specs.requirements;
    expect(keel(root, "import", "speckit").code).toBe(0);
    const after = readFileSync(join(root, "keel", "keel.yaml"), "utf8");
    expect(after.startsWith(config)).toBe(true);
    expect(after.slice(config.length)).toMatch(/\nimported: \[speckit\]\n$/);
    const status = json<{
      project: { layouts: string[]; imported: string[] };
      specs: { requirements: number };
    }>(root, "status");
    expect(status.project).toMatchObject({ layouts: ["keel"], imported: ["speckit"] });
    expect(status.specs.requirements).toBe(before);
    const report = JSON.parse(keel(root, "validate", "--json").stdout) as {
      findings: Array<{ rule: string }>;
    };
    expect(report.findings.filter((f) => f.rule.endsWith("duplicate-id"))).toEqual([]);
    const tasks = json<{ tasks: Array<{ file: string }> }>(root, "tasks", "list").tasks;
    expect(tasks.length).toBeGreaterThan(0);
    expect(tasks.every((t) => t.file.startsWith("keel/"))).toBe(true);
    expect(keel(root, "status").stdout).toMatch(/^imported\s+Spec Kit\b/m);
  });

  it("refuses an imported: entry that names no layout, at its line", () => {
    const root = copyOf(join(FIXTURES, "beads"));
    mkdirSync(join(root, "keel"), { recursive: true });
    writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\nimported:\n  - beads\n  - jira\n");
    const run = keel(root, "validate");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain("`imported[1]` names no layout keel import converts");
    expect(run.stderr).toContain("keel/keel.yaml:4");
  });
});
