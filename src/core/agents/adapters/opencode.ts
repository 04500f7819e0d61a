// OpenCode reads AGENTS.md, commands in .opencode/commands/*.md (frontmatter `description`, `$ARGUMENTS`)
// and MCP servers under `mcp` in opencode.json, where a local server's command is one array.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const opencode: AgentAdapter = {
  name: "opencode",
  title: "OpenCode",
  docs: [
    "https://opencode.ai/docs/commands/",
    "https://opencode.ai/docs/rules/",
    "https://opencode.ai/docs/mcp-servers/",
  ],
  agentsMd: true,
  commands: {
    dir: ".opencode/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: {
    path: "opencode.json",
    format: "jsonc",
    key: ["mcp", "keel"],
    value: { type: "local", command: [KEEL_STDIO.command, ...KEEL_STDIO.args], enabled: true },
  },
};
