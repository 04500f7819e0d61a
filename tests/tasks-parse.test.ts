// The tasks.md parser on Keel's own format, Spec Kit's and Kiro's: IDs, tags, fields, nesting, positions, and
// positioned diagnostics for bad input (it never throws).
// @verifies TSK-1
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTasks } from "../src/format/tasks.js";

const KEEL = `# Tasks

## 1. Refunds

- [ ] 1.1 Add the refund key column
  - covers: PAY-4
  - boundaries: src/db/**, migrations/*.sql
  - verify: \`npm test -- refunds\`
  - priority: P1
- [x] 1.2 Write the refund handler [depends-on: 1.1] [covers: PAY-4, PAY-5]
  - related: 2.1
- [ ] 1.3 Wire the endpoint {#REF-API}
  - depends-on: 1.1, 1.2
  - status: deferred
  - Keep the old endpoint until clients move.

## 2. Reports
- [ ] 2.1 Monthly report
  - [ ] 2.1.1 Query
  - [x] 2.1.2 Render
- [ ] 2.2 Export
  - parent: 2.1
`;

describe("Keel format", () => {
  const { tasks, diagnostics } = parseTasks(KEEL);
  const byId = new Map(tasks.map((t) => [t.id, t]));

  it("reads IDs, titles, checkboxes and positions", () => {
    expect(diagnostics).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(["1.1", "1.2", "REF-API", "2.1", "2.1.1", "2.1.2", "2.2"]);
    expect(byId.get("1.1")).toMatchObject({ title: "Add the refund key column", status: "open", line: 5 });
    expect(byId.get("1.2")).toMatchObject({ title: "Write the refund handler", status: "done", line: 10 });
    expect(byId.get("REF-API")).toMatchObject({ title: "Wire the endpoint", line: 12, phase: "1. Refunds" });
  });

  it("reads fields on sub-bullets and inline tags", () => {
    expect(byId.get("1.1")).toMatchObject({
      covers: ["PAY-4"],
      boundaries: ["src/db/**", "migrations/*.sql"],
      verification: ["npm test -- refunds"],
      priority: 1,
    });
    expect(byId.get("1.2")?.covers).toEqual(["PAY-4", "PAY-5"]);
    expect(byId.get("1.2")?.dependsOn).toEqual([
      { target: "1.1", kind: "blocks", line: 10 },
      { target: "2.1", kind: "related", line: 11 },
    ]);
    expect(byId.get("REF-API")?.dependsOn.map((d) => d.target)).toEqual(["1.1", "1.2"]);
    expect(byId.get("REF-API")?.status).toBe("deferred");
    expect(byId.get("REF-API")?.details).toEqual(["Keep the old endpoint until clients move."]);
  });

  it("takes the parent from nesting or from the parent field", () => {
    expect(byId.get("2.1.1")?.parent).toBe("2.1");
    expect(byId.get("2.1.2")?.parent).toBe("2.1");
    expect(byId.get("2.1")?.parent).toBeNull();
    expect(byId.get("2.2")?.parent).toBe("2.1");
    expect(byId.get("2.2")?.line).toBe(21);
  });
});

describe("Spec Kit format", () => {
  const SPECKIT = `# Tasks: Photo albums

## Phase 1: Setup
- [ ] T001 Create project structure per implementation plan
- [X] T002 [P] Initialize TypeScript project with dependencies

## Phase 3: User Story 1 - Create albums (Priority: P1)
- [ ] T012 [P] [US1] Create Album model in src/models/album.ts
- [ ] T013 [P] [US1] Create Photo model in src/models/photo.ts
- [ ] T014 [US1] Implement AlbumService in src/services/album.ts (depends on T012, T013)

\`\`\`text
- [ ] T999 not a task: inside a code block
\`\`\`
`;
  const { tasks, diagnostics } = parseTasks(SPECKIT);

  it("reads IDs, [P], [USn], phases and prose dependencies", () => {
    expect(diagnostics).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(["T001", "T002", "T012", "T013", "T014"]);
    const t2 = tasks[1];
    expect(t2).toMatchObject({ status: "done", parallel: true, story: null, phase: "Setup" });
    expect(tasks[2]).toMatchObject({
      parallel: true,
      story: "US1",
      title: "Create Album model in src/models/album.ts",
      phase: "User Story 1 - Create albums (Priority: P1)",
    });
    const t14 = tasks[4];
    expect(t14?.parallel).toBe(false);
    expect(t14?.title).toBe("Implement AlbumService in src/services/album.ts");
    expect(t14?.dependsOn.map((d) => [d.target, d.kind, d.line])).toEqual([
      ["T012", "blocks", 10],
      ["T013", "blocks", 10],
    ]);
  });
});

