// Test harnesses that run the core from source in plain child processes: bundled once with esbuild, so that
// several real processes can hit the same files and SQLite store at once.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { build } from "esbuild";

/**
 * Bundles `tests/fixtures/<name>.ts` and returns the bundle's path. It is written under node_modules/.cache
 * so that `better-sqlite3` resolves from the repository's node_modules.
 */
export async function bundleFixture(name: string): Promise<string> {
  const cache = join(import.meta.dirname, "..", "..", "node_modules", ".cache");
  mkdirSync(cache, { recursive: true });
  const outfile = join(mkdtempSync(join(cache, `keel-${name}-`)), `${name}.mjs`);
  await build({
    bundle: true,
    platform: "node",
    format: "esm",
    external: ["better-sqlite3"],
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: "error",
    entryPoints: [join(import.meta.dirname, "..", "fixtures", `${name}.ts`)],
    outfile,
  });
  return outfile;
}

export function removeBundle(path: string | undefined): void {
  if (path) rmSync(dirname(path), { recursive: true, force: true });
}

/** Runs a bundle with arguments; resolves with its stdout, rejects with its stderr on a non-zero exit. */
export function runBundle(bundle: string, args: string[], cwd: string): Promise<string> {
  return collect(spawn(process.execPath, [bundle, ...args], { cwd }));
}

function collect(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}
