// A deterministic task graph for the task benchmarks: N tasks with 2 dependencies each on earlier tasks
// (so about 2N edges and no cycle), written twice, from the same graph:
//   - as Keel task files: `keel/changes/<feature>/tasks.md`, one per feature, dependencies inline;
//   - as Taskmaster's `.taskmaster/tasks/tasks.json` (tagged format, tag "master").
// Earlier tasks are more often done, as in a plan under way, so the ready set is a real frontier.

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRng } from "./gen.mjs";

export const TASKS_GENERATOR_VERSION = 1;

const PRIORITIES = ["high", "medium", "medium", "low"];

/** The graph: tasks numbered 1..n; `deps` name earlier tasks; features group `perFeature` consecutive tasks. */
export function buildTaskGraph(n, { perFeature = 500, seed = 42 } = {}) {
  const rand = makeRng(seed).next;
  const tasks = [];
  for (let id = 1; id <= n; id++) {
    const deps = new Set();
    while (id > 2 && deps.size < 2) {
      // Mostly near neighbours (the same feature), sometimes far back (another feature).
      const back =
        rand() < 0.8 ? 1 + Math.floor(rand() * Math.min(50, id - 1)) : 1 + Math.floor(rand() * (id - 1));
      deps.add(id - back);
    }
    if (id === 2) deps.add(1);
    const done = rand() < 0.85 * (1 - id / n) ** 0.5;
    tasks.push({
      id,
      feature: `feature-${String(Math.ceil(id / perFeature)).padStart(3, "0")}`,
      title: `Implement step ${id} of the rollout`,
      deps: [...deps].sort((a, b) => a - b),
      done,
      priority: PRIORITIES[id % PRIORITIES.length],
    });
  }
  return tasks;
}

export function dependencyCount(tasks) {
  return tasks.reduce((sum, t) => sum + t.deps.length, 0);
}

/** Keel's layout: task IDs `T<id>`, qualified `<feature>/T<id>` when the dependency is in another feature. */
export function writeKeelTasks(root, tasks) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, "keel", "specs"), { recursive: true });
  writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\n");
  const byFeature = new Map();
  for (const t of tasks) byFeature.set(t.feature, [...(byFeature.get(t.feature) ?? []), t]);
  const featureOf = new Map(tasks.map((t) => [t.id, t.feature]));
  for (const [feature, list] of byFeature) {
    const lines = [`# Tasks: ${feature}`, ""];
    for (const t of list) {
      const deps = t.deps.map((d) => (featureOf.get(d) === feature ? `T${d}` : `${featureOf.get(d)}/T${d}`));
      lines.push(`- [${t.done ? "x" : " "}] T${t.id} ${t.title}`);
      if (deps.length > 0) lines.push(`  - depends-on: ${deps.join(", ")}`);
      lines.push(`  - priority: ${t.priority}`);
    }
    const dir = join(root, "keel", "changes", feature);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "tasks.md"), `${lines.join("\n")}\n`);
  }
}

/** Taskmaster's layout (task-master-ai 0.2x): `.taskmaster/tasks/tasks.json`, tagged, plus a config. */
export function writeTaskmasterTasks(root, tasks) {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, ".taskmaster", "tasks"), { recursive: true });
  const json = {
    master: {
      tasks: tasks.map((t) => ({
        id: t.id,
        title: t.title,
        description: t.title,
        details: "",
        testStrategy: "",
        status: t.done ? "done" : "pending",
        dependencies: t.deps,
        priority: t.priority,
        subtasks: [],
      })),
      metadata: {
        created: "2026-01-01T00:00:00.000Z",
        updated: "2026-01-01T00:00:00.000Z",
        description: "bench",
      },
    },
  };
  writeFileSync(join(root, ".taskmaster", "tasks", "tasks.json"), JSON.stringify(json, null, 2));
  writeFileSync(join(root, ".taskmaster", "state.json"), JSON.stringify({ currentTag: "master" }));
}
