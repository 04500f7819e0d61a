// Task Master's tasks.json read into Keel's task model: counts checked against JSON.parse of the fixtures,
// positions against the fixture text, write-back against a line diff, and bad input against diagnostics.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../src/core/tasks/graph.js";
import type { LoadedTask } from "../src/core/tasks/load.js";
import {
  keelStatusToTaskmaster,
  parseTaskmaster,
  setTaskmasterStatus,
  TASKMASTER_STATUSES,
} from "../src/format/layouts/taskmaster.js";
import type { ParsedTask, TaskStatus } from "../src/format/tasks.js";
import { REPO } from "./format-support.js";
import { changedLines } from "./support/files.js";
import { JSON_FUZZ_TOKENS, positionInText } from "./support/json-fuzz.js";

const TAGGED_DIR = resolve(REPO, "tests/fixtures/layouts/taskmaster");
const LEGACY_DIR = resolve(REPO, "tests/fixtures/layouts/taskmaster-legacy");
const TAGGED = readFileSync(join(TAGGED_DIR, ".taskmaster/tasks/tasks.json"), "utf8");
const LEGACY = readFileSync(join(LEGACY_DIR, "tasks/tasks.json"), "utf8");

interface RawTask {
  id: number | string;
  title: string;
  status?: string;
  priority?: string;
  description?: string;
  details?: string;
  testStrategy?: string;
  dependencies?: (number | string)[];
  subtasks?: RawTask[];
  [extra: string]: unknown;
}
type RawFile = Record<string, { tasks: RawTask[] }>;

/** The expected Keel status of each Task Master status, written out independently of the reader. */
const EXPECTED_STATUS: Record<string, TaskStatus> = {
  pending: "open",
  "in-progress": "in_progress",
  done: "done",
  review: "in_progress",
  deferred: "deferred",
  cancelled: "deferred",
  blocked: "blocked",
};

/** Every task and subtask of a raw tag with its Keel ID, parent ID and the ID of each dependency. */
function flatten(tasks: RawTask[]): { id: string; parent: string | null; raw: RawTask; deps: string[] }[] {
  return tasks.flatMap((t) => [
    { id: String(t.id), parent: null, raw: t, deps: (t.dependencies ?? []).map(String) },
    ...(t.subtasks ?? []).map((s) => ({
      id: `${t.id}.${s.id}`,
      parent: String(t.id),
      raw: s,
      // Task Master: a number in a subtask's dependencies is a sibling; "P.S" names a subtask of any task.
      deps: (s.dependencies ?? []).map((d) => (typeof d === "number" ? `${t.id}.${d}` : d)),
    })),
  ]);
}

function lineOf(text: string, line: number): string {
  return text.split("\n")[line - 1] ?? "";
}

function tagTasks(text: string, tag: string): ParsedTask[] {
  const found = parseTaskmaster(text).tags.find((t) => t.tag === tag);
  if (!found) throw new Error(`no tag ${tag}`);
  return found.tasks;
}

