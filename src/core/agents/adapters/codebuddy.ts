// CodeBuddy Code reads CODEBUDDY.md (which imports AGENTS.md with `@AGENTS.md`), slash commands in
// .codebuddy/commands/*.md (`$ARGUMENTS`) and project MCP servers in .mcp.json, the file Claude Code reads too.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const codebuddy: AgentAdapter = {
  name: "codebuddy",
  title: "CodeBuddy Code",
  docs: [
    "https://www.codebuddy.ai/docs/cli/slash-commands",
    "https://www.codebuddy.ai/docs/cli/memory",
    "https://www.codebuddy.ai/docs/cli/mcp",
  ],
  agentsMd: true,
  bridge: "CODEBUDDY.md",
  commands: {
    dir: ".codebuddy/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: "$ARGUMENTS",
  },
  mcp: { path: ".mcp.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
