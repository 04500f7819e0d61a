// Independent MCP clients (the MCP Inspector CLI, the official conformance suite) need Node 22 or later. They
// and the `node` package that provides it live in their own package, tools/mcp-clients (installed by
// `npm install`'s prepare step): in Keel's own node_modules the `node` bin would shadow the system Node in
// every npm script. Keel itself, with its native SQLite module, keeps running on the Node that runs the tests.
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { cliEnv, type Run, runProcess } from "./cli.js";

export const REPO = join(import.meta.dirname, "..", "..");

const CLIENTS = join(REPO, "tools", "mcp-clients", "node_modules");

export const NODE22 = join(CLIENTS, "node", "bin", "node");

/** True when the Node 22 binary is installed; the independent-client tests skip, saying so, without it. */
export const HAS_NODE22 = existsSync(NODE22);

/** The file a dev dependency's `bin` entry names, e.g. binOf("@modelcontextprotocol/inspector", "mcp-inspector"). */
export function binOf(pkg: string, name: string): string {
  const dir = join(CLIENTS, ...pkg.split("/"));
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as {
    bin: Record<string, string>;
  };
  const rel = manifest.bin[name];
  if (rel === undefined) throw new Error(`${pkg} has no bin named ${name}`);
  return join(dir, rel);
}

/**
 * Runs `node22 <args>` in `cwd`, with the Node 22 folder first on PATH (so a tool that starts `node` itself gets
 * Node 22 too) and Keel's usual test environment plus `extra`.
 */
export function node22(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}): Promise<Run> {
  const env = cliEnv(extra);
  env.PATH = `${dirname(NODE22)}${delimiter}${env.PATH ?? ""}`;
  return runProcess(NODE22, args, cwd, env);
}
