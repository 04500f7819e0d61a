// Cline reads AGENTS.md among its rules and workflows in .clinerules/workflows/*.md (plain Markdown, run as
// /<name>.md). Its MCP settings are per user, so Keel writes none.

import { type AgentAdapter, NO_PLACEHOLDER } from "../adapter.js";

export const cline: AgentAdapter = {
  name: "cline",
  title: "Cline",
  docs: [
    "https://docs.cline.bot/features/slash-commands/workflows",
    "https://docs.cline.bot/features/cline-rules",
  ],
  agentsMd: true,
  commands: {
    dir: ".clinerules/workflows",
    file: "keel-{phase}.md",
    format: "plain-markdown",
    placeholder: NO_PLACEHOLDER,
  },
};
