// Execution order as a Spec Kit or Kiro file states it by its structure: Spec Kit's phases and `[P]` runs,
// Kiro's numbered tasks and subtasks. Each file is walked as an agent would: take what is ready, check it off in
// the text, parse again, build the real graph, repeat.
// @verifies TSK-1, TSK-3
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildGraph,
  isDone,
  ready,
  type TaskGraph,
  type TaskNode,
  tasksFromText,
} from "../src/core/tasks/index.js";
import { type MarkdownTaskDialect, parseTasks } from "../src/format/tasks.js";

// Modelled on github/spec-kit templates/tasks-template.md: Setup, Foundational, one phase per user story in
// priority order (with a tests section and an implementation section), Polish, then the prose sections.
const SPECKIT = `---
description: "Task list for feature implementation"
---

# Tasks: Photo albums

**Input**: Design documents from \`/specs/001-photo-albums/\`
**Prerequisites**: plan.md (required), spec.md (required for user stories), data-model.md

## Format: \`[ID] [P?] [Story] Description\`

- **[P]**: Can run in parallel (different files, no dependencies)
- **[Story]**: Which user story this task belongs to (e.g., US1, US2)

## Phase 1: Setup (Shared Infrastructure)

**Purpose**: Project initialization and basic structure

- [ ] T001 Create project structure per implementation plan
- [ ] T002 Initialize TypeScript project with Express dependencies in package.json
- [ ] T003 [P] Configure linting and formatting tools in biome.json

---

## Phase 2: Foundational (Blocking Prerequisites)

**⚠️ CRITICAL**: No user story work can begin until this phase is complete

- [ ] T004 Setup database schema and migrations framework in src/db/migrations/
- [ ] T005 [P] Implement authentication middleware in src/middleware/auth.ts
- [ ] T006 [P] Setup API routing and middleware structure in src/api/router.ts
- [ ] T007 Create base Photo entity that all stories depend on in src/models/photo.ts

**Checkpoint**: Foundation ready - user story implementation can now begin in parallel

---

## Phase 3: User Story 1 - Create an album (Priority: P1) 🎯 MVP

**Goal**: A user groups photos into a named album

### Tests for User Story 1 ⚠️

- [ ] T008 [P] [US1] Contract test for POST /albums in tests/contract/albums.test.ts
- [ ] T009 [P] [US1] Integration test for creating an album in tests/integration/create-album.test.ts

### Implementation for User Story 1

- [ ] T010 [P] [US1] Create Album model in src/models/album.ts
- [ ] T011 [P] [US1] Create AlbumPhoto model in src/models/album-photo.ts
- [ ] T012 [US1] Implement AlbumService in src/services/album.ts (depends on T010, T011)
- [ ] T013 [US1] Implement POST /albums in src/api/albums.ts

**Checkpoint**: At this point, User Story 1 should be fully functional and testable independently

---

## Phase 4: User Story 2 - Share an album (Priority: P2)

### Implementation for User Story 2

- [ ] T014 [P] [US2] Create ShareLink model in src/models/share-link.ts
- [ ] T015 [US2] Implement SharingService in src/services/sharing.ts
- [ ] T016 [US2] Integrate with the User Story 1 AlbumService in src/services/sharing.ts (depends on T012)

---

## Phase 5: Polish & Cross-Cutting Concerns

- [ ] T017 [P] Documentation updates in docs/albums.md
- [ ] T018 Run quickstart.md validation

---

## Dependencies & Execution Order

### Phase Dependencies

- **Setup (Phase 1)**: No dependencies - can start immediately
- **Foundational (Phase 2)**: Depends on Setup completion - BLOCKS all user stories
- **User Stories (Phase 3+)**: All depend on Foundational phase completion
- **Polish (Final Phase)**: Depends on all desired user stories being complete

### Parallel Example: User Story 1

\`\`\`bash
- [ ] T999 not a task: inside a code block
\`\`\`
`;

