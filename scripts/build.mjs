// Bundles the CLI with code splitting: `dist/keel.mjs` holds only argument parsing and the command table;
// each command is a chunk loaded on demand, so `keel --version` costs little more than `node -e 0`.
// better-sqlite3 stays external because it is a native addon.
import { createHash } from "node:crypto";
import { chmodSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const { version } = JSON.parse(readFileSync("package.json", "utf8"));
// A hash of every source file: caches written by one build are never replayed by another.
const sources = createHash("sha256");
for (const file of readdirSync("src", { recursive: true }).sort()) {
  const path = `src/${file}`;
  if (statSync(path).isFile()) sources.update(path).update(readFileSync(path));
}
const buildId = sources.digest("hex").slice(0, 12);
// Build beside dist/ and swap it in, so a process running the old build never sees a half-written one.
const out = `dist.tmp-${process.pid}`;
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: { keel: "src/cli/main.ts", "validate-worker": "src/core/validate/worker.ts" },
  outdir: out,
  outExtension: { ".js": ".mjs" },
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  splitting: true,
  platform: "node",
  format: "esm",
  target: "node20",
  legalComments: "none",
  external: ["better-sqlite3"],
  // Shared code lives in dist/chunks/, so the worker entry is one folder up from the module that starts it.
  define: {
    KEEL_VERSION: JSON.stringify(version),
    KEEL_BUILD: JSON.stringify(buildId),
    KEEL_VALIDATE_WORKER: JSON.stringify("../validate-worker.mjs"),
    KEEL_TRACE_WORKER: JSON.stringify("../trace-worker.cjs"),
  },
  banner: {
    js: "import { createRequire as __keelCreateRequire } from 'node:module'; const require = __keelCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
// The trace-scan worker is one self-contained CommonJS file: a worker thread loading it is ready about 6 ms
// sooner than one going through the ESM loader and shared chunks, and a large scan starts one or more.
await build({
  entryPoints: ["src/core/trace/scan/worker.ts"],
  outfile: `${out}/trace-worker.cjs`,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  legalComments: "none",
  logLevel: "warning",
});
// The shebang goes on the entry only; chunks are plain modules.
const entry = `${out}/keel.mjs`;
writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, "utf8")}`);
chmodSync(entry, 0o755);
rmSync("dist", { recursive: true, force: true });
renameSync(out, "dist");
