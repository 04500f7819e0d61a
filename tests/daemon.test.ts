// `keel daemon` end to end, with the real bundle as child processes: read commands answered by the daemon are
// byte for byte what the CLI prints alone; only the owner's token is heard; a killed, stopped or other-build
// daemon is ignored; and random edits, renames and deletes made just before each request are always seen
// (the watcher's sync cookie), checked against a fresh cold run of a copy after every step.
import { type ChildProcess, spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, keelAsync, type Run } from "./support/cli.js";
import { writeFile } from "./support/files.js";

const EXAMPLE = join(import.meta.dirname, "..", "examples", "acme-invoicing");

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-daemon-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function exampleCopy(): string {
  const root = join(tmp, `p${++counter}`);
  cpSync(EXAMPLE, root, { recursive: true, filter: (src) => !src.includes(`${join(EXAMPLE, ".keel")}`) });
  return root;
}

/**
 * Files copied a moment ago are within the racy window (workspace/discover.ts), which makes the first checks of
 * a run walk the folders: whichever of the daemon or the CLI looks first would then report different figures.
 */
const SETTLED = { KEEL_RACY_WINDOW_MS: "0" };

const daemons: ChildProcess[] = [];
afterEach(() => {
  for (const d of daemons.splice(0)) if (d.exitCode === null) d.kill("SIGKILL");
});

/** Starts `keel daemon run` in the foreground and resolves when it says it is ready. */
function startDaemon(root: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, "daemon", "run"], {
    cwd: root,
    env: cliEnv({ ...SETTLED, KEEL_NO_DAEMON: "1" }),
  });
  daemons.push(child);
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(child);
    });
    child.on("exit", (code) => reject(new Error(`daemon exited ${code}`)));
  });
}

const viaDaemon = (root: string, ...args: string[]): Promise<Run> => keelAsync(root, args, SETTLED);
const alone = (root: string, ...args: string[]): Promise<Run> =>
  keelAsync(root, args, { ...SETTLED, KEEL_NO_DAEMON: "1" });

async function served(root: string): Promise<number> {
  const r = await alone(root, "daemon", "status", "--json");
  return JSON.parse(r.stdout).figures.served as number;
}

function record(root: string): { pid: number; socket: string; token: string; build: string } {
  return JSON.parse(readFileSync(join(root, ".keel", "daemon.json"), "utf8"));
}

