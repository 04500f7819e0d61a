// Qoder reads AGENTS.md and custom commands in .qoder/commands/*.md (frontmatter `description`), as the
// Qoder CLI docs and OpenSpec have them. Spec Kit writes skills (.qoder/skills) instead, since the Qoder IDE
// stopped reading .qoder/commands; the `$ARGUMENTS` placeholder is not documented by Qoder itself.

import type { AgentAdapter } from "../adapter.js";

export const qoder: AgentAdapter = {
  name: "qoder",
  aliases: ["qodercli"],
  title: "Qoder",
  docs: ["https://docs.qoder.com/cli/commands", "https://qoder.com/cli"],
  agentsMd: true,
  commands: {
    dir: ".qoder/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
};
