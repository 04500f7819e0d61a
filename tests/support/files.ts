// Writing test projects: files by project-relative path, folders made as needed.
import { createHash } from "node:crypto";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { diffLines } from "diff";
import { afterAll, expect } from "vitest";

export function writeFile(root: string, rel: string, data: string | Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), data);
}

export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, data] of Object.entries(files)) writeFile(root, rel, data);
}

/**
 * A maker of temporary projects, each a fresh folder (its real path, so it compares equal to what Keel prints)
 * holding `files`; all are removed after the test file.
 */
export function tempProjects(prefix: string): (files: Record<string, string | Buffer>) => string {
  const made: string[] = [];
  afterAll(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return (files) => {
    const root = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
    made.push(root);
    writeFiles(root, files);
    return root;
  };
}

/**
 * The folders a "nothing written" check leaves out: Keel's state folder, and the audit segments under
 * `keel/audit/`, where every audited command (a claim, a refusal) appends its event. That append is the one
 * write such a command makes; tests/audit-anchor.test.ts and the audit tests check what it holds.
 */
export const NOT_PROJECT_FILES = [".keel", join("keel", "audit")];

/**
 * The SHA-256 of every file of a project but those of NOT_PROJECT_FILES, by project-relative path: what a
 * refusal must leave as it was (digests, not contents: a deep comparison of a 50 MB buffer runs byte by byte).
 */
export function treeDigests(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      if (e.isDirectory()) {
        if (!NOT_PROJECT_FILES.includes(relative(root, abs))) walk(abs);
      } else out.set(relative(root, abs), createHash("sha256").update(readFileSync(abs)).digest("hex"));
    }
  };
  walk(root);
  return out;
}

/** Lines removed and added between two texts. */
export function changedLines(a: string, b: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(a, b)) {
    const lines = part.value.replace(/\n$/, "").split("\n");
    if (part.removed) removed.push(...lines);
    if (part.added) added.push(...lines);
  }
  return { removed, added };
}

/** The 1-based line of `needle` in `text`, which must hold it on exactly one line (else the test fails). */
export function lineOf(text: string, needle: string): number {
  const lines = text.split("\n");
  const hits = lines.flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  expect(hits, `"${needle}" should occur on exactly one line`).toHaveLength(1);
  return hits[0] as number;
}

/** The toolkit fixtures: projects laid out as Spec Kit, Kiro, Task Master and Beads write them. */
export const LAYOUT_FIXTURES = join(import.meta.dirname, "..", "fixtures", "layouts");

/** A new temporary project (from `make`, a tempProjects maker) holding a copy of the layout fixture `name`. */
export function layoutFixture(make: (files: Record<string, string>) => string, name: string): string {
  const root = make({});
  cpSync(join(LAYOUT_FIXTURES, name), root, { recursive: true });
  return root;
}
