// An MCP client of the official SDK, connected to `node dist/keel.mjs mcp` over stdio, as an agent's tool runs it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CLI, cliEnv } from "./cli.js";

/** A connected client of `keel mcp <flags…>` started in `cwd`; the caller closes it. */
export async function connectStdio(cwd: string, ...flags: string[]): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cliEnv())) if (v !== undefined) env[k] = v;
  const client = new Client({ name: "keel-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", ...flags], cwd, env }),
  );
  return client;
}
