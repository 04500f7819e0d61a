// Issue 4 benchmarks (`node bench/run.mjs --only tasks`, or `node bench/issue4.mjs [--quick]` alone):
//   - `keel tasks ready --json` on 10,000 tasks with ~20,000 dependencies, end to end, process start included
//     (target: < 100 ms warm). The first run after an edit rebuilds the graph; it is reported apart.
//   - `task-master next` (task-master-ai, no AI call) on the same graph, written as its tasks.json. The package
//     is about 1.4 GB installed, so it is never a dependency: it is installed on demand into a cache folder
//     outside the project (KEEL_BENCH_CACHE, default ~/.cache/keel-bench), and skipped with a message where
//     that fails. KEEL_BENCH_TASKMASTER=skip skips it.
//   - a claim storm: 16 processes each run `keel tasks claim --next` in a loop over the same project; reports
//     claims per second and the number of tasks granted to more than one holder (must be 0).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildTaskGraph, dependencyCount, writeKeelTasks, writeTaskmasterTasks } from "./gen-tasks.mjs";
import { measure } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
export const READY_TARGET_MS = 100;
export const TASKMASTER_VERSION = "0.43.1";
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };

/** Sets every file of the generated project a minute back, so no stamp falls in the racy window. */
function ageFiles(dir) {
  const then = new Date(Date.now() - 60_000);
  const walk = (d) => {
    for (const e of spawnSync("find", [d, "-type", "f"], { encoding: "utf8" }).stdout.split("\n")) {
      if (e) utimesSync(e, then, then);
    }
  };
  walk(dir);
}

/**
 * The task-master binary from the bench cache, installing it there first if needed (unless `install` is false);
 * null when impossible.
 */
export function taskmaster(log, { install = true } = {}) {
  if (process.env.KEEL_BENCH_TASKMASTER === "skip") {
    log("  task-master: skipped (KEEL_BENCH_TASKMASTER=skip)");
    return null;
  }
  const cache = join(process.env.KEEL_BENCH_CACHE ?? join(homedir(), ".cache", "keel-bench"), "task-master");
  const bin = join(cache, "node_modules", ".bin", "task-master");
  if (existsSync(bin)) return bin;
  if (!install) {
    log("  task-master: skipped, not in the bench cache (`npm run bench -- --only tasks` installs it)");
    return null;
  }
  log(`  task-master: installing task-master-ai@${TASKMASTER_VERSION} into the bench cache (about 1.4 GB)…`);
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, "package.json"), '{"name":"keel-bench-task-master","private":true}\n');
  const r = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", `task-master-ai@${TASKMASTER_VERSION}`],
    { cwd: cache, encoding: "utf8", timeout: 15 * 60_000 },
  );
  if (r.status !== 0 || !existsSync(bin)) {
    log(
      `  task-master: skipped, install failed: ${(r.stderr || r.error?.message || "").trim().split("\n")[0]}`,
    );
    return null;
  }
  return bin;
}

