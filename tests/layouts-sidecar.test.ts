// Keel's side file for what Spec Kit's and Kiro's files cannot hold: a requirement's status and provenance, kept
// in keel/layouts/<layout>.yaml and never written into the toolkit's files. Read by every command, with its
// problems positioned, and part of both caches' signatures so an edit is seen at once.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { jsonOut, keel } from "./support/cli.js";
import {
  LAYOUT_FIXTURES,
  layoutFixture,
  lineOf,
  tempProjects,
  treeDigests,
  writeFile,
} from "./support/files.js";

const _FIXTURES = LAYOUT_FIXTURES;
const project = tempProjects("keel-layouts-sidecar-");
const SIDE = "keel/layouts/speckit.yaml";

// @verifies LAY-13
describe("the side file of a layout that cannot hold status or provenance", () => {
  it("gives a Spec Kit requirement its status and provenance in show, status and list", () => {
    const root = layoutFixture(project, "speckit");
    const before = treeDigests(root);
    // The query index is built first, so the side file written next must be seen by its format check.
    expect(jsonOut(keel(root, "status", "--json")).specs.byStatus.approved).toBeUndefined();
    writeFile(
      root,
      SIDE,
      "requirements:\n  001-photo-albums/FR-001:\n    status: approved\n    origin: human\n    actor: alice\n",
    );
    const shown = jsonOut(keel(root, "show", "001-photo-albums/FR-001", "--json"));
    expect(shown.item.status).toBe("approved");
    expect(shown.item.provenance).toMatchObject({ origin: "human", actor: "alice" });
    const status = jsonOut(keel(root, "status", "--json"));
    expect(status.specs.byStatus.approved).toBe(1);
    expect(status.specs.byOrigin.human).toBe(1);
    expect(keel(root, "status").stdout).toContain(`Keel keeps them in ${SIDE}`);
    // Nothing but the side file itself was written outside .keel/.
    const after = treeDigests(root);
    after.delete(SIDE);
    expect(after).toEqual(before);
  });

  it("counts in validate at once when edited, and reports its own problems at their lines", () => {
    const root = layoutFixture(project, "speckit");
    // The feature's tasks cover FR-001? Approve one they do not cover, and see the coverage rule fire.
    const tasks = readFileSync(join(root, "specs/001-photo-albums/tasks.md"), "utf8");
    const uncovered = ["FR-008", "SC-003", "FR-006"].find((id) => !tasks.includes(id)) as string;
    expect(uncovered).toBeDefined();
    const id = `001-photo-albums/${uncovered}`;
    const uncoveredOf = (run: ReturnType<typeof keel>) =>
      (jsonOut(run).findings as Finding[]).filter(
        (f) => f.rule === "tasks/uncovered-requirement" && f.file === "specs/001-photo-albums/spec.md",
      );
    expect(uncoveredOf(keel(root, "validate", "--json"))).toEqual([]);
    const side = `requirements:\n  ${id}:\n    status: approved\n  001-photo-albums/FR-999: { status: approved }\n  001-photo-albums/US1: { status: done }\n`;
    writeFile(root, SIDE, side);
    const run = keel(root, "validate", "--json");
    expect(uncoveredOf(run).length).toBe(1);
    const own = (JSON.parse(run.stdout).findings as Finding[]).filter((f) => f.file === SIDE);
    expect(own.map(({ rule, line }) => ({ rule, line }))).toEqual([
      { rule: "layout/side-file-unknown", line: lineOf(side, "FR-999") },
      { rule: "layout/side-file", line: lineOf(side, "US1") },
    ]);
    // Taken back: the finding goes with it, though no spec file moved.
    writeFileSync(join(root, SIDE), "requirements: {}\n");
    expect(uncoveredOf(keel(root, "validate", "--json"))).toEqual([]);
  });

  it("is carried into keel/ by keel import, as the imported requirement's marker line", () => {
    const root = layoutFixture(project, "speckit-legacy");
    writeFile(
      root,
      SIDE,
      "requirements:\n  001-kanban-board/FR-001: { status: approved, origin: human, actor: alice }\n",
    );
    expect(keel(root, "import", "speckit").code).toBe(0);
    const spec = readFileSync(join(root, "keel/specs/001-kanban-board/spec.md"), "utf8");
    const block = spec.slice(spec.indexOf("{#001-kanban-board/FR-001}"));
    expect(block.split("\n")[1]).toMatch(
      /^> status: approved · origin: human · actor: alice · imported-from: speckit:/,
    );
    const shown = jsonOut(keel(root, "show", "001-kanban-board/FR-001", "--json"));
    expect(shown.item).toMatchObject({ status: "approved", file: "keel/specs/001-kanban-board/spec.md" });
  });
});
