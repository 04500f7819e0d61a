// Roo Code reads AGENTS.md, slash commands in .roo/commands/*.md (frontmatter `description`,
// `argument-hint`) and project MCP servers in .roo/mcp.json (`mcpServers`).

import { type AgentAdapter, KEEL_STDIO, NO_PLACEHOLDER } from "../adapter.js";

export const roocode: AgentAdapter = {
  name: "roocode",
  aliases: ["roo"],
  title: "Roo Code",
  docs: [
    "https://docs.roocode.com/features/slash-commands",
    "https://docs.roocode.com/features/custom-instructions",
    "https://docs.roocode.com/features/mcp/using-mcp-in-roo",
  ],
  agentsMd: true,
  commands: {
    dir: ".roo/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
    frontmatter: { "argument-hint": "<request>" },
  },
  mcp: { path: ".roo/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
