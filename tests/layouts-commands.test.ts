// Every command on every layout, as a user runs it in a project of another toolkit: no keel/ folder, no
// conversion step. Expected IDs and titles are read from the fixture files themselves, not from Keel.
import { spawn } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { describe, expect, it } from "vitest";
import { CLI, cliEnv, jsonOut, keel } from "./support/cli.js";
import { LAYOUT_FIXTURES, layoutFixture, tempProjects } from "./support/files.js";
import { startServe } from "./support/serve.js";

const project = tempProjects("keel-layouts-commands-");

function fixtureText(name: string, rel: string): string {
  return readFileSync(join(LAYOUT_FIXTURES, name, rel), "utf8");
}

interface Case {
  fixture: string;
  layout: string;
  /** A requirement the fixture holds, with its title as written, or null for task-only layouts. */
  requirement: { id: string; title: string } | null;
  /** A task key and its title as written. */
  task: { key: string; title: string };
}

const SPECKIT_SPEC = "specs/001-photo-albums/spec.md";
const KIRO_REQS = ".kiro/specs/pantry-inventory/requirements.md";
const TASKMASTER = JSON.parse(fixtureText("taskmaster", ".taskmaster/tasks/tasks.json"));
const BEADS_FIRST = JSON.parse(fixtureText("beads", ".beads/issues.jsonl").split("\n")[0] as string);

function speckitCase(): Case {
  const spec = fixtureText("speckit", SPECKIT_SPEC);
  const story = /^### User Story 1 - (.+?) \(Priority: P\d\)/m.exec(spec) as RegExpExecArray;
  const tasks = fixtureText("speckit", "specs/001-photo-albums/tasks.md");
  const task = /^- \[[ xX]\] (T\d+) (?:\[P\] )?\[US1\] (.+)$/m.exec(tasks) as RegExpExecArray;
  return {
    fixture: "speckit",
    layout: "speckit",
    requirement: { id: "001-photo-albums/US1", title: story[1] as string },
    task: { key: `001-photo-albums/${task[1]}`, title: task[2] as string },
  };
}

function kiroCase(): Case {
  const tasks = fixtureText("kiro", ".kiro/specs/pantry-inventory/tasks.md");
  const task = /^- \[[ xX]\] 1\. (.+)$/m.exec(tasks) as RegExpExecArray;
  const reqs = fixtureText("kiro", KIRO_REQS);
  expect(reqs).toMatch(/^### Requirement 1\b/m);
  return {
    fixture: "kiro",
    layout: "kiro",
    // The title of a criterion names its requirement and number; it is checked by ID and text below.
    requirement: { id: "pantry-inventory/1.1", title: "1.1" },
    task: { key: "pantry-inventory/1", title: task[1] as string },
  };
}

const CASES: Case[] = [
  speckitCase(),
  kiroCase(),
  {
    fixture: "taskmaster",
    layout: "taskmaster",
    requirement: null,
    task: { key: `master/${TASKMASTER.master.tasks[0].id}`, title: TASKMASTER.master.tasks[0].title },
  },
  {
    fixture: "beads",
    layout: "beads",
    requirement: null,
    task: { key: `beads/${BEADS_FIRST.id}`, title: BEADS_FIRST.title },
  },
];

// @verifies LAY-1
describe.each(CASES)("every command in a $layout project, as it is", (c) => {
  const root = layoutFixture(project, c.fixture);

  it("status names the layout and what its files cannot hold", () => {
    const status = jsonOut(keel(root, "status", "--json"));
    expect(status.project.layouts).toEqual([c.layout]);
    const entry = status.layouts.find((l: { name: string }) => l.name === c.layout);
    expect(entry).toBeDefined();
    // A layout with requirements but no room for their status says so; a task-only layout lacks nothing Keel needs.
    expect(entry.lacks).toEqual(c.requirement ? ["requirement-status", "provenance"] : []);
    const human = keel(root, "status");
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^layouts\s+\S/m);
  });

  it("validate, analyze, drift and check answer with a verdict, not a crash", () => {
    for (const args of [["validate"], ["analyze"], ["drift"], ["check"], ["coverage"]]) {
      const run = keel(root, ...args, "--json");
      expect([0, 1], `${args.join(" ")}: ${run.stderr}`).toContain(run.code);
      expect(() => JSON.parse(run.stdout)).not.toThrow();
    }
  });

  it("lists, shows, searches and traces its requirements", () => {
    const listed = jsonOut(keel(root, "list", "requirements", "--json"));
    if (!c.requirement) {
      expect(listed.requirements).toEqual([]);
      return;
    }
    const req = c.requirement;
    expect(listed.requirements.map((r: { id: string }) => r.id)).toContain(req.id);
    const shown = jsonOut(keel(root, "show", req.id, "--json"));
    expect(shown.item.id).toBe(req.id);
    expect(shown.item.title).toContain(req.title);
    const word = (shown.item.text as string).split(/\W+/).find((w) => w.length > 5) as string;
    const found = jsonOut(keel(root, "search", word, "--json"));
    expect(found.results.map((r: { id: string }) => r.id)).toContain(req.id);
    const traced = jsonOut(keel(root, "trace", req.id, "--json"));
    expect(traced.requirements[0].id).toBe(req.id);
  });

  it("lists its tasks, shows one and builds its context pack", () => {
    const listed = jsonOut(keel(root, "tasks", "list", "--json"));
    const task = listed.tasks.find((t: { key: string }) => t.key === c.task.key);
    expect(task?.title).toBe(c.task.title);
    const shown = keel(root, "tasks", "show", c.task.key);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(c.task.title);
    expect(keel(root, "tasks", "ready", "--json").code).toBe(0);
    const pack = keel(root, "context", c.task.key);
    expect(pack.code).toBe(0);
    expect(pack.stdout).toContain(c.task.title);
  });

  it("serves the same over MCP and REST", async () => {
    const client = new Client({ name: "layouts-test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [CLI, "mcp"],
        cwd: root,
        env: cliEnv() as Record<string, string>,
      }),
    );
    try {
      const ready = (await client.callTool({ name: "keel_ready_tasks", arguments: {} })) as unknown as {
        isError?: boolean;
        structuredContent: { tasks: Array<{ key: string }> };
      };
      expect(ready.isError ?? false).toBe(false);
      const cli = jsonOut(keel(root, "tasks", "ready", "--json"));
      expect(ready.structuredContent.tasks.map((t) => t.key)).toEqual(
        cli.ready.map((t: { key: string }) => t.key),
      );
    } finally {
      await client.close();
    }
    const served = await startServe(root);
    try {
      const res = await fetch(`${served.base}/api/status`);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { project: { layouts: string[] } }).project.layouts).toEqual([c.layout]);
    } finally {
      await served.stop();
    }
  });
});