// @verifies LAY-5, LAY-2
describe("parseTaskmaster on the tagged fixture", () => {
  const raw = JSON.parse(TAGGED) as RawFile;
  const parsed = parseTaskmaster(TAGGED);

  it("reads every tag, in file order, with no diagnostics", () => {
    expect(parsed.format).toBe("tagged");
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.tags.map((t) => t.tag)).toEqual(Object.keys(raw));
  });

  it("has as many tasks, subtasks and dependencies per tag as JSON.parse finds", () => {
    for (const [tag, { tasks }] of Object.entries(raw)) {
      const read = tagTasks(TAGGED, tag);
      const subtasks = tasks.reduce((n, t) => n + (t.subtasks?.length ?? 0), 0);
      const deps = flatten(tasks).reduce((n, t) => n + t.deps.length, 0);
      expect(read).toHaveLength(tasks.length + subtasks);
      expect(read.filter((t) => t.parent !== null)).toHaveLength(subtasks);
      expect(read.reduce((n, t) => n + t.dependsOn.length, 0)).toBe(deps);
    }
    expect(Object.values(raw).reduce((n, t) => n + t.tasks.length, 0)).toBe(12);
  });

  it("covers every Task Master status and maps each one", () => {
    const statuses = new Set(Object.values(raw).flatMap((t) => flatten(t.tasks).map((x) => x.raw.status)));
    for (const s of TASKMASTER_STATUSES) expect(statuses).toContain(s);
    for (const [tag, { tasks }] of Object.entries(raw)) {
      const read = new Map(tagTasks(TAGGED, tag).map((t) => [t.id, t]));
      for (const t of flatten(tasks))
        expect(read.get(t.id)?.status, `${tag}/${t.id}`).toBe(EXPECTED_STATUS[t.raw.status ?? "pending"]);
    }
  });

  it("names subtasks <parent>.<sub> and resolves sibling, dotted and top-level dependencies", () => {
    for (const [tag, { tasks }] of Object.entries(raw)) {
      const read = new Map(tagTasks(TAGGED, tag).map((t) => [t.id, t]));
      for (const t of flatten(tasks)) {
        const task = read.get(t.id);
        expect(task?.parent).toBe(t.parent);
        expect(task?.dependsOn.map((d) => d.target)).toEqual(t.deps);
        expect(task?.dependsOn.every((d) => d.kind === "blocks")).toBe(true);
      }
    }
    const master = new Map(tagTasks(TAGGED, "master").map((t) => [t.id, t]));
    expect(master.get("3.2")?.dependsOn.map((d) => d.target)).toEqual(["3.1"]);
    expect(master.get("3.4")?.dependsOn.map((d) => d.target)).toEqual(["2.3", "3.2"]);
    expect(master.get("8")?.dependsOn.map((d) => d.target)).toEqual(["3"]);
  });

  it("maps title, priority, and description + details + testStrategy as prose, never as a command", () => {
    const priorities: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };
    const lines = (s: string | undefined) => (s ?? "").split("\n").filter((l) => l.trim() !== "");
    for (const [tag, { tasks }] of Object.entries(raw)) {
      const read = new Map(tagTasks(TAGGED, tag).map((t) => [t.id, t]));
      for (const t of flatten(tasks)) {
        const task = read.get(t.id) as ParsedTask;
        expect(task.title).toBe(t.raw.title);
        expect(task.priority).toBe(t.raw.priority === undefined ? null : priorities[t.raw.priority]);
        const strategy = lines(t.raw.testStrategy);
        expect(task.details).toEqual([
          ...lines(t.raw.description),
          ...lines(t.raw.details),
          ...(strategy.length > 0 ? ["Test strategy:", ...strategy] : []),
        ]);
        // Verification is what `keel tasks done` runs as shell commands; a test strategy is prose.
        expect(task.verification).toEqual([]);
      }
    }
  });

  it("points every task at its own status value, or at its object when it has none", () => {
    for (const [tag, { tasks }] of Object.entries(raw)) {
      const read = new Map(tagTasks(TAGGED, tag).map((t) => [t.id, t]));
      for (const t of flatten(tasks)) {
        const task = read.get(t.id) as ParsedTask;
        const at = lineOf(TAGGED, task.line).slice(task.checkboxCol - 1);
        if (t.raw.status === undefined) expect(at).toBe("{");
        else expect(at.startsWith(JSON.stringify(t.raw.status))).toBe(true);
        expect(lineOf(TAGGED, task.line).slice(0, task.checkboxCol - 1)).toMatch(
          t.raw.status === undefined ? /^\s*$/ : /^\s*"status": $/,
        );
      }
    }
  });

  it("gives the task graph targets and parents it resolves within the tag", () => {
    const loaded: LoadedTask[] = parsed.tags.flatMap(({ tag, tasks }) =>
      tasks.map((t) => ({
        ...t,
        key: `${tag}/${t.id}`,
        scope: tag,
        file: "tasks.json",
        dialect: "taskmaster",
      })),
    );
    const graph = buildGraph({ tasks: loaded, diagnostics: [], sources: [] });
    expect(graph.diagnostics).toEqual([]);
    expect(graph.cycles).toEqual([]);
    for (const t of loaded) {
      const node = graph.nodes.get(t.key);
      expect(node?.parent).toBe(t.parent === null ? null : `${t.scope}/${t.parent}`);
      expect(node?.deps.map((d) => d.key)).toEqual(t.dependsOn.map((d) => `${t.scope}/${d.target}`));
    }
  });
});

describe("parseTaskmaster on the legacy fixture", () => {
  it("reads the flat file as the master tag", () => {
    const raw = JSON.parse(LEGACY) as { tasks: RawTask[] };
    const parsed = parseTaskmaster(LEGACY);
    expect(parsed.format).toBe("legacy");
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.tags.map((t) => t.tag)).toEqual(["master"]);
    const expected = flatten(raw.tasks);
    expect(parsed.tags[0]?.tasks.map((t) => [t.id, t.status, t.dependsOn.map((d) => d.target)])).toEqual(
      expected.map((t) => [t.id, EXPECTED_STATUS[t.raw.status ?? "pending"], t.deps]),
    );
  });
});

