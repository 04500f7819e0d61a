// Issue 5 benchmark (`node bench/run.mjs --only trace`, or `node bench/issue5.mjs [--quick]` alone):
//   - the trace scan, `keel trace scan --json`, end to end (process start included), on a generated tree of
//     20,000 source files (bench/gen-trace.mjs: TypeScript, Python, Go, Markdown, tests; 1–20 KB each, about
//     135 MB; a few hundred annotations), committed once in a temporary git repository so that both tools see
//     the same files. Cold: no scan cache (`.keel/trace-scan.cache` deleted before each run: every file is read,
//     and the cache is written); warm: the cache of the previous run, nothing changed since;
//   - ripgrep on the same tree with the same pattern, `rg -n --no-heading -e @req -e @verifies -e @task`
//     (keel/ excluded for both: Keel never scans it). Target: Keel's median at most 2× ripgrep's.
// ripgrep comes from Debian's package: when `rg` is missing the bench tries `apt-get install -y ripgrep` and
// skips the comparison with a message when that fails. KEEL_BENCH_RG=skip skips it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { writeTraceTree } from "./gen-trace.mjs";
import { measure, median } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
export const TRACE_TARGET_RATIO = 2;
const FILES = 20_000;
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };
const RG_ARGS = ["-n", "--no-heading", "-g", "!keel/", "-e", "@req", "-e", "@verifies", "-e", "@task", "."];

function git(cwd, ...args) {
  const r = spawnSync("git", args, { cwd, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`git ${args[0]} failed: ${(r.stderr || "").trim()}`);
  return r.stdout;
}

/** Makes `dir` a git repository with everything in it committed once. */
export function commitTree(dir, message) {
  git(dir, "init", "-q", "-b", "main");
  git(dir, "add", "-A");
  const who = ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "-c", "commit.gpgsign=false"];
  git(dir, ...who, "commit", "-q", "-m", message);
}