// @verifies LAY-1
describe("a repository holding several layouts at once", () => {
  it("reads them all and names each", () => {
    const root = layoutFixture(project, "speckit");
    cpSync(join(LAYOUT_FIXTURES, "kiro"), root, { recursive: true });
    cpSync(join(LAYOUT_FIXTURES, "beads"), root, { recursive: true });
    const status = jsonOut(keel(root, "status", "--json"));
    expect(status.project.layouts).toEqual(["speckit", "kiro", "beads"]);
    const listed = jsonOut(keel(root, "list", "requirements", "--json"));
    const ids = listed.requirements.map((r: { id: string }) => r.id);
    expect(ids).toContain("001-photo-albums/US1");
    expect(ids).toContain("pantry-inventory/1.1");
    const tasks = jsonOut(keel(root, "tasks", "list", "--json"));
    expect(tasks.tasks.some((t: { key: string }) => t.key === `beads/${BEADS_FIRST.id}`)).toBe(true);
  });
});

describe("a reader that stops early", () => {
  it("ends the output without a crash when the pipe closes (keel tasks list | head)", async () => {
    const root = layoutFixture(project, "beads");
    // Enough output to outlast the pipe's buffer: the same issues many times under new IDs.
    const line = fixtureText("beads", ".beads/issues.jsonl").split("\n")[0] as string;
    const issues = Array.from({ length: 3000 }, (_, i) =>
      line
        .replace(/"id":"[^"]+"/, `"id":"bd-x${i}"`)
        .replace(/"dependencies":\[[^\]]*\]/, '"dependencies":[]'),
    );
    writeFileSync(join(root, ".beads", "issues.jsonl"), `${issues.join("\n")}\n`);
    const child = spawn(process.execPath, [CLI, "tasks", "list"], { cwd: root, env: cliEnv() });
    let stderr = "";
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    // Read one chunk, then close the read end, as `head` does.
    child.stdout.once("data", () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).toBe("");
    // 141 (128 + SIGPIPE) once the pipe closed before the end; 0 if the output was all taken before it did.
    expect([0, 141]).toContain(code);
  });
});
