// The warm model of a long-lived process (workspace/freshness.ts, workspace/tree-watch.ts): with a watcher
// installed, a second walk of an unchanged project is the first one, kept; any edit, new folder, rename or delete,
// counted once the watcher is synced, makes the next walk fresh; audit segments never count; a write by this very
// process counts at once. And through `keel serve`, an edit made just before a request is in its answer.
import { mkdirSync, mkdtempSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { loadTaskGraph } from "../src/core/tasks/load.js";
import { writeFileAtomic } from "../src/workspace/atomic.js";
import { discover } from "../src/workspace/discover.js";
import { currentGeneration, installFreshness } from "../src/workspace/freshness.js";
import { findProjectRoot } from "../src/workspace/root.js";
import { type TreeWatcher, watchProject } from "../src/workspace/tree-watch.js";
import { keel } from "./support/cli.js";
import { writeFile } from "./support/files.js";
import { httpRequest, startServe } from "./support/serve.js";

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-fresh-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let watcher: TreeWatcher | null = null;
afterEach(() => {
  watcher?.close();
  watcher = null;
  installFreshness(null);
});

const SPEC = (title: string) => `# Pay Specification

## Purpose
Payments.

## Requirements

### Requirement: ${title} {#PAY-1}
> status: approved · origin: human · explicit
The system SHALL ${title.toLowerCase()}.

#### Scenario: it works
- **WHEN** it runs
- **THEN** it works
`;

let n = 0;
function project(): string {
  const root = join(tmp, `p${++n}`);
  writeFile(root, "keel/specs/pay/spec.md", SPEC("Record payments"));
  writeFile(root, "keel/specs/pay/tasks.md", "# Tasks\n\n- [ ] 1. Record payments (covers PAY-1)\n");
  return root;
}

// @verifies DMN-6, DMN-5
describe("a watched process's memory", () => {
  it("keeps a walk while nothing changes and walks again after any change, once synced", async () => {
    const root = project();
    const p = findProjectRoot(root, true);
    watcher = watchProject(root);
    expect(watcher).not.toBeNull();
    const first = discover(p);
    expect(discover(p)).toBe(first); // kept: no walk, no stat

    const steps: Array<[string, () => void]> = [
      ["an edit", () => writeFileSync(join(root, "keel/specs/pay/spec.md"), SPEC("Refund payments"))],
      ["a new capability folder", () => writeFile(root, "keel/specs/ship/spec.md", SPEC("Ship orders"))],
      ["a rename", () => renameSync(join(root, "keel/specs/ship"), join(root, "keel/specs/deliver"))],
      [
        "an edit in the renamed folder",
        () => writeFileSync(join(root, "keel/specs/deliver/spec.md"), "# x\n"),
      ],
      ["a delete", () => rmSync(join(root, "keel/specs/deliver"), { recursive: true })],
      ["a folder made again", () => writeFile(root, "keel/specs/deliver/spec.md", SPEC("Deliver"))],
      ["an edit in it", () => writeFileSync(join(root, "keel/specs/deliver/spec.md"), SPEC("Deliver again"))],
    ];
    let previous = discover(p);
    for (const [what, change] of steps) {
      change();
      await watcher?.sync();
      const now = discover(p);
      expect(now, what).not.toBe(previous);
      expect(discover(p), `${what}, asked again`).toBe(now);
      // Taking the watcher away drops what it kept: the walk below is a fresh one.
      const fresh = withoutWatcher(() => discover(p));
      expect(
        now.files.map((f) => [f.rel, f.size]),
        what,
      ).toEqual(fresh.files.map((f) => [f.rel, f.size]));
      previous = discover(p);
    }
  });

  it("does not count audit segments, and counts this process's own writes at once", async () => {
    const root = project();
    watcher = watchProject(root);
    const graph = loadTaskGraph(root);
    mkdirSync(join(root, "keel/audit"), { recursive: true });
    await watcher?.sync();
    const settled = currentGeneration(root);
    writeFileSync(join(root, "keel/audit/segment.jsonl"), '{"seq":1}\n');
    await watcher?.sync();
    expect(currentGeneration(root)).toBe(settled);

    const kept = loadTaskGraph(root);
    expect(kept.order).toEqual(graph.order);
    // Written by this process and read back before the watcher has said a word: already fresh.
    writeFileAtomic(
      join(root, "keel/specs/pay/tasks.md"),
      "# Tasks\n\n- [x] 1. Record payments (covers PAY-1)\n",
    );
    const after = loadTaskGraph(root);
    expect(after).not.toBe(kept);
    expect([...after.nodes.values()][0]?.task.status).toBe("done");
  });
});

describe("scopes of change", () => {
  // @verifies DMN-5
  it("counts an intent edit in `all` only, a code edit in `code` too, and git's own in every scope", async () => {
    const root = project();
    writeFile(root, "src/pay.ts", "// @req PAY-1\n");
    mkdirSync(join(root, ".git"), { recursive: true });
    watcher = watchProject(root);
    const at = () => ({
      all: currentGeneration(root, "all"),
      code: currentGeneration(root, "code"),
      git: currentGeneration(root, "git"),
    });
    const start = at();
    writeFileSync(join(root, "keel/specs/pay/spec.md"), SPEC("Refund"));
    await watcher?.sync();
    const afterIntent = at();
    expect(afterIntent.all).toBeGreaterThan(start.all as number);
    expect([afterIntent.code, afterIntent.git]).toEqual([start.code, start.git]);
    writeFileSync(join(root, "src/pay.ts"), "// @req PAY-1, PAY-2\n");
    await watcher?.sync();
    const afterCode = at();
    expect(afterCode.code).toBeGreaterThan(afterIntent.code as number);
    expect(afterCode.git).toBe(afterIntent.git);
    writeFileSync(join(root, ".git/HEAD"), "ref: refs/heads/main\n");
    await watcher?.sync();
    const afterGit = at();
    expect(afterGit.git).toBeGreaterThan(afterCode.git as number);
    expect(afterGit.code).toBeGreaterThan(afterCode.code as number);
  });
});

function withoutWatcher<T>(fn: () => T): T {
  installFreshness(null);
  try {
    return fn();
  } finally {
    installFreshness(watcher);
  }
}

describe("keel serve's warm answers", () => {
  // @verifies DMN-6
  it("answers with an edit made just before each request", async () => {
    const root = project();
    const served = await startServe(root);
    try {
      for (let i = 0; i < 12; i++) {
        const title = `Record payment kind ${i}`;
        writeFileSync(join(root, "keel/specs/pay/spec.md"), SPEC(title));
        const reply = await httpRequest(served.port, "GET", "/api/requirements/PAY-1");
        expect(reply.status, reply.text).toBe(200);
        expect(reply.json.item.title).toBe(title);
        const again = await httpRequest(served.port, "GET", "/api/requirements/PAY-1");
        expect(again.json.item).toEqual(reply.json.item);
      }
    } finally {
      await served.stop();
    }
  });
});

describe("keel serve's group commit", () => {
  // @verifies DMN-7
  it("grants each task once to 32 clients claiming at once, every grant audited and the chain whole", async () => {
    const root = join(tmp, "claims");
    const tasks = Array.from({ length: 90 }, (_, i) => `- [ ] ${i + 1}. Task number ${i + 1}`).join("\n");
    writeFile(root, "keel/specs/pay/spec.md", SPEC("Record payments"));
    writeFile(root, "keel/specs/pay/tasks.md", `# Tasks\n\n${tasks}\n`);
    const served = await startServe(root);
    const granted: Array<{ taskId: string; token: number }> = [];
    try {
      const claimer = async (): Promise<void> => {
        for (;;) {
          const r = await httpRequest(served.port, "POST", "/api/tasks/claim-next", {
            body: JSON.stringify({ ttl: "1h" }),
            headers: { "content-type": "application/json" },
          });
          expect(r.status, r.text).toBe(200);
          if (r.json.result === null) return;
          granted.push(r.json.result);
        }
      };
      await Promise.all(Array.from({ length: 32 }, claimer));
    } finally {
      await served.stop();
    }
    expect(granted).toHaveLength(90);
    expect(new Set(granted.map((g) => g.taskId)).size).toBe(90);
    // Fencing tokens are one sequence across the groups: each grant's is new.
    expect(new Set(granted.map((g) => g.token)).size).toBe(90);
    const verified = keel(root, "audit", "verify", "--json");
    expect(verified.code, verified.stdout).toBe(0);
    const report = JSON.parse(verified.stdout);
    expect(report.ok).toBe(true);
    const audit = JSON.parse(keel(root, "audit", "log", "--json", "--action", "task.claim").stdout);
    expect(audit.events ?? audit).toHaveLength(90);
  });
});
