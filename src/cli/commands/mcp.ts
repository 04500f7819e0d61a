// `keel mcp [--as kind:name] [--tools groups]`: the MCP server over stdio (src/mcp/). The SDK is loaded here
// only, so other commands never pay for it. Logs go to stderr: stdout carries the protocol.
import { installClaimBatching } from "../../core/tasks/claim-batch.js";
import { followClaimMirror } from "../../core/tasks/claim-mirror.js";
import { GROUP_NAMES, parseToolGroups } from "../../mcp/tool-groups.js";
import { closeStores, coordinationStore } from "../../store/select.js";
import { parseActor } from "../../workspace/actor.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type TreeWatcher, watchProject } from "../../workspace/tree-watch.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";

const USAGE = "keel mcp [--as <kind:name>] [--tools <group,…>]";

const FLAGS = {
  as: {
    ...ACTOR_FLAGS.as,
    help: "who acts when a tool call names nobody; default KEEL_ACTOR, then agent:mcp",
  },
  tools: {
    type: "string",
    value: "group,…",
    help: `opt-in tool groups beside core: ${GROUP_NAMES.join(", ")} or all (comma-separated); default core`,
    complete: ["core", ...GROUP_NAMES, "all"],
  },
} as const satisfies Flags;

/** Who acts when a tool call names nobody: `--as`, then KEEL_ACTOR, then `agent:mcp`. */
export const DEFAULT_MCP_ACTOR = "agent:mcp";

const command: Command = {
  name: "mcp",
  summary: "serve Keel to agents over MCP (stdio)",
  usage: USAGE,
  flags: FLAGS,
  async run({ global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("mcp takes no arguments", `usage: ${USAGE}`);
    const actor = values.as ?? process.env.KEEL_ACTOR ?? DEFAULT_MCP_ACTOR;
    parseActor(actor, values.as !== undefined ? "flag" : "env"); // a bad actor fails now, not on every call
    const tools = parseToolGroups(values.tools);
    const [{ createServer }, { StdioServerTransport }] = await Promise.all([
      import("../../mcp/server.js"),
      import("@modelcontextprotocol/sdk/server/stdio.js"),
    ]);
    const server = createServer({ root: global.root, cwd: global.cwd, actor }, { tools });
    // The model stays warm between calls while this watcher sees no change (workspace/freshness.ts).
    const watcher = watchedRoot(global.root ?? global.cwd, global.root !== null);
    const config = watcher ? configOf(watcher.root) : null;
    if (watcher && config) installClaimBatching(watcher.root, config);
    // In team mode the tools' ready views follow every server's claims (core/tasks/claim-ops.ts).
    const unfollow =
      watcher && config
        ? await followClaimMirror(watcher.root, await coordinationStore(watcher.root, config))
        : () => {};
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => {
      transport.onclose = resolve;
      process.stdin.once("end", resolve);
    });
    await server.connect(transport);
    await closed;
    await server.close();
    watcher?.close();
    unfollow();
    installClaimBatching(null);
    await closeStores();
    return EXIT.ok;
  },
};

/** A watcher on the project, or null where there is none yet (the tools then say so themselves). */
function watchedRoot(start: string, explicit: boolean): TreeWatcher | null {
  try {
    return watchProject(findProjectRoot(start, explicit).root);
  } catch {
    return null;
  }
}

/** The project's configuration, or null when it cannot be read: each tool call then reports why. */
function configOf(root: string): KeelConfig | null {
  try {
    return loadConfig(findProjectRoot(root, true));
  } catch {
    return null;
  }
}

export default command;