// Modelled on Kiro's tasks.md: numbered tasks with subtasks written at the margin under them, detail bullets,
// `_Requirements:_` lines and optional (`- [ ]*`) test tasks.
const KIRO = `# Implementation Plan

- [ ] 1. Set up project structure and core interfaces
- [ ] 1.1 Create the directory structure for models, services and API components
  - _Requirements: 1.1_

- [ ] 1.2 Define the interfaces that mark the system boundaries
  - _Requirements: 1.1, 1.2_

- [ ] 2. Implement data models and validation
- [ ] 2.1 Create core data model interfaces and types
  - Write TypeScript interfaces for all data models
  - _Requirements: 2.1, 3.3_

- [ ] 2.2 Implement the User model with validation
  - _Requirements: 1.2_

- [ ]* 2.3 Write unit tests for the User model
  - _Requirements: 1.2_

- [ ] 2.4 Implement the Document model with relationships
  - _Requirements: 2.1, 3.3_

- [ ] 3. Create the storage mechanism
- [ ] 3.1 Implement the database connection utilities
  - _Requirements: 4.1_

- [ ]* 3.2 Write integration tests for the repositories
  - _Requirements: 4.2_

- [ ] 4. Wire the API endpoints to the services
  - _Requirements: 5.1_
`;

function graphOf(text: string, dialect: MarkdownTaskDialect): TaskGraph {
  return buildGraph(tasksFromText({ file: "tasks.md", scope: "f", dialect }, text));
}

