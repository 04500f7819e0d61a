// Completion values for MCP arguments (resource template variables, prompt arguments).

/** MCP answers at most this many completion values. */
const MAX_COMPLETIONS = 100;

/**
 * Completion values for a template variable: the names starting with what was typed (case-insensitive), sorted.
 * A project Keel cannot read completes to nothing rather than failing the client's typing.
 */
export async function completing(typed: string, names: () => Promise<string[]>): Promise<string[]> {
  let all: string[];
  try {
    all = await names();
  } catch {
    return [];
  }
  const prefix = typed.toLowerCase();
  return [...new Set(all.filter((n) => n.toLowerCase().startsWith(prefix)))].sort().slice(0, MAX_COMPLETIONS);
}
