// Codex CLI's non-interactive mode: `codex exec` runs one task and exits, never asking for approval; the prompt
// `-` is read from stdin. `--json` streams JSON Lines events, each `turn.completed` carrying that turn's token
// usage (no cost). exec runs in a read-only sandbox by default: `--sandbox workspace-write` lets it edit the
// worktree, the documented replacement for the deprecated `--full-auto`.
// @req RUN-7
import { at, jsonLines, option, reported, sum } from "./shared.js";
import type { AgentPreset } from "./types.js";

export const codex: AgentPreset = {
  name: "codex",
  title: "Codex CLI",
  program: "codex",
  docs: [
    "https://developers.openai.com/codex/noninteractive",
    "https://developers.openai.com/codex/cli/reference",
    "https://github.com/openai/codex/blob/main/docs/exec.md",
  ],
  network: true,
  keyEnv: ["CODEX_API_KEY", "OPENAI_API_KEY"],
  passEnv: ["CODEX_API_KEY", "OPENAI_API_KEY", "CODEX_HOME"],
  stateDirs: [".codex"],
  // Extra arguments go before the prompt `-`, which clap reads as the last positional.
  launch: (req) => ({
    argv: [
      "codex",
      "exec",
      "--json",
      "--sandbox",
      "workspace-write",
      ...option("--model", req.model),
      ...req.args,
      "-",
    ],
    stdin: req.prompt,
  }),
  usage: (stdout) => {
    const turns = jsonLines(stdout)
      .filter((event) => event.type === "turn.completed")
      .map((event) => at(event, "usage"));
    // cached_input_tokens is the part of input_tokens served from the cache, not more of it.
    return reported({
      costUsd: null,
      inputTokens: sum(turns.map((u) => u.input_tokens)),
      outputTokens: sum(turns.map((u) => u.output_tokens)),
    });
  },
};
