// Keel the way a project has it: a PATH on which no `keel` is found (no global install), and Keel laid out in a
// project's node_modules as npm lays it out, for the merge driver tests. tests/install.test.ts installs the
// packed tarball for real; the layout here copies the built bundle and links the native SQLite module of this
// checkout instead of compiling it again, so it costs milliseconds.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import { delimiter, join } from "node:path";
import { cliEnv } from "./cli.js";
import { REPO } from "./node22.js";

/** `path` without any folder holding a `keel` and without package managers' `node_modules/.bin` folders. */
export function pathWithoutKeel(path = process.env.PATH ?? ""): string {
  return path
    .split(delimiter)
    .filter((dir) => dir !== "" && !/node_modules[\\/]\.bin$/.test(dir) && !existsSync(join(dir, "keel")))
    .join(delimiter);
}

/** The test environment with no `keel` on PATH and no sign of being run by npm (as a shell typing `git merge`). */
export function envWithoutKeel(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = cliEnv({ PATH: pathWithoutKeel(), ...extra });
  for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
  return env;
}

/** Where `sh` finds `keel` with this environment, or null: the tests assert there is none. */
export function keelFoundBy(env: NodeJS.ProcessEnv, cwd: string): string | null {
  const r = spawnSync("sh", ["-c", "command -v keel"], { cwd, env, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

/**
 * Keel in `<dir>/node_modules` as npm installs it: the package's files in `node_modules/keel`, its bin linked
 * as `node_modules/.bin/keel`, and better-sqlite3 beside it (linked from this checkout, already compiled).
 * Returns the bin link.
 */
export function layOutLocalInstall(dir: string): string {
  const modules = join(dir, "node_modules");
  const pkg = join(modules, "keel");
  mkdirSync(join(modules, ".bin"), { recursive: true });
  cpSync(join(REPO, "dist"), join(pkg, "dist"), { recursive: true });
  cpSync(join(REPO, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(REPO, "node_modules", "better-sqlite3"), join(modules, "better-sqlite3"));
  const bin = join(modules, ".bin", "keel");
  symlinkSync(join("..", "keel", "dist", "keel.cjs"), bin);
  return bin;
}