describe("setTaskmasterStatus", () => {
  const raw = JSON.parse(TAGGED) as RawFile;

  it.each([
    ["master", "5", "done"],
    ["master", "3.2", "done"],
    ["master", "8.1", "in-progress"],
    ["feature-billing", "2", "review"],
    ["feature-billing", "2.3", "cancelled"],
  ])("changes only the status line of %s/%s", (tag, id, status) => {
    const before = tagTasks(TAGGED, tag).find((t) => t.id === id) as ParsedTask;
    const next = setTaskmasterStatus(TAGGED, tag, id, status);
    const { removed, added } = changedLines(TAGGED, next);
    expect(removed).toEqual([lineOf(TAGGED, before.line)]);
    expect(added).toHaveLength(1);
    expect(added[0]).toBe(lineOf(TAGGED, before.line).replace(/"status": "[^"]*"/, `"status": "${status}"`));
    // Everything else, unknown fields included, is the same data.
    const expected = JSON.parse(TAGGED) as RawFile;
    const [top, sub] = id.split(".");
    const list = expected[tag]?.tasks ?? [];
    const target = list.find((t) => String(t.id) === top) as RawTask;
    const changed =
      sub === undefined ? target : (target.subtasks?.find((s) => String(s.id) === sub) as RawTask);
    changed.status = status;
    expect(JSON.parse(next)).toEqual(expected);
    expect(tagTasks(next, tag).find((t) => t.id === id)?.status).toBe(EXPECTED_STATUS[status]);
  });

  it("keeps unknown fields byte for byte", () => {
    const next = setTaskmasterStatus(TAGGED, "master", "5", "in-progress");
    for (const field of [
      '"x-owner": "ops-team"',
      '"jiraKey": "INV-42"',
      '"complexity": 8',
      '"previousStatus"',
    ])
      expect(next).toContain(field);
    const master = (JSON.parse(next) as RawFile).master?.tasks ?? [];
    expect(master.find((t) => t.id === 5)?.metadata).toEqual(raw.master?.tasks[4]?.metadata);
  });

  it("adds a status to a task that has none, indented like its siblings", () => {
    const next = setTaskmasterStatus(TAGGED, "feature-billing", "4", "in-progress");
    const { removed, added } = changedLines(TAGGED, next);
    // The last property gains a comma and the status follows it.
    expect(removed).toEqual(['        "subtasks": []']);
    expect(added).toEqual(['        "subtasks": [],', '        "status": "in-progress"']);
    const task = tagTasks(next, "feature-billing").find((t) => t.id === "4");
    expect(task?.status).toBe("in_progress");
    expect(lineOf(next, task?.line ?? 0).trim()).toBe('"status": "in-progress"');
  });

  it("follows the file's tabs and CRLF line ends", () => {
    const tabbed = TAGGED.replace(/^( {2})+/gm, (s) => "\t".repeat(s.length / 2)).replace(/\n/g, "\r\n");
    const next = setTaskmasterStatus(tabbed, "feature-billing", "4", "done");
    expect(next).toContain('\t\t\t\t"subtasks": [],\r\n\t\t\t\t"status": "done"\r\n');
    const edited = setTaskmasterStatus(tabbed, "master", "3.3", "done");
    expect(changedLines(tabbed, edited).added).toEqual(['\t\t\t\t\t\t"status": "done",\r']);
  });

  it("writes the legacy file, whose only tag is master", () => {
    const next = setTaskmasterStatus(LEGACY, null, "2.2", "done");
    expect(changedLines(LEGACY, next).added).toEqual(['          "status": "done"']);
    expect(setTaskmasterStatus(LEGACY, "master", "2.2", "done")).toBe(next);
    expect(() => setTaskmasterStatus(LEGACY, "feature-x", "2.2", "done")).toThrow(/no tags/);
  });

  it("treats a null tag as master in a tagged file", () => {
    expect(setTaskmasterStatus(TAGGED, null, "5", "done")).toBe(
      setTaskmasterStatus(TAGGED, "master", "5", "done"),
    );
  });

  it("refuses what it cannot write safely", () => {
    expect(() => setTaskmasterStatus(TAGGED, "master", "42", "done")).toThrow(
      /task 42 not found in tag master/,
    );
    expect(() => setTaskmasterStatus(TAGGED, "master", "3.9", "done")).toThrow(/task 3.9 not found/);
    expect(() => setTaskmasterStatus(TAGGED, "nope", "1", "done")).toThrow(/no tag nope/);
    expect(() => setTaskmasterStatus(TAGGED, "master", "1", "finished")).toThrow(/not a Task Master status/);
    expect(() => setTaskmasterStatus(TAGGED.slice(0, 500), "master", "1", "done")).toThrow(/not valid JSON/);
    const duplicated = TAGGED.replace('"id": 7,', '"id": 6,');
    expect(() => setTaskmasterStatus(duplicated, "master", "6", "done")).toThrow(/appears 2 times/);
  });

  it("maps every Keel status to a Task Master status it reads back", () => {
    for (const s of ["open", "in_progress", "done", "deferred", "blocked"] as const) {
      const written = keelStatusToTaskmaster(s);
      expect(TASKMASTER_STATUSES).toContain(written);
      expect(EXPECTED_STATUS[written]).toBe(s);
    }
  });
});

describe("parseTaskmaster on bad input", () => {
  const allCount = (text: string) => parseTaskmaster(text).tags.reduce((n, t) => n + t.tasks.length, 0);
  const total = allCount(TAGGED);

  it("reports malformed JSON where it is and still reads the tasks", () => {
    // Drop the comma between master's tasks 6 and 7.
    const at = TAGGED.indexOf('    },\n      {\n        "id": 7,');
    const broken = `${TAGGED.slice(0, at)}    }${TAGGED.slice(at + "    },".length)}`;
    const parsed = parseTaskmaster(broken);
    const next = broken.indexOf("{", at);
    const line = broken.slice(0, next).split("\n").length;
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ rule: "taskmaster/malformed-json", severity: "error", line, col: 7 }),
    ]);
    expect(lineOf(broken, line).slice(6)).toBe("{");
    expect(allCount(broken)).toBe(total);
  });

  it("reports comments, trailing commas and a truncated file, keeping what precedes them", () => {
    const comment = TAGGED.replace('"master": {', '"master": { // main tag');
    expect(parseTaskmaster(comment).diagnostics[0]).toMatchObject({
      rule: "taskmaster/malformed-json",
      line: 2,
    });
    expect(allCount(comment)).toBe(total);
    const trailing = TAGGED.replace(
      '"subtasks": []\n      },\n      {\n        "id": 2,',
      '"subtasks": [],\n      },\n      {\n        "id": 2,',
    );
    expect(parseTaskmaster(trailing).diagnostics[0]).toMatchObject({ rule: "taskmaster/malformed-json" });
    const cut = TAGGED.slice(0, TAGGED.indexOf('"id": 4,'));
    const parsed = parseTaskmaster(cut);
    expect(parsed.diagnostics[0]).toMatchObject({ rule: "taskmaster/malformed-json" });
    expect(parsed.tags[0]?.tasks.map((t) => t.id).slice(0, 9)).toEqual([
      "1",
      "2",
      "2.1",
      "2.2",
      "2.3",
      "3",
      "3.1",
      "3.2",
      "3.3",
    ]);
  });

  it("reports a task without a title or id and keeps it", () => {
    const noTitle = TAGGED.replace('        "title": "Email invoices to customers",\n', "");
    const parsed = parseTaskmaster(noTitle);
    const objectLine = noTitle.slice(0, noTitle.indexOf('"id": 5,')).split("\n").length - 1;
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ rule: "taskmaster/missing-field", line: objectLine, col: 7 }),
    ]);
    expect(parsed.diagnostics[0]?.message).toMatch(/task 5 .* no title/);
    expect(allCount(noTitle)).toBe(total);

    const noId = TAGGED.replace('        "id": 5,\n', "");
    const read = parseTaskmaster(noId);
    expect(read.diagnostics.map((d) => d.rule)).toEqual(["taskmaster/missing-field"]);
    const anonymous = read.tags[0]?.tasks.find((t) => t.title === "Email invoices to customers");
    expect(anonymous?.id).toBe("_email-invoices-to-customers");
    expect(allCount(noId)).toBe(total);
  });

  it("reports a dependency on a missing task at the dependency", () => {
    const text = TAGGED.replace(
      '"dependencies": [\n          4\n        ]',
      '"dependencies": [\n          42\n        ]',
    );
    const parsed = parseTaskmaster(text);
    const line = text.slice(0, text.indexOf("          42")).split("\n").length;
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ rule: "taskmaster/unknown-dependency", line, col: 11 }),
    ]);
    expect(parsed.diagnostics[0]?.message).toMatch(/task 5 depends on 42/);
    expect(
      tagTasks(text, "master")
        .find((t) => t.id === "5")
        ?.dependsOn.map((d) => d.target),
    ).toEqual(["42"]);
  });

  it("reports a duplicate ID at the repeat and keeps both tasks under the ID as written", () => {
    const text = TAGGED.replace('"id": 7,', '"id": 6,');
    const parsed = parseTaskmaster(text);
    const sixes = tagTasks(text, "master").filter((t) => t.id === "6");
    expect(sixes.map((t) => t.title)).toEqual([
      "Multi-currency support",
      "Import invoices from the legacy CSV export",
    ]);
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({
        rule: "taskmaster/duplicate-id",
        line: sixes[1]?.line,
        col: sixes[1]?.checkboxCol,
      }),
    ]);
    expect(allCount(text)).toBe(total);
  });

  it("warns about an unknown status or priority and reads the status as blocked", () => {
    const text = TAGGED.replace('"status": "deferred"', '"status": "parked"').replace(
      '"priority": "critical"',
      '"priority": "urgent"',
    );
    const parsed = parseTaskmaster(text);
    expect(parsed.diagnostics.map((d) => [d.rule, d.severity])).toEqual([
      ["taskmaster/bad-field", "warning"],
      ["taskmaster/bad-field", "warning"],
    ]);
    expect(tagTasks(text, "master").find((t) => t.id === "6")?.status).toBe("blocked");
    expect(tagTasks(text, "master").find((t) => t.id === "8")?.priority).toBeNull();
  });

  it("reports a file that is not a task list", () => {
    for (const text of ["", "[]", "42", '"tasks"'])
      expect(parseTaskmaster(text).diagnostics.map((d) => d.rule)).toContain("taskmaster/not-a-task-list");
    expect(parseTaskmaster('{"master": {"tasks": 3}}').diagnostics.map((d) => d.rule)).toEqual([
      "taskmaster/bad-tag",
    ]);
  });
});

