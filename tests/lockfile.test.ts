// A fresh clone stays clean: `npm install` rewrites a lock file that lacks an optional platform package one of its
// packages declares (Biome's and esbuild's per-platform builds), adding it for the machine's registry. Every lock
// file of the repository names each one, so npm has nothing to add.
// @verifies CLI-6
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..");

interface Lock {
  packages: Record<string, { optionalDependencies?: Record<string, string>; version?: string }>;
}

/** The optional dependencies declared in `lock` that it has no entry for, as npm resolves them (nested, then hoisted). */
function missingOptionals(lock: Lock): string[] {
  const missing: string[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    for (const name of Object.keys(entry.optionalDependencies ?? {})) {
      const nested = path === "" ? `node_modules/${name}` : `${path}/node_modules/${name}`;
      if (!lock.packages[nested] && !lock.packages[`node_modules/${name}`])
        missing.push(`${path || "(root)"} → ${name}`);
    }
  }
  return missing;
}

describe("lock files", () => {
  for (const file of ["package-lock.json", "tools/mcp-clients/package-lock.json"]) {
    it(`${file} names every optional platform package, so npm install leaves it as committed`, () => {
      const lock = JSON.parse(readFileSync(join(REPO, file), "utf8")) as Lock;
      expect(Object.keys(lock.packages).length).toBeGreaterThan(10);
      expect(missingOptionals(lock)).toEqual([]);
    });
  }

  it("the lock file's root entry lists the same dependencies and bin as package.json", () => {
    const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8"));
    const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dependencies?: object; devDependencies?: object; bin?: object }>;
    };
    expect(lock.packages[""]?.dependencies).toEqual(pkg.dependencies);
    expect(lock.packages[""]?.devDependencies).toEqual(pkg.devDependencies);
    expect(lock.packages[""]?.bin).toEqual(pkg.bin);
  });
});
