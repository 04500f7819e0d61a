// Cursor's agent CLI in print mode: `-p` runs one prompt and exits; without `--force` it only proposes edits,
// with it the edits are applied and commands run unless a rule denies them. `--output-format json` ends with one
// result object, which reports no cost or tokens. The prompt is the positional argument (the tool documents no
// prompt on stdin), or a pointer to the prompt file when it is too long for one.
// @req RUN-7
import { option, promptArgument } from "./shared.js";
import type { AgentPreset } from "./types.js";

export const cursor: AgentPreset = {
  name: "cursor",
  title: "Cursor CLI",
  // The installer puts the same binary on PATH as `agent` and `cursor-agent`; the longer name cannot be mistaken.
  program: "cursor-agent",
  docs: [
    "https://cursor.com/docs/cli/headless",
    "https://cursor.com/docs/cli/reference/parameters",
    "https://cursor.com/docs/cli/reference/output-format",
  ],
  network: true,
  keyEnv: ["CURSOR_API_KEY"],
  passEnv: ["CURSOR_API_KEY"],
  stateDirs: [".cursor"],
  launch: (req) => ({
    argv: [
      "cursor-agent",
      "-p",
      "--force",
      "--output-format",
      "json",
      ...option("--model", req.model),
      ...req.args,
      promptArgument(req),
    ],
    stdin: null,
  }),
  usage: () => null,
};
