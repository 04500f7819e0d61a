// `keel tasks claim|heartbeat|release|done|block|note` as an agent runs them: real processes, a real store.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { keel } from "./support/cli.js";

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const TASKS = `## 1. Build
- [ ] 1.1 Write the schema
- [ ] 1.2 Write the API
  - depends-on: 1.1
- [ ] 1.3 Write the docs
`;

function project(): string {
  const root = mkdtempSync(join(tmpdir(), "keel-tasks-claims-"));
  roots.push(root);
  mkdirSync(join(root, "keel", "specs", "shop"), { recursive: true });
  writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\n");
  writeFileSync(join(root, "keel", "specs", "shop", "tasks.md"), TASKS);
  return root;
}

const readyIds = (root: string): string[] =>
  (JSON.parse(keel(root, "tasks", "ready", "--json").stdout).ready as Array<{ key: string }>).map(
    (t) => t.key,
  );

describe("keel tasks claims", () => {
  // @verifies TSK-6, TSK-8, TSK-9
  it("claims the next ready task, refuses a second claimant, and mirrors done into the checkbox", () => {
    const root = project();
    const first = keel(root, "tasks", "claim", "--next", "--as", "agent:a1", "--json");
    expect(first.code).toBe(0);
    const grant = JSON.parse(first.stdout).claim as { taskId: string; token: number };
    expect(grant.taskId).toBe("shop/1.1");
    // A claim is a lease, not a file change; the claimed task leaves the ready queue.
    expect(readFileSync(join(root, "keel", "specs", "shop", "tasks.md"), "utf8")).toBe(TASKS);
    expect(readyIds(root)).toEqual(["shop/1.3"]);
    // `show` agrees with the ready queue: a claimed task is not ready, and says why.
    const shown = JSON.parse(keel(root, "tasks", "show", "shop/1.1", "--json").stdout).task;
    expect(shown).toMatchObject({ ready: false, blockers: ["claimed"] });

    const second = keel(root, "tasks", "claim", "shop/1.1", "--as", "agent:a2");
    expect(second.code).toBe(6);
    expect(second.stderr).toContain("already claimed by agent:a1");

    expect(
      keel(root, "tasks", "done", "shop/1.1", "--token", String(grant.token), "--as", "agent:a1").code,
    ).toBe(0);
    expect(readFileSync(join(root, "keel", "specs", "shop", "tasks.md"), "utf8")).toBe(
      TASKS.replace("- [ ] 1.1", "- [x] 1.1"),
    );
    // The done blocker releases its dependant.
    expect(readyIds(root)).toEqual(["shop/1.2", "shop/1.3"]);
  });

  // @verifies TSK-6, TSK-7
  it("returns a task whose lease expired to ready, and rejects the old holder's stale token", () => {
    const root = project();
    const old = JSON.parse(
      keel(root, "tasks", "claim", "shop/1.3", "--as", "agent:slow", "--ttl", "1ms", "--json").stdout,
    ).claim as { token: number };
    // A 1 ms lease has expired by the time the next process starts.
    expect(readyIds(root)).toContain("shop/1.3");
    const next = JSON.parse(keel(root, "tasks", "claim", "shop/1.3", "--as", "agent:fast", "--json").stdout)
      .claim as {
      token: number;
    };
    expect(next.token).toBeGreaterThan(old.token);
    const stale = keel(root, "tasks", "done", "shop/1.3", "--token", String(old.token), "--as", "agent:slow");
    expect(stale.code).toBe(6);
    expect(stale.stderr).toContain("stale");
    expect(readFileSync(join(root, "keel", "specs", "shop", "tasks.md"), "utf8")).toBe(TASKS);
  });

  it("blocks with a reason, keeps handoff notes, and refuses bad input with exit code 2", () => {
    const root = project();
    const grant = JSON.parse(keel(root, "tasks", "claim", "shop/1.1", "--as", "agent:a1", "--json").stdout)
      .claim as {
      token: number;
    };
    expect(
      keel(root, "tasks", "note", "shop/1.1", "schema", "draft", "is", "in", "PR", "12", "--as", "agent:a1")
        .code,
    ).toBe(0);
    expect(
      keel(root, "tasks", "block", "shop/1.1", "--token", String(grant.token), "--reason", "needs a DBA")
        .code,
    ).toBe(0);
    expect(readFileSync(join(root, "keel", "specs", "shop", "tasks.md"), "utf8")).toContain("- [!] 1.1");
    expect(readyIds(root)).toEqual(["shop/1.3"]);
    const unknown = keel(root, "tasks", "claim", "shop/9.9");
    expect(unknown.code).toBe(6);
    expect(unknown.stderr).toContain("unknown task shop/9.9");
    expect(keel(root, "tasks", "done", "shop/1.3").code).toBe(2);
    expect(keel(root, "tasks", "block", "shop/1.3", "--token", "1").code).toBe(2);
  });
});
