// Seeing the loop run: `keel run status --json` from another process while an agent works, and the run's steps on
// `keel serve`'s live stream under their own names.
import { spawn } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import { KEEL, keel, runProject } from "../support/run-project.js";
import { startServe, subscribeEvents } from "../support/serve.js";

describe("keel run status and the live stream", () => {
  // @verifies RUN-14
  it("shows each worker's task, attempt, phase and time while the run goes on, and streams run.* events", async () => {
    const p = runProject("## 1. Work\n\n- [ ] 1.1 Slow\n  - boundaries: src/**\n", {
      "1.1": [{ hang: true }, { write: { "src/ok": "ok" } }],
    });
    // The store exists before the server reads it.
    expect(keel(p, ["run", "status", "--json"]).code).toBe(0);
    const served = await startServe(p.root);
    const feed = await subscribeEvents(served.port);
    const run = spawn(process.execPath, [KEEL, "-C", p.root, "run", "--sandbox", "none", "--stall", "2s"], {
      stdio: "ignore",
      env: { ...process.env, KEEL_TEST_AGENT_LOG: p.log },
    });
    try {
      const working = await vi.waitFor(
        () => {
          const s = JSON.parse(keel(p, ["run", "status", "--json"]).stdout);
          expect(s.workers[0]?.phase).toBe("agent");
          return s;
        },
        { timeout: 30_000, interval: 100 },
      );
      expect(working.run.alive).toBe(true);
      expect(working.workers[0]).toMatchObject({ worker: 1, task: "work/1.1", attempt: 1, agent: "test" });
      expect(working.workers[0].elapsedMs).toBeGreaterThanOrEqual(0);
      const text = keel(p, ["run", "status"]).stdout;
      expect(text).toMatch(/w1 work\/1\.1 attempt 1 agent \d+s/);
      await new Promise<void>((resolve) => run.once("exit", () => resolve()));
      const landed = await feed.next((e) => e.type === "run.task.landed");
      expect(landed.data.target).toBe("work/1.1");
      // The stream reads the audit log on its own beat: the last step arrives after the run exited.
      await feed.next((e) => e.type === "run.end");
      const types = feed.seen.map((e) => e.type);
      for (const t of ["run.start", "run.attempt", "run.nudge", "run.end"]) expect(types).toContain(t);
      const done = JSON.parse(keel(p, ["run", "status", "--json"]).stdout);
      expect(done).toMatchObject({ workers: [], counts: { landed: 1, blocked: 0 } });
      expect(done.run.alive).toBe(false);
    } finally {
      run.kill("SIGKILL");
      feed.close();
      await served.stop();
    }
  }, 120_000);
});
