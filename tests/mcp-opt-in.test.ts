// The opt-in MCP tools (`keel mcp --tools`, `keel serve --mcp-tools`), driven by the official SDK client on a copy
// of the Acme Invoicing example: by default only the core tools are listed; each opt-in tool answers what the
// matching `keel … --json` command prints; task and approval writes go through the core's claims and policy;
// an unknown group is refused before the server starts.
// @verifies SRF-18
import { cpSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, jsonOut, keel } from "./support/cli.js";
import { CORE_TOOLS } from "./support/fixtures.js";
import { startServe } from "./support/serve.js";

const EXAMPLE = join(import.meta.dirname, "..", "examples", "acme-invoicing");

const OPT_IN = {
  tasks: ["keel_block_task", "keel_release_task", "keel_show_task"],
  changes: ["keel_approve_change", "keel_list_changes", "keel_show_change"],
  trace: ["keel_coverage", "keel_drift"],
  specs: ["keel_list_requirements", "keel_status"],
};

let base: string;
let root: string;
const clients: Client[] = [];

beforeAll(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), "keel-mcp-opt-in-")));
  root = join(base, "acme-invoicing");
  cpSync(EXAMPLE, root, { recursive: true });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  rmSync(base, { recursive: true, force: true });
});

async function stdioClient(...args: string[]): Promise<Client> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cliEnv())) if (v !== undefined) env[k] = v;
  const client = new Client({ name: "keel-opt-in-test", version: "1.0.0" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, "mcp", "--as", "agent:codex-7", ...args],
      cwd: root,
      env,
    }),
  );
  clients.push(client);
  return client;
}

async function toolNames(client: Client): Promise<string[]> {
  const { tools } = await client.listTools();
  for (const t of tools) expect(t.outputSchema, t.name).toBeDefined();
  return tools.map((t) => t.name).sort();
}

