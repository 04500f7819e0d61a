// The Keel MCP server: the core tools and resources over one McpServer, thin over the same core as the CLI.
// The transport is the caller's (stdio for `keel mcp`).
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { VERSION } from "../model/version.js";
import { registerResources } from "./resources.js";
import { type McpContext, registerTools } from "./tools.js";

export type { McpContext };

const INSTRUCTIONS = `Keel keeps this project's specs, tasks and their trace. Work loop: keel_ready_tasks → keel_claim_task →
keel_context → implement → \`keel verify --task <key>\` → keel_complete_task. Heartbeat a long task before its lease
ends; leave a keel_note when you hand off. Refusals name an error code and what to do next.`;

export function createServer(ctx: McpContext): McpServer {
  const server = new McpServer({ name: "keel", version: VERSION }, { instructions: INSTRUCTIONS });
  registerTools(server, ctx);
  registerResources(server, ctx);
  return server;
}
