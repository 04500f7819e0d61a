// Beads' issues.jsonl read into Keel's task model: counts checked against JSON.parse of each fixture line,
// positions against the line text, and bad lines against positioned diagnostics.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildGraph } from "../src/core/tasks/graph.js";
import type { LoadedTask } from "../src/core/tasks/load.js";
import { parseBeads } from "../src/format/layouts/beads.js";
import type { ParsedTask, TaskStatus } from "../src/format/tasks.js";
import { REPO } from "./format-support.js";
import { JSON_FUZZ_TOKENS, positionInText } from "./support/json-fuzz.js";

const DIR = resolve(REPO, "tests/fixtures/layouts/beads");
const JSONL = readFileSync(join(DIR, ".beads/issues.jsonl"), "utf8");

interface RawDependency {
  issue_id: string;
  depends_on_id: string;
  type: string;
}
interface RawIssue {
  id: string;
  title: string;
  status?: string;
  priority?: number;
  description?: string;
  acceptance_criteria?: string;
  assignee?: string;
  labels?: string[];
  issue_type?: string;
  dependencies?: RawDependency[];
}

const RAW: { issue: RawIssue; line: number; text: string }[] = JSONL.split("\n").flatMap((text, i) =>
  text.trim() === "" ? [] : [{ issue: JSON.parse(text) as RawIssue, line: i + 1, text }],
);
const LIVE = RAW.filter((r) => r.issue.status !== "tombstone");
const DELETED = new Set(RAW.filter((r) => r.issue.status === "tombstone").map((r) => r.issue.id));

/** The expected Keel status of each Beads status, written out independently of the reader. */
const EXPECTED_STATUS: Record<string, TaskStatus> = {
  open: "open",
  in_progress: "in_progress",
  hooked: "in_progress",
  blocked: "blocked",
  deferred: "deferred",
  pinned: "deferred",
  closed: "done",
};
const BLOCKING = ["blocks", "conditional-blocks", "waits-for"];

function byId(tasks: ParsedTask[]): Map<string, ParsedTask> {
  return new Map(tasks.map((t) => [t.id, t]));
}

