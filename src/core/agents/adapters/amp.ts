// Amp reads AGENTS.md, custom commands in .agents/commands/*.md and workspace settings in .amp/settings.json,
// whose `amp.mcpServers` key (one key, dot included) holds MCP servers. Amp inserts a command's text into the
// prompt input, so the words typed after it follow the text; Spec Kit writes `$ARGUMENTS`, which Amp documents
// no substitution for.

import { type AgentAdapter, KEEL_STDIO, NO_PLACEHOLDER } from "../adapter.js";

export const amp: AgentAdapter = {
  name: "amp",
  title: "Amp",
  docs: [
    "https://ampcode.com/manual#agents-md",
    "https://ampcode.com/manual#custom-commands",
    "https://ampcode.com/manual#mcp",
  ],
  agentsMd: true,
  commands: {
    dir: ".agents/commands",
    file: "keel-{phase}.md",
    format: "markdown",
    placeholder: NO_PLACEHOLDER,
  },
  mcp: { path: ".amp/settings.json", format: "json", key: ["amp.mcpServers", "keel"], value: KEEL_STDIO },
};
