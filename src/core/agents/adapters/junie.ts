// Junie reads AGENTS.md, custom commands in .junie/commands/*.md (`$ARGUMENTS`) and project MCP servers in
// .junie/mcp/mcp.json (`mcpServers`).

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const junie: AgentAdapter = {
  name: "junie",
  title: "Junie",
  docs: [
    "https://www.jetbrains.com/help/junie/customize-guidelines.html",
    "https://www.jetbrains.com/help/junie/model-context-protocol-mcp.html",
  ],
  agentsMd: true,
  commands: {
    dir: ".junie/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: { path: ".junie/mcp/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