// @verifies LAY-6, LAY-2
describe("parseBeads on the fixture", () => {
  const parsed = parseBeads(JSONL);
  const tasks = byId(parsed.tasks);

  it("reads every issue but the tombstones, in file order", () => {
    expect(RAW.length).toBeGreaterThanOrEqual(15);
    expect(parsed.tasks.map((t) => t.id)).toEqual(LIVE.map((r) => r.issue.id));
  });

  it("uses every dependency type, and counts edges and parents as JSON.parse does", () => {
    const edges = LIVE.flatMap((r) => r.issue.dependencies ?? []);
    const types = new Set(edges.map((e) => e.type));
    for (const t of ["blocks", "related", "parent-child", "discovered-from"]) expect(types).toContain(t);
    const parents = edges.filter((e) => e.type === "parent-child");
    const deps = edges.filter((e) => e.type !== "parent-child" && !DELETED.has(e.depends_on_id));
    expect(parsed.tasks.filter((t) => t.parent !== null)).toHaveLength(parents.length);
    expect(parsed.tasks.reduce((n, t) => n + t.dependsOn.length, 0)).toBe(deps.length);
    for (const { issue } of LIVE) {
      const task = tasks.get(issue.id) as ParsedTask;
      const own = (issue.dependencies ?? []).filter((e) => !DELETED.has(e.depends_on_id));
      expect(task.parent).toBe(own.find((e) => e.type === "parent-child")?.depends_on_id ?? null);
      expect(task.dependsOn.map((d) => [d.target, d.kind])).toEqual(
        own
          .filter((e) => e.type !== "parent-child")
          .map((e) => [e.depends_on_id, BLOCKING.includes(e.type) ? "blocks" : "related"]),
      );
    }
  });

  it("maps every status, and skips tombstones", () => {
    const statuses = new Set(RAW.map((r) => r.issue.status ?? "open"));
    for (const s of [...Object.keys(EXPECTED_STATUS), "tombstone"]) expect(statuses).toContain(s);
    for (const { issue } of LIVE)
      expect(tasks.get(issue.id)?.status).toBe(EXPECTED_STATUS[issue.status ?? "open"]);
  });

  it("reads priority 0–4 as 0–3 and a missing priority as P0", () => {
    for (const { issue } of LIVE)
      expect(tasks.get(issue.id)?.priority).toBe(
        issue.priority === undefined ? 0 : Math.min(issue.priority, 3),
      );
    expect(LIVE.some((r) => r.issue.priority === 4)).toBe(true);
    expect(LIVE.some((r) => r.issue.priority === undefined)).toBe(true);
  });

  it("points every issue at its line and its status value", () => {
    for (const { issue, line, text } of LIVE) {
      const task = tasks.get(issue.id) as ParsedTask;
      expect(task.line).toBe(line);
      const at = text.slice(task.checkboxCol - 1);
      if (issue.status === undefined) expect(task.checkboxCol).toBe(1);
      else expect(at.startsWith(JSON.stringify(issue.status))).toBe(true);
      if (issue.status !== undefined)
        expect(text.slice(0, task.checkboxCol - 1).endsWith('"status":')).toBe(true);
    }
  });

  it("keeps acceptance criteria, assignee, labels and type in details, and runs no prose as a check", () => {
    const lines = (s: string | undefined) => (s ?? "").split("\n").filter((l) => l.trim() !== "");
    for (const { issue } of LIVE) {
      const task = tasks.get(issue.id) as ParsedTask;
      expect(task.title).toBe(issue.title);
      // Verification is what `keel tasks done` runs as shell commands; acceptance criteria are prose.
      expect(task.verification).toEqual([]);
      const criteria = lines(issue.acceptance_criteria);
      if (criteria.length > 0) {
        const at = task.details.indexOf("Acceptance criteria:");
        expect(task.details.slice(at + 1, at + 1 + criteria.length)).toEqual(criteria);
      } else expect(task.details).not.toContain("Acceptance criteria:");
      expect(task.details.slice(0, lines(issue.description).length)).toEqual(lines(issue.description));
      if (issue.assignee) expect(task.details).toContain(`assignee: ${issue.assignee}`);
      if (issue.labels) expect(task.details).toContain(`labels: ${issue.labels.join(", ")}`);
      if (issue.issue_type) expect(task.details).toContain(`type: ${issue.issue_type}`);
    }
  });

  it("reports the edge to a deleted issue where it is written, as a warning", () => {
    const edges = LIVE.flatMap((r) =>
      (r.issue.dependencies ?? []).filter((e) => DELETED.has(e.depends_on_id)).map((e) => ({ r, e })),
    );
    expect(edges.length).toBeGreaterThan(0);
    expect(parsed.diagnostics).toEqual(
      edges.map(({ r, e }) =>
        expect.objectContaining({
          rule: "beads/deleted-dependency",
          severity: "warning",
          line: r.line,
          col: r.text.indexOf(`{"issue_id":"${e.issue_id}","depends_on_id":"${e.depends_on_id}"`) + 1,
        }),
      ),
    );
  });

  it("gives the task graph targets and parents it resolves", () => {
    const loaded: LoadedTask[] = parsed.tasks.map((t) => ({
      ...t,
      key: `beads/${t.id}`,
      scope: "beads",
      file: ".beads/issues.jsonl",
      dialect: "beads",
    }));
    const graph = buildGraph({ tasks: loaded, diagnostics: [], sources: [] });
    expect(graph.diagnostics).toEqual([]);
    for (const t of loaded) {
      expect(graph.nodes.get(t.key)?.parent).toBe(t.parent === null ? null : `beads/${t.parent}`);
      expect(graph.nodes.get(t.key)?.deps.map((d) => d.key)).toEqual(
        t.dependsOn.map((d) => `beads/${d.target}`),
      );
    }
  });

  it("reads CRLF line ends the same way", () => {
    expect(parseBeads(JSONL.replace(/\n/g, "\r\n"))).toEqual(parsed);
  });
});

