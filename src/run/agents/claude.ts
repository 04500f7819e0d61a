// Claude Code in print mode: `claude -p` runs one prompt without the interactive UI and exits; piped stdin is
// the prompt's content ("cat file | claude -p query"). `--output-format json` ends the run with one result
// object that carries `total_cost_usd` and `usage`. `--permission-mode acceptEdits` lets it edit files without
// asking — in print mode nobody could answer — while shell commands stay denied unless keel.yaml's `args` allow
// some (`--allowedTools "Bash(npm test:*)"`) or bypass the prompts (`--permission-mode bypassPermissions`).
// @req RUN-7
import { amount, at, finalObject, option, reported, STDIN_INSTRUCTION, sum } from "./shared.js";
import type { AgentPreset } from "./types.js";

export const claude: AgentPreset = {
  name: "claude",
  title: "Claude Code",
  program: "claude",
  docs: ["https://code.claude.com/docs/en/headless", "https://code.claude.com/docs/en/cli-reference"],
  network: true,
  keyEnv: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"],
  passEnv: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN", "CLAUDE_CONFIG_DIR"],
  stateDirs: [".claude", ".claude.json"],
  launch: (req) => ({
    argv: [
      "claude",
      "-p",
      STDIN_INSTRUCTION,
      "--output-format",
      "json",
      "--permission-mode",
      "acceptEdits",
      ...option("--model", req.model),
      ...req.args,
    ],
    stdin: req.prompt,
  }),
  usage: (stdout) => {
    const result = finalObject(stdout);
    if (result === null) return null;
    const tokens = at(result, "usage");
    return reported({
      costUsd: amount(result.total_cost_usd),
      // input_tokens counts only the uncached part of the prompt; the cache reads and writes are the rest.
      inputTokens: sum([
        tokens.input_tokens,
        tokens.cache_creation_input_tokens,
        tokens.cache_read_input_tokens,
      ]),
      outputTokens: amount(tokens.output_tokens),
    });
  },
};
