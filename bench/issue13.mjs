// Issue 13 benchmark (`node bench/run.mjs --only run`, or `node bench/issue13.mjs [--quick]` alone): the work loop.
// A fresh git repository holds a Keel project of 400 independent tasks (80 with --quick), 50 to a capability's
// tasks.md, each bounded to src/<id>/** with a cheap gate (`test -f src/<id>/done`); the test agent
// (tests/support/run-agent.mjs, a `command:` agent) writes that file. `keel run --workers 8` works the queue; we
// report tasks per minute, the supervisor's peak RSS, and Keel's own time per attempt (run_attempts.overhead_ms:
// everything but agent and gate time), p50 and p99, against the target p50 < 100 ms. Correctness is read back from
// the audit log and git: every task claimed once, landed once, one commit with its `Task:` trailer, reachable from
// the integration branch. No peer runs such a loop, so the reference is a plain serial shell loop doing the same
// work with git worktrees: the ratio shows what Keel's coordination costs and what its parallel workers gain.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const NODE = process.execPath;
const RUN_AGENT = join(ROOT, "tests", "support", "run-agent.mjs");
export const RUN_TARGETS = { overheadP50Ms: 100 };
const PER_CAPABILITY = 50;
const WORKERS = 8;
const GIT_ID = ["-c", "user.name=bench", "-c", "user.email=bench@keel.invalid"];
const ENV = { ...process.env, NO_COLOR: "1", GIT_AUTHOR_NAME: "bench", GIT_COMMITTER_NAME: "bench" };

