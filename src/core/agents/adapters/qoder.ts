// Qoder reads AGENTS.md and custom commands in .qoder/commands/*.md (frontmatter `description`,
// `$ARGUMENTS`).

import type { AgentAdapter } from "../adapter.js";

export const qoder: AgentAdapter = {
  name: "qoder",
  aliases: ["qodercli"],
  title: "Qoder",
  docs: ["https://docs.qoder.com/cli/using-cli", "https://qoder.com/cli"],
  agentsMd: true,
  commands: {
    dir: ".qoder/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
};
