#!/usr/bin/env node
// Node-side wrapper around bench/measure.py: runs a command k times and reports wall time (median, min)
// and peak RSS (kernel ru_maxrss from wait4). See bench/README.md for what exactly is measured.
//
// As a module:  const r = measure({ argv, cwd, env, runs, warmup, clean, okCodes, timeoutS, stdoutPath })
// As a CLI:     node bench/measure.mjs [--runs N] [--warmup N] [--cwd DIR] [--clean PATH]... -- cmd args...

import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MEASURE_PY = join(dirname(fileURLToPath(import.meta.url)), "measure.py");

export function median(values) {
  if (values.length === 0) return null;
  const s = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/**
 * The first non-blank line of a command's stderr. When that line is only the location of an uncaught
 * exception (Node prints "file:///…:12" first), the "SomeError: message" line is more useful.
 */
export function firstMeaningfulLine(text) {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const first = lines[0] ?? "";
  if (/^(file:\/\/|node:|\/|[A-Za-z]:\\)/.test(first)) {
    const error = lines.find((l) => /^[A-Za-z]*Error\b/.test(l));
    if (error) return error;
  }
  return first;
}

/**
 * Measure a command. Returns { ok, failed, stderr, stderrFirstLine, runs, wallMedianMs, wallMinMs, peakRssMb }.
 * `failed` is null when every requested run finished with an accepted exit code; otherwise the reason
 * (the statistics then cover only the runs that succeeded, if any).
 */
export function measure({
  argv,
  cwd = process.cwd(),
  env = process.env,
  runs = 5,
  warmup = 0,
  clean = [],
  okCodes = [0],
  timeoutS = 300,
  stdoutPath,
}) {
  const job = {
    argv,
    cwd,
    env,
    runs,
    warmup,
    clean,
    ok_codes: okCodes,
    timeout_s: timeoutS,
    stdout_path: stdoutPath,
  };
  const child = spawnSync("python3", [MEASURE_PY], {
    input: JSON.stringify(job),
    encoding: "utf8",
    maxBuffer: 16 * 1024 * 1024,
  });
  if (child.error) {
    const hint = child.error.code === "ENOENT" ? " (python3 is required to measure peak RSS)" : "";
    throw new Error(`cannot run python3: ${child.error.message}${hint}`);
  }
  if (child.status !== 0) {
    throw new Error(`bench/measure.py failed (exit ${child.status}): ${child.stderr.trim()}`);
  }
  const result = JSON.parse(child.stdout);
  const good = result.runs.filter(
    (r) => !r.warmup && !r.timed_out && r.signal === null && okCodes.includes(r.exit_code),
  );
  const stderrFirstLine = firstMeaningfulLine(result.stderr);
  return {
    ok: result.failed === null,
    failed: result.failed,
    stderr: result.stderr,
    stderrFirstLine,
    runs: result.runs,
    exitCodes: [...new Set(good.map((r) => r.exit_code))],
    wallMedianMs: median(good.map((r) => r.wall_ms)),
    wallMinMs: good.length > 0 ? Math.min(...good.map((r) => r.wall_ms)) : null,
    peakRssMb: good.length > 0 ? Math.max(...good.map((r) => r.max_rss_kb)) / 1024 : null,
  };
}

function main() {
  const args = process.argv.slice(2);
  const opts = { runs: 5, warmup: 0, clean: [], cwd: process.cwd() };
  let i = 0;
  for (; i < args.length && args[i] !== "--"; i++) {
    const a = args[i];
    const v = args[++i];
    if (v === undefined) throw new Error(`${a} needs a value`);
    if (a === "--runs") opts.runs = Number(v);
    else if (a === "--warmup") opts.warmup = Number(v);
    else if (a === "--cwd") opts.cwd = resolve(v);
    else if (a === "--clean") opts.clean.push(resolve(v));
    else throw new Error(`unknown option ${a}`);
  }
  const argv = args.slice(i + 1);
  if (argv.length === 0) {
    console.error(
      "usage: node bench/measure.mjs [--runs N] [--warmup N] [--cwd DIR] [--clean PATH]... -- cmd args...",
    );
    process.exitCode = 2;
    return;
  }
  const r = measure({ ...opts, argv, okCodes: [0, 1] });
  for (const run of r.runs) {
    console.log(
      `${run.warmup ? "warm-up" : "run"}: ${run.wall_ms.toFixed(1)} ms, peak RSS ${(run.max_rss_kb / 1024).toFixed(1)} MB, exit ${run.exit_code ?? `signal ${run.signal}`}`,
    );
  }
  if (r.wallMedianMs !== null) {
    console.log(
      `median ${r.wallMedianMs.toFixed(1)} ms, min ${r.wallMinMs.toFixed(1)} ms, peak RSS ${r.peakRssMb.toFixed(1)} MB`,
    );
  }
  if (!r.ok) {
    console.error(`failed: ${r.failed}${r.stderrFirstLine ? `: ${r.stderrFirstLine}` : ""}`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main();
  } catch (err) {
    console.error(`measure: ${err.message}`);
    process.exitCode = 2;
  }
}
