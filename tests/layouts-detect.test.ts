// Layout detection (workspace/root.ts): each toolkit's fixture is recognised as its layout, and the near misses
// that share its folder names are not.
// @verifies LAY-1
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectLayouts } from "../src/workspace/root.js";
import { tempProjects } from "./support/files.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "layouts");
/** Every fixture folder; `<layout>-legacy` holds the older layout of the same toolkit. */
const FIXTURE_DIRS = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("detectLayouts", () => {
  const project = tempProjects("keel-detect-");

  it("has a fixture of every foreign layout", () => {
    const layouts = new Set(FIXTURE_DIRS.map((d) => d.replace(/-legacy$/, "")));
    expect([...layouts].sort()).toEqual(["beads", "kiro", "speckit", "taskmaster"]);
  });

  for (const dir of FIXTURE_DIRS) {
    it(`detects ${dir} as ${dir.replace(/-legacy$/, "")} and nothing else`, () => {
      expect(detectLayouts(join(FIXTURES, dir))).toEqual([dir.replace(/-legacy$/, "")]);
    });
  }

  it("finds several layouts in one project, Keel's first", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      ".kiro/steering/product.md": "# Product\n",
      ".beads/issues.jsonl": "",
    });
    expect(detectLayouts(root)).toEqual(["keel", "kiro", "beads"]);
  });

  it("does not take keel/specs/<capability>/spec.md for Spec Kit", () => {
    // keel/ itself holds specs/<cap>/spec.md; a project that is both is not one unless specs/ is Spec Kit's.
    const root = project({ "keel/specs/auth/spec.md": "# Auth\n" });
    expect(detectLayouts(root)).toEqual(["keel"]);
    expect(detectLayouts(join(root, "keel"))).toEqual([]);
  });

  it("reads specs/<NNN-feature>/ as Spec Kit without .specify/, but not an unnumbered specs/<name>/", () => {
    expect(detectLayouts(project({ "specs/001-a/spec.md": "# A\n" }))).toEqual(["speckit"]);
    expect(detectLayouts(project({ "specs/002-b/tasks.md": "# Tasks\n" }))).toEqual(["speckit"]);
    expect(detectLayouts(project({ "specs/foo/spec.md": "# Foo\n" }))).toEqual([]);
    expect(detectLayouts(project({ "specs/003-c/notes.md": "x\n" }))).toEqual([]);
    expect(detectLayouts(project({ ".specify/memory/constitution.md": "# C\n" }))).toEqual(["speckit"]);
  });

  it("reads Kiro from either of its folders, and not from an empty .kiro/ or a file named specs", () => {
    expect(detectLayouts(project({ ".kiro/steering/tech.md": "# Tech\n" }))).toEqual(["kiro"]);
    expect(detectLayouts(project({ ".kiro/specs/a/requirements.md": "# R\n" }))).toEqual(["kiro"]);
    expect(detectLayouts(project({ ".kiro/settings/mcp.json": "{}\n" }))).toEqual([]);
    expect(detectLayouts(project({ ".kiro/specs": "not a folder\n" }))).toEqual([]);
  });

  it("reads tasks/tasks.json as Task Master only beside .taskmasterconfig", () => {
    expect(detectLayouts(project({ "tasks/tasks.json": "{}\n" }))).toEqual([]);
    expect(detectLayouts(project({ "tasks/tasks.json": "{}\n", ".taskmasterconfig": "{}\n" }))).toEqual([
      "taskmaster",
    ]);
  });

  it("finds nothing in a folder that holds none, or that does not exist", () => {
    const root = project({ "README.md": "# Not a project\n", ".beads/config.yaml": "x: 1\n" });
    expect(detectLayouts(root)).toEqual([]);
    expect(detectLayouts(join(root, "missing"))).toEqual([]);
  });
});
