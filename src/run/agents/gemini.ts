// Gemini CLI's headless mode: `--prompt` runs one prompt without the terminal UI, appended to what stdin pipes in
// (the prompt proper). `--output-format json` prints one object whose `stats.models` holds each model's token
// counts (no cost). `--approval-mode auto_edit` approves file edits by itself — headless, nobody could — while
// other tools stay behind approval unless keel.yaml's `args` say `--approval-mode yolo`.
// @req RUN-7
import { at, finalObject, option, reported, STDIN_INSTRUCTION, sum } from "./shared.js";
import type { AgentPreset } from "./types.js";

export const gemini: AgentPreset = {
  name: "gemini",
  title: "Gemini CLI",
  program: "gemini",
  docs: ["https://geminicli.com/docs/cli/headless/", "https://geminicli.com/docs/cli/cli-reference/"],
  network: true,
  keyEnv: ["GEMINI_API_KEY", "GOOGLE_API_KEY"],
  passEnv: [
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "GOOGLE_GENAI_USE_VERTEXAI",
    "GOOGLE_APPLICATION_CREDENTIALS",
  ],
  stateDirs: [".gemini"],
  launch: (req) => ({
    argv: [
      "gemini",
      "--prompt",
      STDIN_INSTRUCTION,
      "--output-format",
      "json",
      "--approval-mode",
      "auto_edit",
      ...option("--model", req.model),
      ...req.args,
    ],
    stdin: req.prompt,
  }),
  usage: (stdout) => {
    const result = finalObject(stdout);
    if (result === null) return null;
    const tokens = Object.values(at(result, "stats", "models")).map((model) => at(model, "tokens"));
    // `prompt` includes the cached tokens; `thoughts` are generated like `candidates` and billed as output.
    return reported({
      costUsd: null,
      inputTokens: sum(tokens.map((t) => t.prompt)),
      outputTokens: sum(tokens.flatMap((t) => [t.candidates, t.thoughts])),
    });
  },
};
