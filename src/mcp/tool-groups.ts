// The opt-in groups of MCP tools and how `keel mcp --tools` (and `keel serve --mcp-tools`) names them. Apart from
// the tools themselves (tools-opt-in.ts), so that a command parses its flags without loading the MCP SDK.
// @req SRF-18
import { usageError } from "../workspace/errors.js";

/** The opt-in groups, in the order `--tools all` registers them (their tools: docs/cli.md#mcp). */
export const GROUP_NAMES = ["tasks", "changes", "trace", "specs"] as const;

export type ToolGroup = (typeof GROUP_NAMES)[number];

/**
 * The groups a `--tools` (`--mcp-tools`) value enables: a comma-separated list of group names, `core` (the
 * default, always on) or `all`. Anything else is a usage error naming the groups.
 */
export function parseToolGroups(value: string | undefined, flag = "--tools"): ToolGroup[] {
  if (value === undefined) return [];
  const out = new Set<ToolGroup>();
  for (const raw of value.split(",")) {
    const name = raw.trim();
    if (name === "core") continue;
    if (name === "all") for (const g of GROUP_NAMES) out.add(g);
    else if ((GROUP_NAMES as readonly string[]).includes(name)) out.add(name as ToolGroup);
    else
      throw usageError(
        `unknown tool group "${name}"`,
        `${flag} takes a comma-separated list of: core, ${GROUP_NAMES.join(", ")}, all`,
      );
  }
  return GROUP_NAMES.filter((g) => out.has(g));
}
