// Writing test projects: files by project-relative path, folders made as needed.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll } from "vitest";

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
