// Antigravity reads AGENTS.md and workflows in .agent/workflows/*.md (frontmatter `description`, run as
// /<name>), as OpenSpec writes them; Spec Kit gives it skills (.agents/skills) instead. Its MCP configuration is
// per user, so Keel writes none.

import { type AgentAdapter, NO_PLACEHOLDER } from "../adapter.js";

export const antigravity: AgentAdapter = {
  name: "antigravity",
  aliases: ["agy"],
  title: "Antigravity",
  docs: ["https://antigravity.google/docs/rules-workflows"],
  agentsMd: true,
  commands: {
    dir: ".agent/workflows",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
};
