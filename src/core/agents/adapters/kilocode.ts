// Kilo Code (1.0 and later) reads AGENTS.md and project commands in .kilo/commands/*.md (frontmatter
// `description`; `$ARGUMENTS` is what was typed), as Kilo's own config reference documents and Spec Kit writes
// them; .kilocode/workflows is the older layout it still reads. Project MCP servers stay in .kilocode/mcp.json
// (`mcpServers`), the file Kilo's MCP page documents.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const kilocode: AgentAdapter = {
  name: "kilocode",
  title: "Kilo Code",
  docs: [
    "https://github.com/Kilo-Org/kilocode/blob/main/packages/opencode/src/kilocode/skills/kilo-config.md",
    "https://kilo.ai/docs/agent-behavior/agents-md",
    "https://kilo.ai/docs/automate/mcp/using-in-kilo-code",
  ],
  agentsMd: true,
  commands: {
    dir: ".kilo/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: { path: ".kilocode/mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
