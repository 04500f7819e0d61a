// Readiness invariants of the task graph: typed dependencies, parent-child completion, cycles, claims.
// @verifies TSK-3
import { describe, expect, it } from "vitest";
import {
  blockers,
  buildGraph,
  graphText,
  type IsClaimed,
  isDone,
  ready,
  type TaskGraph,
  takeOrder,
  tasksFromText,
  taskView,
} from "../src/core/tasks/index.js";

function graph(text: string): TaskGraph {
  return buildGraph(tasksFromText({ file: "keel/changes/c/tasks.md", scope: "c", dialect: "keel" }, text));
}

/** The key `keel tasks next` shows: the ready queue in take order, first. */
function next(g: TaskGraph, isClaimed?: IsClaimed): string | null {
  return takeOrder(ready(g, isClaimed).map((k) => taskView(g, k, isClaimed)))[0]?.key ?? null;
}

function readyIds(text: string, isClaimed?: IsClaimed): string[] {
  return ready(graph(text), isClaimed).map((k) => k.replace(/^c\//, ""));
}

describe("readiness invariants", () => {
  it("an open task with no dependencies is ready; done and non-open tasks are not", () => {
    expect(readyIds("- [ ] T1 one\n- [x] T2 two\n- [-] T3 three\n- [~] T4 four\n- [!] T5 five")).toEqual([
      "T1",
    ]);
  });

  it("a deferred or blocked parent keeps its children from being ready", () => {
    const base = (status: string) =>
      `- [ ] T10 parent\n  - status: ${status}\n  - [ ] T11 child\n  - [ ] T12 child\n`;
    expect(readyIds(base("open"))).toEqual(["T11", "T12"]);
    expect(readyIds(base("deferred"))).toEqual([]);
    expect(readyIds(base("blocked"))).toEqual([]);
  });

  it("a parent's blocking dependency holds back its children", () => {
    const text = "- [ ] T20 first\n- [ ] T10 parent\n  - depends-on: T20\n  - [ ] T3 child\n";
    expect(readyIds(text)).toEqual(["T20"]);
    expect(readyIds(text.replace("- [ ] T20", "- [x] T20"))).toEqual(["T3"]);
  });

  it("removing a dependency unblocks", () => {
    const withDep = "- [ ] T1 first\n- [ ] T2 second\n  - depends-on: T1\n";
    expect(readyIds(withDep)).toEqual(["T1"]);
    expect(readyIds("- [ ] T1 first\n- [ ] T2 second\n")).toEqual(["T1", "T2"]);
  });

  it("a done blocker releases, a re-opened blocker blocks again", () => {
    const text = (box: string) => `- [${box}] T1 first\n- [ ] T2 second (depends on T1)\n`;
    expect(readyIds(text(" "))).toEqual(["T1"]);
    expect(readyIds(text("x"))).toEqual(["T2"]);
    expect(readyIds(text(" "))).toEqual(["T1"]);
  });

  // @verifies TSK-2
  it("related dependencies are informational", () => {
    expect(readyIds("- [ ] T1 first\n- [ ] T2 second\n  - related: T1\n")).toEqual(["T1", "T2"]);
  });

  it("a cycle is reported with all its members and none of them is ever ready", () => {
    const g = graph(
      [
        "- [ ] T1 a",
        "  - depends-on: T3",
        "- [ ] T2 b",
        "  - depends-on: T1",
        "- [ ] T3 c",
        "  - depends-on: T2",
        "- [ ] T4 d (depends on T1)",
        "- [ ] T5 e",
      ].join("\n"),
    );
    expect(g.cycles).toEqual([{ path: ["c/T1", "c/T3", "c/T2", "c/T1"], members: ["c/T1", "c/T2", "c/T3"] }]);
    const cycle = g.diagnostics.find((d) => d.rule === "tasks/cycle");
    expect(cycle).toMatchObject({ line: 1, file: "keel/changes/c/tasks.md" });
    expect(cycle?.message).toBe("dependency cycle: c/T1 → c/T3 → c/T2 → c/T1");
    expect(ready(g)).toEqual(["c/T5"]);
    // Done members do not make the cycle go away: it stays a cycle, still never ready.
    expect(readyIds("- [x] T1 a\n  - depends-on: T2\n- [ ] T2 b\n  - depends-on: T1\n")).toEqual([]);
  });

  it("a parent that depends on its own child is a cycle", () => {
    const g = graph("- [ ] T10 parent\n  - depends-on: T3\n  - [ ] T3 child\n");
    expect(g.cycles.map((c) => c.members)).toEqual([["c/T10", "c/T3"]]);
    expect(ready(g)).toEqual([]);
  });

  // @verifies TSK-2
  it("a parent is done when its children are, and releases what waits on it", () => {
    const text = (a: string, b: string) =>
      `- [ ] T10 parent\n  - [${a}] T11 one\n  - [${b}] T12 two\n- [ ] T30 next\n  - depends-on: T10\n`;
    expect(readyIds(text(" ", " "))).toEqual(["T11", "T12"]);
    expect(readyIds(text("x", " "))).toEqual(["T12"]);
    expect(readyIds(text("x", "x"))).toEqual(["T30"]);
  });

  it("an unknown dependency is reported and keeps the task back", () => {
    const g = graph("- [ ] T1 a\n  - depends-on: NOPE\n");
    expect(g.diagnostics.map((d) => [d.rule, d.line])).toEqual([["tasks/unknown-dependency", 2]]);
    expect(ready(g)).toEqual([]);
  });

  it("claimed tasks are not ready; next takes the highest priority, then file order", () => {
    const text =
      "- [ ] T1 a\n- [ ] T2 b\n  - priority: high\n- [ ] T3 c [priority: P0]\n- [ ] T4 d\n  - priority: P0\n";
    const g = graph(text);
    expect(next(g)).toBe("c/T3");
    expect(next(g, (k) => k === "c/T3")).toBe("c/T4");
    expect(next(g, (k) => k === "c/T3" || k === "c/T4")).toBe("c/T2");
    expect(ready(g, (k) => k !== "c/T1")).toEqual(["c/T1"]);
    expect(next(g, () => true)).toBeNull();
  });

  it("resolves dependencies across files by scope", () => {
    const a = tasksFromText(
      { file: "keel/specs/pay/tasks.md", scope: "pay", dialect: "keel" },
      "- [ ] T1 a\n",
    );
    const b = tasksFromText(
      { file: "keel/changes/x/tasks.md", scope: "x", dialect: "keel" },
      "- [ ] T1 b\n  - depends-on: pay/T1\n",
    );
    const g = buildGraph({
      tasks: [...a.tasks, ...b.tasks],
      diagnostics: [],
      sources: [...a.sources, ...b.sources],
    });
    expect(g.nodes.get("x/T1")?.deps).toEqual([{ key: "pay/T1", kind: "blocks", line: 2 }]);
    expect(ready(g)).toEqual(["pay/T1"]);
  });

  it("handles a long chain without overflowing the stack", () => {
    const n = 20_000;
    const lines = ["- [ ] T0 start"];
    for (let i = 1; i < n; i++) lines.push(`- [ ] T${i} step (depends on T${i - 1})`);
    lines.push(`- [ ] T${n} loop (depends on T${n - 1})`);
    const g = graph(lines.join("\n"));
    expect(g.cycles).toEqual([]);
    expect(ready(g)).toEqual(["c/T0"]);
  });

  it("handles a long chain of parents: the nearest ancestor holding a task back is named, in linear time", () => {
    const n = 20_000;
    const lines = ["- [ ] T0 root", "  - status: deferred"];
    for (let i = 1; i <= n; i++) lines.push(`- [ ] T${i} step`, `  - parent: T${i - 1}`);
    const g = graph(lines.join("\n"));
    expect(ready(g)).toEqual([]);
    expect(blockers(g, `c/T${n}`)).toEqual(["parent c/T0 is deferred"]);
    expect(graphText(g).split("\n")).toHaveLength(n + 1);
    const open = graph(lines.join("\n").replace("status: deferred", "status: open"));
    expect(ready(open)).toEqual([`c/T${n}`]);
    expect(isDone(open, "c/T0")).toBe(false);
  });
});
