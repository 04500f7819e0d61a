// The cached ready queue (core/tasks/ready-cache.ts) through the real CLI: it is used when every task file is as
// it was, and never when one changed, appeared or vanished; claims filter it; a read-only state folder is no
// obstacle. The racy window is 0 here so that files written a moment ago may be trusted, as old files are.
// @verifies TSK-10
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { keelWith } from "./support/cli.js";
import { writeFile } from "./support/files.js";

const ENV = { KEEL_RACY_WINDOW_MS: "0" };
const CACHE = join(".keel", "tasks-ready.json");
let root: string;

function write(rel: string, text: string): void {
  writeFile(root, rel, text);
}

function readyKeys(): string[] {
  const run = keelWith(ENV, root, "tasks", "ready", "--json");
  expect(run.stderr).toBe("");
  expect(run.code).toBe(0);
  return (JSON.parse(run.stdout).ready as { key: string }[]).map((t) => t.key);
}

/** Plants a task that no file holds into the cache, to tell a cached answer from a fresh one. */
function plantInCache(): void {
  const path = join(root, CACHE);
  const cache = JSON.parse(readFileSync(path, "utf8"));
  cache.ready.push({ ...cache.ready[0], key: "planted/T99", id: "T99" });
  writeFileSync(path, JSON.stringify(cache));
}

beforeEach(() => {
  root = join(tmpdir(), `keel-ready-cache-${process.pid}-${Math.random().toString(36).slice(2)}`);
  write("keel/keel.yaml", "version: 1\n");
  write(
    "keel/changes/shop/tasks.md",
    "- [ ] T1 schema\n- [ ] T2 handler\n  - depends-on: T1\n- [ ] T3 docs\n",
  );
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("cached ready queue", () => {
  it("answers from the cache while the task files are unchanged", () => {
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    plantInCache();
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3", "planted/T99"]);
  });

  it("writes no cache while a task file is within the racy window, which would refuse it anyway", () => {
    const racy = { KEEL_RACY_WINDOW_MS: "600000" };
    const run = keelWith(racy, root, "tasks", "ready", "--json");
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout).ready.map((t: { key: string }) => t.key)).toEqual(["shop/T1", "shop/T3"]);
    expect(existsSync(join(root, CACHE))).toBe(false);
    // The same file outside the window (here: a window of 0): the queue is cached.
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    expect(existsSync(join(root, CACHE))).toBe(true);
  });

  it("prints the cached queue exactly as a fresh build prints it", () => {
    const fresh = keelWith(ENV, root, "tasks", "ready", "--json").stdout;
    const cached = keelWith(ENV, root, "tasks", "ready", "--json").stdout;
    expect(cached).toBe(fresh);
    expect(cached).toBe(`${JSON.stringify(JSON.parse(cached), null, 2)}\n`);
    rmSync(join(root, "keel/changes/shop/tasks.md"));
    const empty = keelWith(ENV, root, "tasks", "ready", "--json").stdout;
    expect(empty).toBe(`${JSON.stringify({ version: 1, ready: [] }, null, 2)}\n`);
  });

  it("rebuilds after an edit, even one of the same size with the old mtime put back", () => {
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    plantInCache();
    const file = join(root, "keel/changes/shop/tasks.md");
    const before = statSync(file);
    writeFileSync(file, readFileSync(file, "utf8").replace("- [ ] T1", "- [x] T1"));
    utimesSync(file, before.atime, before.mtime);
    expect(readyKeys()).toEqual(["shop/T2", "shop/T3"]);
  });

  it("rebuilds when a task file appears or disappears", () => {
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    plantInCache();
    write("keel/specs/billing/tasks.md", "- [ ] 1.1 invoice numbering\n");
    expect(readyKeys()).toEqual(["billing/1.1", "shop/T1", "shop/T3"]);
    plantInCache();
    rmSync(join(root, "keel/specs/billing/tasks.md"));
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
  });

  it("filters the cached queue by live claims, and next skips a claimed task", () => {
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    const claim = keelWith(ENV, root, "tasks", "claim", "shop/T1", "--as", "agent:a1", "--json");
    expect(claim.code).toBe(0);
    expect(readyKeys()).toEqual(["shop/T3"]);
    const next = keelWith(ENV, root, "tasks", "next", "--json");
    expect(JSON.parse(next.stdout).next.key).toBe("shop/T3");
  });

  it("claim --next takes the highest priority ready task, as next shows it", () => {
    write("keel/changes/shop/tasks.md", "- [ ] T1 schema\n- [ ] T3 docs\n  - priority: P0\n");
    const shown = JSON.parse(keelWith(ENV, root, "tasks", "next", "--json").stdout).next.key;
    const claim = keelWith(ENV, root, "tasks", "claim", "--next", "--as", "agent:a1", "--json");
    expect(claim.code).toBe(0);
    expect(shown).toBe("shop/T3");
    expect(JSON.parse(claim.stdout).claim.taskId).toBe("shop/T3");
  });

  it("works without a cache where the state folder cannot be made", () => {
    // A file where the folder should be stops even root, unlike a read-only mode.
    writeFileSync(join(root, ".keel"), "not a folder\n");
    expect(readyKeys()).toEqual(["shop/T1", "shop/T3"]);
    write("keel/changes/shop/tasks.md", "- [x] T1 schema\n- [ ] T2 handler\n  - depends-on: T1\n");
    expect(readyKeys()).toEqual(["shop/T2"]);
    expect(readFileSync(join(root, ".keel"), "utf8")).toBe("not a folder\n");
  });
});
