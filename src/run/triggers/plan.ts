// Starting `keel run --plan <change>` for a triggered change: a detached child of the running CLI (this Node, this
// bundle), so the webhook is answered at once and the plan outlives the request. Its output goes to a log file in
// the state folder, named in the answer and the audit event, since nobody watches a detached process's terminal.
// Injectable (HookDeps.spawnPlan), so a test can see what would start without running a planner.
// @req RUN-13
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../../store/index-db.js";

export interface PlanStart {
  root: string;
  change: string;
  /** The planner's environment: the server's, less the webhook secrets. */
  env: NodeJS.ProcessEnv;
}

/** What was started: the process ID (null when the system gave none) and the log, relative to the project root. */
export type PlanSpawner = (plan: PlanStart) => { pid: number | null; log: string };

/** The default spawner: `node <cli> run --plan <change>` in the project, detached, logging to `.keel/triggers/`. */
export function spawnPlanRun(cli = process.argv[1] as string): PlanSpawner {
  return ({ root, change, env }) => {
    const log = `${STATE_DIR}/triggers/plan-${change}.log`;
    mkdirSync(join(root, STATE_DIR, "triggers"), { recursive: true });
    const fd = openSync(join(root, log), "a");
    try {
      const child = spawn(process.execPath, [cli, "run", "--plan", change], {
        cwd: root,
        env,
        detached: true,
        stdio: ["ignore", fd, fd],
      });
      // A start that fails (no such file, no permission) is reported asynchronously: say so where the output goes.
      child.on("error", (e) => process.stderr.write(`keel serve: keel run --plan ${change}: ${e.message}\n`));
      child.unref();
      return { pid: child.pid ?? null, log };
    } finally {
      closeSync(fd);
    }
  };
}
