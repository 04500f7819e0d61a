// A Keel project in a real git repository for `keel run` tests: tasks with boundaries and `verify:` gates, the test
// agent (tests/support/run-agent.mjs) configured as a `command:` agent, and its script.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeFiles } from "./files.js";

export const RUN_AGENT = resolve("tests/support/run-agent.mjs");
export const KEEL = resolve("dist/keel.mjs");

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

export interface RunProject {
  root: string;
  log: string;
}

/** A committed project: `tasks` is the tasks.md of capability `work`, `script` the agent's steps by task ID. */
export function runProject(
  tasks: string,
  script: Record<string, unknown>,
  extra: Record<string, string> = {},
  yaml = "",
): RunProject {
  const root = mkdtempSync(join(tmpdir(), "keel-run-"));
  const log = join(mkdtempSync(join(tmpdir(), "keel-run-log-")), "agent.jsonl");
  writeFiles(root, {
    "keel/keel.yaml": `version: 1\nagents:\n  test:\n    command: node ${RUN_AGENT}\n    env: [KEEL_TEST_AGENT_LOG]\n${yaml}`,
    "keel/specs/work/spec.md":
      "# Work\n\n## Purpose\nWork for the loop.\n\n## Requirements\n\n### Requirement: Alpha {#WRK-1}\nThe system SHALL do alpha.\n\n#### Scenario: Alpha\n- **WHEN** alpha runs\n- **THEN** it is done\n",
    "keel/specs/work/tasks.md": tasks,
    "agent-script.json": JSON.stringify(script, null, 2),
    ".gitignore": ".keel/\n",
    ...extra,
  });
  git(root, "init", "-q", "-b", "main");
  git(root, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A");
  git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "init");
  return { root, log };
}

export function keel(p: RunProject, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [KEEL, "-C", p.root, ...args], {
    encoding: "utf8",
    env: { ...process.env, KEEL_TEST_AGENT_LOG: p.log, ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export function agentLog(
  p: RunProject,
): Array<{ task: string; attempt: number; sameOnStdin: boolean; feedback: string | null }> {
  try {
    return execFileSync("cat", [p.log], { encoding: "utf8" })
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
}
