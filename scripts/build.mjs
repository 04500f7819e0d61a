// Bundles the CLI with code splitting: `dist/keel.mjs` holds only argument parsing and the command table;
// each command is a chunk loaded on demand. The package's bin, `dist/keel.cjs`, is a CommonJS launcher that
// answers `keel --version` and `keel help` itself and loads keel.mjs for the rest, so those cost what `node -e 0` does.
// better-sqlite3 stays external because it is a native addon; pg (the PostgreSQL driver of team mode) because only team mode loads it.
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
  external: ["better-sqlite3", "pg"],
  // Shared code lives in dist/chunks/, so the worker entry is one folder up from the module that starts it.
  define: {
    KEEL_VERSION: JSON.stringify(version),
    KEEL_BUILD: JSON.stringify(buildId),
    KEEL_VALIDATE_WORKER: JSON.stringify("../validate-worker.mjs"),
    KEEL_TRACE_WORKER: JSON.stringify("../trace-worker.cjs"),
    KEEL_WEB_DIR: JSON.stringify("../web/"),
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
// The binary: a small CommonJS launcher that answers `keel --version` and `keel help` itself (a CommonJS file
// starts about 20 ms sooner than an ES module) and loads keel.mjs for everything else (src/cli/bin.ts).
await build({
  entryPoints: ["src/cli/bin.ts"],
  outfile: `${out}/keel.cjs`,
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  legalComments: "none",
  define: { KEEL_VERSION: JSON.stringify(version), KEEL_BUILD: JSON.stringify(buildId) },
  logLevel: "warning",
});
await buildWebApp(`${out}/web`);
// The shebang goes on the entries only; chunks are plain modules.
for (const entry of [`${out}/keel.mjs`, `${out}/keel.cjs`]) {
  writeFileSync(entry, `#!/usr/bin/env node\n${readFileSync(entry, "utf8")}`);
  chmodSync(entry, 0o755);
}
rmSync("dist", { recursive: true, force: true });
renameSync(out, "dist");

/**
 * The web app (src/web), served by `keel serve` from dist/web: one module entry split into chunks (each view
 * loads on demand), minified, with content-hashed names so the server can let browsers keep them. index.html is
 * written here with the hashed names and no inline script, as the server's Content-Security-Policy demands.
 */
async function buildWebApp(dir) {
  const result = await build({
    entryPoints: { app: "src/web/main.tsx" },
    outdir: `${dir}/assets`,
    entryNames: "[name]-[hash]",
    chunkNames: "[name]-[hash]",
    assetNames: "[name]-[hash]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    minify: true,
    jsx: "automatic",
    jsxImportSource: "preact",
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
  });
  const entry = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === "src/web/main.tsx");
  if (!entry?.[1].cssBundle) throw new Error("web build: src/web/main.tsx gave no script and style");
  const named = (path) => `/assets/${path.slice(path.lastIndexOf("/") + 1)}`;
  const html = readFileSync("src/web/index.html", "utf8")
    .replace("{{script}}", named(entry[0]))
    .replace("{{style}}", named(entry[1].cssBundle));
  writeFileSync(`${dir}/index.html`, html);
  // The server answers a view's URL with index.html (a reload lands on the view): it learns their names here,
  // from the app's own view table, rather than keeping a copy of it.
  const segments = [...readFileSync("src/web/views/index.ts", "utf8").matchAll(/\bsegment: "([\w-]*)"/g)].map(
    (m) => m[1],
  );
  if (segments.length === 0) throw new Error("web build: no views found in src/web/views/index.ts");
  writeFileSync(`${dir}/views.json`, `${JSON.stringify(segments)}\n`);
}
