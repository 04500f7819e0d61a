// Gemini CLI reads GEMINI.md (which imports AGENTS.md with `@AGENTS.md`), custom commands in
// .gemini/commands/*.toml (`description`, `prompt`, `{{args}}`) and MCP servers in .gemini/settings.json.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const gemini: AgentAdapter = {
  name: "gemini",
  title: "Gemini CLI",
  docs: [
    "https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/custom-commands.md",
    "https://github.com/google-gemini/gemini-cli/blob/main/docs/cli/gemini-md.md",
    "https://github.com/google-gemini/gemini-cli/blob/main/docs/tools/mcp-server.md",
  ],
  agentsMd: true,
  bridge: "GEMINI.md",
  commands: { dir: ".gemini/commands", file: "keel-{phase}.toml", format: "toml", placeholder: "{{args}}" },
  mcp: { path: ".gemini/settings.json", format: "json", key: ["mcpServers", "keel"], value: KEEL_STDIO },
};
