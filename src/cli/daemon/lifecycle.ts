// Starting, finding and stopping a project's daemon from the CLI (`keel daemon start|stop|status`).
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_ID } from "../../model/version.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { pidAlive } from "../../workspace/process.js";
import { pingDaemon } from "./client.js";
import { DAEMON_FILE, type DaemonFigures, type DaemonRecord } from "./protocol.js";

export interface DaemonState {
  running: boolean;
  /** What the daemon says of itself when it answers (null when it does not). */
  figures: DaemonFigures | null;
  /** A record whose process is gone (killed): ignored by the CLI, replaced by the next start. */
  stale: boolean;
  pid: number | null;
  socket: string | null;
  build: string | null;
  /** False when the daemon is another build: the CLI then answers everything itself. */
  sameBuild: boolean;
  startedAt: string | null;
}

export async function daemonState(root: string): Promise<DaemonState> {
  const record = readRecord(root);
  const running = record !== null && pidAlive(record.pid);
  return {
    running,
    figures: running && record.build === BUILD_ID ? await pingDaemon(record) : null,
    stale: record !== null && !running,
    pid: record?.pid ?? null,
    socket: record?.socket ?? null,
    build: record?.build ?? null,
    sameBuild: record?.build === BUILD_ID,
    startedAt: record?.startedAt ?? null,
  };
}

export function readRecord(root: string): DaemonRecord | null {
  try {
    return JSON.parse(readFileSync(join(root, DAEMON_FILE), "utf8")) as DaemonRecord;
  } catch {
    return null;
  }
}

/**
 * Starts `keel daemon run` in the background and resolves once it listens: it prints one line when ready and
 * nothing after. Its stderr goes to `.keel/daemon.log`.
 */
export function spawnDaemon(root: string, script: string): Promise<DaemonRecord> {
  mkdirSync(join(root, ".keel"), { recursive: true });
  const logPath = join(root, LOG_FILE);
  const log = openSync(logPath, "a", 0o600);
  return new Promise<DaemonRecord>((resolvePromise, reject) => {
    const child = spawn(process.execPath, [script, "-C", root, "daemon", "run"], {
      detached: true,
      stdio: ["ignore", "pipe", log],
      env: { ...process.env, KEEL_NO_DAEMON: "1" },
    });
    const stdout = child.stdout as NonNullable<typeof child.stdout>; // "pipe" above
    let out = "";
    stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
      if (!out.includes("\n")) return;
      stdout.destroy();
      child.unref();
      const record = readRecord(root);
      if (record && record.pid === child.pid) resolvePromise(record);
      else
        reject(new KeelError("the daemon started but wrote no record", EXIT.unreadable, `see ${LOG_FILE}`));
    });
    child.on("exit", (code) => {
      if (out.includes("\n")) return;
      const last = readFileSync(logPath, "utf8").trim().split("\n").pop() ?? "";
      reject(
        new KeelError(
          `the daemon exited (${code}) before it was ready${last ? `: ${last}` : ""}`,
          EXIT.unreadable,
          `see ${LOG_FILE}, or run \`keel daemon run\` in the foreground`,
        ),
      );
    });
  }).finally(() => closeSync(log));
}

/** Where a daemon started in the background writes its errors. */
export const LOG_FILE = ".keel/daemon.log";

/** Stops the daemon with SIGTERM and waits (up to 5 s) for it to go. True when one was running. */
export async function stopDaemon(root: string): Promise<boolean> {
  const record = readRecord(root);
  if (!record || !pidAlive(record.pid)) return false;
  process.kill(record.pid, "SIGTERM");
  for (let waited = 0; waited < 5_000 && pidAlive(record.pid); waited += 20)
    await new Promise((r) => setTimeout(r, 20));
  return true;
}
