// Issue 3 benchmarks (`node bench/run.mjs --only changes`, or `node bench/issue3.mjs` alone):
//   - three-way merge of a capability spec with 1,000 requirements (target: < 50 ms), in process: the merge
//     module is bundled from src/ with esbuild, so no CLI start-up is counted;
//   - apply throughput: `keel change apply` run change after change on one project (each a full CLI process:
//     start-up, lock, read, plan, write, archive, audit), then with 8 processes at once.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
export const MERGE_TARGET_MS = 50;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function requirement(k, sentence = `The system SHALL handle case ${k} in the documented way.`) {
  return (
    `### Requirement: Case ${k} is handled {#C-${k}}\n> status: approved · origin: human · actor: alice\n` +
    `${sentence} Each case ${k} is logged.\n\n#### Scenario: Case ${k} happens\n- **GIVEN** the system is running\n` +
    `- **WHEN** case ${k} happens\n- **THEN** it is handled\n- **AND** it is logged\n`
  );
}

function spec(reqs) {
  return `# Cases\n\n## Purpose\nOne thousand cases the system handles, one requirement each.\n\n## Requirements\n\n${reqs.join("\n")}\n## Out of Scope\n- Nothing else.\n`;
}

/** Bundles src/core/changes/merge.ts and its imports into a temporary module and imports it. */
async function loadMerge(tmp) {
  const out = join(tmp, "merge.mjs");
  await build({
    entryPoints: [join(ROOT, "src", "core", "changes", "merge.ts")],
    outfile: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
  });
  return import(pathToFileURL(out).href);
}