describe("parseBeads on bad input", () => {
  const lines = JSONL.split("\n");

  it("reports a line that is not JSON and still reads the others", () => {
    const bad = '{"id":"bd-zzzz","title":"cut off';
    const text = [...lines.slice(0, 4), bad, ...lines.slice(4)].join("\n");
    const parsed = parseBeads(text);
    // The error is at the string that never ends.
    expect(parsed.diagnostics.filter((d) => d.rule === "beads/malformed-line")).toEqual([
      expect.objectContaining({ severity: "error", line: 5, col: bad.indexOf('"cut off') + 1 }),
    ]);
    expect(parsed.tasks.map((t) => t.id)).toEqual(LIVE.map((r) => r.issue.id));
    // Lines after the bad one keep their own line numbers.
    const after = LIVE.filter((r) => r.line > 4);
    for (const r of after) expect(byId(parsed.tasks).get(r.issue.id)?.line).toBe(r.line + 1);
  });

  it("reports a line that is JSON but not an object", () => {
    const parsed = parseBeads(`[1, 2]\n${lines[0]}`);
    expect(parsed.diagnostics).toEqual([
      expect.objectContaining({ rule: "beads/malformed-line", line: 1, col: 1 }),
    ]);
    expect(parsed.tasks).toHaveLength(1);
  });

  it("reports a dependency on a missing issue at the dependency and keeps it", () => {
    const text = JSONL.replace(
      '"depends_on_id":"bd-c3d4","type":"blocks"',
      '"depends_on_id":"bd-nope","type":"blocks"',
    );
    const raw = RAW.find((r) =>
      r.text.includes('"depends_on_id":"bd-c3d4","type":"blocks"'),
    ) as (typeof RAW)[number];
    const line = text.split("\n")[raw.line - 1] as string;
    const parsed = parseBeads(text);
    expect(parsed.diagnostics.filter((d) => d.rule === "beads/unknown-dependency")).toEqual([
      expect.objectContaining({
        line: raw.line,
        col: line.indexOf('{"issue_id":"bd-g7h8","depends_on_id":"bd-nope"') + 1,
      }),
    ]);
    expect(
      byId(parsed.tasks)
        .get(raw.issue.id)
        ?.dependsOn.map((d) => d.target),
    ).toContain("bd-nope");
  });

  it("reports a duplicate ID at the repeat and keeps both issues", () => {
    const copy = (lines[4] as string).replace(
      '"title":"Render invoice PDFs"',
      '"title":"Render invoice PDFs again"',
    );
    const text = `${JSONL}${copy}\n`;
    const parsed = parseBeads(text);
    const twins = parsed.tasks.filter((t) => t.id === "bd-c3d4");
    expect(twins.map((t) => t.title)).toEqual(["Render invoice PDFs", "Render invoice PDFs again"]);
    expect(parsed.diagnostics.filter((d) => d.rule === "beads/duplicate-id")).toEqual([
      expect.objectContaining({ line: twins[1]?.line, col: twins[1]?.checkboxCol }),
    ]);
    expect(parsed.tasks).toHaveLength(LIVE.length + 1);
  });

  it("reports an issue without an id or title, an unknown status and a bad priority", () => {
    const text = [
      '{"title":"No id","status":"open","priority":2}',
      '{"id":"bd-0001","status":"open","priority":2}',
      '{"id":"bd-0002","title":"Custom","status":"review-needed","priority":9}',
    ].join("\n");
    const parsed = parseBeads(text);
    expect(parsed.diagnostics.map((d) => [d.rule, d.line])).toEqual([
      ["beads/missing-field", 1],
      ["beads/missing-field", 2],
      ["beads/bad-field", 3],
      ["beads/bad-field", 3],
    ]);
    expect(parsed.tasks.map((t) => [t.id, t.status, t.priority])).toEqual([
      ["_no-id", "open", 2],
      ["bd-0001", "open", 2],
      ["bd-0002", "blocked", 3],
    ]);
  });

  it("infers the parent of a hierarchical ID without a parent-child edge", () => {
    const text = [
      '{"id":"bd-e1","title":"Epic","issue_type":"epic"}',
      '{"id":"bd-e1.1","title":"Child"}',
    ].join("\n");
    expect(parseBeads(text).tasks.map((t) => t.parent)).toEqual([null, "bd-e1"]);
  });
});

const TOKENS = [...JSON_FUZZ_TOKENS, "tombstone", "parent-child", "😀"];

describe("parseBeads fuzzing", () => {
  it("never throws on mutated files, and every position lies in the text", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.constantFrom(...TOKENS), fc.boolean()), {
          minLength: 1,
          maxLength: 6,
        }),
        (edits) => {
          const text = edits.reduce((t, [at, token, replace]) => {
            const i = at % Math.max(t.length, 1);
            return t.slice(0, i) + token + t.slice(replace ? i + 1 : i);
          }, JSONL);
          const parsed = parseBeads(text);
          const inText = positionInText(text);
          for (const d of parsed.diagnostics) expect(inText(d.line, d.col), JSON.stringify(d)).toBe(true);
          for (const t of parsed.tasks) expect(inText(t.line, t.checkboxCol)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throws on random strings", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom(...TOKENS, "a", " ", '"id"', '"dependencies"') }),
        (text) => {
          parseBeads(text);
        },
      ),
      { numRuns: 300 },
    );
  });
});
