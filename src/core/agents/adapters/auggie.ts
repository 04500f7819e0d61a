// Auggie (the Augment CLI) reads AGENTS.md and custom commands in .augment/commands/*.md (frontmatter
// `description`, `argument-hint`; `$ARGUMENTS`). Its MCP servers are set per user, so Keel writes none.

import type { AgentAdapter } from "../adapter.js";

export const auggie: AgentAdapter = {
  name: "auggie",
  title: "Auggie CLI",
  docs: ["https://docs.augmentcode.com/cli/custom-commands", "https://docs.augmentcode.com/cli/rules"],
  agentsMd: true,
  commands: {
    dir: ".augment/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
    frontmatter: { "argument-hint": "<request>" },
  },
};