/** The ripgrep binary, installing Debian's package first when it is missing; null (with a message) otherwise. */
function ripgrep(log) {
  if (process.env.KEEL_BENCH_RG === "skip") {
    log("  rg: skipped (KEEL_BENCH_RG=skip)");
    return null;
  }
  const found = () => spawnSync("rg", ["--version"], { encoding: "utf8" });
  let v = found();
  if (v.status !== 0) {
    log("  rg: not found; trying `apt-get install -y ripgrep`…");
    const r = spawnSync("apt-get", ["install", "-y", "ripgrep"], {
      encoding: "utf8",
      timeout: 5 * 60_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    v = found();
    if (v.status !== 0) {
      const why = (r.stderr || r.error?.message || "").trim().split("\n").pop();
      log(`  rg: skipped, ripgrep cannot be installed here${why ? ` (${why})` : ""}`);
      return null;
    }
  }
  return { bin: "rg", version: v.stdout.split("\n")[0] };
}

/** Runs each job two runs per round, the jobs taking turns, so that a drift in machine load hits all alike. */
function alternate(jobs, rounds) {
  const acc = {};
  let failed = null;
  for (const key of Object.keys(jobs)) acc[key] = { walls: [], rssMb: 0 };
  for (let i = 0; i < rounds; i++) {
    for (const [key, job] of Object.entries(jobs)) {
      if (job === null) continue;
      const r = measure({ ...job, runs: 2, warmup: i === 0 ? 1 : 0 });
      failed ??= r.failed ? `${key}: ${r.failed}${r.stderrFirstLine ? `: ${r.stderrFirstLine}` : ""}` : null;
      for (const run of r.runs) if (!run.warmup && run.exit_code !== null) acc[key].walls.push(run.wall_ms);
      acc[key].rssMb = Math.max(acc[key].rssMb, r.peakRssMb ?? 0);
    }
  }
  const stats = { failed };
  for (const [key, v] of Object.entries(acc)) stats[key] = { ms: median(v.walls), rssMb: v.rssMb };
  return stats;
}

/** A temporary git repository holding the generated tree, committed once. */
function makeTree(tmp, log) {
  const tree = join(tmp, "tree");
  const t0 = performance.now();
  const made = writeTraceTree(tree, { files: FILES });
  commitTree(tree, "Generated tree\n\nImplements: PAY-1");
  log(
    `  tree: ${made.files.toLocaleString("en")} files, ${(made.bytes / 1048576).toFixed(0)} MiB, ` +
      `${made.annotated} annotated, written and committed in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { tree, made };
}

/** One run of the scan, its JSON checked: what it found, and (warm) that every file came from the cache. */
function checkedScan(job, out, clean) {
  const r = measure({ ...job, runs: 1, stdoutPath: out, clean });
  if (r.failed) throw new Error(`keel trace scan failed: ${r.failed}: ${r.stderrFirstLine}`);
  return JSON.parse(readFileSync(out, "utf8"));
}

export async function runTraceBench({ keel, log = console.error, quick = false } = {}) {
  log(`trace (issue 5): keel trace scan vs ripgrep on ${FILES.toLocaleString("en")} generated source files`);
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-trace-"));
  try {
    const { tree, made } = makeTree(tmp, log);
    const keelJob = { argv: [process.execPath, keel, "trace", "scan", "--json"], cwd: tree, env: ENV };
    const cache = join(tree, ".keel", "trace-scan.cache");
    const out = join(tmp, "scan.json");
    const scan = checkedScan(keelJob, out, [cache]);
    const warmScan = checkedScan(keelJob, out, []);
    if (warmScan.links.length !== scan.links.length || warmScan.cachedFiles !== scan.files)
      throw new Error("the warm scan did not answer every file from the cache, or found other links");
    const rg = ripgrep(log);
    const rgJob = rg && { argv: [rg.bin, ...RG_ARGS], cwd: tree, env: ENV, okCodes: [0, 1] };
    let rgMatches = null;
    if (rgJob) {
      const r = spawnSync(rg.bin, RG_ARGS, { cwd: tree, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
      rgMatches = r.stdout.split("\n").filter((l) => l !== "").length;
    }
    // Cold: the cache deleted before each run (every file read, the cache written); warm: the cache of the
    // previous run, nothing changed since.
    const timed = alternate(
      { cold: { ...keelJob, clean: [cache] }, warm: keelJob, rg: rgJob },
      quick ? 4 : 8,
    );
    const noCache = { ...keelJob, argv: [...keelJob.argv, "--no-cache"] };
    const runs = quick ? 3 : 5;
    const plain = measure({ ...noCache, runs, warmup: 1 });
    const single = measure({ ...noCache, env: { ...ENV, KEEL_WORKERS: "0" }, runs, warmup: 1 });
    const ratioOf = (ms) => (rg && ms && timed.rg.ms ? ms / timed.rg.ms : null);
    const ratio = ratioOf(timed.warm.ms);
    const coldRatio = ratioOf(timed.cold.ms);
    const ok = timed.failed === null;
    const result = {
      what: `keel trace scan --json on ${made.files.toLocaleString("en")} files (${(made.bytes / 1048576).toFixed(0)} MiB)`,
      files: scan.files,
      bytes: made.bytes,
      links: scan.links.length,
      filesWithLinks: scan.filesWithLinks,
      workers: scan.workers,
      problems: scan.problems.length,
      keelMs: timed.warm.ms,
      keelRssMb: timed.warm.rssMb,
      coldMs: timed.cold.ms,
      coldRssMb: timed.cold.rssMb,
      noCacheMs: plain.wallMedianMs,
      singleThreadMs: single.wallMedianMs,
      singleThreadRssMb: single.peakRssMb,
      rg: rg ? { version: rg.version, ms: timed.rg.ms, rssMb: timed.rg.rssMb, matches: rgMatches } : null,
      ratio,
      coldRatio,
      targetRatio: TRACE_TARGET_RATIO,
      pass: ratio !== null && ok ? ratio <= TRACE_TARGET_RATIO : null,
      coldPass: coldRatio !== null && ok ? coldRatio <= TRACE_TARGET_RATIO : null,
      failed: timed.failed,
    };
    log(
      `  keel cold: ${timed.cold.ms?.toFixed(0)} ms, ${timed.cold.rssMb.toFixed(0)} MB (${scan.workers} worker ` +
        `thread(s) + the main one; writes the cache); --no-cache ${plain.wallMedianMs?.toFixed(0)} ms, ` +
        `single-threaded ${single.wallMedianMs?.toFixed(0)} ms; ${scan.links.length} links in ` +
        `${scan.filesWithLinks} of ${scan.files} files`,
    );
    log(
      `  keel warm: ${timed.warm.ms?.toFixed(0)} ms, ${timed.warm.rssMb.toFixed(0)} MB ` +
        `(${warmScan.cachedFiles} files from the cache)`,
    );
    if (rg)
      log(
        `  rg: ${timed.rg.ms?.toFixed(0)} ms, ${timed.rg.rssMb.toFixed(0)} MB, ${rgMatches} matching lines`,
      );
    if (ratio !== null)
      log(
        `  ratio keel/rg: warm ${ratio.toFixed(2)}, cold ${coldRatio.toFixed(2)} (target ≤ ${TRACE_TARGET_RATIO})`,
      );
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  runTraceBench({ keel, quick: process.argv.includes("--quick") }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(`bench: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
