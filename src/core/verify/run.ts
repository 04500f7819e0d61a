// Running gates: each with `sh -c` in its own process group, so a timeout (or Ctrl-C) kills the command and
// everything it started — SIGTERM to the group, then SIGKILL after a grace period. Output (stderr merged into
// stdout, in the order written, as on a terminal) is never held whole: a ring keeps its last 64 KiB, and a
// SHA-256 and a byte count cover all of it. Gates marked parallel run at the same time, at most
// os.availableParallelism() at once; the others run one at a time, after them, each alone.
// @req TRC-5
import { type ChildProcess, spawn } from "node:child_process";
import { createHash, type Hash } from "node:crypto";
import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";
import type { Gate } from "./gates.js";

/** How much of the end of a gate's output is kept. */
export const TAIL_BYTES = 64 * 1024;
/** Time between SIGTERM and SIGKILL when a gate is stopped. */
export const KILL_GRACE_MS = 2000;

export interface GateOutput {
  /** The last TAIL_BYTES bytes, decoded as UTF-8 (a character cut at the start is dropped). */
  tail: string;
  /** sha256 (hex) of the whole output. */
  digest: string;
  /** Bytes of the whole output. */
  bytes: number;
}

export interface GateRun {
  gate: Gate;
  /** The shell's exit code; null when it was killed (a timeout, a signal) or could not start. */
  exitCode: number | null;
  /** The signal that ended the shell, if one did. */
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  startedAt: Date;
  output: GateOutput;
  /** Why the gate could not start (its folder is missing…); null when it ran. */
  error: string | null;
}

export function passed(run: Pick<GateRun, "exitCode" | "timedOut">): boolean {
  return run.exitCode === 0 && !run.timedOut;
}

/** The result word evidence and the audit log record for a run. */
export function gateResult(run: Pick<GateRun, "exitCode" | "timedOut">): "passed" | "failed" | "timed-out" {
  return run.timedOut ? "timed-out" : passed(run) ? "passed" : "failed";
}

/** The last `limit` bytes of a stream, plus a digest and a count of all of it. Memory: about limit + one chunk. */
export class OutputCapture {
  private readonly hash: Hash = createHash("sha256");
  private chunks: Buffer[] = [];
  private held = 0;
  private total = 0;

  constructor(private readonly limit = TAIL_BYTES) {}

  push(chunk: Buffer): void {
    this.hash.update(chunk);
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.held += chunk.length;
    // Drop whole chunks from the front while what is left still covers the limit.
    while (this.chunks.length > 1 && this.held - (this.chunks[0] as Buffer).length >= this.limit) {
      this.held -= (this.chunks.shift() as Buffer).length;
    }
  }

  finish(): GateOutput {
    let tail = Buffer.concat(this.chunks);
    if (tail.length > this.limit) {
      tail = tail.subarray(tail.length - this.limit);
      // Skip UTF-8 continuation bytes of a character cut in half.
      let start = 0;
      while (start < tail.length && start < 4 && ((tail[start] as number) & 0xc0) === 0x80) start++;
      tail = tail.subarray(start);
    }
    this.chunks = [];
    return { tail: tail.toString("utf8"), digest: this.hash.digest("hex"), bytes: this.total };
  }
}

export interface RunOptions {
  /** The project root: gates run there, or in their `cwd` below it. */
  root: string;
  /** Most gates at once; default os.availableParallelism(). */
  concurrency?: number;
  graceMs?: number;
  /** Extra environment for every gate (KEEL_GATE is set to the gate's name). */
  env?: NodeJS.ProcessEnv;
  onStart?: (gate: Gate) => void;
  onFinish?: (run: GateRun) => void;
  /**
   * Turns the gate's command line into the one spawned, given the folder it runs in: `keel run` runs gates in the
   * agent's sandbox, since they execute code an agent wrote.
   */
  wrap?: (argv: string[], cwd: string) => string[];
}

/** Process groups of gates running now, so that an interrupted `keel verify` leaves none behind. */
const running = new Set<number>();

/** Kills every gate still running (their whole process groups) at once. For signal handlers. */
export function killRunningGates(): void {
  for (const pid of running) killGroup(pid, "SIGKILL");
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is gone already.
  }
}

