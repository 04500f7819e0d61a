#!/usr/bin/env node
// `npm run bench`: Keel vs OpenSpec on the same corpora, in one run. See bench/README.md.
//
//   node bench/run.mjs [--quick] [--only NAME[,NAME...]] [--runs K] [--keel PATH]
//
// Corpora: openspec (OpenSpec's own, copied from ../shared/corpora/openspec to a temporary folder),
// 10k (1,000 capabilities × 10 requirements), 100k (10,000 × 10, i.e. 10,000 spec files). Plus start-up.

import { createHash } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCorpus, GENERATOR_VERSION, writeCorpus } from "./gen.mjs";
import { runChangesBench } from "./issue3.mjs";
import { runTasksBench } from "./issue4.mjs";
import { runTraceBench } from "./issue5.mjs";
import { runServeBench } from "./issue6.mjs";
import { runLayoutsBench } from "./issue11.mjs";
import { printTrust, runTrustBench } from "./issue12.mjs";
import { printRunLoop, runLoopBench } from "./issue13.mjs";
import { printSpeed, SPEED_TARGETS, speedFigures, startDaemon } from "./issue14.mjs";
import { measure } from "./measure.mjs";
import { printTeam, runTeamBench } from "./team.mjs";
import { printWeb, runWebBench } from "./web.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const CORPORA = join(BENCH, ".corpora");
let KEEL = join(ROOT, "dist", "keel.cjs"); // the package's bin (it loads dist/keel.mjs); --keel PATH benchmarks another build
const OPENSPEC_SOURCE = resolve(ROOT, "..", "shared", "corpora", "openspec");
const NODE = process.execPath;

const TARGETS = {
  coldSpeedup: SPEED_TARGETS.coldSpeedup, // cold keel validate at least 3× faster than openspec validate --all on 100k
  warmMs: SPEED_TARGETS.warmAloneMs, // no server running (issue 14; issue 2 asked 150 ms, which the daemon now answers)
  warmDaemonMs: SPEED_TARGETS.warmDaemonMs,
  rssMb: SPEED_TARGETS.coldRssMb,
  queryMs: 80, // keel show / keel search
};

const GENERATED = {
  "10k": { caps: 1000, reqs: 10, runs: 5, label: "10k reqs" },
  "100k": { caps: 10000, reqs: 10, runs: 3, label: "100k reqs" },
};
const ALL = [
  "startup",
  "openspec",
  "10k",
  "100k",
  "changes",
  "tasks",
  "trace",
  "serve",
  "layouts",
  "trust",
  "run",
  "web",
  "team",
];

// Same environment for both tools; OpenSpec's telemetry and version check stay off the network. Keel rows answer
// themselves (KEEL_NO_DAEMON) except the one measured through `keel daemon`.
const ENV = {
  ...process.env,
  OPENSPEC_TELEMETRY: "0",
  DO_NOT_TRACK: "1",
  NO_COLOR: "1",
  KEEL_NO_DAEMON: "1",
};
const DAEMON_ENV = { ...ENV, KEEL_NO_DAEMON: "" };

