// Cursor reads AGENTS.md, project commands in .cursor/commands/*.md and project MCP servers in
// .cursor/mcp.json (`mcpServers`).

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const cursor: AgentAdapter = {
  name: "cursor",
  aliases: ["cursor-agent"],
  title: "Cursor",
  docs: [
    "https://docs.cursor.com/en/agent/chat/commands",
    "https://docs.cursor.com/en/context/rules",
    "https://docs.cursor.com/en/context/mcp",
  ],
  agentsMd: true,
  commands: {
    dir: ".cursor/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: { path: ".cursor/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