/** The folder a gate runs in, or an error when it is not a folder inside the project. */
function gateDir(root: string, cwd: string): { dir: string } | { error: string } {
  const dir = cwd === "." ? root : join(root, cwd);
  const real = realpathOrNull(dir);
  const rootReal = realpathOrNull(root) ?? root;
  if (real === null) return { error: `folder ${cwd} does not exist` };
  if (!isWithin(rootReal, real)) return { error: `folder ${cwd} leads out of the project` };
  try {
    if (!statSync(real).isDirectory()) return { error: `${cwd} is not a folder` };
  } catch {
    return { error: `folder ${cwd} cannot be read` };
  }
  return { dir: real };
}

/** Runs one gate to its end or its timeout. Never rejects: a gate that cannot start is a failed run. */
export function runGate(gate: Gate, options: RunOptions): Promise<GateRun> {
  const startedAt = new Date();
  const t0 = performance.now();
  const capture = new OutputCapture();
  /** A gate that never ran: a failed run whose output says why. */
  const cannotStart = (error: string): GateRun => {
    capture.push(Buffer.from(`keel: gate ${gate.name} cannot start: ${error}\n`));
    return {
      gate,
      exitCode: null,
      signal: null,
      timedOut: false,
      durationMs: 0,
      startedAt,
      output: capture.finish(),
      error,
    };
  };
  const where = gateDir(options.root, gate.cwd);
  if ("error" in where) return Promise.resolve(cannotStart(where.error));
  const grace = options.graceMs ?? KILL_GRACE_MS;
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      // `exec 2>&1` first: one stream, in the order the command wrote it. `detached`: a new process group,
      // whose ID is the shell's PID, so the whole tree can be signalled at once.
      const shell = ["sh", "-c", `exec 2>&1\n${gate.command}`];
      const argv = options.wrap ? options.wrap(shell, where.dir) : shell;
      child = spawn(argv[0] as string, argv.slice(1), {
        cwd: where.dir,
        detached: true,
        stdio: ["ignore", "pipe", "ignore"],
        env: { ...process.env, ...options.env, KEEL_GATE: gate.name },
      });
    } catch (e) {
      resolve(cannotStart((e as Error).message));
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) running.add(pid);
    let timedOut = false;
    let exitCode: number | null = null;
    let signal: string | null = null;
    let durationMs = 0;
    let error: string | null = null;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const stop = () => {
      if (pid === undefined) return;
      killGroup(pid, "SIGTERM");
      timers.push(setTimeout(() => killGroup(pid, "SIGKILL"), grace));
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stop();
      }, gate.timeoutMs),
    );
    child.stdout?.on("data", (chunk: Buffer) => capture.push(chunk));
    const settle = () => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      if (pid !== undefined) {
        // Whatever the gate left behind in its group is stopped for good: the gate is over.
        killGroup(pid, "SIGKILL");
        running.delete(pid);
      }
      // A process that left the group (setsid) may still hold the pipe; it must not keep Keel waiting.
      child.stdout?.destroy();
      if (error !== null) capture.push(Buffer.from(`keel: gate ${gate.name} cannot start: ${error}\n`));
      resolve({
        gate,
        exitCode,
        signal,
        timedOut,
        durationMs: Math.round(durationMs || performance.now() - t0),
        startedAt,
        output: capture.finish(),
        error,
      });
    };
    child.on("error", (e) => {
      error = e.message;
      settle();
    });
    child.on("exit", (code, sig) => {
      exitCode = code;
      signal = sig;
      durationMs = performance.now() - t0;
      if (!timedOut) {
        // The shell is done; processes it left in its group may still hold the output open. They get
        // SIGTERM now and SIGKILL after the grace period, and the output is not waited for beyond that.
        stop();
        timers.push(setTimeout(settle, grace * 2));
      } else timers.push(setTimeout(settle, grace * 2));
    });
    child.on("close", settle);
  });
}

/**
 * Runs the gates and returns their runs in the order given. Parallel gates share a pool of `concurrency`
 * slots; then each serial gate runs alone.
 */
export async function runGates(gates: Gate[], options: RunOptions): Promise<GateRun[]> {
  const limit = Math.max(1, options.concurrency ?? availableParallelism());
  const results = new Map<Gate, GateRun>();
  const one = async (gate: Gate) => {
    options.onStart?.(gate);
    const run = await runGate(gate, options);
    results.set(gate, run);
    options.onFinish?.(run);
  };
  const queue = gates.filter((g) => g.parallel);
  const workers = Array.from({ length: Math.min(limit, queue.length) }, async () => {
    for (let g = queue.shift(); g !== undefined; g = queue.shift()) await one(g);
  });
  await Promise.all(workers);
  for (const gate of gates.filter((g) => !g.parallel)) await one(gate);
  return gates.map((g) => results.get(g) as GateRun);
}
