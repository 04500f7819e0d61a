// Trae reads AGENTS.md and project commands in .trae/commands/*.md (its commands page; OpenSpec writes them
// there with frontmatter `name`, `description`). Spec Kit writes skills (.trae/skills) instead. Trae documents
// no argument placeholder: the words typed after the command go with it into the conversation.

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
