// GitHub Copilot in VS Code reads AGENTS.md, prompt files in .github/prompts/*.prompt.md (frontmatter
// `description`, `mode`; `${input:name}` asks for a value) and workspace MCP servers in .vscode/mcp.json (`servers`,
// JSON with comments). `copilot` is the name Keel used first; keel/agents.yaml files that say so still work.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const githubCopilot: AgentAdapter = {
  name: "github-copilot",
  aliases: ["copilot"],
  title: "GitHub Copilot",
  docs: [
    "https://code.visualstudio.com/docs/copilot/customization/prompt-files",
    "https://code.visualstudio.com/docs/copilot/customization/custom-instructions",
    "https://code.visualstudio.com/docs/copilot/customization/mcp-servers",
  ],
  agentsMd: true,
  commands: {
    dir: ".github/prompts",
    file: "keel-{phase}.prompt.md",
    format: "markdown",
    placeholder: `\${input:request}`,
    frontmatter: { mode: "agent" },
  },
  mcp: {
    path: ".vscode/mcp.json",
    format: "jsonc",
    key: ["servers", "keel"],
    value: { type: "stdio", ...KEEL_STDIO },
  },
};
