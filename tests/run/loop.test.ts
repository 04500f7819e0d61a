// The work loop end to end: the built CLI (`keel run`) with the real test agent (tests/support/run-agent.mjs) in
// real git repositories, worktrees and gates.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Claims } from "../../src/store/sqlite/claims.js";
import { StateDb } from "../../src/store/state-db.js";
import { agentLog, git, keel, type RunProject, runProject } from "../support/run-project.js";

const RUN = ["run", "--sandbox", "none", "--json"];

function tasksMd(...tasks: string[]): string {
  return `## 1. Work\n\n${tasks.join("\n")}\n`;
}

function leftover(p: RunProject): string[] {
  return git(p.root, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree ") && l.includes("/.keel/run/worktrees/"));
}

function trailers(p: RunProject, key: string): string[] {
  return git(p.root, "log", "--format=%H %(trailers:key=Task,valueonly)", "main")
    .split("\n")
    .filter((l) => l.trim().endsWith(` ${key}`));
}

function json(out: string) {
  return JSON.parse(out) as { landed: string[]; blocked: string[]; review: string[] };
}

describe("keel run", () => {
  // @verifies RUN-1, RUN-2, RUN-4, RUN-5
  it("retries with the gate's output as feedback, then lands one traced commit and marks the task done", () => {
    const p = runProject(
      tasksMd(
        "- [ ] 1.1 Write b\n  - covers: WRK-1\n  - boundaries: src/b/**\n  - verify: `grep -q good src/b/b.txt || (echo 'b.txt lacks the word good'; exit 3)`",
      ),
      { "1.1": [{ write: { "src/b/b.txt": "bad" } }, { write: { "src/b/b.txt": "good" } }] },
    );
    const r = keel(p, RUN);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).landed).toEqual(["work/1.1"]);
    const log = agentLog(p);
    expect(log.map((l) => l.attempt)).toEqual([1, 2]);
    expect(log.every((l) => l.sameOnStdin)).toBe(true);
    expect(log[0]?.feedback).toBeNull();
    expect(log[1]?.feedback).toContain("b.txt lacks the word good");
    expect(log[1]?.feedback).toContain("exit code 3");
    const body = git(p.root, "log", "-1", "--format=%B", "main");
    expect(body).toContain("Task: work/1.1");
    expect(body).toContain("Implements: WRK-1");
    expect(body).toContain("Verifies: WRK-1");
    expect(body).toContain("Attempt: 2");
    expect(readFileSync(join(p.root, "src/b/b.txt"), "utf8")).toBe("good");
    expect(readFileSync(join(p.root, "keel/specs/work/tasks.md"), "utf8")).toContain("- [x] 1.1");
    expect(leftover(p)).toEqual([]);
  });

  // @verifies RUN-3
  it("fails an attempt that writes outside the boundaries, restores the file and names it in the feedback", () => {
    const p = runProject(tasksMd("- [ ] 1.1 Write a\n  - boundaries: src/a/**"), {
      "1.1": [{ write: { "src/a/a.txt": "a", "src/other/x.txt": "x" } }, { write: { "src/a/a.txt": "a" } }],
    });
    const r = keel(p, ["run", "--sandbox", "none"]);
    expect(r.code, r.stderr).toBe(0);
    // Not a terminal: one plain line per step, counting done over the tasks to do.
    expect(r.stderr).toMatch(/w1 work\/1\.1 attempt 1 boundaries · 0\/1 done/);
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/landed [0-9a-f]{12} · 1\/1 done$/);
    expect(r.stdout).toMatch(/^run run-\S+: 1 landed, 0 blocked, 0 waiting for review\n$/);
    const log = agentLog(p);
    expect(log[1]?.feedback).toContain("src/other/x.txt");
    expect(existsSync(join(p.root, "src/other/x.txt"))).toBe(false);
    expect(git(p.root, "show", "--name-only", "--format=", "main").trim()).toBe("src/a/a.txt");
  });

  // @verifies RUN-4
  it("blocks a task after --max-attempts with a note saying what was tried", () => {
    const p = runProject(tasksMd("- [ ] 1.1 Never\n  - verify: `false`"), { "1.1": [{}] });
    const r = keel(p, [...RUN, "--max-attempts", "2"]);
    expect(r.code).toBe(1);
    expect(json(r.stdout).blocked).toEqual(["work/1.1"]);
    const state = StateDb.open(p.root);
    const notes = new Claims(state, p.root).notes("work/1.1");
    const claim = new Claims(state, p.root).get("work/1.1", new Date());
    state.close();
    expect(claim?.status).toBe("blocked");
    expect(notes.map((n) => n.text).join("\n")).toContain("attempt 1: gate-failed; attempt 2: gate-failed");
    expect(trailers(p, "work/1.1")).toEqual([]);
    expect(leftover(p)).toEqual([]);
  });

  // @verifies RUN-6
  it("sends back a task that is green alone and red on top of another one that landed first", () => {
    // Either file alone passes; both first versions together fail. Whichever lands second is sent back and its
    // second attempt writes a compatible version.
    const gate = "`sh -c 'test \"$(cat src/a/x 2>/dev/null)$(cat src/b/y 2>/dev/null)\" != 12'`";
    const p = runProject(
      tasksMd(
        `- [ ] 1.1 A\n  - boundaries: src/a/**\n  - verify: ${gate}`,
        `- [ ] 1.2 B\n  - boundaries: src/b/**\n  - verify: ${gate}`,
      ),
      {
        "1.1": [{ write: { "src/a/x": "1" } }, { write: { "src/a/x": "4" } }],
        "1.2": [{ write: { "src/b/y": "2" } }, { write: { "src/b/y": "3" } }],
      },
    );
    const r = keel(p, [...RUN, "--workers", "2"]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r.stdout).landed.sort()).toEqual(["work/1.1", "work/1.2"]);
    const both =
      readFileSync(join(p.root, "src/a/x"), "utf8") + readFileSync(join(p.root, "src/b/y"), "utf8");
    expect(both).not.toBe("12");
    const retried = agentLog(p).filter((l) => l.attempt === 2);
    expect(retried).toHaveLength(1);
    expect(retried[0]?.feedback).toContain("on top of the integration branch");
  });

  // @verifies RUN-2
  it("with --serve, gives the agent KEEL_MCP_URL to a live MCP server it can use", () => {
    const p = runProject(tasksMd("- [ ] 1.1 Note\n  - boundaries: src/**"), {
      "1.1": [{ write: { "src/n": "n" }, mcpNote: "found while working: the parser drops tabs" }],
    });
    const r = keel(p, [...RUN, "--serve"]);
    expect(r.code, r.stderr).toBe(0);
    const state = StateDb.open(p.root);
    const notes = new Claims(state, p.root).notes("work/1.1");
    state.close();
    const note = notes.find((n) => n.text.includes("parser drops tabs"));
    expect(note?.author).toBe("agent:test");
  });
});
