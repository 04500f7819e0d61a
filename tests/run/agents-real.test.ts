// The real agent CLIs, where they exist: each preset is launched the way `keel run` launches it — its argv, the
// prompt on stdin or in its file, only PATH, HOME, LANG, TERM and the preset's own variables in the environment
// — in a fresh git repository, and must create hello.txt containing "hi" without committing. A preset runs only
// where its program is on PATH and one of its key variables is set; otherwise it is skipped, and says so.
// @verifies RUN-7
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type AgentLaunch, type AgentPreset, PRESETS, resolveAgent } from "../../src/run/agents/index.js";
import { tempProjects } from "../support/files.js";
import { commitAll, git, gitInit } from "../support/git.js";

const project = tempProjects("keel-agents-real-");

/** Ten minutes: a real model may take a while even for one small file. */
const AGENT_TIMEOUT_MS = 10 * 60_000;

const PROMPT =
  "Create a file named hello.txt in the current directory whose whole content is the two letters hi " +
  "(a trailing newline is fine). Change no other file, and do not commit.\n";

/** Whether the shell finds the program, as the runner's spawn will. */
function onPath(program: string): boolean {
  return spawnSync("/bin/sh", ["-c", 'command -v "$1"', "sh", program], { stdio: "ignore" }).status === 0;
}

function skipReason(p: AgentPreset): string | null {
  if (!onPath(p.program)) return `${p.program} is not on PATH`;
  if (!p.keyEnv.some((k) => process.env[k])) return `none of ${p.keyEnv.join(", ")} is set`;
  return null;
}

/** The environment the runner gives an agent: the basics, the prompt file, and the preset's pass-through names. */
function agentEnv(passEnv: string[], promptFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { KEEL_PACK_FILE: promptFile };
  for (const k of ["PATH", "HOME", "LANG", "TERM", ...passEnv])
    if (process.env[k] !== undefined) env[k] = process.env[k];
  return env;
}

function run(
  launch: AgentLaunch,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const [program, ...args] = launch.argv;
    const child = spawn(program as string, args, {
      cwd,
      env,
      stdio: [launch.stdin === null ? "ignore" : "pipe", "pipe", "inherit"],
    });
    let stdout = "";
    child.stdout?.on("data", (d: Buffer) => {
      stdout += d.toString("utf8");
    });
    child.stdin?.end(launch.stdin ?? undefined);
    const timer = setTimeout(() => child.kill("SIGKILL"), AGENT_TIMEOUT_MS);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout });
    });
  });
}

/** The presets whose documented JSON output carries cost or tokens. */
const REPORTS_USAGE = new Set(["claude", "codex", "gemini", "opencode"]);

for (const preset of PRESETS) {
  const reason = skipReason(preset);
  if (reason !== null)
    console.log(`[agents-real] ${preset.title} (preset ${preset.name}): skipped, ${reason}`);

  describe.skipIf(reason !== null)(`${preset.title} as \`keel run\` starts it`, () => {
    it(
      "creates hello.txt containing hi in a fresh git repository, and commits nothing",
      async () => {
        const worktree = project({ "README.md": "# A demo repository\n" });
        gitInit(worktree);
        const base = commitAll(worktree, "initial");
        const scratch = project({ "prompt.md": PROMPT });
        const promptFile = join(scratch, "prompt.md");
        const agent = resolveAgent({
          name: preset.name,
          preset: preset.name,
          command: null,
          args: [],
          model: null,
          prompt: "stdin",
          network: null,
          env: [],
          line: 1,
        });
        const launch = agent.launch({ promptFile, prompt: PROMPT, worktree });
        const result = await run(launch, worktree, agentEnv(agent.passEnv, promptFile));
        expect(result.code).toBe(0);
        expect(readFileSync(join(worktree, "hello.txt"), "utf8").trim()).toBe("hi");
        expect(git(worktree, "rev-parse", "HEAD").trim()).toBe(base);
        const usage = agent.usage(result.stdout);
        if (REPORTS_USAGE.has(preset.name)) expect(usage).not.toBeNull();
      },
      AGENT_TIMEOUT_MS + 30_000,
    );
  });
}
