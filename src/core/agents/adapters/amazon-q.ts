// Amazon Q Developer CLI reads AGENTS.md, local prompts in .amazonq/prompts/*.md (run as @<name>, no argument
// substitution) and workspace MCP servers in .amazonq/mcp.json (`mcpServers`).

import { type AgentAdapter, KEEL_STDIO, NO_PLACEHOLDER } from "../adapter.js";

export const amazonQ: AgentAdapter = {
  name: "amazon-q",
  title: "Amazon Q Developer",
  docs: [
    "https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-prompts.html",
    "https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-project-rules.html",
    "https://docs.aws.amazon.com/amazonq/latest/qdeveloper-ug/command-line-mcp-configuration.html",
  ],
  agentsMd: true,
  commands: {
    dir: ".amazonq/prompts",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
  mcp: { path: ".amazonq/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
