// Kilo Code reads AGENTS.md, workflows in .kilocode/workflows/*.md (plain Markdown, run as /<name>.md) and
// project MCP servers in .kilocode/mcp.json (`mcpServers`).

import { type AgentAdapter, KEEL_STDIO, NO_PLACEHOLDER } from "../adapter.js";

export const kilocode: AgentAdapter = {
  name: "kilocode",
  title: "Kilo Code",
  docs: [
    "https://kilocode.ai/docs/features/slash-commands/workflows",
    "https://kilocode.ai/docs/agent-behavior/agents-md",
    "https://kilocode.ai/docs/features/mcp/using-mcp-in-kilo-code",
  ],
  agentsMd: true,
  commands: {
    dir: ".kilocode/workflows",
    file: "keel-{phase}.md",
    format: "plain-markdown",
    placeholder: NO_PLACEHOLDER,
  },
  mcp: { path: ".kilocode/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
