// The agents `keel agents` knows and, for each, the files it writes: the shared AGENTS.md block, the
// CLAUDE.md bridge, one command (prompt) file per spec-driven phase, and the tool's own MCP configuration.

import { PHASES, type Phase, phaseFile } from "./templates.js";

export const AGENT_NAMES = ["claude", "codex", "cursor", "copilot", "gemini"] as const;
export type AgentName = (typeof AGENT_NAMES)[number];

export function isAgentName(s: string): s is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(s);
}

export type McpFormat = "json" | "jsonc" | "toml";

export type Target =
  /** A marked block in a Markdown file; `shared` blocks stay while any agent is set up. */
  | { kind: "block"; path: string; block: "agents" | "claude"; shared: boolean }
  /** A whole file Keel writes (a phase command); removed only while unedited. */
  | { kind: "file"; path: string; content: string }
  /** The `keel` entry at `key` in the tool's MCP configuration file. */
  | { kind: "mcp"; path: string; format: McpFormat; key: [string, string]; value: Record<string, unknown> };

function commandFiles(agent: AgentName, dir: string, suffix: string): Target[] {
  return PHASES.map((phase: Phase) => ({
    kind: "file" as const,
    path: `${dir}/keel-${phase}${suffix}`,
    content: phaseFile(agent, phase),
  }));
}

/** Every target of `agent`, in the order they are written and reported. */
export function targetsOf(agent: AgentName): Target[] {
  const agentsMd: Target = { kind: "block", path: "AGENTS.md", block: "agents", shared: true };
  /** The command Keel's MCP entry runs in every tool. */
  const stdio = { command: "npx", args: ["keel", "mcp"] };
  switch (agent) {
    case "claude":
      return [
        agentsMd,
        { kind: "block", path: "CLAUDE.md", block: "claude", shared: false },
        ...commandFiles(agent, ".claude/commands", ".md"),
        { kind: "mcp", path: ".mcp.json", format: "json", key: ["mcpServers", "keel"], value: stdio },
      ];
    case "codex":
      return [
        agentsMd,
        {
          kind: "mcp",
          path: ".codex/config.toml",
          format: "toml",
          key: ["mcp_servers", "keel"],
          value: stdio,
        },
      ];
    case "cursor":
      return [
        agentsMd,
        ...commandFiles(agent, ".cursor/commands", ".md"),
        { kind: "mcp", path: ".cursor/mcp.json", format: "json", key: ["mcpServers", "keel"], value: stdio },
      ];
    case "copilot":
      return [
        agentsMd,
        ...commandFiles(agent, ".github/prompts", ".prompt.md"),
        {
          kind: "mcp",
          path: ".vscode/mcp.json",
          format: "jsonc",
          key: ["servers", "keel"],
          value: { type: "stdio", ...stdio },
        },
      ];
    case "gemini":
      return [
        agentsMd,
        ...commandFiles(agent, ".gemini/commands", ".toml"),
        {
          kind: "mcp",
          path: ".gemini/settings.json",
          format: "json",
          key: ["mcpServers", "keel"],
          value: stdio,
        },
      ];
  }
}
