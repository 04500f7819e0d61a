// Issue 11 benchmarks (`node bench/run.mjs --only layouts`, or `node bench/issue11.mjs [--quick]` alone): other
// toolkits' projects, read as they are, with no keel/ folder.
//   - `keel validate --json` on a 1,000-feature Spec Kit project and a 1,000-spec Kiro project (200 with
//     --quick), against the same-sized Keel-layout corpus in the same run (target: within 1.5×). Neither toolkit
//     has a validator of its own, so Keel's own layout is the yardstick.
//   - `keel tasks ready --json` on a 10,000-task Task Master graph, against `task-master next` on the same file,
//     and on a 10,000-issue Beads graph, against `bd ready` when the `bd` binary can be had from the npm
//     registry (`@beads/bd`); otherwise the reason is reported instead of a number (target: under 150 ms).
// Cold runs delete .keel/ first; warm runs follow a warm-up with nothing changed. Wall time includes process
// start; `node -e 0` is measured as the reference.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  beadsReadyCount,
  buildBeadsGraph,
  buildFeatureCorpus,
  requirementCount,
  writeBeadsProject,
  writeFeatureProject,
} from "./gen-layouts.mjs";
import { buildTaskGraph, writeKeelTasks, writeTaskmasterTasks } from "./gen-tasks.mjs";
import { TASKMASTER_VERSION, taskmaster } from "./issue4.mjs";
import { firstMeaningfulLine, measure } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
export const LAYOUT_TARGETS = { readyMs: 150, validateRatio: 1.5 };
export const BD_VERSION = "1.3.0";
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
// Keel does not trust a file stamped within 2 s of its cache write (KEEL_RACY_WINDOW_MS); warm runs wait it out.
const RACY_WINDOW_MS = 2_100;

const MARKDOWN_LAYOUTS = [
  { layout: "keel", label: "Keel layout (yardstick)" },
  { layout: "speckit", label: "Spec Kit" },
  { layout: "kiro", label: "Kiro" },
];

function sleepUntil(at) {
  return new Promise((done) => setTimeout(done, Math.max(0, at - Date.now())));
}