function parseArgs(argv) {
  const opts = { only: null, quick: false, runs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") opts.quick = true;
    else if (a === "--only") {
      const v = argv[++i];
      if (!v) throw new Error("--only needs a name");
      opts.only = v.split(",").map((s) => s.trim());
      const bad = opts.only.filter((n) => !ALL.includes(n));
      if (bad.length > 0) throw new Error(`unknown corpus ${bad.join(", ")}; choose from ${ALL.join(", ")}`);
    } else if (a === "--keel") {
      const v = argv[++i];
      if (!v) throw new Error("--keel needs a path");
      opts.keel = resolve(v);
    } else if (a === "--runs") {
      opts.runs = Number(argv[++i]);
      if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error("--runs needs a positive integer");
    } else if (a === "--help" || a === "-h") {
      opts.help = true;
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

let openspecCache = null;
function openspecBin() {
  if (openspecCache) return openspecCache;
  const pkgDir = join(ROOT, "node_modules", "@fission-ai", "openspec");
  const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const bin = typeof pkg.bin === "string" ? pkg.bin : pkg.bin.openspec;
  openspecCache = { path: join(pkgDir, bin), version: pkg.version };
  return openspecCache;
}

// ---------------------------------------------------------------------------------------------------------
// Corpora

function makeWritable(dir) {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(p);
    else if (entry.isFile()) chmodSync(p, 0o644);
  }
}

/** Generate (or reuse) a corpus in both layouts. Returns { roots: {openspec, keel}, samples }. */
function prepareGenerated(name) {
  const spec = GENERATED[name];
  const dir = join(CORPORA, name);
  const genHash = createHash("sha256")
    .update(readFileSync(join(BENCH, "gen.mjs")))
    .digest("hex")
    .slice(0, 16);
  const params = { generator: GENERATOR_VERSION, genHash, caps: spec.caps, reqs: spec.reqs, seed: 1 };
  const paramsFile = join(dir, "params.json");
  const roots = { openspec: join(dir, "openspec-layout"), keel: join(dir, "keel-layout") };
  if (existsSync(paramsFile)) {
    const saved = JSON.parse(readFileSync(paramsFile, "utf8"));
    if (JSON.stringify(saved.params) === JSON.stringify(params)) {
      log(`  reusing ${relative(ROOT, dir)} (${spec.caps} × ${spec.reqs})`);
      return { roots, samples: saved.samples };
    }
  }
  const t0 = performance.now();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const corpus = buildCorpus({ caps: spec.caps, reqs: spec.reqs, seed: params.seed });
  const a = writeCorpus(corpus, "openspec", roots.openspec);
  const b = writeCorpus(corpus, "keel", roots.keel);
  writeFileSync(paramsFile, `${JSON.stringify({ params, samples: corpus.samples }, null, 2)}\n`);
  log(
    `  generated ${relative(ROOT, dir)}: ${spec.caps} × ${spec.reqs}, ${corpus.changes.length} changes, ` +
      `${a.files} + ${b.files} files in ${Math.round(performance.now() - t0)} ms`,
  );
  return { roots, samples: corpus.samples };
}

// ---------------------------------------------------------------------------------------------------------
// Measuring

const rows = [];

function log(msg) {
  process.stderr.write(`${msg}\n`);
}

function describeJson(tool, file, stderrLine, exitCodes) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return { ok: false, note: "no output" };
  }
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    const first = text.split("\n").find((l) => l.trim()) ?? "";
    const why = stderrLine || (first ? `stdout starts with "${first.slice(0, 60)}"` : "stdout is empty");
    return { ok: false, note: `no JSON on stdout (exit ${exitCodes.join("/")}): ${why}` };
  }
  if (tool === "openspec" && data?.summary?.totals) {
    const t = data.summary.totals;
    return { ok: true, note: `${t.items} items, ${t.failed} failed` };
  }
  if (data && typeof data === "object" && !Array.isArray(data)) {
    const s = data.summary && typeof data.summary === "object" ? data.summary : data;
    const counts = Object.entries(s)
      .filter(([, v]) => typeof v === "number")
      .map(([k, v]) => `${k} ${v}`);
    if (counts.length > 0) return { ok: true, note: counts.slice(0, 4).join(", ") };
    if (Array.isArray(data.findings)) return { ok: true, note: `${data.findings.length} findings` };
  }
  if (Array.isArray(data)) return { ok: true, note: `${data.length} results` };
  return { ok: true, note: "JSON" };
}

/** When a failed command wrote nothing to stderr: its JSON error message, or the first line of stdout. */
function stdoutReason(file) {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return "";
  }
  try {
    const data = JSON.parse(text);
    const e = data?.error;
    if (typeof e === "string") return e;
    if (e && typeof e.message === "string") return e.code ? `${e.code}: ${e.message}` : e.message;
  } catch {
    // not JSON: fall through to the first line
  }
  return (text.split("\n").find((l) => l.trim()) ?? "").trim().slice(0, 100);
}

/**
 * Measure one command and record a row. `json`: the command prints JSON on stdout, checked after the runs.
 * A failing command becomes a row with the first line of its stderr instead of numbers.
 */
