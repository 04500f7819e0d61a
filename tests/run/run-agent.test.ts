// The test agent's script placeholders, through the real loop: one `"*"` step serves every task, `{id}` naming each
// task's own folder (the shape bench/issue13.mjs uses for its 400 tasks), while a task's own entry still wins.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { git, keel, runProject } from "../support/run-project.js";

describe("the test agent's script", () => {
  // @verifies RUN-1, RUN-5
  it("expands {id} and {task} in paths and contents for the tasks the '*' entry serves", () => {
    const task = (id: string) =>
      `- [ ] ${id} Do ${id}\n  - boundaries: src/${id}/**\n  - verify: \`test -f src/${id}/done\``;
    const p = runProject(`## 1. Work\n\n${task("1.1")}\n${task("1.2")}\n${task("1.3")}\n`, {
      "*": [{ write: { "src/{id}/done": "{task} attempt {attempt}" } }],
      "1.3": [{ write: { "src/1.3/done": "own entry" } }],
    });
    const r = keel(p, ["run", "--workers", "2", "--sandbox", "none", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { landed: string[] }).landed.sort()).toEqual([
      "work/1.1",
      "work/1.2",
      "work/1.3",
    ]);
    expect(readFileSync(join(p.root, "src/1.1/done"), "utf8")).toBe("work/1.1 attempt 1");
    expect(readFileSync(join(p.root, "src/1.2/done"), "utf8")).toBe("work/1.2 attempt 1");
    expect(readFileSync(join(p.root, "src/1.3/done"), "utf8")).toBe("own entry");
    expect(git(p.root, "ls-files", "src").trim().split("\n")).toEqual([
      "src/1.1/done",
      "src/1.2/done",
      "src/1.3/done",
    ]);
  });
});
