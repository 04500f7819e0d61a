// The project's files outside git: the walk leaves out what git would (.gitignore rules, .git/, node_modules/,
// .keel/), the same for the task-boundary checks (projectFiles) as for the trace scan (walkFiles), and gives up
// past its limit.
// @verifies TRC-2
import { describe, expect, it } from "vitest";
import { projectFiles, walkFiles } from "../src/workspace/files.js";
import { tempProjects } from "./support/files.js";

const project = tempProjects("keel-files-");

describe("projectFiles and walkFiles without git", () => {
  it("honour .gitignore files at every level and never enter .git, node_modules or .keel", () => {
    const root = project({
      ".gitignore": "dist/\n*.log\n",
      "src/a.ts": "",
      "src/debug.log": "",
      "src/gen/.gitignore": "*.ts\n!keep.ts\n",
      "src/gen/drop.ts": "",
      "src/gen/keep.ts": "",
      "dist/a.js": "",
      "node_modules/x/index.js": "",
      ".keel/state.db": "",
      "keel/specs/pay/spec.md": "",
    });
    const expected = [
      ".gitignore",
      "keel/specs/pay/spec.md",
      "src/a.ts",
      "src/gen/.gitignore",
      "src/gen/keep.ts",
    ];
    expect(projectFiles(root)).toEqual(expected);
    expect([...walkFiles(root)].sort()).toEqual(expected);
    expect([...walkFiles(root, new Set(["keel"]))].sort()).toEqual(
      expected.filter((f) => !f.startsWith("keel/")),
    );
    expect(projectFiles(root, 3)).toBeNull();
  });
});
