// Kiro reads AGENTS.md, prompts in .kiro/prompts/*.md (the CLI does not substitute arguments in file
// prompts, Spec Kit's kiro-cli integration notes the same) and workspace MCP servers in .kiro/settings/mcp.json
// (`mcpServers`). OpenSpec names its files `<name>.prompt.md`; Kiro's prompts page and Spec Kit use `<name>.md`.

import { type AgentAdapter, KEEL_STDIO, NO_PLACEHOLDER } from "../adapter.js";

export const kiro: AgentAdapter = {
  name: "kiro",
  aliases: ["kiro-cli"],
  title: "Kiro",
  docs: [
    "https://kiro.dev/docs/cli/chat/manage-prompts/",
    "https://kiro.dev/docs/steering/",
    "https://kiro.dev/docs/mcp/configuration/",
  ],
  agentsMd: true,
  commands: {
    dir: ".kiro/prompts",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
  mcp: { path: ".kiro/settings/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
