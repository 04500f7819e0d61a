// `keel verify`, evidence and the backpressure on `keel tasks done`, on real git repositories with real commits,
// running real gate processes: pass and fail recorded with the commit and the dirty flag, a failing gate holding
// `done` back, overrides (human only, audited), a hanging gate killed with its children at its timeout, megabytes
// of output kept as a tail and a digest, parallel gates running at the same time and serial ones alone.
// @verifies TRC-5, TRC-6

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  evidenceForRequirement,
  evidenceForTask,
  latestEvidence,
  listEvidence,
} from "../src/core/verify/evidence.js";
import { OutputCapture } from "../src/core/verify/run.js";
import { Claims } from "../src/store/sqlite/claims.js";
import { STATE_SCHEMA_VERSION, StateDb } from "../src/store/state-db.js";
import { parseConfig } from "../src/workspace/config.js";
import { KeelError } from "../src/workspace/errors.js";
import { CLI, cliEnv, jsonOut, keel, keelWith, type Run } from "./support/cli.js";
import { tempProjects, writeFile } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS_VERIFIED as TASKS } from "./support/fixtures.js";
import { commitAll as commit, git } from "./support/git.js";

const project = tempProjects("keel-verify-");

/** A git repository holding `files`, with `.keel/` and `scratch/` (for gates' marker files) ignored, committed once. */
function repo(files: Record<string, string>): { root: string; head: string } {
  const root = project({ ".gitignore": ".keel/\nscratch/\n", "scratch/.keep": "", ...files });
  git(root, "init", "-q", "-b", "main");
  git(root, "config", "user.name", "Alice Example");
  git(root, "config", "user.email", "alice@example.org");
  git(root, "config", "commit.gpgsign", "false");
  return { root, head: commit(root, "initial") };
}

/** Runs as `--as`: who claims and who finishes. */
const AGENT = { KEEL_ACTOR: "agent:codex-7" };
const HUMAN = { KEEL_ACTOR: "human:alice" };

function claim(root: string, task: string): number {
  const r = keelWith(AGENT, root, "tasks", "claim", task, "--json");
  expect(r.code).toBe(0);
  return jsonOut(r).claim.token as number;
}

function done(root: string, task: string, token: number, env = AGENT, ...extra: string[]): Run {
  return keelWith(env, root, "tasks", "done", task, "--token", String(token), ...extra);
}

// biome-ignore lint/suspicious/noExplicitAny: audit events from --json output
function auditEvents(root: string): any[] {
  return jsonOut(keel(root, "audit", "log", "--json")).events;
}

