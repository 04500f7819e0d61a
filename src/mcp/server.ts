// The Keel MCP server: the core tools and resources over one McpServer, thin over the same core as the CLI.
// The transport is the caller's (stdio for `keel mcp`).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../model/version.js";
import { LiveLink, type LiveSource } from "./live.js";
import { LiveLog } from "./logging.js";
import { registerPrompts } from "./prompts.js";
import { registerResources } from "./resources.js";
import { ResourceSubscriptions } from "./subscriptions.js";
import type { ToolGroup } from "./tool-groups.js";
import { type McpContext, registerTools } from "./tools.js";

export type { LiveSource, McpContext };

export interface ServerOptions {
  /**
   * A running live event feed to take resource changes from (`keel serve` shares its own); without it, the
   * server starts one on the first subscription and closes it when it closes.
   */
  feed?: LiveSource;
  /** The opt-in tool groups to offer besides the core tools (`keel mcp --tools`). */
  tools?: readonly ToolGroup[];
}

const INSTRUCTIONS = `Keel keeps this project's specs, tasks and their trace. Work loop: keel_ready_tasks → keel_claim_task →
keel_context → implement → \`keel verify --task <key>\` → keel_complete_task. Heartbeat a long task before its lease
ends; leave a keel_note when you hand off. Refusals name an error code and what to do next.`;

// @req SRF-8, SRF-9, SRF-17, SRF-18
export function createServer(ctx: McpContext, options: ServerOptions = {}): McpServer {
  const server = new McpServer({ name: "keel", version: VERSION }, { instructions: INSTRUCTIONS });
  registerTools(server, ctx, options.tools);
  registerResources(server, ctx);
  registerPrompts(server, ctx);
  const live = new LiveLink(ctx.root ?? ctx.cwd, ctx.root !== null, options.feed);
  const subscriptions = new ResourceSubscriptions(server, ctx, live);
  subscriptions.install();
  new LiveLog(server, live).install();
  server.server.onclose = () => {
    subscriptions.close();
    live.close();
  };
  return server;
}
