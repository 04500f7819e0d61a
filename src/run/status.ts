// `keel run status`: the newest run, whether its supervisor still lives, each worker's task, attempt, phase and
// time in it, and the counts of what landed, was blocked and waits for review. Read from the store alone, so it
// answers the same from any terminal while the run goes on.
// @req RUN-14
import { existsSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../store/index-db.js";
import { STATE_FILE } from "../store/state-db.js";
import { pidAlive } from "../workspace/process.js";
import { withState } from "./context.js";
import { latestRun, listAttempts, reviews, runTasks } from "./state.js";

export function runStatus(root: string) {
  const empty = { run: null, workers: [], counts: { landed: 0, blocked: 0, review: 0, attempts: 0 } };
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return empty;
  return withState(root, (s) => {
    const run = latestRun(s);
    if (!run) return empty;
    const now = Date.now();
    const events = s.db
      .prepare(
        "SELECT action, COUNT(*) AS n FROM events WHERE action IN ('run.task.landed', 'run.task.blocked') AND data LIKE ? GROUP BY action",
      )
      .all(`%"run":"${run.id}"%`) as Array<{ action: string; n: number }>;
    const count = (a: string) => events.find((e) => e.action === a)?.n ?? 0;
    return {
      run: { ...run, alive: run.status === "running" && pidAlive(run.pid) },
      workers: runTasks(s).map((t) => ({
        worker: t.worker,
        task: t.taskId,
        attempt: t.attempt,
        phase: t.phase,
        agent: t.agent,
        elapsedMs: now - Date.parse(t.phaseAt),
        taskElapsedMs: now - Date.parse(t.startedAt),
      })),
      counts: {
        landed: count("run.task.landed"),
        blocked: count("run.task.blocked"),
        review: reviews(s).length,
        attempts: listAttempts(s, { run: run.id }).length,
      },
    };
  });
}