describe("keel.yaml gates and acceptance", () => {
  it("reads a gate as a command or as a mapping with run, timeout, parallel and cwd", () => {
    const c = parseConfig(
      [
        "gates:",
        "  test: npm test",
        "  e2e:",
        "    run: npm run e2e",
        "    timeout: 90s",
        "    parallel: false",
        "    cwd: ./web/",
        "acceptance:",
        "  PAY-1: npm test -- refunds",
        "  payments:",
        "    - npm test -- payments",
        "    - { run: ./smoke.sh, timeout: 2m }",
      ].join("\n"),
    );
    expect(c.gates).toEqual({ test: "npm test", e2e: "npm run e2e" });
    expect(c.gateSpecs.e2e).toEqual({
      run: "npm run e2e",
      timeoutMs: 90_000,
      parallel: false,
      cwd: "web",
      line: 4,
    });
    expect(c.gateSpecs.test).toMatchObject({ timeoutMs: null, parallel: true, cwd: "." });
    expect(c.acceptance["PAY-1"]?.map((g) => g.run)).toEqual(["npm test -- refunds"]);
    expect(c.acceptance.payments?.map((g) => [g.run, g.timeoutMs, g.line])).toEqual([
      ["npm test -- payments", null, 11],
      ["./smoke.sh", 120_000, 12],
    ]);
  });

  it.each([
    ["gates:\n  e2e:\n    run: x\n    timeout: 30\n", 4, "`gates.e2e.timeout` must be a positive duration"],
    ["gates:\n  e2e:\n    timeout: 1m\n", 3, "`gates.e2e` needs `run`"],
    [
      "gates:\n  e2e:\n    run: x\n    cwd: ../elsewhere\n",
      4,
      "`gates.e2e.cwd` must be a folder inside the project",
    ],
    ["gates:\n  e2e:\n    run: x\n    parallel: maybe\n", 4, "`gates.e2e.parallel` must be true or false"],
    ["gates:\n  e2e:\n    run: x\n    retries: 3\n", 4, "`gates.e2e.retries` is not a known key"],
    ["acceptance:\n  PAY-1: []\n", 2, "`acceptance.PAY-1` must name at least one command"],
    ["acceptance:\n  PAY-1:\n    - npm test\n    - 7\n", 4, "`acceptance.PAY-1[1]` must be a shell command"],
    ["acceptance: [npm test]\n", 1, "`acceptance` must be a mapping"],
  ])("refuses %j with its line", (text, line, message) => {
    let error: unknown;
    try {
      parseConfig(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeelError);
    expect((error as KeelError).message).toContain(message);
    expect((error as KeelError).location).toMatchObject({ file: "keel/keel.yaml", line });
  });

  it("stops keel verify on a bad acceptance entry, with the file and line (exit 3)", () => {
    const { root } = repo({ "keel/keel.yaml": "version: 1\nacceptance:\n  PAY-1:\n    timeout: 1m\n" });
    const r = keel(root, "verify");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("keel/keel.yaml:4:1: `acceptance.PAY-1` needs `run`");
  });

  it("keeps keel analyze's wiring: a principle whose gate is a mapping gate's command is wired", () => {
    const { root } = repo({
      "keel/keel.yaml": "version: 1\ngates:\n  unit:\n    run: npm run unit\n    timeout: 5m\n",
      "keel/constitution.md":
        "# Constitution\n\n## Principles\n\n### Principle: Tested {#P-1}\nTests pass.\n\nGate: `npm run unit`\n\n### Principle: Linted {#P-2}\nLint passes.\n\nGate: `npm run lint`\n",
    });
    const findings = jsonOut(keel(root, "analyze", "--json")).findings as Array<{
      rule: string;
      target: string;
    }>;
    expect(findings.filter((f) => f.rule === "analyze/gate-not-wired").map((f) => f.target)).toEqual(["P-2"]);
  });
});

describe("keel verify", () => {
  it("records passing and failing gates as evidence with the commit, the dirty flag and the covered fingerprints", () => {
    const { root, head } = repo({
      "keel/keel.yaml": "version: 1\ngates:\n  green: echo all good\n  red: echo broken >&2; exit 3\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    });
    const r = keel(root, "verify");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✓ green .*#\d+/);
    expect(r.stdout).toMatch(/✗ red .*exit 3/);
    // The failing gate's output is shown, stderr merged in.
    expect(r.stdout).toContain("── red (echo broken >&2; exit 3) · last 1 line of 7 B of output ──\nbroken");
    expect(r.stdout).toContain("1 of 2 failed");

    const rows = listEvidence(root);
    expect(rows.map((e) => [e.gate, e.exitCode, e.passed, e.commit, e.dirty]).sort()).toEqual([
      ["green", 0, true, head, false],
      ["red", 3, false, head, false],
    ]);
    const green = rows.find((e) => e.gate === "green");
    expect(green).toMatchObject({
      kind: "project",
      command: "echo all good",
      cwd: ".",
      timedOut: false,
      task: null,
      outputTail: "all good\n",
      outputBytes: 9,
      outputDigest: createHash("sha256").update("all good\n").digest("hex"),
      actor: "human:Alice Example",
      treeDigest: null,
    });
    // A whole-project run vouches for every requirement, with the fingerprint it has now.
    const shown = jsonOut(keel(root, "show", "PAY-1", "--json"));
    expect(green?.requirements).toEqual({
      "PAY-1": shown.item.fingerprint,
      "PAY-2": expect.stringMatching(/^[0-9a-f]{16}$/),
    });
    expect(latestEvidence(root).map((e) => e.gate)).toEqual(["green", "red"]);
    expect(evidenceForRequirement(root, "PAY-2")).toHaveLength(2);

    // An untracked file makes the tree dirty; the next evidence says so and carries the tree's digest.
    writeFile(root, "notes.txt", "draft\n");
    const dirty = jsonOut(keel(root, "verify", "--gate", "green", "--json"));
    expect(dirty.tree).toMatchObject({
      commit: head,
      dirty: true,
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(listEvidence(root, { limit: 1 })[0]).toMatchObject({
      gate: "green",
      dirty: true,
      treeDigest: dirty.tree.digest,
    });

    // One audit event per run, naming every gate's evidence.
    const runs = auditEvents(root).filter((e) => e.action === "verify.run");
    expect(runs).toHaveLength(2);
    expect(runs[0]).toMatchObject({ target: "all", after: "failed", data: { commit: head, dirty: false } });
    expect(runs[1].data.gates).toEqual([
      { gate: "green", evidence: dirty.gates[0].evidence, result: "passed", exitCode: 0 },
    ]);
    expect(keel(root, "audit", "verify").code).toBe(0);
  });

  it("runs the constitution's gates, as named gates when they are one, and its own otherwise", () => {
    const { root } = repo({
      "keel/keel.yaml": "version: 1\ngates:\n  test: echo tests\n",
      "keel/constitution.md":
        "# Constitution\n\n## Principles\n\n### Principle: Tested {#P-1}\nTests pass.\n\nGate: `echo tests`\n\n### Principle: Named {#P-2}\nBy name.\n\nGate: `test`\n\n### Principle: Own {#P-3}\nIts own command.\n\nGate: `echo own`\n",
    });
    const out = jsonOut(keel(root, "verify", "--json"));
    expect(out.gates.map((g: { name: string; kind: string }) => [g.name, g.kind])).toEqual([
      ["test", "project"],
      ["P-3", "constitution"],
    ]);
    expect(out.gates[1].output.tail).toBe("own\n");
  });

  it("--req runs the requirement's acceptance, its capability's and the project gates; --task adds the task's verify", () => {
    const { root } = repo({
      "keel/keel.yaml":
        "version: 1\ngates:\n  unit: echo unit\nacceptance:\n  PAY-1: echo accept-pay-1\n  payments:\n    - echo accept-payments\n    - { run: pwd, cwd: sub }\n  PAY-2: echo accept-pay-2\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
      "keel/specs/payments/tasks.md": TASKS,
      "sub/.keep": "",
      "refunds.ok": "",
    });
    const req = jsonOut(keel(root, "verify", "--req", "PAY-1", "--json"));
    expect(req.scope).toEqual({ kind: "requirement", target: "PAY-1" });
    expect(req.gates.map((g: { name: string }) => g.name)).toEqual([
      "unit",
      "acceptance:PAY-1",
      "acceptance:payments#1",
      "acceptance:payments#2",
    ]);
    expect(req.gates[3].output.tail).toBe(`${join(root, "sub")}\n`);
    expect(Object.keys(req.gates[0].requirements)).toEqual(["PAY-1"]);
    // A capability's acceptance vouches for every requirement of the capability.
    expect(Object.keys(req.gates[2].requirements).sort()).toEqual(["PAY-1", "PAY-2"]);

    const task = jsonOut(keel(root, "verify", "--task", "1.1", "--json"));
    expect(task.gates.map((g: { name: string }) => g.name)).toEqual([
      "unit",
      "acceptance:PAY-1",
      "acceptance:payments#1",
      "acceptance:payments#2",
      "task:payments/1.1",
    ]);
    expect(task.passed).toBe(true);
    expect(evidenceForTask(root, "payments/1.1")).toHaveLength(5);

    const unknown = keel(root, "verify", "--req", "PAY-11");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown requirement: PAY-11");
    expect(keel(root, "verify", "--task", "1.1", "--req", "PAY-1").code).toBe(2);
    const badGate = keel(root, "verify", "--gate", "nope");
    expect(badGate.code).toBe(2);
    expect(badGate.stderr).toContain("no gate named nope");
  });

  it("--changed runs nothing when nothing changed, and the gates of a requirement whose spec changed", () => {
    const { root } = repo({
      "keel/keel.yaml":
        "version: 1\ngates:\n  unit: echo unit\nacceptance:\n  PAY-1: echo a1\n  PAY-2: echo a2\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    });
    // No evidence yet: every gate.
    const first = jsonOut(keel(root, "verify", "--changed", "--json"));
    expect(first.gates.map((g: { name: string }) => g.name)).toEqual(["unit"]);
    expect(first.notes).toContain("no earlier evidence on a commit to compare with: running every gate");

    const none = jsonOut(keel(root, "verify", "--changed", "--json"));
    expect(none.gates).toEqual([]);

    writeFile(
      root,
      "keel/specs/payments/spec.md",
      PAYMENTS_SPEC.replace("every payment", "every captured payment"),
    );
    const changed = jsonOut(keel(root, "verify", "--changed", "--json"));
    expect(changed.gates.map((g: { name: string }) => g.name)).toEqual(["unit", "acceptance:PAY-2"]);
    expect(Object.keys(changed.gates[0].requirements)).toEqual(["PAY-2"]);

    // A changed file that names a requirement makes it relevant too.
    commit(root, "receipts wording");
    writeFile(root, "src/refunds.ts", "// @req PAY-1\nexport const refunds = 1;\n");
    const linked = jsonOut(keel(root, "verify", "--changed", "--json"));
    expect(linked.gates.map((g: { name: string }) => g.name)).toEqual(["unit", "acceptance:PAY-1"]);
  });

  it("kills a hanging gate and every process it started at the timeout, and records it as timed out", () => {
    const { root } = repo({
      "keel/keel.yaml":
        "version: 1\ngates:\n  hang:\n    run: node hang.cjs\n    timeout: 1s\n  nap:\n    run: sleep 5\n    timeout: 1m\n",
      // Starts a child that sleeps forever, writes both PIDs, ignores SIGTERM (so SIGKILL is needed) and never exits.
      "hang.cjs": [
        'const { spawn } = require("node:child_process");',
        'const fs = require("node:fs");',
        'const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });',
        'fs.writeFileSync("scratch/pids.txt", process.pid + " " + child.pid);',
        'process.on("SIGTERM", () => console.log("ignoring SIGTERM"));',
        'console.log("hanging");',
        "setInterval(() => {}, 1000);",
      ].join("\n"),
    });
    // Bounded, so that a Keel that waited for the hanging gate fails this test instead of blocking it.
    const r = spawnSync(process.execPath, [CLI, "verify", "--gate", "hang", "--json"], {
      cwd: root,
      env: cliEnv(),
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.signal).toBeNull();
    expect(r.status).toBe(1);
    const out = JSON.parse(r.stdout);
    expect(out.gates[0]).toMatchObject({ name: "hang", result: "timed-out", exitCode: null, timedOut: true });
    expect(out.gates[0].output.tail).toContain("hanging\n");
    expect(out.gates[0].output.tail).toContain("ignoring SIGTERM");
    const pids = readFileSync(join(root, "scratch/pids.txt"), "utf8").split(" ").map(Number);
    expect(pids).toHaveLength(2);
    try {
      for (const pid of pids) expect(alive(pid)).toBe(false);
    } finally {
      for (const pid of pids) if (alive(pid)) process.kill(pid, "SIGKILL");
    }
    expect(listEvidence(root)[0]).toMatchObject({
      gate: "hang",
      exitCode: null,
      timedOut: true,
      passed: false,
    });
    expect(listEvidence(root)[0]?.durationMs).toBeGreaterThanOrEqual(1000);

    // --timeout replaces the gate's own: a gate allowed a minute is stopped at 300 ms.
    const quick = JSON.parse(keel(root, "verify", "--gate", "nap", "--timeout", "300ms", "--json").stdout);
    expect(quick.gates[0]).toMatchObject({ name: "nap", result: "timed-out", exitCode: null });
    const bad = keel(root, "verify", "--timeout", "10");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--timeout "10" is not a duration');
  });

  it("keeps the last 64 KiB of 20 MB of output, with a digest and a byte count of all of it", () => {
    const { root } = repo({
      "keel/keel.yaml": "version: 1\ngates:\n  loud: node loud.cjs 20\n",
      "loud.cjs": LOUD,
    });
    const expected = spawnSync(process.execPath, ["loud.cjs", "20"], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(expected.stdout.length).toBeGreaterThanOrEqual(20 * 1024 * 1024);
    const out = jsonOut(keel(root, "verify", "--json"));
    expect(out.gates[0].output).toEqual({
      bytes: expected.stdout.length,
      digest: createHash("sha256").update(expected.stdout).digest("hex"),
      tail: expected.stdout.subarray(expected.stdout.length - 64 * 1024).toString("utf8"),
    });
    const row = listEvidence(root)[0];
    expect(row?.outputTail.length).toBe(64 * 1024);
    expect(row?.outputBytes).toBe(expected.stdout.length);
  });

  it("holds memory to the tail: 200 MB of output costs the verify process far less than 200 MB", () => {
    const { root } = repo({
      "keel/keel.yaml":
        "version: 1\ngates:\n  quiet: node loud.cjs 0 scratch/quiet.hwm\n  loud: node loud.cjs 200 scratch/loud.hwm\n",
      "loud.cjs": LOUD,
    });
    // Each gate writes the peak resident memory of the `keel verify` process running it, after its output.
    expect(keel(root, "verify", "--gate", "quiet").code).toBe(0);
    expect(keel(root, "verify", "--gate", "loud").code).toBe(0);
    const quiet = Number(readFileSync(join(root, "scratch/quiet.hwm"), "utf8"));
    const loud = Number(readFileSync(join(root, "scratch/loud.hwm"), "utf8"));
    expect(listEvidence(root, { gate: "loud" })[0]?.outputBytes).toBeGreaterThanOrEqual(200 * 1024 * 1024);
    expect(loud - quiet).toBeLessThan(64 * 1024); // KiB
  });

  it("runs parallel gates at the same time and a serial gate alone, after them", () => {
    const gate = (me: string, other: string) =>
      `cd scratch; echo start-${me} >> order.log; touch running-${me} started-${me}; while [ ! -e started-${other} ]; do sleep 0.01; done; rm running-${me}; echo end-${me} >> order.log`;
    const { root } = repo({
      "keel/keel.yaml": [
        "version: 1",
        "gates:",
        "  alone:",
        "    run: cd scratch; echo start-alone >> order.log; ls running-* 2>/dev/null && exit 1; echo end-alone >> order.log",
        "    parallel: false",
        `  a: { run: "${gate("a", "b")}", timeout: 20s }`,
        `  b: { run: "${gate("b", "a")}", timeout: 20s }`,
        "",
      ].join("\n"),
    });
    // a waits until b has started and b until a has: they can only both finish if they run at the same time.
    const out = jsonOut(keel(root, "verify", "--json"));
    expect(out.gates.map((g: { name: string; result: string }) => [g.name, g.result])).toEqual([
      ["alone", "passed"],
      ["a", "passed"],
      ["b", "passed"],
    ]);
    const order = readFileSync(join(root, "scratch/order.log"), "utf8").trim().split("\n");
    expect(order.slice(0, 2).sort()).toEqual(["start-a", "start-b"]);
    expect(order.slice(2, 4).sort()).toEqual(["end-a", "end-b"]);
    expect(order.slice(4)).toEqual(["start-alone", "end-alone"]);
  });

  it("records a gate whose folder is missing as failed to start", () => {
    const { root } = repo({ "keel/keel.yaml": "version: 1\ngates:\n  web: { run: npm test, cwd: web }\n" });
    const r = keel(root, "verify");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("could not start: folder web does not exist");
  });

  it("says there is nothing to run when no gate is declared (exit 0)", () => {
    const { root } = repo({ "keel/keel.yaml": "version: 1\n" });
    const r = keel(root, "verify");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("no gates to run");
    expect(listEvidence(root)).toEqual([]);
  });
});

describe("keel tasks done: backpressure", () => {
  const FILES = {
    "keel/keel.yaml": "version: 1\ngates:\n  unit: echo unit tests pass\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  };

  it("refuses done while a gate fails, and lets it through once the gates pass on this commit", () => {
    const { root } = repo(FILES);
    const token = claim(root, "payments/1.1");
    // No evidence at all yet.
    const missing = done(root, "payments/1.1", token);
    expect(missing.code).toBe(7);
    expect(missing.stderr).toContain("task payments/1.1 is not done: 2 of 2 gates have no passing evidence");
    expect(missing.stderr).toContain("- unit: no evidence on this tree");
    expect(missing.stderr).toContain("- task:payments/1.1: no evidence on this tree");
    expect(missing.stderr).toContain("keel verify --task payments/1.1");

    // The task's own verify command fails (refunds.ok does not exist).
    expect(keel(root, "verify", "--task", "payments/1.1").code).toBe(1);
    const failing = done(root, "payments/1.1", token, AGENT, "--json");
    expect(failing.code).toBe(7);
    const error = JSON.parse(failing.stdout).error;
    expect(error.code).toBe("gates-not-passing");
    expect(error.message).toMatch(
      /1 of 2 gates has no passing evidence on commit [0-9a-f]{12} \(clean tree\)/,
    );
    expect(error.message).toMatch(/- task:payments\/1\.1: failed \(exit 1\) — evidence #\d+/);
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toBe(TASKS);

    // Fixed and committed: the evidence on the old commit does not count for the new one.
    writeFile(root, "refunds.ok", "");
    commit(root, "refunds");
    expect(done(root, "payments/1.1", token).stderr).toMatch(
      /task:payments\/1\.1: no evidence on this tree; last run failed on [0-9a-f]{12}/,
    );
    expect(keel(root, "verify", "--task", "payments/1.1").code).toBe(0);
    const ok = done(root, "payments/1.1", token, AGENT, "--json");
    expect(ok.code).toBe(0);
    const body = JSON.parse(ok.stdout);
    expect(body.done.status).toBe("done");
    expect(body.gates.ok).toBe(true);
    expect(body.gates.gates.map((g: { name: string; state: string }) => [g.name, g.state])).toEqual([
      ["unit", "passed"],
      ["task:payments/1.1", "passed"],
    ]);
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toContain("- [x] 1.1");
  });

  it("counts evidence on a dirty tree only for the same uncommitted changes", () => {
    const { root } = repo(FILES);
    const token = claim(root, "payments/1.1");
    writeFile(root, "refunds.ok", "v1");
    expect(keel(root, "verify", "--task", "payments/1.1").code).toBe(0);
    // Another edit after the run: the evidence was for other changes.
    writeFile(root, "src/refunds.ts", "export {};\n");
    const other = done(root, "payments/1.1", token);
    expect(other.code).toBe(7);
    expect(other.stderr).toContain("with uncommitted changes");
    expect(other.stderr).toContain("last run passed on");
    // Undo it: the tree is again exactly what was verified.
    rmSync(join(root, "src"), { recursive: true });
    expect(done(root, "payments/1.1", token).code).toBe(0);
  });

  it("a failing project gate holds back a task with no verify of its own; a project without gates holds nothing", () => {
    const { root } = repo({ ...FILES, "keel/keel.yaml": "version: 1\ngates:\n  unit: exit 1\n" });
    const token = claim(root, "payments/1.2");
    expect(keel(root, "verify", "--task", "payments/1.2").code).toBe(1);
    expect(done(root, "payments/1.2", token).code).toBe(7);

    const free = repo({ ...FILES, "keel/keel.yaml": "version: 1\n" }).root;
    const t = claim(free, "payments/1.2");
    const r = done(free, "payments/1.2", t, AGENT, "--json");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).gates).toMatchObject({ ok: true, gates: [] });
  });

  it("a stale token is refused by the claim store (exit 6) before gates are looked at", () => {
    const { root } = repo(FILES);
    const token = claim(root, "payments/1.1");
    const r = done(root, "payments/1.1", token + 5);
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("stale");
  });

  it("an agent cannot override; a human can, with a reason, and both are audited", () => {
    const { root } = repo(FILES);
    const token = claim(root, "payments/1.1");
    expect(keel(root, "verify", "--task", "payments/1.1").code).toBe(1);

    const agent = done(root, "payments/1.1", token, AGENT, "--override", "--reason", "the test is flaky");
    expect(agent.code).toBe(5);
    expect(agent.stderr).toContain("refused by rule override-human-only: agent:codex-7 is an agent");
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toBe(TASKS);

    const noReason = done(root, "payments/1.1", token, HUMAN, "--override");
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain("--override needs --reason");

    const human = done(
      root,
      "payments/1.1",
      token,
      HUMAN,
      "--override",
      "--reason",
      "refunds.ok is made by the release job",
    );
    expect(human.code).toBe(0);
    expect(human.stderr).toContain("overridden by human:alice: refunds.ok is made by the release job");
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toContain("- [x] 1.1");

    const events = auditEvents(root);
    const refused = events.find((e) => e.action === "task.done.override.refused");
    expect(refused).toMatchObject({
      actor: "agent:codex-7",
      actorKind: "agent",
      target: "payments/1.1",
      reason: "the test is flaky",
      data: { rule: "override-human-only" },
    });
    const override = events.find((e) => e.action === "task.done.override");
    expect(override).toMatchObject({
      actor: "human:alice",
      actorKind: "human",
      target: "payments/1.1",
      reason: "refunds.ok is made by the release job",
      data: { token, dirty: false, gates: [{ gate: "task:payments/1.1", state: "failed" }] },
    });
    const doneAt = events.findIndex((e) => e.action === "task.done");
    expect(doneAt).toBeGreaterThanOrEqual(0);
    expect(doneAt).toBeLessThan(events.indexOf(override));
    expect(keel(root, "audit", "verify").code).toBe(0);
  });
});

describe("evidence store", () => {
  it("migrates a schema-2 state file in place: claims kept, evidence table added", () => {
    const root = project({});
    let state = StateDb.open(root);
    const grant = new Claims(state, root).claim("T1", "agent:a", 60_000, new Date());
    state.db.exec("DROP TABLE evidence; DROP TABLE tokens; DROP TABLE meta;");
    state.db.pragma("user_version = 2");
    state.close();
    // A reader never creates the table, nor fails without it.
    expect(listEvidence(root)).toEqual([]);
    state = StateDb.open(root);
    try {
      expect(state.db.pragma("user_version", { simple: true })).toBe(STATE_SCHEMA_VERSION);
      expect(new Claims(state, root).get("T1", new Date())?.token).toBe(grant.token);
      expect(state.db.prepare("SELECT count(*) AS n FROM evidence").get()).toEqual({ n: 0 });
    } finally {
      state.close();
    }
  });
});

describe("output capture", () => {
  it("keeps exactly the last bytes across chunk boundaries and drops a character cut in half", () => {
    const c = new OutputCapture(8);
    for (const s of ["abc", "defgh", "ij", "€k"]) c.push(Buffer.from(s));
    // "abcdefghij€k" is 14 bytes; the last 8 are "ghij", the 3 bytes of "€", and "k".
    const out = c.finish();
    expect(out).toEqual({
      tail: "ghij€k",
      bytes: 14,
      digest: createHash("sha256").update("abcdefghij€k").digest("hex"),
    });
    const cut = new OutputCapture(4);
    cut.push(Buffer.from("a€bc"));
    expect(cut.finish().tail).toBe("bc");
  });
});

/** Whether a process is running: it exists and is not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return !/\) Z /.test(stat);
}

/**
 * `node loud.cjs <MiB> [file]`: writes MiB mebibytes of numbered lines to stdout; then, with `file`, the peak
 * resident memory (VmHWM, KiB) of the `keel` process that runs it.
 */
const LOUD = `const fs = require("node:fs");
const mib = Number(process.argv[2]);
const out = process.argv[3];
const target = mib * 1024 * 1024;
let n = 0;
let written = 0;
function chunk() {
  let s = "";
  while (s.length < 65536) s += "line " + String(n++).padStart(9, "0") + " abcdefghijklmnopqrstuvwxyz\\n";
  return s;
}
function keelPid() {
  let pid = process.ppid;
  for (let i = 0; i < 10 && pid > 1; i++) {
    if (fs.readFileSync("/proc/" + pid + "/cmdline", "utf8").includes("keel.mjs")) return pid;
    pid = Number(fs.readFileSync("/proc/" + pid + "/stat", "utf8").split(") ")[1].split(" ")[1]);
  }
  throw new Error("no keel process above this one");
}
function pump() {
  while (written < target) {
    const c = chunk();
    written += c.length;
    if (!process.stdout.write(c)) return process.stdout.once("drain", pump);
  }
  process.stdout.write("", () => {
    if (out) fs.writeFileSync(out, /VmHWM:\\s+(\\d+)/.exec(fs.readFileSync("/proc/" + keelPid() + "/status", "utf8"))[1]);
  });
}
pump();
`;
