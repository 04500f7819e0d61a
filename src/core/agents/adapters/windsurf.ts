// Windsurf (Cascade) reads AGENTS.md and workflows in .windsurf/workflows/*.md, run as /<name>. Its MCP
// configuration is per user (~/.codeium/windsurf/mcp_config.json), so Keel writes none. Spec Kit no longer
// lists Windsurf and OpenSpec now names it Devin Desktop (skills in .devin); the workflows folder is Windsurf's.

import { type AgentAdapter, NO_PLACEHOLDER } from "../adapter.js";

export const windsurf: AgentAdapter = {
  name: "windsurf",
  title: "Windsurf",
  docs: [
    "https://docs.windsurf.com/windsurf/cascade/workflows",
    "https://docs.windsurf.com/windsurf/cascade/agents-md",
    "https://docs.windsurf.com/windsurf/cascade/mcp",
  ],
  agentsMd: true,
  commands: {
    dir: ".windsurf/workflows",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
};
