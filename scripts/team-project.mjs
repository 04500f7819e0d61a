// The project of the team-mode tests and bench: `tasks` independent tasks spread over FEATURES changes, so a ready
// queue of all of them from the start. Plain JavaScript for the bench; scripts/team-project.d.mts types it.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const FEATURES = 4;

/** Writes the project's files into `dir` (not yet a git repository); `config` is more of keel.yaml. */
export function writeTeamProject(dir, tasks, name = "team", config = "") {
  mkdirSync(join(dir, "keel"), { recursive: true });
  writeFileSync(join(dir, "keel", "keel.yaml"), `project: ${name}\n${config}`);
  writeFileSync(join(dir, ".gitignore"), ".keel/\n");
  for (let f = 1; f <= FEATURES; f++) {
    const lines = [`# Tasks: f${f}`, ""];
    for (let i = f; i <= tasks; i += FEATURES) lines.push(`- [ ] T${i} Step ${i} of the rollout`);
    mkdirSync(join(dir, "keel", "changes", `f${f}`), { recursive: true });
    writeFileSync(join(dir, "keel", "changes", `f${f}`, "tasks.md"), `${lines.join("\n")}\n`);
  }
}
