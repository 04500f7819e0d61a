// iFlow CLI reads custom commands in .iflow/commands/*.md (frontmatter `description`, `$ARGUMENTS`).

import type { AgentAdapter } from "../adapter.js";

export const iflow: AgentAdapter = {
  name: "iflow",
  title: "iFlow CLI",
  docs: ["https://platform.iflow.cn/en/cli/features/slash"],
  agentsMd: true,
  commands: {
    dir: ".iflow/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
};
