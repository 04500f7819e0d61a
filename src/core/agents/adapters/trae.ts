// Trae reads AGENTS.md and project commands in .trae/commands/*.md (frontmatter `description`).

import { type AgentAdapter, NO_PLACEHOLDER } from "../adapter.js";

export const trae: AgentAdapter = {
  name: "trae",
  title: "Trae",
  docs: ["https://docs.trae.ai/ide/rules", "https://docs.trae.ai/ide/commands"],
  agentsMd: true,
  commands: {
    dir: ".trae/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
};
