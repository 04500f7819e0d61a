// Qwen Code reads QWEN.md (which imports AGENTS.md with `@AGENTS.md`), custom commands in
// .qwen/commands/*.md (frontmatter `description`, `$ARGUMENTS`) and MCP servers in .qwen/settings.json.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const qwen: AgentAdapter = {
  name: "qwen",
  title: "Qwen Code",
  docs: [
    "https://qwenlm.github.io/qwen-code-docs/1.x/en/users/custom-commands/",
    "https://qwenlm.github.io/qwen-code-docs/en/cli/configuration/",
    "https://qwenlm.github.io/qwen-code-docs/en/tools/mcp-server/",
  ],
  agentsMd: true,
  bridge: "QWEN.md",
  commands: { dir: ".qwen/commands", file: "keel-{phase}.md", format: "markdown", placeholder: "$ARGUMENTS" },
  mcp: { path: ".qwen/settings.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
