// The loop's harder paths with the real test agent: a stalled agent, the review queue, an integration conflict, and
// resume after SIGKILL at many points.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { Claims } from "../../src/store/sqlite/claims.js";
import { StateDb } from "../../src/store/state-db.js";
import { agentLog, git, KEEL, keel, type RunProject, runProject } from "../support/run-project.js";
import { bwrapProblem } from "../support/sandbox.js";

const RUN = ["run", "--sandbox", "none", "--json"];

const NO_BWRAP = bwrapProblem();
if (NO_BWRAP)
  console.log(`[keel run tests] bubblewrap is not usable here (${NO_BWRAP}): the sandboxed run is skipped`);
const md = (...t: string[]) => `## 1. Work\n\n${t.join("\n")}\n`;

function claimOf(p: RunProject, key: string) {
  const state = StateDb.open(p.root);
  try {
    return new Claims(state, p.root).get(key, new Date());
  } finally {
    state.close();
  }
}

function worktrees(p: RunProject): string[] {
  return git(p.root, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((l) => l.startsWith("worktree ") && l.includes("/.keel/run/worktrees/"));
}

describe("keel run, harder paths", () => {
  // @verifies RUN-11
  it("nudges a hanging agent, stops it, records the attempt as stalled and retries", () => {
    const p = runProject(md("- [ ] 1.1 Hang once\n  - boundaries: src/**"), {
      "1.1": [{ hang: true }, { write: { "src/ok": "ok" } }],
    });
    const r = keel(p, [...RUN, "--stall", "300ms"]);
    expect(r.code, r.stderr).toBe(0);
    const state = StateDb.open(p.root);
    const outcomes = state.db.prepare("SELECT outcome FROM run_attempts ORDER BY seq").all() as Array<{
      outcome: string;
    }>;
    // The hanging attempt is nudged once, then stopped. (The second attempt, slow to start on a loaded machine, may
    // be nudged too: it also showed no progress for the stall time, and it goes green all the same.)
    const nudges = state.db
      .prepare(
        "SELECT COUNT(*) AS n FROM events WHERE action = 'run.nudge' AND json_extract(data, '$.attempt') = 1",
      )
      .get() as { n: number };
    state.close();
    expect(outcomes.map((o) => o.outcome)).toEqual(["stalled", "green"]);
    expect(nudges.n).toBe(1);
    expect(agentLog(p)[1]?.feedback).toContain("stopped");
  });

  // @verifies RUN-9
  it("keeps green work of a review area waiting; a rejection re-opens it with the note, an approval lands it", () => {
    const p = runProject(
      md("- [ ] 1.1 Reviewed\n  - covers: WRK-1\n  - boundaries: src/**"),
      { "1.1": [{ write: { "src/r": "{attempt}" } }] },
      {},
      "policy:\n  land: review\n",
    );
    const first = keel(p, RUN);
    expect(JSON.parse(first.stdout).review).toEqual(["work/1.1"]);
    expect(git(p.root, "log", "--oneline", "main").trim().split("\n")).toHaveLength(1);
    expect(keel(p, ["run", "review", "reject", "work/1.1", "--as", "agent:x", "--note", "no"]).code).toBe(5);
    expect(
      keel(p, ["run", "review", "reject", "work/1.1", "--as", "human:rita", "--note", "name the file better"])
        .code,
    ).toBe(0);
    expect(claimOf(p, "work/1.1")?.status).toBe("released");
    keel(p, RUN);
    expect(agentLog(p).at(-1)?.feedback).toContain("name the file better");
    const approved = keel(p, ["run", "review", "approve", "work/1.1", "--as", "human:rita", "--json"]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout).landed).toBe(true);
    expect(readFileSync(join(p.root, "src/r"), "utf8")).toBe("2");
    expect(claimOf(p, "work/1.1")?.status).toBe("done");
  });

  // @verifies RUN-6
  it("parks an integration conflict as a Keel conflict and blocks the task, leaving the branch unmoved", () => {
    const p = runProject(
      md("- [ ] 1.1 Edit"),
      { "1.1": [{ write: { "shared.txt": "from the agent\n" } }] },
      { "shared.txt": "base\n" },
    );
    // The task's gate plays someone committing the same line to main while the task is being worked.
    const other = `printf 'theirs\\n' > ${p.root}/shared.txt && git -C ${p.root} -c user.name=t -c user.email=t@t commit -qam theirs || true`;
    rewriteTasks(p, md(`- [ ] 1.1 Edit\n  - boundaries: shared.txt\n  - verify: \`sh -c "${other}"\``));
    const r = keel(p, RUN);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).blocked).toEqual(["work/1.1"]);
    const conflicts = JSON.parse(keel(p, ["conflicts", "--json"]).stdout);
    expect(JSON.stringify(conflicts)).toContain("shared.txt");
    expect(readFileSync(join(p.root, "shared.txt"), "utf8")).toBe("theirs\n");
    expect(worktrees(p)).toEqual([]);
  });

  // @verifies RUN-10
  it.skipIf(NO_BWRAP !== null)(
    "runs the agent and its gates in bubblewrap: writes into the main checkout fail",
    () => {
      // The worktree is .keel/run/worktrees/<task>: four levels below the main checkout.
      const p = runProject(
        md(
          "- [ ] 1.1 Escape\n  - boundaries: src/**\n  - verify: `sh -c 'touch ../../../../gate-escaped; test -f src/ok'`",
        ),
        {
          "1.1": [{ write: { "../../../../escaped.txt": "x" } }, { write: { "src/ok": "ok" } }],
        },
      );
      // No agent log: the log's folder is outside what the sandbox lets the agent write.
      const r = keel(p, ["run", "--sandbox", "bwrap", "--json"], { KEEL_TEST_AGENT_LOG: "" });
      expect(r.code, r.stderr).toBe(0);
      const state = StateDb.open(p.root);
      const outcomes = state.db.prepare("SELECT outcome FROM run_attempts ORDER BY seq").all() as Array<{
        outcome: string;
      }>;
      state.close();
      expect(outcomes.map((o) => o.outcome)).toEqual(["crashed", "green"]);
      expect(existsSync(join(p.root, "escaped.txt"))).toBe(false);
      expect(existsSync(join(p.root, "gate-escaped"))).toBe(false);
      expect(readFileSync(join(p.root, "src/ok"), "utf8")).toBe("ok");
    },
  );

  // @verifies RUN-12
  it("a resume leaves alone the tasks of a supervisor that is still running", async () => {
    const p = runProject(md("- [ ] 1.1 Slow\n  - boundaries: src/**"), { "1.1": [{ hang: true }] });
    const first = spawn(
      process.execPath,
      [KEEL, "-C", p.root, "run", "--sandbox", "none", "--stall", "10m"],
      {
        stdio: "ignore",
        env: { ...process.env, KEEL_TEST_AGENT_LOG: p.log },
      },
    );
    try {
      await vi.waitFor(
        () => {
          const s = JSON.parse(keel(p, ["run", "status", "--json"]).stdout);
          expect(s.workers[0]?.phase).toBe("agent");
          return s;
        },
        { timeout: 30_000, interval: 100 },
      );
      const resumed = keel(p, [...RUN, "--resume"]);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(JSON.parse(resumed.stdout).recovered).toMatchObject({ takeBack: [], released: [], landed: [] });
      const after = JSON.parse(keel(p, ["run", "status", "--json"]).stdout);
      expect(after.workers).toEqual([expect.objectContaining({ task: "work/1.1", phase: "agent" })]);
      expect(claimOf(p, "work/1.1")?.status).toBe("claimed");
      expect(agentLog(p)).toHaveLength(1);
      expect(worktrees(p)).toHaveLength(1);
      expect(first.exitCode).toBeNull();
    } finally {
      first.kill("SIGKILL");
    }
  });

  // @verifies RUN-12
  it("resumes after SIGKILL at 20 points: every task done exactly once, no worktree left, the audit chain intact", async () => {
    for (let seed = 1; seed <= 20; seed++) {
      const p = runProject(
        md(
          "- [ ] 1.1 A\n  - boundaries: src/a/**\n  - verify: `test -f src/a/f`",
          "- [ ] 1.2 B\n  - boundaries: src/b/**",
          // Red on the first attempt only: a resumed task may be on its third, after one the kill cut short.
          "- [ ] 1.3 C\n  - boundaries: src/c/**\n  - verify: `grep -q '[2-9]' src/c/f`",
        ),
        {
          "1.1": [{ write: { "src/a/f": "a" } }],
          "1.2": [{ write: { "src/b/f": "b" } }],
          "1.3": [{ write: { "src/c/f": "{attempt}" } }],
        },
      );
      await killAfterSteps(p, 1 + ((seed * 7) % 22));
      const r = keel(p, [...RUN, "--resume", "--workers", "2"]);
      expect(r.code, `seed ${seed}: ${r.stderr}${r.stdout}`).toBe(0);
      for (const key of ["work/1.1", "work/1.2", "work/1.3"]) {
        const commits = git(p.root, "log", "--format=%(trailers:key=Task,valueonly)", "main")
          .split("\n")
          .filter((l) => l.trim() === key);
        expect(commits, `seed ${seed} ${key}`).toHaveLength(1);
        expect(claimOf(p, key)?.status, `seed ${seed} ${key}`).toBe("done");
      }
      expect(worktrees(p), `seed ${seed}`).toEqual([]);
      expect(git(p.root, "branch", "--list", "keel/task/*").trim(), `seed ${seed}`).toBe("");
      expect(keel(p, ["audit", "verify"]).code, `seed ${seed}`).toBe(0);
    }
  }, 600_000);
});

function rewriteTasks(p: RunProject, tasks: string): void {
  writeFileSync(join(p.root, "keel/specs/work/tasks.md"), tasks);
  git(p.root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "tasks");
}

/** Starts `keel run` in its own process group and SIGKILLs the whole group after its n-th step line. */
function killAfterSteps(p: RunProject, n: number): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [KEEL, "-C", p.root, "run", "--sandbox", "none", "--workers", "2"],
      {
        detached: true,
        stdio: ["ignore", "ignore", "pipe"],
        env: { ...process.env, KEEL_TEST_AGENT_LOG: p.log },
      },
    );
    let seen = 0;
    child.stderr.on("data", (d: Buffer) => {
      seen += d
        .toString()
        .split("\n")
        .filter((l) => / attempt \d+ /.test(l)).length;
      if (seen >= n && child.exitCode === null) {
        try {
          process.kill(-(child.pid as number), "SIGKILL");
        } catch {
          // It ended already.
        }
      }
    });
    child.on("close", () => resolve());
  });
}
