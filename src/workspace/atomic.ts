// Atomic file writes: write a temporary file beside the target, flush it, then rename over the target,
// so a reader sees either the old or the new content and a crash never leaves a half-written file.
// A crash can leave the temporary file itself behind; removeStaleTemps clears those (core/changes/journal.ts
// calls it when it finishes an interrupted apply).
// @req TRU-12
import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join, sep } from "node:path";
import { crashPoint } from "./crash-point.js";
import { noteLocalWrite } from "./freshness.js";
import { pidAlive } from "./process.js";

export interface AtomicOptions {
  /** Also flush the folder, so the rename itself survives a power cut (for a journal that must exist). */
  durable?: boolean;
  /** Test-only crash points (workspace/crash-point.ts) in this scope: mid-way through the bytes, and after the rename. */
  crashScope?: string;
  /** Permission bits of the new file (default 0644); 0600 for a file holding a secret. */
  mode?: number;
}

/** `.<name>.<pid>.<12 hex>.tmp`: the temporary files writeFileAtomic makes. */
const TEMP_NAME = /^\.(.+)\.(\d+)\.[0-9a-f]{12}\.tmp$/;

export function writeFileAtomic(path: string, data: string | Buffer, options: AtomicOptions = {}): void {
  // Keel's own state (`.keel/`: caches, journals) is not the project's files: it changes nothing kept in memory.
  if (!path.includes(`${sep}.keel${sep}`)) noteLocalWrite(path);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  // Random, not only the pid: worker threads share it, and two writes within one millisecond would collide.
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  const fd = openSync(tmp, "wx", options.mode ?? 0o644);
  try {
    const half = options.crashScope ? bytes.length >> 1 : bytes.length;
    writeSync(fd, bytes, 0, half);
    if (options.crashScope) {
      crashPoint(options.crashScope);
      writeSync(fd, bytes, half);
    }
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    unlinkSync(tmp);
    throw e;
  }
  closeSync(fd);
  try {
    renameSync(tmp, path);
  } catch (e) {
    unlinkSync(tmp);
    throw e;
  }
  if (options.durable) syncDir(dir);
  if (options.crashScope) crashPoint(options.crashScope);
}

/** Flushes a folder's entries (a rename or unlink in it) to disk. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Removes the temporary files a killed writer left in `dir` and returns their names. A file whose writer is
 * still running (another process, by the pid in its name) is kept: it is about to be renamed.
 */
export function removeStaleTemps(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const m = TEMP_NAME.exec(name);
    if (!m || isRunningElsewhere(Number(m[2]))) continue;
    try {
      unlinkSync(join(dir, name));
      removed.push(name);
    } catch {
      // Gone already (another process cleaned it): nothing left to do.
    }
  }
  return removed;
}

/** True when `pid` is a live process other than this one (this one has no write in flight while it sweeps). */
function isRunningElsewhere(pid: number): boolean {
  return pid !== process.pid && pidAlive(pid);
}
