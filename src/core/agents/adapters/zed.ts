// Zed's agent reads AGENTS.md and project settings in .zed/settings.json (JSON with comments), where
// `context_servers` holds MCP servers (`command`, `args`). Spec Kit and OpenSpec give Zed skills
// (.agents/skills), not command files, so Keel writes none.

import { type AgentAdapter, KEEL_STDIO } from "../adapter.js";

export const zed: AgentAdapter = {
  name: "zed",
  title: "Zed",
  docs: ["https://zed.dev/docs/ai/rules", "https://zed.dev/docs/ai/mcp"],
  agentsMd: true,
  mcp: {
    path: ".zed/settings.json",
    format: "jsonc",
    key: ["context_servers", "keel"],
    value: { source: "custom", ...KEEL_STDIO },
  },
};
