// `keel serve [--port N] [--host 127.0.0.1] [--as kind:name]`: REST, Server-Sent Events and MCP over HTTP
// (src/server/). The first line on stdout is `keel serve: <url>`, so tools (and tests) can read the port
// that `--port 0` picked. SIGINT and SIGTERM close the server cleanly.
import { parseActor } from "../../workspace/actor.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { DEFAULT_MCP_ACTOR } from "./mcp.js";

const USAGE = "keel serve [--port N] [--host 127.0.0.1|localhost|::1] [--as kind:name]";
export const DEFAULT_PORT = 4840;
/** Until tokens and roles exist, nothing but loopback may be served. */
const LOOPBACK = ["127.0.0.1", "localhost", "::1"];

const command: Command = {
  name: "serve",
  summary: "serve REST, live events and MCP over HTTP on loopback",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(
      argv,
      { port: { type: "string" }, host: { type: "string" }, as: { type: "string" } },
      USAGE,
    );
    if (positionals.length > 0) throw usageError("serve takes no arguments", `usage: ${USAGE}`);
    const portText = values.port ?? String(DEFAULT_PORT);
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port > 65_535)
      throw usageError(
        `--port must be a number from 0 to 65535, not "${portText}"`,
        "e.g. --port 0 for any free port",
      );
    const host = values.host ?? "127.0.0.1";
    if (!LOOPBACK.includes(host))
      throw usageError(
        `--host ${host} is not a loopback address`,
        "keel serve has no authentication yet, so it serves 127.0.0.1, localhost or ::1 only",
      );
    const actor = values.as ?? process.env.KEEL_ACTOR ?? DEFAULT_MCP_ACTOR;
    parseActor(actor, values.as !== undefined ? "flag" : "env");
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const { startServer } = await import("../../server/http.js");
    const server = await startServer({ host, port, root: project.root, global, actor });
    io.out(`keel serve: ${server.url}`);
    io.err(`serving ${project.root} — REST /api, events /events, MCP /mcp; Ctrl-C stops`);
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
    await server.close();
    return EXIT.ok;
  },
};

export default command;