function bench({
  corpus,
  tool,
  layout,
  mode,
  argv,
  cwd,
  runs,
  warmup = 0,
  clean = [],
  okCodes,
  json = false,
  env = ENV,
}) {
  const label = `${corpus} · ${tool} · ${layout} · ${mode}`;
  const row = { corpus, tool, layout, mode, command: displayCommand(argv) };
  rows.push(row);
  if (tool.startsWith("keel") && !existsSync(KEEL)) {
    row.skipped = `${relative(ROOT, KEEL)} not found (run npm run build)`;
    log(`  ${label}: skipped, ${row.skipped}`);
    return row;
  }
  const stdoutPath = join(CORPORA, "last-stdout.txt");
  let r;
  try {
    r = measure({ argv, cwd, env, runs, warmup, clean, okCodes, stdoutPath, timeoutS: 120 });
  } catch (err) {
    row.error = err.message;
    log(`  ${label}: ${row.error}`);
    return row;
  }
  row.runs = r.runs.filter((x) => !x.warmup).length;
  row.wallMedianMs = r.wallMedianMs;
  row.wallMinMs = r.wallMinMs;
  row.peakRssMb = r.peakRssMb;
  row.exitCodes = r.exitCodes;
  if (!r.ok) {
    const why = r.stderrFirstLine || stdoutReason(stdoutPath);
    row.error = `${r.failed}${why ? `: ${why}` : ""}`;
  } else if (json) {
    const d = describeJson(tool, stdoutPath, r.stderrFirstLine, r.exitCodes);
    row.result = d.note;
    if (!d.ok) row.error = d.note;
  }
  rmSync(stdoutPath, { force: true });
  log(
    `  ${label}: ${row.error ? `FAILED (${row.error})` : `${fmtMs(row.wallMedianMs)} ms median, ${fmtMb(row.peakRssMb)} MB`}`,
  );
  return row;
}

/** The command as a reader would type it, without this machine's paths. */
function displayCommand(argv) {
  const names = new Map([
    [NODE, "node"],
    [KEEL, "keel"],
    [openspecBin().path, "openspec"],
  ]);
  const words = argv.map((a) => names.get(a) ?? a);
  return (
    words[0] === "node" && (words[1] === "openspec" || words[1] === "keel") ? words.slice(1) : words
  ).join(" ");
}

function keelArgs(...args) {
  return [NODE, KEEL, ...args];
}

function benchValidate(corpus, roots, runs, openspec) {
  bench({
    corpus,
    tool: "openspec",
    layout: "openspec",
    mode: "no cache",
    argv: [NODE, openspec.path, "validate", "--all", "--json"],
    cwd: roots.openspec,
    runs,
    warmup: 1,
    okCodes: [0, 1],
    json: true,
  });
  for (const layout of ["openspec", "keel"]) {
    const cwd = roots[layout];
    if (!cwd) {
      rows.push({
        corpus,
        tool: "keel validate",
        layout,
        mode: "-",
        skipped: "no Keel-layout copy of this corpus",
      });
      continue;
    }
    const common = {
      corpus,
      tool: "keel validate",
      layout,
      argv: keelArgs("validate", "--json"),
      cwd,
      okCodes: [0, 1],
      json: true,
    };
    bench({ ...common, mode: "cold", runs, clean: [join(cwd, ".keel")] });
    bench({ ...common, mode: "warm", runs, warmup: 1 });
    if (!existsSync(KEEL)) continue;
    let stop = null;
    try {
      stop = startDaemon(NODE, KEEL, cwd, DAEMON_ENV);
      bench({ ...common, mode: "warm, daemon", runs: Math.max(runs, 5), warmup: 2, env: DAEMON_ENV });
    } catch (e) {
      rows.push({ corpus, tool: "keel validate", layout, mode: "warm, daemon", skipped: e.message });
    } finally {
      stop?.();
    }
  }
}