function stats(m) {
  return {
    ms: m.wallMedianMs,
    minMs: m.wallMinMs,
    rssMb: m.peakRssMb,
    failed: m.failed ? `${m.failed}: ${m.stderrFirstLine}` : null,
  };
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------------
// bd from the npm registry

/**
 * The native `bd` binary of `@beads/bd` from the bench cache, installing the package there first if needed.
 * Returns { bin, version } or { reason } when it cannot be had. The package ships no binary: its postinstall
 * downloads one from the project's release page, which fails where only the npm registry is reachable.
 */
export function beadsBinary(log) {
  if (process.env.KEEL_BENCH_BD === "skip") return { reason: "skipped (KEEL_BENCH_BD=skip)" };
  const cache = join(process.env.KEEL_BENCH_CACHE ?? join(homedir(), ".cache", "keel-bench"), "beads");
  const bin = join(cache, "node_modules", "@beads", "bd", "bin", "bd");
  if (existsSync(bin)) return { bin, version: BD_VERSION };
  log(`  bd: installing @beads/bd@${BD_VERSION} into the bench cache…`);
  mkdirSync(cache, { recursive: true });
  writeFileSync(join(cache, "package.json"), '{"name":"keel-bench-beads","private":true}\n');
  const r = spawnSync(
    "npm",
    ["install", "--no-audit", "--no-fund", "--loglevel=error", `@beads/bd@${BD_VERSION}`],
    { cwd: cache, encoding: "utf8", timeout: 5 * 60_000 },
  );
  if (r.status === 0 && existsSync(bin)) return { bin, version: BD_VERSION };
  const stderr = r.stderr ?? "";
  const url = stderr.match(/Downloading from: (\S+)/)?.[1];
  const cause = stderr.match(/Error installing bd: (.+)/)?.[1]?.trim();
  const reason = url
    ? `@beads/bd@${BD_VERSION} ships no binary; its postinstall downloads it from ${new URL(url).host}, which failed` +
      (cause ? ` (${cause})` : "")
    : `npm install @beads/bd@${BD_VERSION} failed: ${firstMeaningfulLine(stderr || r.error?.message || "")}`;
  log(`  bd: ${reason}`);
  return { reason };
}

/** `bd ready` on the Beads project, after bd has built its database from the JSONL (not timed). */
function benchBd(bd, dir, runs) {
  const setup = [
    ["git", "init", "-q"],
    [bd.bin, "init", "--quiet"],
    [bd.bin, "import", "-i", ".beads/issues.jsonl"],
  ];
  for (const argv of setup) {
    const r = spawnSync(argv[0], argv.slice(1), { cwd: dir, env: ENV, encoding: "utf8", timeout: 300_000 });
    if (r.status !== 0)
      return {
        version: bd.version,
        failed: `${argv.slice(1).join(" ")}: ${firstMeaningfulLine(r.stderr || r.stdout)}`,
      };
  }
  const out = join(dir, "..", "bd-ready.json");
  const m = measure({
    argv: [bd.bin, "ready", "--json", "--limit", "100000"],
    cwd: dir,
    env: ENV,
    runs,
    warmup: 1,
    stdoutPath: out,
  });
  const answer = readJson(out);
  return { version: bd.version, ...stats(m), ready: Array.isArray(answer) ? answer.length : null };
}

// ---------------------------------------------------------------------------------------------------------
// Read and validate

/** Writes the three Markdown projects of one feature corpus; returns their roots and sizes, and the requirements each holds. */
function writeMarkdownProjects(tmp, features, log) {
  const t0 = performance.now();
  const corpus = buildFeatureCorpus({ features });
  const projects = MARKDOWN_LAYOUTS.map(({ layout, label }) => {
    const root = join(tmp, `${layout}-project`);
    return { layout, label, root, ...writeFeatureProject(root, corpus, layout) };
  });
  log(
    `  layouts: ${features.toLocaleString("en")} features, ${requirementCount(corpus).toLocaleString("en")} ` +
      `requirements each; ${projects.map((p) => `${p.layout} ${p.files} files`).join(", ")} ` +
      `(${Math.round(performance.now() - t0)} ms)`,
  );
  return { requirements: requirementCount(corpus), projects };
}

function validateCold(keel, project, runs) {
  const argv = [process.execPath, keel, "validate", "--json"];
  const m = measure({
    argv,
    cwd: project.root,
    env: ENV,
    runs,
    warmup: 1,
    okCodes: [0, 1],
    clean: [join(project.root, ".keel")],
  });
  return stats(m);
}

/** Warm runs; the last run's JSON gives what Keel read (requirements, specs) and found. */
function validateWarm(keel, project, runs, tmp) {
  const out = join(tmp, `${project.layout}-validate.json`);
  const argv = [process.execPath, keel, "validate", "--json"];
  const m = measure({ argv, cwd: project.root, env: ENV, runs, warmup: 1, okCodes: [0, 1], stdoutPath: out });
  const summary = readJson(out)?.summary ?? null;
  return { ...stats(m), summary };
}

function ratio(a, b) {
  return a && b ? a / b : null;
}

// ---------------------------------------------------------------------------------------------------------
// Ready queues

/** Tasks of gen-tasks.mjs's graph that are ready: not done, every dependency done. Counted from the graph. */
function taskGraphReadyCount(tasks) {
  const done = new Set(tasks.filter((t) => t.done).map((t) => t.id));
  return tasks.filter((t) => !t.done && t.deps.every((d) => done.has(d))).length;
}

function readyArgv(keel) {
  return [process.execPath, keel, "tasks", "ready", "--json"];
}

/** Cold: the ready cache and index deleted before each run, as after an edit of the task file. */
function readyCold(keel, dir, runs) {
  return stats(measure({ argv: readyArgv(keel), cwd: dir, env: ENV, runs, clean: [join(dir, ".keel")] }));
}

/** Warm: the cache of the warm-up run, nothing changed since; the last run's JSON gives the ready count. */
function readyWarm(keel, dir, runs, out) {
  const m = measure({ argv: readyArgv(keel), cwd: dir, env: ENV, runs, warmup: 1, stdoutPath: out });
  const answer = readJson(out);
  return { ...stats(m), ready: Array.isArray(answer?.ready) ? answer.ready.length : null };
}

/** Keel's ready queue on one project, cold then warm (after the racy window since `writtenAt`). */
async function keelReady(keel, dir, runs, out, writtenAt) {
  const cold = readyCold(keel, dir, Math.ceil(runs / 3));
  await sleepUntil(writtenAt + RACY_WINDOW_MS);
  return { cold, warm: readyWarm(keel, dir, runs, out) };
}

function taskmasterNext(log, dir, runs) {
  const bin = taskmaster(log);
  if (!bin) return { name: "task-master next", reason: "not available (the reason is in the log above)" };
  const m = measure({ argv: [bin, "next"], cwd: dir, env: ENV, runs, warmup: 1 });
  return { name: "task-master next", version: TASKMASTER_VERSION, ...stats(m) };
}

function bdReady(log, dir, runs) {
  const bd = beadsBinary(log);
  return bd.bin ? { name: "bd ready", ...benchBd(bd, dir, runs) } : { name: "bd ready", reason: bd.reason };
}

/** One ready-queue result: Keel's figures, the graph's own ready count, the peer's and the target verdicts. */
function readyRow(layout, what, graphReady, keelSide, peer, log) {
  const ok = !keelSide.cold.failed && !keelSide.warm.failed && keelSide.warm.ms !== null;
  const measured = peer.ms && !peer.failed;
  log(
    `  ready ${layout}: keel cold ${keelSide.cold.ms?.toFixed(0)} ms, warm ${keelSide.warm.ms?.toFixed(0)} ms, ` +
      `${keelSide.warm.ready} ready (the graph has ${graphReady}); ${peer.name}: ` +
      (peer.reason ?? peer.failed ?? `${peer.ms?.toFixed(0)} ms`),
  );
  return {
    layout,
    what,
    expectedReady: graphReady,
    keel: keelSide,
    peer,
    peerRatio: measured ? ratio(peer.ms, keelSide.warm.ms) : null,
    peerColdRatio: measured ? ratio(peer.ms, keelSide.cold.ms) : null,
    targetMs: LAYOUT_TARGETS.readyMs,
    pass: ok ? keelSide.warm.ms < LAYOUT_TARGETS.readyMs : null,
    coldPass: ok ? keelSide.cold.ms < LAYOUT_TARGETS.readyMs : null,
  };
}

/**
 * The 10,000-task Task Master graph (with the same graph in Keel's layout for reference) and the 10,000-issue
 * Beads graph: Keel's ready queue on each, and the peer's on the same file.
 */
async function benchReadyQueues(keel, tmp, runs, log) {
  const n = 10_000;
  const tmGraph = buildTaskGraph(n);
  const tmDir = join(tmp, "taskmaster-project");
  writeTaskmasterTasks(tmDir, tmGraph);
  const keelDir = join(tmp, "keel-tasks-project");
  writeKeelTasks(keelDir, tmGraph);
  const bdGraph = buildBeadsGraph(n);
  const bdDir = join(tmp, "beads-project");
  writeBeadsProject(bdDir, bdGraph);
  const writtenAt = Date.now();
  const tm = await keelReady(keel, tmDir, runs.ready, join(tmp, "taskmaster-ready.json"), writtenAt);
  const bd = await keelReady(keel, bdDir, runs.ready, join(tmp, "beads-ready.json"), writtenAt);
  const keelLayout = await keelReady(keel, keelDir, runs.ready, join(tmp, "keel-ready.json"), writtenAt);
  log(
    `  ready, the same Task Master graph in Keel's layout: cold ${keelLayout.cold.ms?.toFixed(0)} ms, ` +
      `warm ${keelLayout.warm.ms?.toFixed(0)} ms, ${keelLayout.warm.ready} ready`,
  );
  const what = (kind) => `${n.toLocaleString("en")} ${kind}`;
  return [
    {
      ...readyRow(
        "taskmaster",
        what("Task Master tasks"),
        taskGraphReadyCount(tmGraph),
        tm,
        taskmasterNext(log, tmDir, runs.peer),
        log,
      ),
      keelLayout,
    },
    readyRow(
      "beads",
      what("Beads issues"),
      beadsReadyCount(bdGraph),
      bd,
      bdReady(log, bdDir, runs.peer),
      log,
    ),
  ];
}

/** One validate result; the foreign layouts get their ratio to the Keel layout and the target verdict. */
function validateRow(project, cold, warm, yardstick, expectedRequirements) {
  const row = {
    layout: project.layout,
    expectedRequirements,
    label: project.label,
    files: project.files,
    bytes: project.bytes,
    cold,
    warm,
    requirements: warm.summary?.requirements ?? null,
    errors: warm.summary?.errors ?? null,
    warnings: warm.summary?.warnings ?? null,
  };
  if (project.layout === "keel") return row;
  row.coldRatio = ratio(cold.ms, yardstick.cold.ms);
  row.warmRatio = ratio(warm.ms, yardstick.warm.ms);
  const ok = !cold.failed && !warm.failed && row.coldRatio !== null && row.warmRatio !== null;
  const within = (r) => r <= LAYOUT_TARGETS.validateRatio;
  row.pass = ok ? within(row.coldRatio) && within(row.warmRatio) : null;
  return row;
}

/** `keel validate` on the Spec Kit, Kiro and Keel-layout projects of one corpus, cold then warm. */
async function benchValidate(keel, tmp, features, runs, log) {
  const { requirements, projects } = writeMarkdownProjects(tmp, features, log);
  const writtenAt = Date.now();
  // Cold runs first: meanwhile the files age past the racy window the warm runs need.
  const cold = projects.map((p) => validateCold(keel, p, runs.cold));
  await sleepUntil(writtenAt + RACY_WINDOW_MS);
  const warm = projects.map((p) => validateWarm(keel, p, runs.warm, tmp));
  const rows = projects.map((p, i) =>
    validateRow(p, cold[i], warm[i], { cold: cold[0], warm: warm[0] }, requirements),
  );
  for (const row of rows) {
    const failed = row.cold.failed ?? row.warm.failed;
    log(
      `  validate ${row.layout}: cold ${row.cold.ms?.toFixed(0)} ms, warm ${row.warm.ms?.toFixed(0)} ms, ` +
        `${row.requirements} requirements, ${row.errors} errors, ${row.warnings} warnings` +
        (failed ? ` (failed: ${failed})` : ""),
    );
  }
  return rows;
}

export async function runLayoutsBench({ keel, log = console.error, quick = false } = {}) {
  const features = quick ? 200 : 1000;
  const runs = quick ? { cold: 2, warm: 3, ready: 5, peer: 2 } : { cold: 5, warm: 10, ready: 15, peer: 5 };
  log(
    "layouts (issue 11): Spec Kit and Kiro validate vs the Keel layout; Task Master and Beads ready queues",
  );
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-layouts-"));
  try {
    const node = measure({ argv: [process.execPath, "-e", "0"], env: ENV, runs: quick ? 5 : 10, warmup: 1 });
    const validate = await benchValidate(keel, tmp, features, runs, log);
    const ready = await benchReadyQueues(keel, tmp, runs, log);
    return { features, quick, nodeStartMs: node.wallMedianMs, targets: LAYOUT_TARGETS, validate, ready };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  runLayoutsBench({ keel, quick: process.argv.includes("--quick") }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(`bench: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
