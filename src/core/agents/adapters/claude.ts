// Claude Code reads CLAUDE.md (which imports AGENTS.md with `@AGENTS.md`), project slash commands in
// .claude/commands/*.md (frontmatter `description`, `$ARGUMENTS`) and project MCP servers in .mcp.json.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const claude: AgentAdapter = {
  name: "claude",
  title: "Claude Code",
  docs: [
    "https://docs.anthropic.com/en/docs/claude-code/slash-commands",
    "https://docs.anthropic.com/en/docs/claude-code/memory",
    "https://docs.anthropic.com/en/docs/claude-code/mcp",
  ],
  agentsMd: true,
  bridge: "CLAUDE.md",
  commands: {
    dir: ".claude/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: { path: ".mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