function benchQueries(corpus, roots, samples, runs) {
  for (const layout of ["openspec", "keel"]) {
    const id = layout === "keel" ? samples.keelId : samples.openspecId;
    const cwd = roots[layout];
    bench({
      corpus,
      tool: "keel show",
      layout,
      mode: "warm",
      argv: keelArgs("show", id, "--json"),
      cwd,
      runs,
      warmup: 1,
      okCodes: [0],
      json: true,
    });
    bench({
      corpus,
      tool: "keel search",
      layout,
      mode: "warm",
      argv: keelArgs("search", samples.word, "--json"),
      cwd,
      runs,
      warmup: 1,
      okCodes: [0],
      json: true,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report

function fmtMs(v) {
  if (v === null || v === undefined) return "-";
  return v >= 100 ? String(Math.round(v)) : v.toFixed(1);
}

function fmtMb(v) {
  return v === null || v === undefined ? "-" : v.toFixed(1);
}

function addRatios() {
  for (const row of rows) {
    if (!row.tool.startsWith("keel validate") || row.wallMedianMs == null || row.error) continue;
    const base = rows.find(
      (r) => r.corpus === row.corpus && r.tool === "openspec" && !r.error && r.wallMedianMs != null,
    );
    if (!base) continue;
    row.ratio = row.wallMedianMs / base.wallMedianMs;
  }
}

function fmtRatio(r) {
  if (r === undefined) return "";
  const x = 1 / r;
  return x >= 1 ? `${r.toFixed(2)} (${x.toFixed(1)}× faster)` : `${r.toFixed(2)} (${r.toFixed(1)}× slower)`;
}

/**
 * The issue's targets, evaluated on the 100k corpus. Returns one entry per Keel row:
 * { what, verdict, checks: [{ target, measured, verdict }] }; also sets row.targets for the table.
 */
function evaluateTargets() {
  const out = [];
  const on100k = rows.filter(
    (r) => r.corpus === GENERATED["100k"].label && r.tool.startsWith("keel") && r.layout !== "-",
  );
  for (const row of on100k) {
    if (row.skipped) {
      out.push({
        what: `${row.tool} (${row.layout} layout, ${row.mode})`,
        verdict: "n/a",
        error: row.skipped,
      });
      continue;
    }
    const checks = [];
    const check = (target, measured, pass) =>
      checks.push({ target, measured, verdict: row.error ? "n/a" : pass ? "PASS" : "FAIL" });
    if (row.tool === "keel validate" && row.mode === "cold") {
      const speedup = row.ratio ? 1 / row.ratio : null;
      check(
        `≥${TARGETS.coldSpeedup}× faster than openspec`,
        speedup
          ? speedup >= 1
            ? `${speedup.toFixed(1)}× faster`
            : `${(1 / speedup).toFixed(1)}× slower`
          : "-",
        speedup !== null && speedup >= TARGETS.coldSpeedup,
      );
    }
    if (row.tool === "keel validate" && row.mode === "warm") {
      check(`< ${TARGETS.warmMs} ms`, `${fmtMs(row.wallMedianMs)} ms`, row.wallMedianMs < TARGETS.warmMs);
    }
    if (row.tool === "keel validate" && row.mode === "warm, daemon") {
      check(
        `< ${TARGETS.warmDaemonMs} ms`,
        `${fmtMs(row.wallMedianMs)} ms`,
        row.wallMedianMs < TARGETS.warmDaemonMs,
      );
    }
    if (row.tool === "keel show" || row.tool === "keel search") {
      check(`< ${TARGETS.queryMs} ms`, `${fmtMs(row.wallMedianMs)} ms`, row.wallMedianMs < TARGETS.queryMs);
    }
    check(`RSS < ${TARGETS.rssMb} MB`, `${fmtMb(row.peakRssMb)} MB`, row.peakRssMb < TARGETS.rssMb);
    const verdict = row.error ? "n/a" : checks.every((c) => c.verdict === "PASS") ? "PASS" : "FAIL";
    row.targets = checks.map((c) => `${c.target}: ${c.verdict}`).join("; ");
    out.push({ what: `${row.tool} (${row.layout} layout, ${row.mode})`, verdict, error: row.error, checks });
  }
  return out;
}

function printTable(targets) {
  const header = [
    "corpus",
    "tool",
    "layout",
    "mode",
    "runs",
    "wall ms (median)",
    "min ms",
    "peak RSS MB",
    "keel/openspec",
    "target",
    "result",
  ];
  const body = rows.map((r) => {
    if (r.skipped)
      return [r.corpus, r.tool, r.layout, r.mode, "", "", "", "", "", "", `skipped: ${r.skipped}`];
    const target = r.targets ?? "";
    const result = r.error ? `FAILED: ${r.error}` : (r.result ?? "");
    return [
      r.corpus,
      r.tool,
      r.layout,
      r.mode,
      String(r.runs ?? ""),
      fmtMs(r.wallMedianMs),
      fmtMs(r.wallMinMs),
      fmtMb(r.peakRssMb),
      fmtRatio(r.ratio),
      target,
      result,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const numeric = new Set([4, 5, 6, 7]);
  const line = (cells) =>
    cells
      .map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const b of body) console.log(line(b));
  if (targets.length > 0) {
    console.log("\nTargets (issue #2, on 100,000 requirements in 10,000 files):");
    for (const t of targets) {
      const detail = t.error
        ? `not measured (${t.error})`
        : t.checks.map((c) => `${c.target} → ${c.measured}`).join("; ");
      console.log(`  ${t.verdict.padEnd(4)}  ${t.what}: ${detail}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.help) {
    console.log(
      "usage: node bench/run.mjs [--quick] [--only startup|openspec|10k|100k|changes|tasks|trace|serve|layouts|trust|run|web|team[,...]] [--runs K] [--keel PATH]",
    );
    return;
  }
  if (opts.keel) KEEL = opts.keel;
  const selected = opts.only ?? (opts.quick ? ["startup", "openspec", "10k"] : ALL);
  const started = performance.now();
  mkdirSync(CORPORA, { recursive: true });
  const openspec = openspecBin();
  const keelBuilt = existsSync(KEEL);
  log(`Keel bench: node ${process.version}, ${cpus().length} CPUs, openspec ${openspec.version}`);
  if (!keelBuilt)
    log(`${relative(ROOT, KEEL)} is missing: Keel rows will be skipped (run npm run build first).`);

  if (selected.includes("startup")) {
    log("start-up");
    const runs = opts.runs ?? 10;
    bench({
      corpus: "start-up",
      tool: "node -e 0",
      layout: "-",
      mode: "-",
      argv: [NODE, "-e", "0"],
      cwd: ROOT,
      runs,
      warmup: 1,
      okCodes: [0],
    });
    const node = rows.at(-1);
    // The peer, for the same trivial command.
    bench({
      corpus: "start-up",
      tool: "openspec --version",
      layout: "-",
      mode: "-",
      argv: [NODE, openspec.path, "--version"],
      cwd: ROOT,
      runs,
      warmup: 1,
      okCodes: [0],
    });
    // Issue 17's target: a trivial command starts within 1.2× of Node itself, measured in the same run.
    for (const args of [["--version"], ["help"]]) {
      const row = bench({
        corpus: "start-up",
        tool: `keel ${args.join(" ")}`,
        layout: "-",
        mode: "-",
        argv: keelArgs(...args),
        cwd: ROOT,
        runs,
        warmup: 1,
        okCodes: [0],
      });
      if (row.wallMedianMs && node.wallMedianMs) {
        const ratio = row.wallMedianMs / node.wallMedianMs;
        row.result = `${ratio.toFixed(2)}× node -e 0 (target ≤ 1.2×: ${ratio <= 1.2 ? "met" : "MISSED"})`;
        log(`    ${row.tool}: ${row.result}`);
      }
    }
  }

  if (selected.includes("openspec")) {
    const label = "openspec repo";
    log(`${label}: OpenSpec's own specs and changes`);
    if (!existsSync(join(OPENSPEC_SOURCE, "openspec"))) {
      const reason = `${relative(ROOT, OPENSPEC_SOURCE)}/openspec not found`;
      log(`  skipped: ${reason}`);
      rows.push({ corpus: label, tool: "-", layout: "-", mode: "-", skipped: reason });
    } else {
      // Copied to a temporary folder, outside the repository: Keel writes .keel/ into the project root,
      // and the shared corpus may be read-only.
      const tmp = mkdtempSync(join(tmpdir(), "keel-bench-openspec-"));
      try {
        cpSync(join(OPENSPEC_SOURCE, "openspec"), join(tmp, "openspec"), { recursive: true });
        makeWritable(tmp);
        benchValidate(label, { openspec: tmp, keel: null }, opts.runs ?? 5, openspec);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }

  for (const name of ["10k", "100k"]) {
    if (!selected.includes(name)) continue;
    const spec = GENERATED[name];
    log(`${spec.label}: ${spec.caps.toLocaleString("en")} capabilities × ${spec.reqs} requirements`);
    const { roots, samples } = prepareGenerated(name);
    const runs = opts.runs ?? spec.runs;
    benchValidate(spec.label, roots, runs, openspec);
    if (name === "100k") benchQueries(spec.label, roots, samples, opts.runs ?? 5);
  }

  let changes = null;
  if (selected.includes("changes")) {
    if (keelBuilt) changes = await runChangesBench({ keel: KEEL, log, quick: opts.quick });
    else log("changes: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let tasks = null;
  if (selected.includes("tasks")) {
    if (keelBuilt) tasks = await runTasksBench({ keel: KEEL, log, quick: opts.quick });
    else log("tasks: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let trace = null;
  if (selected.includes("trace")) {
    if (keelBuilt) trace = await runTraceBench({ keel: KEEL, log, quick: opts.quick });
    else log("trace: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let serve = null;
  if (selected.includes("serve")) {
    if (keelBuilt) serve = await runServeBench({ keel: KEEL, log, quick: opts.quick });
    else log("serve: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let layouts = null;
  if (selected.includes("layouts")) {
    if (keelBuilt) layouts = await runLayoutsBench({ keel: KEEL, log, quick: opts.quick });
    else log("layouts: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let trust = null;
  if (selected.includes("trust")) {
    if (keelBuilt) trust = runTrustBench({ keel: KEEL, quick: opts.quick });
    else log("trust: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let run = null;
  if (selected.includes("run")) {
    if (keelBuilt) run = await runLoopBench({ keel: KEEL, log, quick: opts.quick });
    else log("run: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let web = null;
  if (selected.includes("web")) {
    if (keelBuilt) web = await runWebBench({ keel: KEEL, log, quick: opts.quick });
    else log("web: skipped, dist/keel.cjs not found (run npm run build)");
  }
  let team = null;
  if (selected.includes("team")) {
    if (keelBuilt) team = await runTeamBench({ keel: KEEL, log });
    else log("team: skipped, dist/keel.cjs not found (run npm run build)");
  }

  addRatios();
  const targets = evaluateTargets();
  console.log("");
  printTable(targets);
  const totalS = (performance.now() - started) / 1000;
  if (changes) {
    console.log("\nChanges (issue #3):");
    const m = changes.merge;
    console.log(
      `  ${m.pass ? "PASS" : "FAIL"}  ${m.what}: ${fmtMs(m.medianMs)} ms median (max ${fmtMs(m.maxMs)} ms) → target < ${m.targetMs} ms`,
    );
    for (const a of changes.apply) {
      console.log(`        ${a.what}: ${a.perSecond.toFixed(1)} applies/s (${fmtMs(a.msPerApply)} ms each)`);
    }
    const h = changes.history;
    console.log(`        ${h.what}: ${fmtMs(h.medianMs)} ms median, ${h.versions} versions listed`);
  }
  if (tasks) printTasks(tasks);
  if (trace) printTrace(trace);
  if (serve) printServe(serve);
  if (layouts) printLayouts(layouts);
  if (trust) printTrust(trust);
  if (run) printRunLoop(run);
  if (web) printWeb(web);
  if (team) printTeam(team);
  const speed =
    selected.includes("100k") || serve ? speedFigures(rows, serve, GENERATED["100k"].label) : null;
  if (speed) printSpeed(speed);
  console.log(
    `\nTotal bench time ${totalS.toFixed(0)} s. Wall = median of the runs; RSS = max ru_maxrss over the runs.`,
  );

  const results = {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpus: cpus().length,
    openspecVersion: openspec.version,
    keel: relative(ROOT, KEEL),
    keelBuilt,
    totalSeconds: Math.round(totalS),
    targets: { ...TARGETS, results: targets },
    rows,
    changes,
    tasks,
    trace,
    serve,
    layouts,
    trust,
    run,
    web,
    team,
    speed,
  };
  writeFileSync(join(CORPORA, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`Results written to ${relative(ROOT, join(CORPORA, "results.json"))}`);
}

function printTasks({ ready, storm }) {
  console.log("\nTasks (issue #4):");
  console.log(
    `  ${ready.pass ? "PASS" : "FAIL"}  ${ready.what}: ${fmtMs(ready.warmMs)} ms warm (cold, after an edit: ` +
      `${fmtMs(ready.coldMs)} ms, ${fmtMb(ready.coldRssMb)} MB; node -e 0: ${fmtMs(ready.nodeStartMs)} ms), ` +
      `${fmtMb(ready.warmRssMb)} MB → target < ${ready.targetMs} ms`,
  );
  const tm = ready.taskmaster;
  if (tm === null) console.log("        task-master next: skipped");
  else if (tm.failed) console.log(`        task-master next ${tm.version}: failed (${tm.failed})`);
  else
    console.log(
      `        task-master next ${tm.version} on the same graph: ${fmtMs(tm.ms)} ms, ${fmtMb(tm.peakRssMb)} MB → ` +
        `Keel ${tm.ratio.toFixed(1)}× faster warm, ${tm.coldRatio.toFixed(1)}× cold`,
    );
  console.log(
    `  ${storm.pass ? "PASS" : "FAIL"}  ${storm.what}: ${storm.claims} claims, ${storm.perSecond.toFixed(1)}/s, ` +
      `${storm.doubleClaims} double claims, ${storm.errors} errors`,
  );
}

function printTrace(t) {
  console.log("\nTrace scan (issue #5):");
  const verdict = (pass) => (pass === null ? "n/a " : pass ? "PASS" : "FAIL");
  const ratio = (r) => (r === null ? "" : ` → ratio ${r.toFixed(2)}, target ≤ ${t.targetRatio}`);
  console.log(
    `        ${t.what}: ` +
      (t.rg
        ? `rg ${fmtMs(t.rg.ms)} ms, ${fmtMb(t.rg.rssMb)} MB, ${t.rg.matches} matching lines (${t.rg.version})`
        : "rg skipped"),
  );
  console.log(
    `  ${verdict(t.pass)}  warm (the cache of the last scan, nothing changed): keel ${fmtMs(t.keelMs)} ms, ` +
      `${fmtMb(t.keelRssMb)} MB${ratio(t.ratio)}`,
  );
  console.log(
    `  ${verdict(t.coldPass)}  cold (no cache: every file read, the cache written): keel ${fmtMs(t.coldMs)} ms, ` +
      `${fmtMb(t.coldRssMb)} MB${ratio(t.coldRatio)}`,
  );
  console.log(
    `        ${t.links} links in ${t.filesWithLinks} of ${t.files} files, ${t.workers} worker thread(s) + the main ` +
      `one; --no-cache ${fmtMs(t.noCacheMs)} ms, single-threaded ${fmtMs(t.singleThreadMs)} ms`,
  );
}

function printServe({ load, fanOut, ready, toolList, claims, server }) {
  console.log("\nServe (issue #6):");
  const pct = (s) => `p50 ${fmtMs(s.p50)} ms, p99 ${fmtMs(s.p99)} ms`;
  console.log(
    `  ${load.pass ? "PASS" : "FAIL"}  ${load.what}: ${load.calls} calls, ${load.perSecond.toFixed(1)} calls/s, ` +
      `${pct(load.overall)}; ${load.errors} errors, ${load.doubleClaims} double claims ` +
      `(${load.grants} claims, ${load.completed} completed; ${load.refusals} refusals)`,
  );
  for (const [op, s] of Object.entries(load.byOp))
    console.log(`        ${op.padEnd(20)} ${String(s.n).padStart(5)} calls  ${pct(s)}`);
  for (const line of [...load.errorLines, ...load.refusalLines]) console.log(`        ${line}`);
  if (load.serverCpuShare !== null)
    console.log(`        server CPU: ${Math.round(load.serverCpuShare * 100)}% of one core over the run`);
  console.log(
    `  ${fanOut.pass ? "PASS" : "FAIL"}  ${fanOut.what}: ${fanOut.delivered}/${fanOut.expected} deliveries, ` +
      `delay ${pct(fanOut.overall)}, max ${fmtMs(fanOut.overall.max)} ms; ${fanOut.identicalStreams} of ` +
      `${fanOut.subscribers} subscribers received the same ${fanOut.eventsPerSubscriber.max} events`,
  );
  for (const [type, s] of Object.entries(fanOut.byType))
    console.log(`        ${type.padEnd(20)} ${pct(s)}, max ${fmtMs(s.max)} ms`);
  for (const line of fanOut.missing) console.log(`        ${line}`);
  const tm = ready.taskmaster;
  console.log(
    `        keel_ready_tasks on an idle server: ${fmtMs(ready.keelReadyMs)} ms median of ${ready.runs}; ` +
      (tm === null
        ? "task-master next: skipped"
        : tm.failed
          ? `task-master next ${tm.version}: failed (${tm.failed})`
          : `task-master next ${tm.version} (a CLI run) on the same graph: ${fmtMs(tm.ms)} ms, ${fmtMb(tm.peakRssMb)} MB`),
  );
  const k = toolList.keel;
  const tml = toolList.taskmaster;
  console.log(
    `        tool list in an agent's context (tools/list JSON, cl100k tokens): keel default ${k.core.tools} tools, ` +
      `${k.core.tokens} tokens; --tools all ${k.all.tools} tools, ${k.all.tokens} tokens (${k.all.withOutputSchema} with output schemas); ` +
      (tml === null
        ? "task-master: skipped"
        : `task-master ${tml.version} MCP: default ${tml.core.tools} tools, ${tml.core.tokens} tokens; all ${tml.all.tools} tools, ${tml.all.tokens} tokens`),
  );
  console.log(
    `        server peak RSS: ${server.peakRssMb === null ? "not measured (no /proc)" : `${fmtMb(server.peakRssMb)} MB`}`,
  );
  console.log(
    `  ${claims.pass ? "PASS" : "FAIL"}  ${claims.what}: ${claims.grants} claims in ${claims.seconds.toFixed(1)} s, ` +
      `${claims.perSecond.toFixed(0)} claims/s, ${pct(claims.latency)}; ${claims.errors} errors, ` +
      `${claims.doubleGrants} tasks granted twice`,
  );
}

function printLayouts({ features, nodeStartMs, targets, validate, ready }) {
  console.log(`\nLayouts (issue #11), node -e 0: ${fmtMs(nodeStartMs)} ms:`);
  const verdict = (pass) => (pass === null || pass === undefined ? "n/a " : pass ? "PASS" : "FAIL");
  const run = (s) => (s.failed ? `failed (${s.failed})` : `${fmtMs(s.ms)} ms, ${fmtMb(s.rssMb)} MB`);
  for (const v of validate) {
    const ratios =
      v.layout === "keel"
        ? ""
        : ` → ${v.coldRatio?.toFixed(2) ?? "-"}× cold, ${v.warmRatio?.toFixed(2) ?? "-"}× warm of the Keel layout, target ≤ ${targets.validateRatio}×`;
    console.log(
      `  ${v.layout === "keel" ? "    " : verdict(v.pass)}  keel validate, ${v.label}, ${features.toLocaleString("en")} features ` +
        `(${v.files} files, ${v.requirements ?? "?"} of ${v.expectedRequirements} requirements read, ${v.errors ?? "?"} errors, ${v.warnings ?? "?"} warnings): ` +
        `cold ${run(v.cold)}; warm ${run(v.warm)}${ratios}`,
    );
  }
  for (const r of ready) {
    const k = r.keel;
    const p = r.peer;
    const peer = p.reason
      ? `${p.name}: not measured, ${p.reason}`
      : p.failed
        ? `${p.name} ${p.version}: failed (${p.failed})`
        : `${p.name} ${p.version}: ${fmtMs(p.ms)} ms, ${fmtMb(p.rssMb)} MB → Keel ${r.peerRatio?.toFixed(1) ?? "-"}× faster warm, ${r.peerColdRatio?.toFixed(1) ?? "-"}× cold`;
    console.log(
      `  ${verdict(r.pass)}  keel tasks ready, ${r.what}: warm ${run(k.warm)}; cold ${run(k.cold)} (${verdict(r.coldPass).trim()}); ` +
        `${k.warm.ready ?? "?"} ready (${r.expectedReady} by the graph) → target < ${r.targetMs} ms`,
    );
    console.log(`        ${peer}`);
    if (r.keelLayout)
      console.log(
        `        the same graph in Keel's layout (keel/changes/*/tasks.md): warm ${run(r.keelLayout.warm)}; cold ${run(r.keelLayout.cold)}`,
      );
  }
}

main().catch((err) => {
  console.error(`bench: ${err.message}`);
  process.exitCode = 2;
});
