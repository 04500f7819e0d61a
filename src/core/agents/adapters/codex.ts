// Codex reads AGENTS.md and, in a trusted project, .codex/config.toml (`[mcp_servers.<name>]`). Its custom
// prompts live in the user's home only, so Keel writes no command files for it.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const codex: AgentAdapter = {
  name: "codex",
  title: "Codex",
  docs: [
    "https://developers.openai.com/codex/guides/agents-md",
    "https://developers.openai.com/codex/mcp",
    "https://github.com/openai/codex/blob/main/docs/config.md",
  ],
  agentsMd: true,
  mcp: { path: ".codex/config.toml", format: "toml", key: ["mcp_servers", "keel"], value: KEEL_STDIO },
};