export async function benchMerge({ log = console.error, runs = 30 } = {}) {
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-merge-"));
  try {
    const { mergeSpec } = await loadMerge(tmp);
    const N = 1000;
    const base = Array.from({ length: N }, (_, i) => requirement(i + 1));
    // Ours edits 50 requirements, theirs 50 others, and both edit 20 more in different sentences (a real
    // requirement-level three-way merge for each of those).
    const ours = base.slice();
    const theirs = base.slice();
    for (let i = 0; i < 50; i++)
      ours[i * 20] = requirement(i * 20 + 1, `The system SHALL handle case ${i * 20 + 1} at once.`);
    for (let i = 0; i < 50; i++)
      theirs[i * 20 + 5] = requirement(i * 20 + 6, `The system SHALL handle case ${i * 20 + 6} later.`);
    for (let i = 0; i < 20; i++) {
      const k = i * 50 + 10;
      ours[k] = requirement(k + 1, `The system SHALL handle case ${k + 1} quickly.`);
      theirs[k] = base[k].replace(
        `Each case ${k + 1} is logged.`,
        `Each case ${k + 1} is logged and audited.`,
      );
    }
    const [o, a, b] = [spec(base), spec(ours), spec(theirs)];
    const times = [];
    let result = null;
    for (let r = 0; r < runs + 3; r++) {
      const t0 = performance.now();
      result = mergeSpec(o, a, b, "cases");
      const dt = performance.now() - t0;
      if (r >= 3) times.push(dt);
    }
    if (result.conflicts.length !== 0 || result.otherConflicts !== 0)
      throw new Error("bench merge produced conflicts");
    if (!result.text.includes("quickly. Each case 11 is logged and audited."))
      throw new Error("bench merge lost an edit");
    const row = {
      what: "three-way merge, 1,000 requirements (120 changed, 20 on both sides)",
      bytes: o.length,
      runs,
      medianMs: median(times),
      maxMs: Math.max(...times),
      targetMs: MERGE_TARGET_MS,
      pass: median(times) < MERGE_TARGET_MS,
    };
    log(
      `  merge: ${row.medianMs.toFixed(1)} ms median, ${row.maxMs.toFixed(1)} ms max over ${runs} runs (${(o.length / 1024).toFixed(0)} KiB) — target < ${MERGE_TARGET_MS} ms: ${row.pass ? "PASS" : "FAIL"}`,
    );
    return row;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function run(keel, cwd, args) {
  return new Promise((res) => {
    const child = spawn(process.execPath, [keel, ...args], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.on("data", (d) => {
      err += d;
    });
    child.on("close", (code) => res({ code, err }));
  });
}

/** A project with one spec of `reqs` requirements and `changes` open changes, each modifying another one. */
function makeProject(dir, reqs, changes) {
  const w = (rel, text) => {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  };
  w("keel/keel.yaml", "version: 1\n");
  const blocks = Array.from({ length: reqs }, (_, i) => requirement(i + 1));
  w("keel/specs/cases/spec.md", spec(blocks));
  for (let c = 0; c < changes; c++) {
    const k = c + 1;
    const id = `edit-case-${k}`;
    w(`keel/changes/${id}/proposal.md`, `## Why\nCase ${k} changes.\n\n## What Changes\n- Case ${k}.\n`);
    w(
      `keel/changes/${id}/specs/cases/spec.md`,
      `## MODIFIED Requirements\n\n${requirement(k, `The system SHALL handle case ${k} in the new way.`)}`,
    );
  }
}

export async function benchApply({ keel, log = console.error, changes = 40, reqs = 200 } = {}) {
  const rows = [];
  for (const lanes of [1, 8]) {
    const dir = mkdtempSync(join(tmpdir(), "keel-bench-apply-"));
    try {
      makeProject(dir, reqs, changes);
      const ids = Array.from({ length: changes }, (_, c) => `edit-case-${c + 1}`);
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: lanes }, async (_, lane) => {
          const out = [];
          for (const id of ids.filter((_, k) => k % lanes === lane))
            out.push(await run(keel, dir, ["change", "apply", id, "--as", "human:bench"]));
          return out;
        }),
      );
      const s = (performance.now() - t0) / 1000;
      const failed = results.flat().filter((r) => r.code !== 0);
      if (failed.length > 0) throw new Error(`apply failed: ${failed[0].err.split("\n")[0]}`);
      const text = readFileSync(join(dir, "keel/specs/cases/spec.md"), "utf8");
      const landed = ids.filter((_, c) => text.includes(`case ${c + 1} in the new way`)).length;
      if (landed !== changes) throw new Error(`only ${landed} of ${changes} applies are in the spec`);
      const row = {
        what: `keel change apply × ${changes}, ${lanes} process${lanes > 1 ? "es" : ""} at once (spec of ${reqs} requirements)`,
        seconds: s,
        perSecond: changes / s,
        msPerApply: (s * 1000) / changes,
      };
      log(
        `  apply: ${lanes} lane(s): ${row.perSecond.toFixed(1)} applies/s (${row.msPerApply.toFixed(0)} ms each, wall ${s.toFixed(1)} s), all ${changes} landed`,
      );
      rows.push(row);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

/**
 * `keel history` on a requirement with `versions` versions: a git repository whose spec (20 requirements)
 * was committed `versions` times, each commit rewording the requirement. The commits are written with
 * `git fast-import`, so building the repository takes about a second rather than a commit process each.
 */
export async function benchHistory({ keel, log = console.error, versions = 1000, runs = 5 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-history-"));
  try {
    execFileSync("git", ["init", "-q", dir]);
    writeFileSync(join(dir, ".gitignore"), ".keel/\n");
    const spec = (v) =>
      `# Payments\n\n## Purpose\nPayments that a history benchmark rewrites a thousand times over.\n\n## Requirements\n\n${Array.from(
        { length: 20 },
        (_, i) =>
          `### Requirement: Rule ${i + 1} {#PAY-${i + 1}}\nThe system SHALL apply rule ${i + 1}${i === 0 ? ` in revision ${v}` : ""}.\n\n#### Scenario: Rule ${i + 1}\n- **WHEN** a payment is made\n- **THEN** rule ${i + 1} holds\n`,
      ).join("\n")}`;
    let stream = "";
    for (let v = 1; v <= versions; v++) {
      const content = Buffer.from(spec(v));
      const when = 1_700_000_000 + v * 60;
      const msg = `revision ${v}`;
      stream += `commit refs/heads/main\ncommitter Bench <bench@example.com> ${when} +0000\ndata ${msg.length}\n${msg}\n`;
      stream += `M 100644 inline keel/specs/payments/spec.md\ndata ${content.length}\n${content}\n`;
      if (v === 1) stream += `M 100644 inline keel/keel.yaml\ndata 11\nversion: 1\n\n`;
    }
    execFileSync("git", ["fast-import", "--quiet"], { cwd: dir, input: stream });
    execFileSync("git", ["checkout", "-q", "-f", "main"], { cwd: dir });
    const times = [];
    let shown = 0;
    for (let r = 0; r < runs + 1; r++) {
      const t0 = performance.now();
      const out = execFileSync(process.execPath, [keel, "history", "PAY-1", "--json"], {
        cwd: dir,
        maxBuffer: 1 << 28,
      });
      if (r > 0) times.push(performance.now() - t0);
      shown = (JSON.parse(out.toString()).versions ?? []).length;
    }
    times.sort((a, b) => a - b);
    const row = {
      what: `keel history, ${versions} versions`,
      versions: shown,
      medianMs: times[times.length >> 1],
    };
    log(`  history: ${row.medianMs.toFixed(0)} ms median for ${shown} versions (1 warm-up, ${runs} runs)`);
    return row;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Everything for `--only changes`. */
export async function runChangesBench({ keel, log = console.error, quick = false } = {}) {
  log("changes (issue 3): merge, apply and history");
  const merge = await benchMerge({ log, runs: quick ? 10 : 30 });
  const apply = await benchApply({ keel, log, changes: quick ? 16 : 40 });
  const history = await benchHistory({ keel, log, runs: quick ? 3 : 5 });
  return { merge, apply, history };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  execFileSync(process.execPath, ["--version"]);
  runChangesBench({ keel, quick: process.argv.includes("--quick") }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(`bench: ${e.message}`);
      process.exitCode = 2;
    },
  );
}
