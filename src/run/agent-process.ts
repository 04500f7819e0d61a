// One run of a coding agent: started in its worktree (inside the sandbox), given the prompt on stdin as its launch
// says, and watched. The lease is heartbeated while it runs; an agent that shows no progress — no output, no file
// changed in the worktree — for the stall time is nudged (a note in KEEL_NUDGE_FILE), and after as long again with
// still nothing, stopped: Gas Town's "witness". The task's budget stops it too. The whole process group is killed,
// so nothing the agent started outlives the attempt.
// @req RUN-2, RUN-11
import { spawn } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { OutputCapture } from "../core/verify/run.js";
import { git } from "./git.js";
import type { Sandbox } from "./sandbox.js";

export interface AgentRunRequest {
  argv: string[];
  stdin: string | null;
  cwd: string;
  env: NodeJS.ProcessEnv;
  sandbox: Sandbox;
  network: boolean;
  /** Writable besides the worktree: the attempt's folder (its prompt, feedback and nudge files). */
  scratch: string;
  /** Hidden from the agent: Keel's state files. */
  hidden: string[];
  /** Kept visible (read-only) where the sandbox's private /tmp would cover them: the main checkout. */
  readOnly: string[];
  /** Further writable places: the agent's own state folders under HOME (its login, its sessions). */
  writable: string[];
  stallMs: number;
  /** Wall time this attempt may take before it is stopped. */
  budgetMs: number;
  heartbeatMs: number;
  heartbeat: () => void;
  /** The agent's PID and start time, once started: recorded so a resumed run can stop an orphaned agent. */
  onStart?: (pid: number, startTime: string | null) => void;
  onNudge?: () => void;
}

export interface AgentRunResult {
  exitCode: number | null;
  signal: string | null;
  /** Why Keel stopped it, or null when it ended by itself. */
  stopped: "stalled" | "budget" | null;
  nudged: boolean;
  durationMs: number;
  stdout: string;
  /** The last 64 KiB of stdout and stderr interleaved, for feedback. */
  tail: string;
  error: string | null;
}

const KILL_GRACE_MS = 2000;
/** Keep at most this much of stdout for the usage parser (a JSON result comes last). */
const STDOUT_LIMIT = 4 * 1024 * 1024;

/** The process's start time in clock ticks since boot (Linux /proc), or null elsewhere. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19] ?? null;
  } catch {
    return null;
  }
}

/** Kills a process group if its leader is still the process that was started (its start time matches). */
export function killIfSame(pid: number, startTime: string | null): boolean {
  if (startTime === null || processStartTime(pid) !== startTime) return false;
  try {
    process.kill(-pid, "SIGKILL");
    return true;
  } catch {
    return false;
  }
}

/** What changed in the worktree, as a signature: git's status plus each listed file's size and mtime. */
async function worktreeSignature(cwd: string): Promise<string> {
  const status = (await git(cwd, ["status", "--porcelain=v1", "-z", "--untracked-files=all"])).stdout;
  const parts = [status];
  for (const entry of status.split("\0")) {
    const path = entry.slice(3);
    if (!path) continue;
    try {
      const s = statSync(join(cwd, path));
      parts.push(`${s.size}:${s.mtimeMs}`);
    } catch {
      parts.push("-");
    }
  }
  return parts.join("|");
}

export function runAgent(req: AgentRunRequest): Promise<AgentRunResult> {
  const started = Date.now();
  const argv = req.sandbox.wrap({
    argv: req.argv,
    cwd: req.cwd,
    writable: [req.scratch, ...req.writable],
    hidden: req.hidden,
    readOnly: req.readOnly,
    network: req.network,
  });
  return new Promise((resolve) => {
    const tail = new OutputCapture();
    let stdout = "";
    let lastProgress = Date.now();
    let nudged = false;
    let stopped: AgentRunResult["stopped"] = null;
    let signature: string | null = null;
    let checking = false;
    const child = spawn(argv[0] as string, argv.slice(1), {
      cwd: req.cwd,
      env: req.env,
      detached: true,
      stdio: [req.stdin === null ? "ignore" : "pipe", "pipe", "pipe"],
    });
    if (child.pid !== undefined) req.onStart?.(child.pid, processStartTime(child.pid));
    const progress = () => {
      lastProgress = Date.now();
    };
    child.stdout?.on("data", (d: Buffer) => {
      progress();
      tail.push(d);
      if (stdout.length < STDOUT_LIMIT) stdout += d.toString("utf8");
    });
    child.stderr?.on("data", (d: Buffer) => {
      progress();
      tail.push(d);
    });
    child.stdin?.on("error", () => {
      // An agent that does not read its stdin closes it early: not an error of the run.
    });
    if (req.stdin !== null) child.stdin?.end(req.stdin);
    const stop = (why: "stalled" | "budget") => {
      if (stopped) return;
      stopped = why;
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGTERM");
      } catch {
        // Already gone.
      }
      setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }, KILL_GRACE_MS).unref();
    };
    const watch = async () => {
      if (checking || stopped) return;
      checking = true;
      const now = Date.now();
      if (now - started >= req.budgetMs) stop("budget");
      const sig = await worktreeSignature(req.cwd);
      if (signature !== null && sig !== signature) progress();
      signature = sig;
      const idle = Date.now() - lastProgress;
      if (!nudged && idle >= req.stallMs) {
        nudged = true;
        writeFileSync(
          join(req.scratch, "nudge.md"),
          `No output and no file change for ${Math.round(idle / 1000)} s. Keep going on the task, or exit if you are done; you will be stopped after as long again without progress.\n`,
        );
        req.onNudge?.();
        lastProgress = Date.now();
      } else if (nudged && idle >= req.stallMs) stop("stalled");
      checking = false;
    };
    const tick = Math.max(20, Math.min(req.stallMs / 4, 2000));
    const watcher = setInterval(() => void watch(), tick);
    const beat = setInterval(req.heartbeat, req.heartbeatMs);
    let done = false;
    const finish = (exitCode: number | null, signal: string | null, error: string | null) => {
      if (done) return;
      done = true;
      clearInterval(watcher);
      clearInterval(beat);
      resolve({
        exitCode,
        signal,
        stopped,
        nudged,
        durationMs: Date.now() - started,
        stdout,
        tail: tail.finish().tail,
        error,
      });
    };
    child.on("error", (e) => finish(null, null, e.message));
    // What the agent left running in its group would hold the pipes open: the attempt ends with the agent.
    child.on("exit", () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // The group is gone with it.
      }
    });
    child.on("close", (code, signal) => finish(code, signal, null));
  });
}
