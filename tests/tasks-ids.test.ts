// Task IDs that hold: written IDs kept as written, keys from titles that no edit elsewhere in the file moves, and
// repeated IDs that keep every task. Through the parser, the graph and the built CLI.
// @verifies TSK-1
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph, ready, tasksFromText } from "../src/core/tasks/index.js";
import { parseTasks } from "../src/format/tasks.js";
import { keel, type Run } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field
function json(run: Run): any {
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout);
}

/** The 1-based lines of a fixture whose text contains `needle`, found without the parser. */
const linesWith = (text: string, needle: string): number[] =>
  text.split("\n").flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));

// @verifies LAY-7, LAY-2
describe("IDs as written", () => {
  const TEXT = [
    "## Phase 1: Setup",
    "- [ ] T001 Create project structure",
    "- [ ] T1 Short form",
    "- [ ] T01 Padded differently",
    "- [ ] T105a [P] Inserted later, between T105 and T106",
    "- [ ] T012A [US1] Upper-case suffix",
    "- [ ] T002: With a colon",
    "- [ ] 1. Kiro top-level",
    "- [ ] 1.10 Tenth subtask",
    "- [ ] 007 Leading zeros",
    "- [ ] Wire the endpoint {#REF-API}",
  ].join("\n");

  it("keeps every written ID exactly, letters and zeros included, and never renumbers", () => {
    const { tasks, diagnostics } = parseTasks(TEXT);
    expect(diagnostics).toEqual([]);
    // The token after the checkbox as written, with a final `.` or `:` dropped; or the explicit `{#ID}`.
    const written = TEXT.split("\n")
      .filter((l) => l.startsWith("- [ ] "))
      .map((l) => /\{#([^}]+)\}$/.exec(l)?.[1] ?? (l.split(" ")[3] as string).replace(/[.:]$/, ""));
    expect(written).toEqual(["T001", "T1", "T01", "T105a", "T012A", "T002", "1", "1.10", "007", "REF-API"]);
    expect(tasks.map((t) => t.id)).toEqual(written);
    expect(tasks[3]).toMatchObject({ parallel: true, title: "Inserted later, between T105 and T106" });
    expect(tasks[4]).toMatchObject({ story: "US1", title: "Upper-case suffix" });
    expect(tasks[5]?.title).toBe("With a colon");
  });

  it("resolves a dependency on an ID with a letter suffix", () => {
    const g = buildGraph(
      tasksFromText(
        { file: "specs/001-a/tasks.md", scope: "001-a", dialect: "speckit" },
        "- [ ] T105 Model\n- [ ] T105a Model fix\n- [ ] T106 Service (depends on T105a)\n",
      ),
    );
    expect(g.diagnostics).toEqual([]);
    expect(g.nodes.get("001-a/T106")?.deps.map((d) => d.key)).toEqual(["001-a/T105a"]);
  });
});

describe("keys from titles", () => {
  it("keys an unnumbered task by the slug of its title, repeats by order of appearance", () => {
    const text = [
      "- [ ] Write the parser",
      "- [ ] Write tests",
      "- [ ] Écrire le résumé (v2)!",
      "- [ ] Write tests",
      "- [ ] Write tests 2",
      "- [ ] Write tests",
      "- [ ] [P] !!!",
    ].join("\n");
    const { tasks, diagnostics } = parseTasks(text);
    expect(tasks.map((t) => t.id)).toEqual([
      "_write-the-parser",
      "_write-tests",
      "_ecrire-le-resume-v2",
      "_write-tests@2",
      // A title that slugs like a repeat number cannot meet one: the repeat mark is `@`, never in a slug.
      "_write-tests-2",
      "_write-tests@3",
      "_untitled",
    ]);
    // Equal titles are not an error: plain checklists repeat "Write tests" under different headings.
    expect(diagnostics).toEqual([]);
  });

  it("works as a dependency target and a parent, bare or scoped, in every field that names a task", () => {
    const text = [
      "- [ ] Set up the repository",
      "- [ ] Write the parser",
      "  - depends-on: _set-up-the-repository",
      "- [ ] Write the printer [depends-on: c/_write-the-parser]",
      "- [ ] Round-trip test (after _write-the-printer)",
      "- [ ] Fuzz the parser",
      "  - parent: _round-trip-test",
      "- [ ] Write tests",
      "- [ ] Write tests",
      "- [ ] Review the tests (depends on _write-tests@2)",
    ].join("\n");
    const g = buildGraph(
      tasksFromText({ file: "keel/changes/c/tasks.md", scope: "c", dialect: "keel" }, text),
    );
    expect(g.diagnostics).toEqual([]);
    const deps = (key: string) => g.nodes.get(key)?.deps.map((d) => d.key);
    expect(deps("c/_write-the-parser")).toEqual(["c/_set-up-the-repository"]);
    expect(deps("c/_write-the-printer")).toEqual(["c/_write-the-parser"]);
    expect(deps("c/_round-trip-test")).toEqual(["c/_write-the-printer"]);
    expect(g.nodes.get("c/_fuzz-the-parser")?.parent).toBe("c/_round-trip-test");
    expect(deps("c/_review-the-tests")).toEqual(["c/_write-tests@2"]);
  });

  // What an editor does to a file: lines and tasks added or removed above, between and below the tasks.
  const noise = fc.oneof(
    fc.constant(""),
    fc.constantFrom("## Phase 2: More", "### Notes", "Some prose about the plan.", "---"),
    fc.nat(999).map((n) => `- [ ] Other task ${n}`),
    fc.nat(999).map((n) => `- [x] 9.${n} Numbered other task`),
    fc.nat(999).map((n) => `  - detail ${n}`),
    fc.nat(999).map((n) => `  - [ ] Nested other ${n}`),
  );
  const BASE = [
    "- [ ] Write the parser",
    "- [ ] Write tests",
    "- [ ] 2.1 Numbered",
    "- [ ] Write tests",
    "- [ ] Document the format {#DOC}",
  ];
  const ownIds = (text: string): string[] =>
    parseTasks(text)
      .tasks.filter((t) => !/^Other task|^Numbered other|^Nested other/.test(t.title))
      .map((t) => t.id);
  const BASE_IDS = ["_write-the-parser", "_write-tests", "2.1", "_write-tests@2", "DOC"];

  it("keeps every key when lines or other tasks are inserted or deleted anywhere", () => {
    expect(ownIds(BASE.join("\n"))).toEqual(BASE_IDS);
    fc.assert(
      fc.property(
        fc.array(fc.array(noise, { maxLength: 4 }), {
          minLength: BASE.length + 1,
          maxLength: BASE.length + 1,
        }),
        (gaps) => {
          // Noise before, between and after the tasks; then the same file with the noise deleted again, but some.
          const lines = gaps.flatMap((gap, i) => [...gap, ...(i < BASE.length ? [BASE[i] as string] : [])]);
          expect(ownIds(lines.join("\n"))).toEqual(BASE_IDS);
          const fewer = lines.filter((l, i) => BASE.includes(l) || i % 2 === 0);
          expect(ownIds(fewer.join("\n"))).toEqual(BASE_IDS);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never makes an ID from a line number", () => {
    fc.assert(
      fc.property(fc.array(noise, { maxLength: 30 }), (lines) => {
        for (const t of parseTasks(lines.join("\n")).tasks) expect(t.id).not.toMatch(/^L\d+$/);
      }),
      { numRuns: 200 },
    );
  });
});

describe("repeated IDs", () => {
  // A Kiro plan where task 3.8 was written twice (a real slip when tasks are inserted by hand).
  const KIRO = [
    "- [ ] 3. Harden the importer",
    "- [ ] 3.7 Add a retry with backoff",
    "- [ ] 3.8 Add metrics for failed imports",
    "  - _Requirements: 4.2_",
    "- [ ] 3.8 Log the rejected rows",
    "  - _Requirements: 4.3_",
    "- [ ] 3.8.1 Write the log format",
    "- [ ] 3.9 Document the importer",
  ].join("\n");

  it("keeps both tasks, keys the second apart, and reports each naming the other's line", () => {
    const { tasks, diagnostics } = parseTasks(KIRO, { dialect: "kiro" });
    const written = linesWith(KIRO, "] 3.8 ");
    expect(written).toHaveLength(2);
    expect(tasks.filter((t) => /^3\.8(@|$)/.test(t.id)).map((t) => [t.id, t.line, t.covers])).toEqual([
      ["3.8", written[0], ["4.2"]],
      ["3.8@2", written[1], ["4.3"]],
    ]);
    expect(diagnostics.map((d) => [d.rule, d.severity, d.line])).toEqual([
      ["tasks/duplicate-id", "error", written[0]],
      ["tasks/duplicate-id", "error", written[1]],
    ]);
    expect(diagnostics[0]?.message).toContain(`also on line ${written[1]}`);
    expect(diagnostics[1]?.message).toContain(`also on line ${written[0]}`);
    expect(diagnostics[1]?.message).toContain("keyed 3.8@2");
    // Numbered under the second 3.8, 3.8.1 is its subtask; in Kiro's order the second 3.8 follows the first,
    // and 3.9 follows the second through its subtask.
    expect(tasks.find((t) => t.id === "3.8.1")?.parent).toBe("3.8@2");
    expect(tasks.find((t) => t.id === "3.8@2")?.dependsOn.map((d) => d.target)).toEqual(["3.8"]);
    expect(tasks.find((t) => t.id === "3.9")?.dependsOn.map((d) => d.target)).toEqual(["3.8.1"]);
    // The checkbox lines of the file (a regex count) are all tasks: none was dropped.
    expect(tasks).toHaveLength((KIRO.match(/^- \[ \]/gm) ?? []).length);
  });

  it("keeps a task whose key another file of the same scope has, and reports it in both files", () => {
    const a = tasksFromText(
      { file: "keel/specs/pay/tasks.md", scope: "pay", dialect: "keel" },
      "- [ ] 1.1 A\n",
    );
    const b = tasksFromText(
      { file: "keel/changes/pay/tasks.md", scope: "pay", dialect: "keel" },
      "\n- [ ] 1.1 B\n- [ ] 1.2 C\n  - depends-on: 1.1\n",
    );
    const g = buildGraph({
      tasks: [...a.tasks, ...b.tasks],
      diagnostics: [],
      sources: [...a.sources, ...b.sources],
    });
    expect(g.order).toEqual(["pay/1.1", "pay/1.1@2", "pay/1.2"]);
    expect(g.nodes.get("pay/1.1@2")?.task).toMatchObject({
      title: "B",
      id: "1.1",
      file: "keel/changes/pay/tasks.md",
    });
    // The loaded task is not changed: a later load may share it.
    expect(b.tasks[0]?.key).toBe("pay/1.1");
    expect(g.diagnostics.map((d) => [d.rule, d.file, d.line])).toEqual([
      ["tasks/duplicate-id", "keel/specs/pay/tasks.md", 1],
      ["tasks/duplicate-id", "keel/changes/pay/tasks.md", 2],
    ]);
    expect(g.diagnostics[0]?.message).toContain("keel/changes/pay/tasks.md:2");
    expect(g.diagnostics[1]?.message).toContain("keel/specs/pay/tasks.md:1");
    expect(ready(g)).toEqual(["pay/1.1", "pay/1.1@2"]);
  });
});

describe("through the CLI", () => {
  const project = tempProjects("keel-tasks-ids-");
  const SHOP = [
    "## 1. Build",
    "- [ ] Write the parser",
    "- [ ] Write the printer",
    "- [ ] 3.8 Add metrics",
    "- [ ] 3.8 Log the rejected rows",
    "",
  ].join("\n");
  const files = {
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/shop/tasks.md": SHOP,
    "specs/001-albums/tasks.md": [
      "## Phase 1: Setup",
      "- [ ] T001 Create project structure",
      "- [ ] T105a [P] Configure the linter",
      "",
    ].join("\n"),
  };

  it("shows T001 and T105a by their IDs as written, and a title's key, bare or scoped", () => {
    const root = project(files);
    expect(json(keel(root, "tasks", "show", "T001", "--json")).task).toMatchObject({
      key: "001-albums/T001",
      id: "T001",
    });
    expect(json(keel(root, "tasks", "show", "T105a", "--json")).task).toMatchObject({
      key: "001-albums/T105a",
      title: "Configure the linter",
      parallel: true,
      // Spec Kit order: after the task before it in its phase.
      ready: false,
      blockers: ["waits on 001-albums/T001"],
    });
    expect(json(keel(root, "tasks", "show", "shop/_write-the-parser", "--json")).task).toMatchObject({
      key: "shop/_write-the-parser",
      line: linesWith(SHOP, "Write the parser")[0],
    });
    expect(json(keel(root, "tasks", "show", "_write-the-printer", "--json")).task.key).toBe(
      "shop/_write-the-printer",
    );
  });

  it("lists both tasks of a repeated ID, with the error at both lines", () => {
    const root = project(files);
    const run = keel(root, "tasks", "list", "--json");
    const out = JSON.parse(run.stdout);
    expect(
      out.tasks.map((t: { key: string }) => t.key).filter((k: string) => k.startsWith("shop/3.8")),
    ).toEqual(["shop/3.8", "shop/3.8@2"]);
    const dup = out.diagnostics.filter((d: { rule: string }) => d.rule === "tasks/duplicate-id");
    expect(dup.map((d: { line: number }) => d.line)).toEqual(linesWith(SHOP, "] 3.8 "));
  });

  // @verifies TSK-8
  it("marks done the repeated task it names, not the first with its ID", () => {
    const root = project(files);
    const grant = json(keel(root, "tasks", "claim", "shop/3.8@2", "--as", "agent:a1", "--json")).claim;
    expect(grant.taskId).toBe("shop/3.8@2");
    expect(
      keel(root, "tasks", "done", "shop/3.8@2", "--token", String(grant.token), "--as", "agent:a1").code,
    ).toBe(0);
    expect(readFileSync(join(root, "keel/specs/shop/tasks.md"), "utf8")).toBe(
      SHOP.replace("- [ ] 3.8 Log", "- [x] 3.8 Log"),
    );
  });

  // @verifies TSK-8
  it("keeps a claim on the task it was made for when lines are inserted above it meanwhile", () => {
    const root = project(files);
    const path = join(root, "keel/specs/shop/tasks.md");
    const grant = json(
      keel(root, "tasks", "claim", "shop/_write-the-printer", "--as", "agent:a1", "--json"),
    ).claim;
    const edited = SHOP.replace(
      "## 1. Build\n",
      "## 1. Build\n\nA note someone added.\n- [ ] Review the plan\n",
    );
    writeFileSync(path, edited);
    expect(
      keel(
        root,
        "tasks",
        "done",
        "shop/_write-the-printer",
        "--token",
        String(grant.token),
        "--as",
        "agent:a1",
      ).code,
    ).toBe(0);
    expect(readFileSync(path, "utf8")).toBe(
      edited.replace("- [ ] Write the printer", "- [x] Write the printer"),
    );
  });
});