describe("keel daemon", () => {
  // @verifies DMN-1, DMN-2
  it("answers read commands byte for byte as the CLI does alone, exit codes included", async () => {
    const root = exampleCopy();
    await startDaemon(root);
    const commands = [
      ["validate"],
      ["validate", "--json"],
      ["validate", "--strict", "--json"],
      ["list", "requirements", "--json"],
      ["list", "specs"],
      ["show", "INV-1", "--json"],
      ["show", "NOPE-404"],
      ["search", "invoice", "--json"],
      ["status", "--json"],
      ["tasks", "list"],
      ["tasks", "ready", "--json"],
      ["tasks", "graph", "--format", "mermaid"],
      ["coverage", "--json"],
      ["analyze", "--json"],
      ["trace", "--json"],
      ["validate", "--profile", "nonsense"],
    ];
    // The index is brought up to date once, so both sides answer from the same warm state.
    await alone(root, "list", "--json");
    const before = await served(root);
    for (const argv of commands) {
      const fromDaemon = await viaDaemon(root, ...argv);
      const local = await alone(root, ...argv);
      expect({ argv, ...fromDaemon }).toEqual({ argv, ...local });
    }
    expect((await served(root)) - before).toBe(commands.length);
    // A write is never sent to the daemon: it runs here, and the daemon answers nothing for it.
    const writes = await served(root);
    const claim = await viaDaemon(root, "tasks", "claim", "--next", "--as", "agent:t", "--json");
    expect(claim.code).toBe(0);
    expect(await served(root)).toBe(writes);
  });

  // @verifies DMN-3
  it("hears only its owner: owner-only socket and record, and a wrong token gets no answer", async () => {
    const root = exampleCopy();
    await startDaemon(root);
    const rec = record(root);
    expect(statSync(join(root, ".keel", "daemon.json")).mode & 0o777).toBe(0o600);
    expect(statSync(rec.socket).mode & 0o777).toBe(0o600);
    const reply = await new Promise<string>((resolve) => {
      const socket = connect(rec.socket);
      let got = "";
      socket.on("connect", () =>
        socket.write(
          `${JSON.stringify({ token: "0".repeat(64), build: rec.build, argv: ["validate"], cwd: root, env: {}, color: false })}\n`,
        ),
      );
      socket.on("data", (d) => {
        got += d;
      });
      socket.on("close", () => resolve(got));
    });
    expect(reply).toBe("");
  });

  // @verifies DMN-4
  it("is ignored when killed, when stopped (no acknowledgement), and when it is another build", async () => {
    const root = exampleCopy();
    const expected = await alone(root, "validate", "--json");

    const killed = await startDaemon(root);
    killed.kill("SIGKILL");
    await new Promise((r) => killed.once("exit", r));
    expect(existsSync(join(root, ".keel", "daemon.json"))).toBe(true);
    expect(await viaDaemon(root, "validate", "--json")).toEqual(expected);

    const stopped = await startDaemon(root);
    stopped.kill("SIGSTOP");
    try {
      expect(await viaDaemon(root, "validate", "--json")).toEqual(expected);
    } finally {
      stopped.kill("SIGCONT");
    }

    const rec = record(root);
    const before = await served(root);
    writeFileSync(join(root, ".keel", "daemon.json"), JSON.stringify({ ...rec, build: "0.0.0+other" }));
    expect(await viaDaemon(root, "validate", "--json")).toEqual(expected);
    writeFileSync(join(root, ".keel", "daemon.json"), JSON.stringify(rec));
    expect(await served(root)).toBe(before);
  });

  it("starts in the background, says so in status, and stops, removing its record", async () => {
    const root = exampleCopy();
    const started = await alone(root, "daemon", "start", "--json");
    expect(JSON.parse(started.stdout)).toMatchObject({ started: true, running: true, sameBuild: true });
    const again = await alone(root, "daemon", "start", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ started: false, running: true });
    const status = await alone(root, "daemon", "status");
    expect(status.stdout).toMatch(/running \(pid \d+.*folders watched/);
    const stopped = await alone(root, "daemon", "stop", "--json");
    expect(JSON.parse(stopped.stdout)).toEqual({ stopped: true });
    expect(existsSync(join(root, ".keel", "daemon.json"))).toBe(false);
    expect((await alone(root, "daemon", "status")).stdout).toBe("keel daemon: not running\n");
  });

  it("refuses a missing or unknown subcommand, an argument and a flag (exit 2), starting nothing", async () => {
    const root = exampleCopy();
    for (const args of [[], ["restart"], ["start", "now"], ["start", "--detach"]]) {
      const r = await alone(root, "daemon", ...args);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("usage: keel daemon");
    }
    expect(existsSync(join(root, ".keel", "daemon.json"))).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------------------
// The property: after any sequence of edits, renames and deletes, made just before the request, the daemon's
// answers are those of a fresh cold run on a copy of the files.

const CAPS = ["alpha", "beta", "gamma", "delta"];

function spec(cap: string, n: number, word: string): string {
  const reqs = Array.from(
    { length: n },
    (_, i) => `### Requirement: ${word} rule ${i + 1} {#${cap.toUpperCase()}-${i + 1}}
> status: approved · origin: human · explicit
The system SHALL apply ${word} rule ${i + 1}.

#### Scenario: ${word} ${i + 1}
- **WHEN** it runs
- **THEN** rule ${i + 1} holds
`,
  );
  return `# ${cap} Specification\n\n## Purpose\nThe ${cap} capability, ${word}.\n\n## Requirements\n\n${reqs.join("\n")}`;
}

type Op =
  | { kind: "write"; cap: number; n: number; word: string }
  | { kind: "append"; cap: number }
  | { kind: "rename"; from: number; to: number }
  | { kind: "delete"; cap: number }
  | { kind: "break"; cap: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    cap: fc.nat(3),
    n: fc.integer({ min: 1, max: 4 }),
    word: fc.constantFrom("fast", "exact", "plain", "quick"),
  }),
  fc.record({ kind: fc.constant("append" as const), cap: fc.nat(3) }),
  fc.record({ kind: fc.constant("rename" as const), from: fc.nat(3), to: fc.nat(3) }),
  fc.record({ kind: fc.constant("delete" as const), cap: fc.nat(3) }),
  fc.record({ kind: fc.constant("break" as const), cap: fc.nat(3) }),
);

function apply(root: string, o: Op): void {
  const file = (cap: number) => join(root, "keel", "specs", CAPS[cap] as string, "spec.md");
  switch (o.kind) {
    case "write":
      writeFile(root, `keel/specs/${CAPS[o.cap]}/spec.md`, spec(CAPS[o.cap] as string, o.n, o.word));
      return;
    case "append":
      if (existsSync(file(o.cap)))
        writeFileSync(file(o.cap), `${readFileSync(file(o.cap), "utf8")}\nSee [[GHOST-1]].\n`);
      return;
    case "rename": {
      const from = join(root, "keel", "specs", CAPS[o.from] as string);
      const to = join(root, "keel", "specs", CAPS[o.to] as string);
      if (o.from !== o.to && existsSync(from) && !existsSync(to)) renameSync(from, to);
      return;
    }
    case "delete":
      rmSync(join(root, "keel", "specs", CAPS[o.cap] as string), { recursive: true, force: true });
      return;
    case "break":
      // Same size, same second: only the content (and the change stamp) moves.
      if (existsSync(file(o.cap)))
        writeFileSync(file(o.cap), readFileSync(file(o.cap), "utf8").replace("SHALL", "MAY!!"));
      return;
  }
}

/** The answer without the figures of how the index was checked, which a cold run and a warm one differ in. */
function answer(run: Run): unknown {
  const parsed = JSON.parse(run.stdout);
  if (parsed && typeof parsed === "object") delete parsed.index;
  return { code: run.code, stderr: run.stderr, out: parsed };
}

describe("keel daemon under random edits", () => {
  // @verifies DMN-5, DMN-2
  it("answers as a fresh cold run does, after every step", async () => {
    const root = join(tmp, "prop");
    writeFile(root, "keel/project.md", "# Project\n");
    for (const [i, cap] of CAPS.entries())
      writeFile(root, `keel/specs/${cap}/spec.md`, spec(cap, i + 1, "plain"));
    await startDaemon(root);
    const cold = join(tmp, "prop-cold");
    let steps = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 6 }), async (ops) => {
        for (const o of ops) {
          apply(root, o);
          steps++;
          rmSync(cold, { recursive: true, force: true });
          cpSync(join(root, "keel"), join(cold, "keel"), { recursive: true });
          for (const argv of [
            ["validate", "--json"],
            ["list", "requirements", "--json"],
          ]) {
            const warm = await viaDaemon(root, ...argv);
            const fresh = await alone(cold, ...argv);
            expect({ o, argv, ...(answer(warm) as object) }).toEqual({
              o,
              argv,
              ...(answer(fresh) as object),
            });
          }
        }
      }),
      { numRuns: 6 },
    );
    expect(steps).toBeGreaterThan(5);
    expect(await served(root)).toBeGreaterThanOrEqual(steps * 2);
  });
});
