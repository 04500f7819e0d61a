// opencode's non-interactive mode: `opencode run` sends one message and exits when the session goes idle; piped
// stdin is appended to the message (the prompt proper). `--format json` streams its events as JSON Lines, each
// `step_finish` carrying that step's tokens and cost. In `run` a permission request nobody can answer is
// rejected; opencode allows edits and commands by default, and its own permission config (OPENCODE_PERMISSION,
// opencode.json) decides the rest.
// @req RUN-7
import { at, jsonLines, option, reported, STDIN_INSTRUCTION, sum } from "./shared.js";
import type { AgentPreset } from "./types.js";

export const opencode: AgentPreset = {
  name: "opencode",
  title: "opencode",
  program: "opencode",
  docs: ["https://opencode.ai/docs/cli/#run", "https://opencode.ai/docs/permissions/"],
  network: true,
  keyEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY"],
  passEnv: [
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "OPENCODE_CONFIG",
    "OPENCODE_CONFIG_DIR",
    "OPENCODE_PERMISSION",
  ],
  stateDirs: [".local/share/opencode", ".local/state/opencode", ".cache/opencode", ".config/opencode"],
  launch: (req) => ({
    argv: [
      "opencode",
      "run",
      "--format",
      "json",
      ...option("--model", req.model),
      ...req.args,
      STDIN_INSTRUCTION,
    ],
    stdin: req.prompt,
  }),
  usage: (stdout) => {
    const steps = jsonLines(stdout)
      .filter((event) => event.type === "step_finish")
      .map((event) => at(event, "part"));
    const tokens = steps.map((part) => at(part, "tokens"));
    const cache = tokens.map((t) => at(t, "cache"));
    // `input` leaves out the cache reads and writes, `output` the reasoning: Keel counts both in.
    return reported({
      costUsd: sum(steps.map((part) => part.cost)),
      inputTokens: sum([...tokens.map((t) => t.input), ...cache.flatMap((c) => [c.read, c.write])]),
      outputTokens: sum(tokens.flatMap((t) => [t.output, t.reasoning])),
    });
  },
};
