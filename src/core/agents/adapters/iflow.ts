// iFlow CLI reads project commands in .iflow/commands/ (its docs name the folder and its precedence over
// ~/.iflow/commands). OpenSpec writes Markdown with frontmatter there, as Keel does; iFlow's own docs describe
// marketplace commands as TOML and document no argument placeholder, so `$ARGUMENTS` is unverified.

import type { AgentAdapter } from "../adapter.js";

export const iflow: AgentAdapter = {
  name: "iflow",
  title: "iFlow CLI",
  docs: ["https://platform.iflow.cn/en/cli/examples/subcommand"],
  agentsMd: true,
  commands: {
    dir: ".iflow/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
};
