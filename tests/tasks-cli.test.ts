// `keel tasks` end to end through the built bundle: Keel, OpenSpec, Spec Kit and Kiro task files in one project.
import { mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keel, type Run } from "./support/cli.js";
import { tempProjects, writeFiles } from "./support/files.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field
function json(run: Run): any {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

let root: string;
beforeAll(() => {
  root = realpathSync(mkdtempSync(join(tmpdir(), "keel-tasks-cli-")));
  const files: Record<string, string> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": "# Payments\n\n## Purpose\nPay.\n\n## Requirements\n",
    "keel/changes/add-refunds/tasks.md": [
      "## 1. Refunds",
      "- [x] 1.1 Add the refund key column",
      "- [ ] 1.2 Write the refund handler",
      "  - depends-on: 1.1",
      "  - covers: PAY-4",
      "  - boundaries: src/refunds/**",
      "  - verify: `npm test -- refunds`",
      "- [ ] 1.3 Document refunds",
      "  - depends-on: 1.2",
      "- [ ] 1.4 Urgent fix [priority: P0]",
      "",
    ].join("\n"),
    "openspec/changes/add-export/tasks.md": "## 1. Export\n- [ ] 1.1 CSV export\n- [ ] 1.2 PDF export\n",
    "specs/001-albums/tasks.md": [
      "## Phase 1: Setup",
      "- [ ] T001 Create structure",
      "- [ ] T002 [P] [US1] Album model (depends on T001)",
      "",
    ].join("\n"),
    ".kiro/specs/login/tasks.md":
      "- [ ] 1. Login\n  - [ ] 1.1 Form\n    - _Requirements: 1.1_\n  - [ ]* 1.2 Tests\n",
    "keel/changes/loop/tasks.md": "- [ ] T1 a (depends on T2)\n- [ ] T2 b (depends on T1)\n",
  };
  writeFiles(root, files);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

// @verifies TSK-5
describe("keel tasks", () => {
  // @verifies TSK-1
  it("lists tasks from every layout, with diagnostics", () => {
    const out = json(keel(root, "tasks", "list", "--json"));
    const keys = out.tasks.map((t: { key: string }) => t.key);
    expect(keys).toEqual([
      "add-refunds/1.1",
      "add-refunds/1.2",
      "add-refunds/1.3",
      "add-refunds/1.4",
      "loop/T1",
      "loop/T2",
      "add-export/1.1",
      "add-export/1.2",
      "001-albums/T001",
      "001-albums/T002",
      "login/1",
      "login/1.1",
      "login/1.2",
    ]);
    const t12 = out.tasks[1];
    expect(t12).toMatchObject({
      covers: ["PAY-4"],
      boundaries: ["src/refunds/**"],
      verification: ["npm test -- refunds"],
      dependsOn: ["add-refunds/1.1"],
      file: "keel/changes/add-refunds/tasks.md",
      line: 3,
      ready: true,
    });
    expect(out.diagnostics).toEqual([
      expect.objectContaining({ rule: "tasks/cycle", file: "keel/changes/loop/tasks.md", line: 1 }),
    ]);
    const text = keel(root, "tasks", "list");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("[x] add-refunds/1.1  Add the refund key column");
    expect(text.stderr).toContain(
      "keel/changes/loop/tasks.md:1:1: dependency cycle: loop/T1 → loop/T2 → loop/T1",
    );
  });

  // @verifies TSK-3
  it("ready lists open tasks whose blockers are done, never cycle members or parents", () => {
    const out = json(keel(root, "tasks", "ready", "--json"));
    expect(out.ready.map((t: { key: string }) => t.key)).toEqual([
      "add-refunds/1.2",
      "add-refunds/1.4",
      "add-export/1.1",
      "add-export/1.2",
      "001-albums/T001",
      // Kiro's order: the optional 1.2 comes after 1.1.
      "login/1.1",
    ]);
  });

  it("next takes the highest priority", () => {
    expect(json(keel(root, "tasks", "next", "--json")).next.key).toBe("add-refunds/1.4");
    expect(keel(root, "tasks", "next").stdout).toContain("add-refunds/1.4 P0  Urgent fix");
  });

  it("show explains why a task is not ready and accepts an unambiguous bare ID", () => {
    const out = json(keel(root, "tasks", "show", "add-refunds/1.3", "--json"));
    expect(out.task).toMatchObject({ ready: false, blockers: ["waits on add-refunds/1.2"] });
    expect(json(keel(root, "tasks", "show", "T002", "--json")).task).toMatchObject({
      key: "001-albums/T002",
      parallel: true,
      story: "US1",
      phase: "Setup",
    });
    const text = keel(root, "tasks", "show", "add-refunds/1.2");
    expect(text.stdout).toContain("keel/changes/add-refunds/tasks.md:3");
    expect(text.stdout).toContain("verification npm test -- refunds");
  });

  it("refuses unknown and ambiguous IDs and bad usage with exit 2", () => {
    const unknown = keel(root, "tasks", "show", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown task: nope");
    const ambiguous = keel(root, "tasks", "show", "1.1");
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain("ambiguous");
    expect(keel(root, "tasks").code).toBe(2);
    expect(keel(root, "tasks", "graph", "--format", "svg").code).toBe(2);
    expect(keel(root, "tasks", "ready", "--format", "dot").code).toBe(2);
  });

  it("graph prints text, Mermaid and DOT", () => {
    const text = keel(root, "tasks", "graph").stdout;
    expect(text).toContain("[ ] add-refunds/1.3  Document refunds  ← add-refunds/1.2");
    expect(text).toContain("  [ ] login/1.1  Form");
    expect(text).toContain("cycle: loop/T1 → loop/T2 → loop/T1");
    const mermaid = keel(root, "tasks", "graph", "--format", "mermaid").stdout;
    expect(mermaid.startsWith("graph TD\n")).toBe(true);
    expect(mermaid).toContain('n1["add-refunds/1.2: Write the refund handler"]');
    expect(mermaid).toContain("n0 --> n1");
    const dot = keel(root, "tasks", "graph", "--format", "dot").stdout;
    expect(dot.startsWith("digraph tasks {")).toBe(true);
    expect(dot).toContain("n1 -> n2;");
    expect(dot.trim().endsWith("}")).toBe(true);
    const j = json(keel(root, "tasks", "graph", "--format", "dot", "--json"));
    expect(j.cycles).toEqual([{ path: ["loop/T1", "loop/T2", "loop/T1"], members: ["loop/T1", "loop/T2"] }]);
  });
});

describe("keel tasks without keel/ or openspec/", () => {
  let bare: string;
  beforeAll(() => {
    bare = realpathSync(mkdtempSync(join(tmpdir(), "keel-tasks-peer-")));
  });
  afterAll(() => rmSync(bare, { recursive: true, force: true }));

  function project(name: string, files: Record<string, string>): string {
    const dir = join(bare, name);
    writeFiles(dir, files);
    return dir;
  }

  it("reads a Spec Kit project (.specify/) from a subfolder, and claims in it", () => {
    const dir = project("speckit", {
      ".specify/memory/constitution.md": "# Constitution\n",
      "specs/001-albums/tasks.md":
        "## Phase 1: Setup\n- [x] T001 Create the project\n- [ ] T002 [P] [US1] Album model (depends on T001)\n",
      "src/.keep": "",
    });
    const ready = json(keel(join(dir, "src"), "tasks", "ready", "--json")).ready;
    expect(ready.map((t: { key: string }) => t.key)).toEqual(["001-albums/T002"]);
    const claim = json(keel(dir, "tasks", "claim", "T002", "--as", "agent:a1", "--json"));
    expect(claim.claim.taskId).toBe("001-albums/T002");
    expect(json(keel(dir, "tasks", "ready", "--json")).ready).toEqual([]);
  });

  it("reads a Kiro project (.kiro/specs/)", () => {
    const dir = project("kiro", {
      ".kiro/specs/login/tasks.md": "- [ ] 1. Form\n  - _Requirements: 1.1_\n- [ ]* 2. Optional polish\n",
    });
    const tasks = json(keel(dir, "tasks", "list", "--json")).tasks;
    expect(tasks.map((t: { key: string; optional: boolean }) => [t.key, t.optional])).toEqual([
      ["login/1", false],
      ["login/2", true],
    ]);
  });

  it("a folder with none of them is refused with exit 3 and says what it looks for", () => {
    const dir = project("empty", { "README.md": "hello\n" });
    const run = keel(dir, "tasks", "list", "-C", dir);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(".specify/ (Spec Kit");
  });
});

describe("where task files are found", () => {
  const project = tempProjects("keel-tasks-where-");

  it("reads a nested capability's tasks.md, scoped by its folder path", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/billing/tax/tasks.md": "- [ ] 1.1 VAT rates\n",
      "keel/specs/billing/tasks.md":
        "- [ ] 1.1 Invoice numbering\n- [ ] 1.2 Totals\n  - depends-on: billing/tax/1.1\n",
    });
    const tasks = json(keel(root, "tasks", "list", "--json")).tasks;
    expect(tasks.map((t: { key: string; dependsOn: string[] }) => [t.key, t.dependsOn])).toEqual([
      ["billing/1.1", []],
      ["billing/1.2", ["billing/tax/1.1"]],
      ["billing/tax/1.1", []],
    ]);
  });

  it("never reads a task file or folder linked from outside the project", () => {
    const outside = project({
      "tasks.md": "- [ ] 9.9 Secret task\n",
      "feature/tasks.md": "- [ ] 8.8 Other\n",
    });
    const root = project({ "keel/keel.yaml": "version: 1\n", "keel/specs/pay/spec.md": "# Pay\n" });
    symlinkSync(join(outside, "tasks.md"), join(root, "keel/specs/pay/tasks.md"));
    symlinkSync(join(outside, "feature"), join(root, "keel/specs/linked"));
    const run = keel(root, "tasks", "list", "--json");
    expect(json(run).tasks).toEqual([]);
  });
});
