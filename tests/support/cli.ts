// Running the built CLI as a real child process, the way a user or an agent does.
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

export const CLI = join(import.meta.dirname, "..", "..", "dist", "keel.mjs");

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Variables of the caller's shell that would change what Keel does; dropped unless a test sets them. */
const AMBIENT = [
  "FORCE_COLOR",
  "KEEL_DEBUG",
  "KEEL_ACTOR",
  "KEEL_TOOL",
  "KEEL_MODEL",
  "GIT_DIR",
  "GIT_WORK_TREE",
];

/** The environment of every run: no colour, nothing ambient from the caller, plus `extra`. */
export function cliEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...extra };
  for (const k of AMBIENT) if (!(k in extra)) delete env[k];
  return env;
}

export function keel(cwd: string, ...args: string[]): Run {
  return keelWith({}, cwd, ...args);
}

export function keelWith(extra: NodeJS.ProcessEnv, cwd: string, ...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: cliEnv(extra),
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts the CLI without waiting, so that several run at once. */
export function keelAsync(cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  return runProcess(process.execPath, [CLI, ...args], cwd, cliEnv(extra));
}

/** Runs a program to its end, collecting its output. */
export function runProcess(
  command: string,
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** A run's JSON output, after checking it wrote nothing to stderr. */
// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field by the caller
export function jsonOut(run: Run): any {
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}
