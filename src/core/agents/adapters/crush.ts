// Crush reads AGENTS.md among its context files, project commands in .crush/commands/*.md (plain Markdown;
// a `$NAME` placeholder asks for a value) and MCP servers under `mcp` in .crush.json. OpenSpec writes YAML
// frontmatter in these files; Crush's COMMANDS.md documents none, which is why Keel writes plain Markdown.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const crush: AgentAdapter = {
  name: "crush",
  title: "Crush",
  docs: [
    "https://github.com/charmbracelet/crush/blob/main/COMMANDS.md",
    "https://github.com/charmbracelet/crush#configuration",
  ],
  agentsMd: true,
  commands: {
    dir: ".crush/commands",
    file: "keel-{phase}.md",
    format: "plain-markdown",
    placeholder: "$REQUEST",
  },
  mcp: { path: ".crush.json", format: "json", key: ["mcp", "keel"], value: { type: "stdio", ...KEEL_STDIO } },
};