const TOKENS = [...JSON_FUZZ_TOKENS, "//", "/*", "1e999", "-", "\uFEFF", "😀"];
type Mutation = {
  kind: "flip" | "insert" | "truncate" | "delete-line" | "duplicate-line";
  at: number;
  token: string;
};
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("flip", "insert", "truncate", "delete-line", "duplicate-line"),
  at: fc.nat(),
  token: fc.constantFrom(...TOKENS),
});

function mutate(text: string, m: Mutation): string {
  const at = m.at % Math.max(text.length, 1);
  const lines = text.split("\n");
  const k = m.at % lines.length;
  switch (m.kind) {
    case "flip":
      return text.slice(0, at) + m.token + text.slice(at + 1);
    case "insert":
      return text.slice(0, at) + m.token + text.slice(at);
    case "truncate":
      return text.slice(0, at);
    case "delete-line":
      lines.splice(k, 1);
      return lines.join("\n");
    case "duplicate-line":
      lines.splice(k, 0, lines[k] ?? "");
      return lines.join("\n");
  }
}

describe("parseTaskmaster fuzzing", () => {
  it("never throws on mutated files, and every position lies in the text", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(TAGGED, LEGACY),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        (seed, ms) => {
          const text = ms.reduce(mutate, seed);
          const parsed = parseTaskmaster(text);
          const inText = positionInText(text);
          for (const d of parsed.diagnostics) expect(inText(d.line, d.col), JSON.stringify(d)).toBe(true);
          for (const t of parsed.tags.flatMap((x) => x.tasks))
            expect(inText(t.line, t.checkboxCol)).toBe(true);
          // A write either refuses with a clear Error or leaves valid JSON behind.
          const first = parsed.tags[0]?.tasks[0];
          if (!first) return;
          let written: string | null = null;
          try {
            written = setTaskmasterStatus(text, parsed.tags[0]?.tag ?? null, first.id, "done");
          } catch (e) {
            expect(e).toBeInstanceOf(Error);
          }
          if (written !== null)
            expect(parseTaskmaster(written).diagnostics.map((d) => d.rule)).not.toContain(
              "taskmaster/malformed-json",
            );
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on random strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...TOKENS, "a", "1", " ", '"tasks"') }), (text) => {
        parseTaskmaster(text);
      }),
      { numRuns: 300 },
    );
  });
});
