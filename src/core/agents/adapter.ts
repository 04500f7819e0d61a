// What an agent adapter declares: data only. Each tool's file (adapters/<tool>.ts) says which files Keel
// writes for that tool and in which format; render.ts turns a declaration into the Targets that index.ts
// plans, writes and removes, so no tool has a code path of its own.

import type { Phase } from "./templates.js";

export type McpFormat = "json" | "jsonc" | "toml";

/**
 * How a phase command file is laid out:
 * - `markdown`: YAML frontmatter (`description` and the adapter's extra keys), then the instructions;
 * - `plain-markdown`: a `#` title and the description as the first paragraph, for tools that read no
 *   frontmatter (Cline workflows);
 * - `toml`: `description` and a multi-line `prompt` string (Gemini CLI and its forks).
 */
export type CommandFormat = "markdown" | "plain-markdown" | "toml";

export interface CommandFiles {
  /** The folder the tool reads project commands from. */
  dir: string;
  /** The file name; `{phase}` stands for the phase. */
  file: string;
  format: CommandFormat;
  /** What the tool replaces with the words typed after the command, or a sentence where it has none. */
  placeholder: string;
  /** Extra frontmatter keys (`markdown` only), in order; `{phase}` in a value stands for the phase. */
  frontmatter?: Record<string, string | boolean>;
}

export interface McpEntry {
  path: string;
  format: McpFormat;
  /** The servers key and Keel's name under it. */
  key: [string, string];
  value: Record<string, unknown>;
}

export interface AgentAdapter {
  /** Kebab-case, as OpenSpec and Spec Kit name the tool. */
  name: string;
  /** Other names accepted on the command line and in keel/agents.yaml. */
  aliases?: readonly string[];
  title: string;
  /** The tool's own documentation for the paths and formats used here. */
  docs: readonly string[];
  /** Writes the shared AGENTS.md block (the tool reads AGENTS.md). */
  agentsMd: boolean;
  /** The tool's own instructions file, given a block that imports AGENTS.md (`@AGENTS.md`). */
  bridge?: string;
  commands?: CommandFiles;
  mcp?: McpEntry;
}

/** The command Keel's MCP entry runs in every tool. */
export const KEEL_STDIO = { command: "npx", args: ["keel", "mcp"] } as const;

/** The placeholder for tools whose command files take no argument substitution. */
export const NO_PLACEHOLDER = "(the words typed after the command, if any)";

export type Target =
  /** A marked block in a Markdown file; `shared` blocks stay while any agent is set up. */
  | { kind: "block"; path: string; block: "agents" | "bridge"; shared: boolean }
  /** A whole file Keel writes (a phase command); removed only while unedited. */
  | { kind: "file"; path: string; content: string; format: CommandFormat; phase: Phase }
  /** The `keel` entry at `key` in the tool's MCP configuration file. */
  | { kind: "mcp"; path: string; format: McpFormat; key: [string, string]; value: Record<string, unknown> };
