// Factory's Droid reads AGENTS.md and custom slash commands in .factory/commands/*.md (frontmatter
// `description`, `argument-hint`; `$ARGUMENTS`). No project-level MCP file is documented, so Keel writes none.

import type { AgentAdapter } from "../adapter.js";

export const factory: AgentAdapter = {
  name: "factory",
  aliases: ["droid"],
  title: "Factory Droid",
  docs: [
    "https://docs.factory.ai/harness/custom-slash-commands",
    "https://docs.factory.ai/cli/configuration/agents-md",
  ],
  agentsMd: true,
  commands: {
    dir: ".factory/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
    frontmatter: { "argument-hint": "<request>" },
  },
};