const id = (key: string): string => key.replace(/^f\//, "");

/** The 1-based line of a task in a fixture, found by its text. */
const lineOf = (text: string, taskId: string): number =>
  text.split("\n").findIndex((l) => l.startsWith(`- [ ] ${taskId} `)) + 1;

/** Checks the checkbox of each task off in the text, at the position the parser gives. */
function checkOff(text: string, graph: TaskGraph, keys: string[]): string {
  const lines = text.split("\n");
  for (const key of keys) {
    const t = (graph.nodes.get(key) as TaskNode).task;
    const line = lines[t.line - 1] as string;
    expect(line[t.checkboxCol - 1]).toBe("[");
    lines[t.line - 1] = `${line.slice(0, t.checkboxCol)}x${line.slice(t.checkboxCol + 1)}`;
  }
  return lines.join("\n");
}

interface Walk {
  /** The ready IDs of each round, in file order. */
  rounds: string[][];
  /** The text with every task that was checked off. */
  text: string;
}

/** Takes every ready task that is not optional, checks it off, and again, until none is left. */
function walk(text: string, dialect: MarkdownTaskDialect): Walk {
  const rounds: string[][] = [];
  for (let current = text; ; ) {
    const graph = graphOf(current, dialect);
    const keys = ready(graph);
    const take = keys.filter((k) => !(graph.nodes.get(k) as TaskNode).task.optional);
    if (take.length === 0) return { rounds, text: current };
    rounds.push(keys.map(id));
    current = checkOff(current, graph, take);
  }
}

/** The IDs of the open task lines of each `## Phase` section, read with a regex, not with the parser. */
function idsByPhase(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const section of text.split(/^## /m).slice(1)) {
    const name = /^Phase \d+: (\S+(?: Story \d+)?)/.exec(section)?.[1];
    if (!name) continue;
    out.set(
      name,
      [...section.matchAll(/^- \[ \] (T\d+)/gm)].map((m) => m[1] as string),
    );
  }
  return out;
}

// @verifies LAY-8, LAY-2
describe("Spec Kit: phases and [P] runs", () => {
  it("runs Setup first, then Foundational, then each story after Foundational, and Polish last", () => {
    const { rounds, text } = walk(SPECKIT, "speckit");
    expect(rounds).toEqual([
      ["T001"],
      ["T002"],
      ["T003"],
      ["T004"],
      ["T005", "T006"],
      ["T007"],
      // The first step of each story (its tests, run together) and of the next one, side by side.
      ["T008", "T009", "T014"],
      ["T010", "T011", "T015"],
      ["T012"],
      ["T013", "T016"],
      ["T017"],
      ["T018"],
    ]);
    // Every open task line of the file (a regex count, outside the code block) was taken exactly once.
    const written = [...SPECKIT.matchAll(/^- \[ \] (T\d+)/gm)]
      .map((m) => m[1] as string)
      .filter((t) => t !== "T999");
    expect(rounds.flat().sort()).toEqual(written.sort());
    expect(text.match(/^- \[ \] T\d+/gm)).toEqual(["- [ ] T999"]);
  });

  it("never mixes phases out of order: each round is inside one rank of Setup < Foundational < stories < Polish", () => {
    const phases = idsByPhase(SPECKIT);
    expect([...phases.keys()]).toEqual(["Setup", "Foundational", "User Story 1", "User Story 2", "Polish"]);
    const rank = (t: string): number => {
      const name = [...phases].find(([, ids]) => ids.includes(t))?.[0] ?? "";
      return name.startsWith("User Story") ? 2 : ["Setup", "Foundational", "", "Polish"].indexOf(name);
    };
    const ranks = walk(SPECKIT, "speckit").rounds.map((r) => [...new Set(r.map(rank))]);
    expect(ranks.every((r) => r.length === 1)).toBe(true);
    const flat = ranks.map((r) => r[0] as number);
    expect(flat).toEqual([...flat].sort((a, b) => a - b));
    expect(flat[0]).toBe(0);
    expect(flat[flat.length - 1]).toBe(3);
  });

  it("marks derived dependencies apart from written ones, which still count", () => {
    const g = graphOf(SPECKIT, "speckit");
    const deps = (t: string) => (g.nodes.get(`f/${t}`) as TaskNode).deps;
    const at = (t: string) => lineOf(SPECKIT, t);
    expect(deps("T002")).toEqual([{ key: "f/T001", kind: "blocks", line: at("T002"), derived: true }]);
    // Written `(depends on T010, T011)` stays written; the step before (the same two tasks) adds nothing.
    expect(deps("T012")).toEqual([
      { key: "f/T010", kind: "blocks", line: at("T012") },
      { key: "f/T011", kind: "blocks", line: at("T012") },
    ]);
    // A story waits only on Foundational, unless its text says otherwise (T016 names T012 of story 1).
    expect(deps("T014")).toEqual([{ key: "f/T007", kind: "blocks", line: at("T014"), derived: true }]);
    expect(deps("T016").map((d) => [id(d.key), d.derived ?? false])).toEqual([
      ["T012", false],
      ["T015", true],
    ]);
    // Polish waits on the last step of every story.
    expect(deps("T017").map((d) => id(d.key))).toEqual(["T013", "T016"]);
    expect(g.cycles).toEqual([]);
    expect(g.diagnostics).toEqual([]);
  });

  it("names the phase, not the section inside it, as the task's phase", () => {
    const { tasks } = parseTasks(SPECKIT, { dialect: "speckit" });
    expect(tasks.find((t) => t.id === "T008")?.phase).toBe(
      "User Story 1 - Create an album (Priority: P1) 🎯 MVP",
    );
    expect(tasks.find((t) => t.id === "T004")?.phase).toBe("Foundational (Blocking Prerequisites)");
  });

  it("reads the same file as Keel's dialect with only the written dependencies (every other task ready)", () => {
    const g = graphOf(SPECKIT, "keel");
    const writtenDeps = SPECKIT.split("\n").filter((l) => /^- \[ \] T0\d\d .*\(depends on/.test(l)).length;
    const all = (SPECKIT.match(/^- \[ \] T0\d\d/gm) ?? []).length;
    expect(ready(g)).toHaveLength(all - writtenDeps);
    expect([...g.nodes.values()].flatMap((n) => n.deps).some((d) => d.derived)).toBe(false);
  });

  it("lets a story phase be told by its tags, skips empty phases, and leaves tasks outside phases alone", () => {
    const text = [
      "- [ ] T000 Before any phase",
      "## Phase 1: Setup",
      "- [ ] T001 Create the project",
      "## Phase 2: Foundational",
      "Nothing here yet.",
      "## Phase 3: Albums",
      "- [ ] T002 [US1] Album model",
      "- [ ] T003 [US1] Album service",
      "## Phase 4: Sharing",
      "- [ ] T004 [US2] Share link",
      "## Phase 5: Polish",
      "- [ ] T005 Docs",
      "## Notes",
      "- [ ] T006 A task after the phases",
    ].join("\n");
    const { tasks } = parseTasks(text, { dialect: "speckit" });
    const deps = Object.fromEntries(tasks.map((t) => [t.id, t.dependsOn.map((d) => d.target)]));
    expect(deps).toEqual({
      T000: [],
      T001: [],
      T002: ["T001"],
      T003: ["T002"],
      T004: ["T001"],
      T005: ["T003", "T004"],
      T006: [],
    });
  });

  it("orders only top-level tasks: a subtask waits through its parent", () => {
    const text = [
      "## Phase 1: Setup",
      "- [ ] T001 Create the project",
      "## Phase 2: Foundational",
      "- [ ] T002 Schema",
      "  - [ ] T002a Tables",
      "  - [ ] T002b Indexes",
      "- [ ] T003 Seed data",
    ].join("\n");
    const g = graphOf(text, "speckit");
    expect(ready(g).map(id)).toEqual(["T001"]);
    expect((g.nodes.get("f/T002a") as TaskNode).deps).toEqual([]);
    // Waiting on a task with subtasks is waiting on its subtasks.
    expect((g.nodes.get("f/T003") as TaskNode).deps.map((d) => id(d.key))).toEqual(["T002a", "T002b"]);
    const after = graphOf(text.replace("- [ ] T001", "- [x] T001"), "speckit");
    expect(ready(after).map(id)).toEqual(["T002a", "T002b"]);
  });

  it("reports a written dependency against the written order as the cycle it is", () => {
    const g = graphOf(
      "## Phase 1: Setup\n- [ ] T001 First (depends on T002)\n- [ ] T002 Second\n",
      "speckit",
    );
    expect(g.cycles.map((c) => c.members)).toEqual([["f/T001", "f/T002"]]);
  });
});

describe("Kiro: numbered tasks and subtasks in order", () => {
  it("takes 1.1 first, each subtask after the one before, each task after the previous one is done", () => {
    const { rounds, text } = walk(KIRO, "kiro");
    expect(rounds).toEqual([
      ["1.1"],
      ["1.2"],
      ["2.1"],
      ["2.2"],
      // The optional 2.3 becomes ready in its turn, but 2.4 does not wait on it, nor task 3 on task 2's tests.
      ["2.3", "2.4"],
      ["2.3", "3.1"],
      ["2.3", "3.2", "4"],
    ]);
    // Every required leaf (a regex count of the task lines that are not optional and have no subtasks) was done.
    const lines = [...KIRO.matchAll(/^- \[ \](\*?) (\d+(?:\.\d+)*)\.? /gm)].map((m) => ({
      optional: m[1] === "*",
      id: m[2] as string,
    }));
    const hasSubtasks = (n: string) => lines.some((l) => l.id.startsWith(`${n}.`));
    const requiredLeaves = lines.filter((l) => !l.optional && !hasSubtasks(l.id)).map((l) => l.id);
    expect(
      rounds
        .flat()
        .filter((t) => requiredLeaves.includes(t))
        .sort(),
    ).toEqual([...requiredLeaves].sort());
    // What is left open is exactly the optional tasks; their parents are the only others not done.
    const g = graphOf(text, "kiro");
    expect(ready(g).map(id)).toEqual(lines.filter((l) => l.optional).map((l) => l.id));
    expect(g.order.filter((k) => !isDone(g, k)).map(id)).toEqual(["2", "2.3", "3", "3.2"]);
  });

  it("makes a task numbered under another its subtask, at the margin as when indented", () => {
    const atMargin = parseTasks(KIRO, { dialect: "kiro" }).tasks;
    const indented = parseTasks(KIRO.replace(/^- \[ \](\*?) (\d+\.\d+) /gm, "  - [ ]$1 $2 "), {
      dialect: "kiro",
    }).tasks;
    const shape = (ts: typeof atMargin) => ts.map((t) => [t.id, t.parent, t.dependsOn.map((d) => d.target)]);
    expect(shape(atMargin)).toEqual(shape(indented));
    expect(shape(atMargin)).toEqual([
      ["1", null, []],
      ["1.1", "1", []],
      ["1.2", "1", ["1.1"]],
      ["2", null, ["1.1", "1.2"]],
      ["2.1", "2", []],
      ["2.2", "2", ["2.1"]],
      ["2.3", "2", ["2.2"]],
      ["2.4", "2", ["2.2"]],
      ["3", null, ["2.1", "2.2", "2.4"]],
      ["3.1", "3", []],
      ["3.2", "3", ["3.1"]],
      ["4", null, ["3.1"]],
    ]);
    expect(atMargin.flatMap((t) => t.dependsOn).every((d) => d.derived === true)).toBe(true);
    // Keel's dialect reads the same file without numbering parents or order.
    const keel = parseTasks(KIRO).tasks;
    expect(keel.every((t) => t.parent === null && t.dependsOn.length === 0)).toBe(true);
  });

  it("lets written dependencies add to the order, and never waits on an optional task", () => {
    const text =
      "- [ ] 1. Schema\n- [ ]* 2. Schema tests\n- [ ] 3. API\n  - depends-on: 1\n- [ ] 4. Docs (after 2)\n";
    const { tasks } = parseTasks(text, { dialect: "kiro" });
    expect(tasks.map((t) => [t.id, t.dependsOn.map((d) => [d.target, d.derived ?? false])])).toEqual([
      ["1", []],
      ["2", [["1", true]]],
      ["3", [["1", false]]],
      [
        "4",
        [
          ["2", false],
          ["3", true],
        ],
      ],
    ]);
  });
});

describe("derived order on any file", () => {
  const line = fc.oneof(
    fc.string(),
    fc.constantFrom(
      "## Phase 1: Setup",
      "## Phase 3: User Story 1 - Albums (Priority: P1)",
      "### Tests for User Story 1",
      "## Phase N: Polish",
      "## Notes",
      "- [ ] T001 a",
      "- [ ] T002 [P] b",
      "- [x] T003 [P] [US1] c (depends on T001)",
      "  - [ ] T004 nested",
      "- [ ] 1. top",
      "- [ ]* 1.1 optional",
      "- [ ] 1.2 sub",
      "  - [ ] 1.2.1 deeper",
      "- [ ] 2. next",
      "  - parent: 1",
      "- [ ] Unnumbered",
      "```",
    ),
  );

  it("never throws, and every derived dependency names another task of the file that is not optional", () => {
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 40 }),
        fc.constantFrom("speckit", "kiro") as fc.Arbitrary<MarkdownTaskDialect>,
        (lines, dialect) => {
          const { tasks } = parseTasks(lines.join("\n"), { dialect });
          const byId = new Map(tasks.map((t) => [t.id, t]));
          for (const t of tasks)
            for (const d of t.dependsOn.filter((x) => x.derived)) {
              expect(d.kind).toBe("blocks");
              expect(d.target).not.toBe(t.id);
              expect(byId.get(d.target)?.optional).toBe(false);
            }
          // In the graph, every derived dependency resolves, to a task of the same file.
          const g = graphOf(lines.join("\n"), dialect);
          const derived = [...g.nodes.values()].flatMap((n) => n.deps.filter((x) => x.derived));
          expect(derived.filter((x) => !g.nodes.has(x.key))).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
