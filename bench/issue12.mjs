// Issue 12 benchmark (`node bench/run.mjs --only trust`, or `node bench/issue12.mjs [--quick]` alone): what the
// untrusted-text scanner costs `keel validate`. The same 100,000-requirement corpus (10,000 files; 10,000 with
// --quick) is validated cold (no .keel/) with the scanner on, as shipped, and with its four rules turned off
// in keel.yaml (a rule turned off is not run), in the same run; OpenSpec validates the same corpus as the
// peer. Target: the scanner adds at most 10% to the cold time. CPU time (user + sys of the process) is
// reported beside wall time because it is what the scanner adds, and it is steadier on a busy machine.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCorpus, writeCorpus } from "./gen.mjs";
import { median } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const NODE = process.execPath;
export const TRUST_TARGETS = { scannerOverhead: 0.1 };
const SECURITY_RULES = [
  "security/hidden-unicode",
  "security/instruction-like",
  "security/secret",
  "security/external-url",
];
const ENV = { ...process.env, NO_COLOR: "1", OPENSPEC_TELEMETRY: "0", DO_NOT_TRACK: "1" };

/** One cold run: wall ms, CPU ms (user + sys of the child, from getrusage) and peak RSS, measured by python3. */
function coldRun(argv, cwd) {
  rmSync(join(cwd, ".keel"), { recursive: true, force: true });
  const probe = spawnSync(
    "python3",
    [
      "-c",
      `import resource, subprocess, sys, time
t0 = time.perf_counter()
r = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = (time.perf_counter() - t0) * 1000
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.returncode, wall, (u.ru_utime + u.ru_stime) * 1000, u.ru_maxrss / 1024)`,
      cwd,
      ...argv,
    ],
    { env: ENV, encoding: "utf8" },
  );
  const [status, wall, cpu, rss] = probe.stdout.trim().split(" ").map(Number);
  return { status, wall, cpu, rss };
}

function series(argv, cwd, runs, okCodes) {
  const rows = [];
  for (let i = 0; i < runs; i++) rows.push(coldRun(argv, cwd));
  const failed = rows.find((r) => !okCodes.includes(r.status));
  return {
    wallMs: median(rows.map((r) => r.wall)),
    cpuMs: median(rows.map((r) => r.cpu)),
    rssMb: Math.max(...rows.map((r) => r.rss)),
    failed: failed ? `exit ${failed.status}` : null,
  };
}

function setScanner(keelRoot, on) {
  const rules = SECURITY_RULES.map((r) => `    ${r}: off\n`).join("");
  writeFileSync(
    join(keelRoot, "keel", "keel.yaml"),
    on ? "version: 1\n" : `version: 1\nvalidate:\n  rules:\n${rules}`,
  );
}

export function runTrustBench({ quick = false, runs = 3, keel = join(ROOT, "dist", "keel.mjs") } = {}) {
  const caps = quick ? 1000 : 10000;
  const dir = mkdtempSync(join(tmpdir(), "keel-bench-trust-"));
  try {
    const corpus = buildCorpus({ caps, reqs: 10, seed: 1 });
    const keelRoot = join(dir, "keel-layout");
    const openspecRoot = join(dir, "openspec-layout");
    writeCorpus(corpus, "keel", keelRoot);
    writeCorpus(corpus, "openspec", openspecRoot);
    const validate = [NODE, keel, "validate", "--json"];
    // Alternate on and off so that drift in the machine's load falls on both alike.
    const on = [];
    const off = [];
    for (let i = 0; i < runs; i++) {
      setScanner(keelRoot, true);
      on.push(series(validate, keelRoot, 1, [0, 1]));
      setScanner(keelRoot, false);
      off.push(series(validate, keelRoot, 1, [0, 1]));
    }
    const pick = (xs) => ({
      wallMs: median(xs.map((x) => x.wallMs)),
      cpuMs: median(xs.map((x) => x.cpuMs)),
      rssMb: Math.max(...xs.map((x) => x.rssMb)),
      failed: xs.find((x) => x.failed)?.failed ?? null,
    });
    const withScanner = pick(on);
    const without = pick(off);
    const openspecBin = join(ROOT, "node_modules", "@fission-ai", "openspec", "bin", "openspec.js");
    const openspec = existsSync(openspecBin)
      ? series([NODE, openspecBin, "validate", "--all", "--json"], openspecRoot, runs, [0, 1])
      : null;
    return {
      requirements: caps * 10,
      files: caps,
      withScanner,
      without,
      openspec,
      wallOverhead: withScanner.wallMs / without.wallMs - 1,
      cpuOverhead: withScanner.cpuMs / without.cpuMs - 1,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const pct = (x) => `${x >= 0 ? "+" : ""}${(x * 100).toFixed(1)}%`;

export function printTrust(r) {
  const row = (label, m) =>
    `  ${label.padEnd(34)} wall ${Math.round(m.wallMs).toString().padStart(6)} ms · cpu ${Math.round(m.cpuMs)
      .toString()
      .padStart(6)} ms · peak ${Math.round(m.rssMb)} MB${m.failed ? ` · FAILED ${m.failed}` : ""}`;
  console.log(
    `\nTrust: the untrusted-text scanner in keel validate (${r.requirements.toLocaleString("en")} requirements, ${r.files.toLocaleString("en")} files, cold)`,
  );
  console.log(row("keel validate, scanner on", r.withScanner));
  console.log(row("keel validate, security/* off", r.without));
  if (r.openspec) console.log(row("openspec validate --all (peer)", r.openspec));
  const pass = r.wallOverhead <= TRUST_TARGETS.scannerOverhead;
  console.log(
    `  ${pass ? "PASS" : "MISS"}  scanner overhead: ${pct(r.wallOverhead)} wall, ${pct(r.cpuOverhead)} cpu (target ≤ +${TRUST_TARGETS.scannerOverhead * 100}%)`,
  );
  if (r.openspec) {
    console.log(
      `        keel (scanner on) vs OpenSpec, same corpus: ${(r.openspec.wallMs / r.withScanner.wallMs).toFixed(2)}× faster`,
    );
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes("--quick");
  mkdirSync(tmpdir(), { recursive: true });
  printTrust(runTrustBench({ quick, runs: quick ? 3 : 5 }));
}
