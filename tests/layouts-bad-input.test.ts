import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { keel } from "./support/cli.js";
import { tempProjects, treeDigests } from "./support/files.js";

const project = tempProjects("keel-layouts-bad-input-");

const TASKMASTER = ".taskmaster/tasks/tasks.json";
const BEADS = ".beads/issues.jsonl";
/** A second layout beside the broken file: its tasks must still be listed. */
const KEEL_TASKS = { "keel/specs/x/tasks.md": "- [ ] 1.1 Write the parser\n- [ ] 1.2 Write the docs\n" };
const KEEL_KEYS = ["x/1.1", "x/1.2"];

/** 1-based line and column of the first `needle` in `text` (after the line holding `after`, when given). */
function positionOf(text: string, needle: string, after?: string): { line: number; col: number } {
  const lines = text.split("\n");
  const from = after === undefined ? 0 : lines.findIndex((l) => l.includes(after));
  const index = lines.findIndex((l, i) => i >= from && l.includes(needle));
  if (from < 0 || index < 0) throw new Error(`${needle} is not in the text`);
  return { line: index + 1, col: (lines[index] as string).indexOf(needle) + 1 };
}

/**
 * Runs `keel validate` and `keel tasks list` on the project: validate fails with every expected finding, the list
 * holds every key of `listed`, and no file changed.
 */
function checkBroken(root: string, expected: Array<Partial<Finding>>, listed: string[]): Finding[] {
  const before = treeDigests(root);
  const validate = keel(root, "validate", "--json");
  expect(validate.code).toBe(1);
  const findings = JSON.parse(validate.stdout).findings as Finding[];
  for (const f of expected)
    expect(findings).toContainEqual(expect.objectContaining({ severity: "error", ...f }));
  const list = keel(root, "tasks", "list", "--json");
  expect(list.code).toBe(0);
  const keys = (JSON.parse(list.stdout).tasks as Array<{ key: string }>).map((t) => t.key);
  expect(keys).toEqual(expect.arrayContaining(listed));
  expect(treeDigests(root)).toEqual(before);
  return findings;
}

/** A tagged tasks.json as Task Master writes it (two-space JSON), from its tags' task lists. */
function tasksJson(tags: Record<string, unknown[]>): string {
  const file = Object.fromEntries(Object.entries(tags).map(([tag, tasks]) => [tag, { tasks }]));
  return `${JSON.stringify(file, null, 2)}\n`;
}

const task = (id: number, title: string, more: Record<string, unknown> = {}) => ({
  id,
  title,
  status: "pending",
  dependencies: [],
  ...more,
});

