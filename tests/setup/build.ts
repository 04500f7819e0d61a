// Vitest global setup: the CLI tests run the real bundle (`node dist/keel.mjs`), so build it once, before any
// test file starts, when it is missing or older than any source file, the build script or package.json.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..", "..");
const ENTRY = join(ROOT, "dist", "keel.mjs");

function newestMtime(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const name of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, name)));
  return newest;
}

function builtAt(): number | null {
  try {
    return statSync(ENTRY).mtimeMs;
  } catch {
    return null;
  }
}

export default function setup(): void {
  const built = builtAt();
  const sources = Math.max(
    newestMtime(join(ROOT, "src")),
    newestMtime(join(ROOT, "scripts", "build.mjs")),
    newestMtime(join(ROOT, "package.json")),
  );
  if (built !== null && built >= sources) return;
  try {
    execFileSync(process.execPath, [join(ROOT, "scripts", "build.mjs")], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "pipe"],
    });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(
      `tests/setup/build.ts: \`npm run build\` failed, so the CLI tests cannot run:\n${stderr}`,
    );
  }
}
