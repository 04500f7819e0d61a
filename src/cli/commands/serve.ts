// `keel serve`: REST, Server-Sent Events and MCP over HTTP (src/server/). Single-user loopback mode is the
// default; `--auth`, or any address that is not loopback, asks every request for a bearer token. The first
// line on stdout is `keel serve: <url>`, so tools (and tests) can read the port that `--port 0` picked.
// SIGINT and SIGTERM close the server cleanly. It warns when git would commit `.keel/`.

import { liveTokenCount } from "../../core/auth/tokens.js";
import { parseToolGroups } from "../../mcp/tool-groups.js";
import { DEFAULT_RATE_PER_MINUTE, isLoopback } from "../../server/auth.js";
import { STATE_DIR } from "../../store/index-db.js";
import { coordinationStore } from "../../store/select.js";
import { STATE_FILE } from "../../store/state-db.js";
import { parseActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { gitOutput } from "../../workspace/git.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { DEFAULT_MCP_ACTOR } from "./mcp.js";

const USAGE =
  "keel serve [--port <n>] [--host <address>] [--auth] [--allow-host <name>]… [--rate <n>] [--as <kind:name>] [--mcp-tools <groups>]";
const DEFAULT_PORT = 4840;

const SERVE_FLAGS = {
  port: {
    type: "string",
    value: "n",
    help: `the port to listen on (0: any free port); default ${DEFAULT_PORT}`,
  },
  host: {
    type: "string",
    value: "address",
    help: "the address to listen on; default 127.0.0.1 (any other asks for tokens)",
  },
  auth: { type: "boolean", help: "ask every request for a bearer token, even on loopback" },
  "allow-host": {
    type: "string",
    multiple: true,
    value: "name",
    help: "a Host header to accept besides the listening address (repeatable)",
  },
  rate: {
    type: "string",
    value: "n",
    help: `requests per minute allowed to each token; default ${DEFAULT_RATE_PER_MINUTE}`,
  },
  as: {
    type: "string",
    value: "kind:name",
    help: `who acts for requests that name nobody; default KEEL_ACTOR, else ${DEFAULT_MCP_ACTOR}`,
  },
  "mcp-tools": {
    type: "string",
    value: "groups",
    help: "MCP tool groups offered besides core, comma-separated (tasks,changes,trace,specs or all)",
  },
} as const satisfies Flags;

// @req TRU-9
/** Inside a git work tree whose ignore rules (any .gitignore, info/exclude, the global file) miss `.keel/`. */
function keelNotIgnored(root: string): boolean {
  if (gitOutput(root, ["rev-parse", "--is-inside-work-tree"])?.trim() !== "true") return false;
  // --no-index: a store committed by mistake is still reported, not hidden by being tracked.
  return gitOutput(root, ["check-ignore", "--no-index", "-q", `${STATE_DIR}/${STATE_FILE}`]) === null;
}

const command: Command = {
  name: "serve",
  summary: "serve REST, live events and MCP over HTTP on loopback",
  usage: USAGE,
  flags: SERVE_FLAGS,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, SERVE_FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("serve takes no arguments", `usage: ${USAGE}`);
    const portText = values.port ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65_535)
      throw usageError(
        `--port must be a number from 0 to 65535, not "${portText}"`,
        "e.g. --port 0 for any free port",
      );
    const host = values.host ?? "127.0.0.1";
    if (!/^[A-Za-z0-9.:-]+$/.test(host))
      throw usageError(
        `--host "${host}" is not an address`,
        "e.g. --host 127.0.0.1 or --host 0.0.0.0 --auth",
      );
    const allowHosts = values["allow-host"] ?? [];
    for (const name of allowHosts)
      if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(name))
        throw usageError(`--allow-host "${name}" is not a host name`, "e.g. --allow-host keel.internal:4840");
    const rateText = values.rate ?? String(DEFAULT_RATE_PER_MINUTE);
    if (!/^[1-9]\d{0,6}$/.test(rateText))
      throw usageError(
        `--rate must be a positive number of requests per minute, not "${rateText}"`,
        "e.g. --rate 600",
      );
    // Off loopback, anyone who can reach the port could act: every request must then carry a token.
    const required = values.auth === true || !isLoopback(host);
    const actor = values.as ?? process.env.KEEL_ACTOR ?? DEFAULT_MCP_ACTOR;
    parseActor(actor, values.as !== undefined ? "flag" : "env");
    const mcpTools = parseToolGroups(values["mcp-tools"], "--mcp-tools");
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const { startServer } = await import("../../server/http.js");
    const auth = { required, ratePerMinute: Number(rateText) };
    const server = await startServer({
      host,
      port,
      root: project.root,
      global,
      actor,
      auth,
      allowHosts,
      mcpTools,
    });
    // Listening for the stop signals before the URL is printed: whoever reads the URL may stop us at once.
    const stopped = new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    io.out(`keel serve: ${server.url}`);
    io.err(
      `serving ${project.root} — REST /api, events /events, MCP /mcp; ${required ? `bearer tokens required (keel token create), ${auth.ratePerMinute} requests per minute each` : "single-user mode, no token needed"}; Ctrl-C stops`,
    );
    for (const warning of server.warnings) io.err(`warning: ${warning}`);
    if (keelNotIgnored(project.root))
      io.err(
        "warning: .keel/ is not ignored by git, so `git add -A` would commit the local store (token hashes, claims); add the line `.keel/` to .gitignore",
      );
    // The server's own store (kept per process): in team mode the team's tokens, wherever they were created.
    if (required && (await liveTokenCount(await coordinationStore(project.root, loadConfig(project)))) === 0)
      io.err(
        "warning: no live token exists, so every request will be refused; create one with `keel token create --role agent --name <name>`",
      );
    await stopped;
    await server.close();
    return EXIT.ok;
  },
};

export default command;