// @verifies LAY-2
describe("broken toolkit task files", () => {
  it("a tasks.json that is not valid JSON", () => {
    const text = tasksJson({ master: [task(1, "Parse invoices")] }).replace(
      '"dependencies": []',
      '"dependencies": [],',
    );
    const root = project({ ...KEEL_TASKS, [TASKMASTER]: text });
    // The trailing comma: JSON wants a property name where the object closes.
    const at = positionOf(text, "}", '"dependencies": [],');
    checkBroken(root, [{ rule: "taskmaster/malformed-json", file: TASKMASTER, ...at }], KEEL_KEYS);
  });

  it("a line of issues.jsonl that is not JSON; the other lines are still read", () => {
    const lines = [
      '{"id":"bd-1","title":"One","status":"open"}',
      '{"id":"bd-2","title":"Two",',
      '{"id":"bd-3","title":"Three","status":"open"}',
    ];
    const root = project({ ...KEEL_TASKS, [BEADS]: `${lines.join("\n")}\n` });
    // The line ends where a property name should follow.
    const bad = { line: 2, col: (lines[1] as string).length + 1 };
    checkBroken(
      root,
      [{ rule: "beads/malformed-line", file: BEADS, ...bad }],
      [...KEEL_KEYS, "beads/bd-1", "beads/bd-3"],
    );
  });

  it("a dependency on a task that does not exist, in Task Master and in Beads", () => {
    const tm = tasksJson({ master: [task(1, "Parse invoices", { dependencies: [7] })] });
    const edge = '{"issue_id":"bd-3","depends_on_id":"bd-9","type":"blocks"}';
    const beads = `{"id":"bd-1","title":"One"}\n{"id":"bd-3","title":"Three","dependencies":[${edge}]}\n`;
    const root = project({ ...KEEL_TASKS, [TASKMASTER]: tm, [BEADS]: beads });
    checkBroken(
      root,
      [
        { rule: "taskmaster/unknown-dependency", file: TASKMASTER, ...positionOf(tm, "7", '"dependencies"') },
        { rule: "beads/unknown-dependency", file: BEADS, ...positionOf(beads, edge) },
      ],
      [...KEEL_KEYS, "master/1", "beads/bd-1", "beads/bd-3"],
    );
  });

  it("a cycle across subtasks: 1.1 → 1.2 → 1.1", () => {
    const text = tasksJson({
      master: [
        task(1, "Parse invoices", {
          subtasks: [
            task(1, "Read the header", { dependencies: [2] }),
            task(2, "Read the lines", { dependencies: [1] }),
          ],
        }),
      ],
      // A second tag, untouched by the cycle.
      billing: [task(1, "Charge cards")],
    });
    const root = project({ ...KEEL_TASKS, [TASKMASTER]: text });
    const findings = checkBroken(
      root,
      [],
      [...KEEL_KEYS, "master/1", "master/1.1", "master/1.2", "billing/1"],
    );
    // The cycle is reported on the task it starts from, at the line of that task's status (its anchor).
    const cycle = findings.filter((f) => f.rule === "tasks/cycle");
    expect(cycle).toEqual([
      expect.objectContaining({
        file: TASKMASTER,
        line: positionOf(text, '"status"', "Read the header").line,
      }),
    ]);
  });

  it("a 50 MB tasks.json is refused by size, positioned at its start, without being read", () => {
    const filler = task(1, "Filler", { details: "x".repeat(1000) });
    const count = Math.ceil((50 * 1024 * 1024) / JSON.stringify(filler).length);
    const text = tasksJson({ master: Array.from({ length: count }, (_, i) => ({ ...filler, id: i + 1 })) });
    expect(Buffer.byteLength(text)).toBeGreaterThan(50 * 1024 * 1024);
    const root = project({ ...KEEL_TASKS, [TASKMASTER]: text });
    const findings = checkBroken(
      root,
      [{ rule: "input/too-large", file: TASKMASTER, line: 1, col: 1 }],
      KEEL_KEYS,
    );
    expect(findings.filter((f) => f.file === TASKMASTER)).toHaveLength(1);
  });

  it("the same task ID twice in one file: tasks.json and a Kiro tasks.md", () => {
    const tm = tasksJson({
      master: [task(1, "Parse invoices"), task(2, "Send invoices"), task(2, "Send reminders")],
    });
    const kiro =
      "# Implementation Plan\n\n- [ ] 1. Set up\n  - [ ] 1.1 Create models\n  - [x] 1.1 Create views\n";
    const root = project({ ...KEEL_TASKS, [TASKMASTER]: tm, ".kiro/specs/feat/tasks.md": kiro });
    const second = positionOf(tm, '"pending"', "Send reminders");
    checkBroken(
      root,
      [
        // Task Master's reader reports each repeat at its status value (the task's anchor).
        { rule: "taskmaster/duplicate-id", file: TASKMASTER, line: second.line, col: second.col },
        // Keel's Markdown reader reports every line holding the ID.
        { rule: "tasks/duplicate-id", file: ".kiro/specs/feat/tasks.md", line: 4 },
        { rule: "tasks/duplicate-id", file: ".kiro/specs/feat/tasks.md", line: 5 },
      ],
      // Both copies are kept, the second keyed `@2`.
      [...KEEL_KEYS, "master/1", "master/2", "master/2@2", "feat/1", "feat/1.1", "feat/1.1@2"],
    );
  });
});