async function call(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

// biome-ignore lint/suspicious/noExplicitAny: answers are compared as parsed JSON
function structured(r: CallToolResult): any {
  expect(r.isError ?? false, text(r)).toBe(false);
  // The text is the same answer, for clients that read only text.
  expect(JSON.parse(text(r))).toEqual(r.structuredContent);
  return r.structuredContent;
}

/** What the CLI prints for the same question, parsed. */
// biome-ignore lint/suspicious/noExplicitAny: compared as parsed JSON
function cli(...args: string[]): any {
  return jsonOut(keel(root, ...args, "--json"));
}

describe("keel mcp --tools", () => {
  it("lists only the core tools by default, and the named groups besides them", async () => {
    expect(await toolNames(await stdioClient())).toEqual(CORE_TOOLS);
    expect(await toolNames(await stdioClient("--tools", "core,trace"))).toEqual(
      [...CORE_TOOLS, ...OPT_IN.trace].sort(),
    );
    expect(await toolNames(await stdioClient("--tools", "all"))).toEqual(
      [...CORE_TOOLS, ...Object.values(OPT_IN).flat()].sort(),
    );
  });

  it("answers the read tools with what the matching keel command prints", async () => {
    const c = await stdioClient("--tools", "all");
    expect(structured(await call(c, "keel_coverage"))).toEqual(cli("coverage"));
    expect(structured(await call(c, "keel_drift", { failOn: "warning" }))).toEqual(
      jsonOut(keel(root, "drift", "--json", "--fail-on", "warning")),
    );
    expect(structured(await call(c, "keel_list_changes"))).toEqual(cli("change", "list"));
    expect(structured(await call(c, "keel_show_change", { id: "add-partial-payments" }))).toEqual(
      cli("change", "show", "add-partial-payments"),
    );
    // Index statistics say how this run read the files (parsed, replayed), so they differ between runs.
    const { index: _one, ...reqs } = structured(
      await call(c, "keel_list_requirements", { capability: "invoices" }),
    );
    const { index: _two, ...printed } = cli("list", "requirements", "--capability", "invoices");
    expect(reqs).toEqual(printed);
    expect(reqs.requirements.length).toBeGreaterThan(0);
    for (const r of reqs.requirements) expect(r.capability).toBe("invoices");
    const status = structured(await call(c, "keel_status"));
    expect(status.specs).toEqual(cli("status").specs);
    expect(structured(await call(c, "keel_show_task", { task: "add-invoice-disputes/1.1" }))).toEqual(
      cli("tasks", "show", "add-invoice-disputes/1.1"),
    );
  });

  it("releases and blocks claimed tasks through the claim store, and refuses a stale token", async () => {
    const c = await stdioClient("--tools", "tasks");
    const claim = async (task: string) => {
      const r = await call(c, "keel_claim_task", { task });
      expect(r.isError ?? false, text(r)).toBe(false);
      return r.structuredContent as { token: number };
    };
    const first = await claim("add-invoice-disputes/1.2");
    const released = structured(
      await call(c, "keel_release_task", { task: "add-invoice-disputes/1.2", token: first.token }),
    );
    expect(released.result).toMatchObject({ taskId: "add-invoice-disputes/1.2", status: "released" });
    const second = await claim("add-invoice-disputes/1.3");
    const blocked = structured(
      await call(c, "keel_block_task", {
        task: "add-invoice-disputes/1.3",
        token: second.token,
        reason: "waiting for the payments team",
      }),
    );
    expect(blocked.result).toMatchObject({ status: "blocked", reason: "waiting for the payments team" });
    const ready = cli("tasks", "ready").ready.map((t: { key: string }) => t.key);
    expect(ready).toContain("add-invoice-disputes/1.2");
    expect(ready).not.toContain("add-invoice-disputes/1.3");
    // The released claim's token no longer holds anything.
    const stale = await call(c, "keel_release_task", {
      task: "add-invoice-disputes/1.2",
      token: first.token,
    });
    expect(stale.isError).toBe(true);
    expect(text(stale)).toMatch(/^error \[claim-/);
  });

  it("approves as a person, and refuses an agent where policy lets agents only propose", async () => {
    const c = await stdioClient("--tools", "changes");
    const refused = await call(c, "keel_approve_change", { id: "add-invoice-disputes" });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toMatch(/^error \[refused\]/);
    expect(cli("change", "show", "add-invoice-disputes").approvals ?? []).toEqual([]);
    const approved = structured(
      await call(c, "keel_approve_change", {
        id: "add-invoice-disputes",
        as: "human:alice",
        reason: "reviewed",
      }),
    );
    expect(approved).toMatchObject({ ok: true, change: "add-invoice-disputes", status: "approved" });
    expect(approved.approvals.map((a: { by: string }) => a.by)).toEqual(["human:alice"]);
    const unknown = await call(c, "keel_show_change", { id: "no-such-change" });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('no change "no-such-change"');
  });

  it("refuses an unknown group with exit 2, naming the groups, before serving", () => {
    const mcp = keel(root, "mcp", "--tools", "trace,everything");
    expect(mcp.code).toBe(2);
    expect(mcp.stderr).toContain('unknown tool group "everything"');
    expect(mcp.stderr).toContain(
      "--tools takes a comma-separated list of: core, tasks, changes, trace, specs, all",
    );
    const serve = keel(root, "serve", "--port", "0", "--mcp-tools", "nope");
    expect(serve.code).toBe(2);
    expect(serve.stderr).toContain("--mcp-tools takes");
  });
});

describe("keel serve --mcp-tools", () => {
  it("offers the named groups on every MCP session over HTTP", async () => {
    const served = await startServe(root, ["--mcp-tools", "specs"]);
    try {
      const c = new Client({ name: "keel-opt-in-http", version: "1.0.0" });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${served.base}/mcp`)));
      clients.push(c);
      expect(await toolNames(c)).toEqual([...CORE_TOOLS, ...OPT_IN.specs].sort());
      expect(structured(await call(c, "keel_status")).specs).toEqual(cli("status").specs);
    } finally {
      await served.stop();
    }
  });
});