function git(cwd, ...args) {
  const r = spawnSync("git", [...GIT_ID, ...args], { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Task IDs are numbered across capabilities (capability k holds k.1 … k.50), so an ID alone names one task. */
function taskIds(count) {
  const ids = [];
  for (let i = 0; i < count; i++)
    ids.push(`${Math.floor(i / PER_CAPABILITY) + 1}.${(i % PER_CAPABILITY) + 1}`);
  return ids;
}

function capabilityFiles(k, ids) {
  const req = `AR${k}-1`;
  const spec = `# Area ${k}\n\n## Purpose\nIndependent work items for the loop benchmark, one folder of src/ each.\n\n## Requirements\n\n### Requirement: Area ${k} work {#${req}}\nThe system SHALL do the work of area ${k}.\n\n#### Scenario: Done\n- **WHEN** the work runs\n- **THEN** it is done\n`;
  const tasks = ids.map(
    (id) =>
      `- [ ] ${id} Do ${id}\n  - covers: ${req}\n  - boundaries: src/${id}/**\n  - verify: \`test -f src/${id}/done\``,
  );
  return {
    [`keel/specs/area-${k}/spec.md`]: spec,
    [`keel/specs/area-${k}/tasks.md`]: `## ${k}. Area ${k}\n\n${tasks.join("\n")}\n`,
  };
}

/** A committed repository with the project, the agent's script (one step for every task) and .keel/ ignored. */
export function makeLoopProject(dir, count) {
  const ids = taskIds(count);
  const files = {
    "keel/keel.yaml": `version: 1\nagents:\n  test:\n    command: node ${RUN_AGENT}\nrun:\n  agent: test\n`,
    "agent-script.json": `${JSON.stringify({ "*": [{ write: { "src/{id}/done": "ok {task}\n" } }] })}\n`,
    ".gitignore": ".keel/\n",
  };
  for (let k = 1; (k - 1) * PER_CAPABILITY < count; k++)
    Object.assign(files, capabilityFiles(k, ids.slice((k - 1) * PER_CAPABILITY, k * PER_CAPABILITY)));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  git(dir, "commit", "-qm", "init");
  return ids;
}

/** Peak resident memory of one process so far (VmHWM), or null without /proc. */
function highWater(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs a command to its end: wall ms, stdout, exit code, its stderr lines with the time each arrived, and the peak
 * RSS of that process alone (VmHWM, sampled; the agents and git it starts are not counted): the supervisor's memory.
 */
function timed(argv, cwd) {
  return new Promise((done) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env: ENV, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let pending = "";
    const lines = [];
    let peak = null;
    child.stdout.on("data", (c) => {
      stdout += c;
    });
    child.stderr.on("data", (c) => {
      stderr += c;
      pending += c;
      const parts = pending.split("\n");
      pending = parts.pop();
      const at = performance.now() - started;
      for (const line of parts) lines.push({ at, line });
    });
    const sample = setInterval(() => {
      peak = highWater(child.pid) ?? peak;
    }, 100);
    child.on("close", (code) => {
      clearInterval(sample);
      done({ ms: performance.now() - started, code, stdout, stderr, lines, peakRssMb: peak });
    });
  });
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

/** What the store recorded: the attempts' times, and per task how often it was claimed and landed. */
function readStore(dir) {
  const db = new Database(join(dir, ".keel", "state.db"), { readonly: true });
  try {
    const attempts = db
      .prepare("SELECT task_id, outcome, agent_ms, gate_ms, overhead_ms, queue_ms FROM run_attempts")
      .all();
    const count = (action) =>
      new Map(
        db
          .prepare("SELECT target, COUNT(*) AS n FROM events WHERE action = ? GROUP BY target")
          .all(action)
          .map((r) => [r.target, r.n]),
      );
    const landedCommits = db
      .prepare("SELECT target, data FROM events WHERE action = 'run.task.landed'")
      .all()
      .map((r) => ({ key: r.target, commit: JSON.parse(r.data).commit }));
    const blocked = [...count("run.task.blocked").values()].reduce((a, b) => a + b, 0);
    return {
      attempts,
      claims: count("task.claim"),
      landed: count("run.task.landed"),
      blocked,
      landedCommits,
    };
  } finally {
    db.close();
  }
}

/** Every task claimed once and landed once, one commit per task on main, each landed commit an ancestor of main. */
function checkCorrectness(dir, keys, store) {
  const trailers = new Map();
  for (const line of git(dir, "log", "--format=%(trailers:key=Task,valueonly,separator=%x2C)", "main").split(
    "\n",
  )) {
    const key = line.trim();
    if (key) trailers.set(key, (trailers.get(key) ?? 0) + 1);
  }
  const unreachable = store.landedCommits.filter(
    (l) => spawnSync("git", ["merge-base", "--is-ancestor", l.commit, "main"], { cwd: dir }).status !== 0,
  );
  const not = (m, n) => keys.filter((k) => (m.get(k) ?? 0) !== n).length;
  return {
    tasks: keys.length,
    claimedTwice: keys.filter((k) => (store.claims.get(k) ?? 0) > 1).length,
    notLandedOnce: not(store.landed, 1),
    notOneCommit: not(trailers, 1),
    unreachable: unreachable.length,
    checkedCommits: store.landedCommits.length,
  };
}

function summarize(attempts, field) {
  const xs = attempts.map((a) => a[field]);
  return { p50: percentile(xs, 50), p99: percentile(xs, 99), max: xs.length ? Math.max(...xs) : null };
}

/** `keel run`'s step lines (one per phase when stderr is not a terminal): `w3 area-1/1.7 attempt 1 gates · 4/400 done`. */
const STEP = /^w(\d+) (\S+) attempt \d+ ([a-z-]+)/;
const SPAN = {
  isolating: "isolate",
  preparing: "pack",
  agent: "agent",
  boundaries: "boundaries",
  committing: "commit",
  gates: "gates",
};
const ENDS = new Set(["landed", "blocked", "review"]);

/**
 * Where a task's time goes, from the step lines' arrival times: each phase lasts until the task's next step; a
 * worker's "claim" runs from its last task's end to its next task's isolation (it removes the old worktree, claims,
 * reads the tip). The merge queue is first in, first out, so a task's integration starts when the one before it
 * ended: the time before that is queue wait, the rest is integration (rebase, gates again, moving the branch).
 */
function phaseTimes(lines) {
  const spans = new Map();
  const add = (k, v) => spans.set(k, [...(spans.get(k) ?? []), v]);
  const lastOfTask = new Map();
  const lastEnd = new Map();
  const queued = [];
  for (const { at, line } of lines) {
    const m = STEP.exec(line);
    if (!m) continue;
    const [, worker, task, phase] = m;
    const prev = lastOfTask.get(task);
    if (prev?.phase === "queued") queued.push({ task, at: prev.at, until: at });
    else if (prev && SPAN[prev.phase]) add(SPAN[prev.phase], at - prev.at);
    if (phase === "isolating" && lastEnd.has(worker)) add("claim", at - lastEnd.get(worker));
    if (ENDS.has(phase)) lastEnd.set(worker, at);
    lastOfTask.set(task, { phase, at });
  }
  const wait = new Map();
  let free = 0;
  for (const q of queued.sort((a, b) => a.at - b.at)) {
    const start = Math.max(q.at, free);
    add("queue wait", start - q.at);
    add("integrate", q.until - start);
    wait.set(q.task, (wait.get(q.task) ?? 0) + start - q.at);
    free = q.until;
  }
  const order = [
    "claim",
    "isolate",
    "pack",
    "agent",
    "boundaries",
    "commit",
    "gates",
    "queue wait",
    "integrate",
  ];
  return { p50: order.filter((k) => spans.has(k)).map((k) => [k, percentile(spans.get(k), 50)]), wait };
}

async function keelRun(keel, count, sandbox, workers = WORKERS) {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-run-"));
  try {
    const ids = makeLoopProject(dir, count);
    const validate = spawnSync(NODE, [keel, "validate", "--json"], { cwd: dir, env: ENV, encoding: "utf8" });
    const findings =
      validate.status === 0 || validate.status === 1 ? JSON.parse(validate.stdout).summary : null;
    // Without --json, so that stderr carries the step lines; the counts are read from the audit log.
    const r = await timed([NODE, keel, "run", "--workers", String(workers), "--sandbox", sandbox], dir);
    if (r.code !== 0)
      return { sandbox, failed: `exit ${r.code}: ${(r.stderr || r.stdout).trim().slice(-300)}` };
    const store = readStore(dir);
    const keys = ids.map((id) => `area-${id.split(".")[0]}/${id}`);
    const phases = phaseTimes(r.lines);
    return {
      sandbox,
      workers,
      tasks: count,
      landed: store.landed.size,
      blocked: store.blocked,
      validate: findings,
      wallMs: r.ms,
      perMinute: (store.landed.size / r.ms) * 60_000,
      peakRssMb: r.peakRssMb,
      attempts: store.attempts.length,
      firstPass: store.attempts.filter((a) => a.outcome === "green").length,
      overhead: summarize(store.attempts, "overhead_ms"),
      queue: summarize(store.attempts, "queue_ms"),
      agent: summarize(store.attempts, "agent_ms"),
      gate: summarize(store.attempts, "gate_ms"),
      phases: phases.p50,
      correctness: checkCorrectness(dir, keys, store),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The reference: the same tasks by a plain serial shell loop, each in its own worktree, fast-forwarded onto main. */
async function shellLoop(count) {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-loop-"));
  try {
    const ids = makeLoopProject(dir, count);
    writeFileSync(join(dir, ".git", "prompt.md"), "Do the task.\n");
    const script = `set -e
prompt="$PWD/.git/prompt.md"
for id in ${ids.join(" ")}; do
  wt="$PWD/.git/wt/$id"
  git worktree add -q -b "task/$id" "$wt" main
  (cd "$wt" && KEEL_TASK="bench/$id" KEEL_ATTEMPT=1 KEEL_PACK_FILE="$prompt" "${NODE}" "${RUN_AGENT}" < "$prompt" > /dev/null
   test -f "src/$id/done"
   git add -A
   git ${GIT_ID.join(" ")} commit -qm "Do $id" -m "Task: bench/$id")
  git merge -q --ff-only "task/$id"
  git worktree remove "$wt"
done`;
    const r = await timed(["bash", "-c", script], dir);
    if (r.code !== 0) return { failed: `exit ${r.code}: ${r.stderr.trim().slice(0, 300)}` };
    const commits = git(dir, "rev-list", "--count", "main").trim();
    return { tasks: count, wallMs: r.ms, perMinute: (count / r.ms) * 60_000, commits: Number(commits) - 1 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether bubblewrap can start a sandbox on this machine (it needs unprivileged user namespaces). */
function bwrapUsable() {
  const r = spawnSync("bwrap", ["--ro-bind", "/", "/", "--dev", "/dev", "--unshare-net", "true"], {
    encoding: "utf8",
  });
  if (r.error) return { ok: false, why: "bwrap is not installed" };
  return r.status === 0 ? { ok: true } : { ok: false, why: r.stderr.trim().split("\n")[0] };
}

export async function runLoopBench({
  keel = join(ROOT, "dist", "keel.mjs"),
  log = () => {},
  quick = false,
  tasks = quick ? 80 : 400,
} = {}) {
  const count = tasks;
  const runs = [];
  log(`run: keel run --workers ${WORKERS} over ${count} tasks, --sandbox none`);
  runs.push(await keelRun(keel, count, "none"));
  // The sandbox changes only how each agent and gate starts: a quarter of the tasks shows its cost in less time.
  const bwrap = bwrapUsable();
  const sandboxed = Math.max(20, Math.round(count / 4));
  if (bwrap.ok) {
    log(`run: keel run --workers ${WORKERS} over ${sandboxed} tasks, --sandbox bwrap`);
    runs.push(await keelRun(keel, sandboxed, "bwrap"));
  } else runs.push({ sandbox: "bwrap", skipped: bwrap.why });
  // One worker: Keel's own time per task with no other worker contending for its one thread and two cores.
  const alone = Math.max(20, Math.round(count / 10));
  log(`run: keel run --workers 1 over ${alone} tasks, --sandbox none`);
  runs.push(await keelRun(keel, alone, "none", 1));
  log(`run: the same ${count} tasks by a serial shell loop`);
  const shell = await shellLoop(count);
  return { tasks: count, workers: WORKERS, runs, shell };
}

const ms = (v) => (v === null || v === undefined ? "-" : `${Math.round(v)} ms`);

export function printRunLoop(r) {
  console.log(`\nRun loop (issue #13): independent tasks, ${r.workers} workers, the test agent`);
  for (const run of r.runs) {
    const label = `keel run --workers ${run.workers ?? r.workers} --sandbox ${run.sandbox}${run.tasks ? `, ${run.tasks} tasks` : ""}`;
    if (run.skipped) {
      console.log(`  ${label}: skipped, ${run.skipped}`);
      continue;
    }
    if (run.failed) {
      console.log(`  FAIL  ${label}: ${run.failed}`);
      continue;
    }
    const v = run.validate;
    console.log(
      `  ${label}: ${run.landed}/${run.tasks} landed, ${run.blocked} blocked in ${(run.wallMs / 1000).toFixed(1)} s → ` +
        `${run.perMinute.toFixed(0)} tasks/min; supervisor peak RSS ${run.peakRssMb === null ? "-" : `${run.peakRssMb.toFixed(0)} MB`}; ` +
        `${run.attempts} attempts, ${run.firstPass} green` +
        (v ? `; keel validate before: ${v.errors} errors, ${v.warnings} warnings` : ""),
    );
    const o = run.overhead;
    const pass = o.p50 !== null && o.p50 < RUN_TARGETS.overheadP50Ms;
    console.log(
      `  ${pass ? "PASS" : "MISS"}  Keel's overhead per attempt: p50 ${ms(o.p50)}, p99 ${ms(o.p99)}, max ${ms(o.max)} ` +
        `(target p50 < ${RUN_TARGETS.overheadP50Ms} ms); agent p50 ${ms(run.agent.p50)}, gates p50 ${ms(run.gate.p50)}`,
    );
    const q = run.queue;
    console.log(
      `        waiting in the merge queue behind other tasks (not counted above): p50 ${ms(q.p50)}, p99 ${ms(q.p99)}`,
    );
    console.log(
      `        where a task's time goes (p50): ${run.phases.map(([k, v]) => `${k} ${ms(v)}`).join(" · ")}`,
    );
    const c = run.correctness;
    const ok = c.claimedTwice === 0 && c.notLandedOnce === 0 && c.notOneCommit === 0 && c.unreachable === 0;
    console.log(
      `  ${ok ? "PASS" : "FAIL"}  correctness: ${c.claimedTwice} tasks claimed twice, ${c.notLandedOnce} not landed exactly once, ` +
        `${c.notOneCommit} without exactly one Task: commit on main, ${c.unreachable} of ${c.checkedCommits} landed commits unreachable from main`,
    );
  }
  console.log(
    "        peer: none has a loop to compare (Spec Kit /implement, Taskmaster: one agent, one session)",
  );
  const s = r.shell;
  if (s.failed) console.log(`        serial shell loop: failed (${s.failed})`);
  else {
    const none = r.runs.find((x) => x.sandbox === "none" && x.wallMs);
    console.log(
      `        reference, a serial shell loop (git worktree add, agent, gate, commit, merge --ff-only, worktree remove): ` +
        `${s.commits}/${s.tasks} tasks in ${(s.wallMs / 1000).toFixed(1)} s → ${s.perMinute.toFixed(0)} tasks/min` +
        (none
          ? `; keel run --workers ${r.workers} runs at ${(none.perMinute / s.perMinute).toFixed(2)}× its rate`
          : ""),
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  if (!existsSync(join(ROOT, "dist", "keel.mjs")))
    throw new Error("dist/keel.mjs not found: run npm run build");
  printRunLoop(await runLoopBench({ quick, log: (m) => process.stderr.write(`${m}\n`) }));
}