describe("Kiro format", () => {
  const KIRO = `# Implementation Plan

- [ ] 1. Set up project structure
  - Create directories for models and services
  - _Requirements: 1.1, 1.2_

- [ ] 2. Implement data models
  - [x] 2.1 Create core interfaces
    - Write TypeScript interfaces
    - _Requirements: 2.1, 3.3_
  - [ ]* 2.2 Write unit tests for models
    - _Requirements: 2.1_
  - [-] 2.3 Validation
  - _Requirements: 4.1_
Text back at the margin ends the task.
  - _Requirements: 9.9_
`;
  const { tasks, diagnostics } = parseTasks(KIRO);

  it("reads numbered tasks, _Requirements_ lines, optional tasks and nesting", () => {
    expect(diagnostics).toEqual([]);
    expect(tasks.map((t) => [t.id, t.parent, t.status, t.optional])).toEqual([
      ["1", null, "open", false],
      ["2", null, "open", false],
      ["2.1", "2", "done", false],
      ["2.2", "2", "open", true],
      ["2.3", "2", "in_progress", false],
    ]);
    expect(tasks[0]?.covers).toEqual(["1.1", "1.2"]);
    expect(tasks[0]?.details).toEqual(["Create directories for models and services"]);
    expect(tasks[2]?.covers).toEqual(["2.1", "3.3"]);
    expect(tasks[3]?.title).toBe("Write unit tests for models");
    // A line indented under task 2 but not under 2.3 belongs to task 2; nothing after the margin text does.
    expect(tasks[1]?.covers).toEqual(["4.1"]);
    expect(tasks[4]?.covers).toEqual([]);
    expect(tasks.flatMap((t) => t.covers)).not.toContain("9.9");
  });
});

describe("bad input", () => {
  it("reports duplicate IDs, self-dependencies and unreadable dependency lines with positions", () => {
    const { tasks, diagnostics } = parseTasks(
      [
        "- [ ] T001 First",
        "- [ ] T001 Again",
        "- [ ] T002 Self",
        "  - depends-on: T002",
        "- [ ] T003 Odd",
        "  - depends-on: T001 or maybe T002?",
        "  - priority: urgent",
        "- [ ] T004",
      ].join("\n"),
    );
    expect(tasks).toHaveLength(5);
    expect(tasks.slice(0, 2).map((t) => t.id)).toEqual(["T001", "T001@2"]);
    expect(diagnostics.map((d) => [d.rule, d.line])).toEqual([
      ["tasks/duplicate-id", 1],
      ["tasks/duplicate-id", 2],
      ["tasks/self-dependency", 4],
      ["tasks/bad-dependency", 6],
      ["tasks/bad-field", 7],
      ["tasks/empty-title", 8],
    ]);
    expect(diagnostics[0]?.message).toContain("also on line 2");
    expect(diagnostics[1]?.message).toContain("also on line 1");
    expect(tasks.find((t) => t.id === "T002")?.dependsOn).toEqual([]);
  });

  it("gives a task without an ID one from its title, and handles CRLF", () => {
    const { tasks } = parseTasks("# T\r\n\r\n- [ ] Just do it\r\n");
    expect(tasks).toEqual([expect.objectContaining({ id: "_just-do-it", title: "Just do it", line: 3 })]);
  });

  it("never throws, whatever the text", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.string(),
            fc.constantFrom(
              "- [ ] T1 a",
              "  - depends-on: T1",
              "- [x]* 1.1 b",
              "  - _Requirements: _",
              "```",
              "## H",
            ),
          ),
        ),
        (lines) => {
          const r = parseTasks(lines.join("\n"));
          expect(Array.isArray(r.tasks)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});