export async function benchReady({ keel, log = console.error, runs = 15 } = {}) {
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-tasks-"));
  try {
    const graph = buildTaskGraph(10_000);
    const keelDir = join(tmp, "keel-project");
    const tmDir = join(tmp, "taskmaster-project");
    writeKeelTasks(keelDir, graph);
    writeTaskmasterTasks(tmDir, graph);
    ageFiles(tmp);
    const generatedAt = Date.now();
    const what = `${graph.length.toLocaleString("en")} tasks, ${dependencyCount(graph).toLocaleString("en")} dependencies`;
    log(`tasks: ${what}`);
    const argv = [process.execPath, keel, "tasks", "ready", "--json"];
    const cold = measure({ argv, cwd: keelDir, env: ENV, runs: 3, clean: [join(keelDir, ".keel")] });
    // Keel does not trust a file stamped within 2 s (KEEL_RACY_WINDOW_MS) of its cache write, and writing the
    // files set their ctime to now; wait that window out so the warm-up run writes a cache the timed runs trust.
    await new Promise((done) => setTimeout(done, Math.max(0, generatedAt + 2_100 - Date.now())));
    const warm = measure({ argv, cwd: keelDir, env: ENV, runs, warmup: 1 });
    const node = measure({ argv: [process.execPath, "-e", "0"], env: ENV, runs, warmup: 1 });
    const ready = {
      what: `keel tasks ready --json on ${what}`,
      coldMs: cold.wallMedianMs,
      warmMs: warm.wallMedianMs,
      warmMinMs: warm.wallMinMs,
      warmRssMb: warm.peakRssMb,
      coldRssMb: cold.peakRssMb,
      nodeStartMs: node.wallMedianMs,
      targetMs: READY_TARGET_MS,
      pass: warm.failed === null && warm.wallMedianMs < READY_TARGET_MS,
      failed: cold.failed ?? warm.failed,
      taskmaster: null,
    };
    log(`  keel ready: cold ${cold.wallMedianMs?.toFixed(0)} ms, warm ${warm.wallMedianMs?.toFixed(0)} ms`);
    const bin = taskmaster(log);
    if (bin) {
      const tm = measure({ argv: [bin, "next"], cwd: tmDir, env: ENV, runs: Math.min(runs, 5), warmup: 1 });
      ready.taskmaster = {
        version: TASKMASTER_VERSION,
        ms: tm.wallMedianMs,
        peakRssMb: tm.peakRssMb,
        failed: tm.failed,
        ratio: tm.wallMedianMs && warm.wallMedianMs ? tm.wallMedianMs / warm.wallMedianMs : null,
        coldRatio: tm.wallMedianMs && cold.wallMedianMs ? tm.wallMedianMs / cold.wallMedianMs : null,
      };
      log(
        `  task-master next: ${tm.wallMedianMs?.toFixed(0)} ms${tm.failed ? ` (failed: ${tm.failed})` : ""}`,
      );
    }
    return ready;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function run(argv, cwd) {
  return new Promise((resolveRun) => {
    const child = spawn(argv[0], argv.slice(1), { cwd, env: ENV });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** `workers` processes claim with `claim --next` until each has made `perWorker` claims or nothing is ready. */
export async function benchClaimStorm({
  keel,
  log = console.error,
  workers = 16,
  perWorker = 10,
  tasks = 2000,
} = {}) {
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-storm-"));
  try {
    const dir = join(tmp, "project");
    writeKeelTasks(dir, buildTaskGraph(tasks, { perFeature: 250 }));
    ageFiles(dir);
    // Build the ready cache once, as any earlier command would have.
    spawnSync(process.execPath, [keel, "tasks", "ready", "--json"], { cwd: dir, env: ENV });
    const grants = [];
    let refusals = 0;
    let errors = 0;
    const errorLines = new Set();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        for (let i = 0; i < perWorker; i++) {
          const r = await run(
            [process.execPath, keel, "tasks", "claim", "--next", "--as", `agent:w${w}`, "--json"],
            dir,
          );
          if (r.code === 6) refusals++;
          else if (r.code !== 0) {
            errors++;
            errorLines.add(`exit ${r.code}: ${r.stderr.trim().split("\n")[0]}`);
          } else {
            const grant = JSON.parse(r.stdout).claim;
            if (grant === null) break;
            grants.push(grant);
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const holders = new Map();
    for (const g of grants) holders.set(g.taskId, (holders.get(g.taskId) ?? 0) + 1);
    const doubleClaims = [...holders.values()].filter((n) => n > 1).length;
    const tokens = new Set(grants.map((g) => g.token));
    const result = {
      what: `${workers} processes × ${perWorker} keel tasks claim --next over ${tasks.toLocaleString("en")} tasks`,
      claims: grants.length,
      perSecond: grants.length / seconds,
      seconds,
      doubleClaims,
      duplicateTokens: grants.length - tokens.size,
      refusals,
      errors,
      errorLines: [...errorLines],
      pass: doubleClaims === 0 && errors === 0 && tokens.size === grants.length,
    };
    log(
      `  claim storm: ${grants.length} claims in ${seconds.toFixed(1)} s (${result.perSecond.toFixed(1)}/s), ${doubleClaims} double claims, ${errors} errors`,
    );
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export async function runTasksBench({ keel, log = console.error, quick = false } = {}) {
  log("tasks (issue 4): ready queue, task-master next, claim storm");
  const ready = await benchReady({ keel, log, runs: quick ? 7 : 15 });
  const storm = await benchClaimStorm({ keel, log, perWorker: quick ? 5 : 10 });
  return { ready, storm };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  runTasksBench({ keel, quick: process.argv.includes("--quick") }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(`bench: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
