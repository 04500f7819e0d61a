// `keel serve`: the real CLI serves a temp project on a free port; REST answers match the CLI's --json, the
// security defaults refuse what they should, the MCP SDK client works over Streamable HTTP, and an SSE
// subscriber sees an editor's save and a claim made by another process.
// @verifies SRF-4, SRF-5
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOut, keel, keelAsync } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS as TASKS } from "./support/fixtures.js";
import {
  httpRequest,
  type Reply,
  type Served,
  startServe,
  subscribeEvents,
  withoutIndex,
} from "./support/serve.js";

const project = tempProjects("keel-serve-");

let root: string;
let server: Served;
let base: string;
let port: number;

function http(
  method: string,
  path: string,
  opts: { host?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return httpRequest(port, method, path, opts);
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
    "specs/001-checkout/tasks.md": "- [ ] T001 Build the checkout page\n",
  });
  server = await startServe(root);
  base = server.base;
  port = server.port;
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe("keel serve: REST", () => {
  it("answers what the CLI's --json answers for the same project", async () => {
    const pairs: Array<[string, string[]]> = [
      ["/api/status", ["status"]],
      ["/api/specs", ["list", "specs"]],
      ["/api/tasks", ["tasks", "list"]],
      ["/api/tasks/ready", ["tasks", "ready"]],
      ["/api/search?q=refund", ["search", "refund"]],
    ];
    for (const [path, args] of pairs) {
      const r = await http("GET", path);
      expect(r.status, path).toBe(200);
      expect(r.headers["access-control-allow-origin"], path).toBeUndefined();
      expect(withoutIndex(r.json), path).toEqual(withoutIndex(jsonOut(keel(root, "--json", ...args))));
    }
    const req = await http("GET", "/api/requirements/PAY-1");
    expect(req.status).toBe(200);
    const { trace, ...shown } = req.json;
    expect(withoutIndex(shown)).toEqual(withoutIndex(jsonOut(keel(root, "--json", "show", "PAY-1"))));
    expect(trace).toEqual(jsonOut(keel(root, "--json", "trace", "PAY-1")));
  });

  it("refuses bad input with JSON errors and proper statuses", async () => {
    const unknown = await http("GET", "/api/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("not_found");
    const missing = await http("GET", "/api/requirements/NOPE-9");
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: "not_found", message: 'no requirement "NOPE-9"' });
    const spec = await http("GET", "/api/requirements/payments");
    expect(spec.status).toBe(404);
    const noQuery = await http("GET", "/api/search");
    expect(noQuery.status).toBe(400);
    const wrongMethod = await http("DELETE", "/api/tasks");
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe("GET");
    const big = await http("POST", "/mcp", {
      body: Buffer.alloc(2 * 1024 * 1024, "a"),
      headers: { "content-type": "application/json" },
    });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("body_too_large");
  });

  it("refuses a Host header that is not loopback, and does nothing else (DNS rebinding)", async () => {
    // A claim over REST: were the Host accepted, it would claim the task.
    for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1", `127.0.0.1:${port + 1}`]) {
      const r = await http("POST", "/api/tasks/payments%2F1.2/claim", {
        host,
        body: "{}",
        headers: { "content-type": "application/json" },
      });
      expect(r.status, host).toBe(403);
      expect(r.json.error.code).toBe("forbidden_host");
    }
    const ready = jsonOut(keel(root, "--json", "tasks", "ready"));
    expect(ready.ready.map((t: { key: string }) => t.key)).toContain("payments/1.2");
    expect((await http("GET", "/api/status", { host: `localhost:${port}` })).status).toBe(200);
    expect((await http("GET", "/api/status", { host: `[::1]:${port}` })).status).toBe(200);
  });
});

describe("keel serve: MCP over Streamable HTTP", () => {
  it("answers malformed JSON-RPC with JSON-RPC errors and claims nothing", async () => {
    const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
    const notJson = await http("POST", "/mcp", {
      body: '{"jsonrpc": "2.0", "method": "tools/call",',
      headers,
    });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error.code).toBe(-32700);
    for (const body of ['{"hello": "world"}', "[1, 2]", '"tools/call"']) {
      const r = await http("POST", "/mcp", { body, headers });
      expect(r.status, body).toBe(400);
      expect(r.json.jsonrpc, body).toBe("2.0");
      expect(r.json.error.code, body).toBeLessThan(0);
    }
    // A claim without a session is refused before it reaches the tool.
    const claim = await http("POST", "/mcp", {
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "keel_claim_task", arguments: { task: "payments/1.2" } },
      }),
      headers,
    });
    expect(claim.status).toBe(400);
    const ready = jsonOut(keel(root, "--json", "tasks", "ready"));
    expect(ready.ready.map((t: { key: string }) => t.key)).toContain("payments/1.2");
  });

  it("serves the MCP tools to the SDK client", async () => {
    const client = new Client({ name: "keel-serve-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("keel_ready_tasks");
      const r = (await client.callTool({ name: "keel_ready_tasks", arguments: {} })) as CallToolResult;
      expect(r.isError ?? false).toBe(false);
      const keys = (r.structuredContent as { tasks: Array<{ key: string }> }).tasks.map((t) => t.key);
      expect(keys.sort()).toEqual(["001-checkout/T001", "payments/1.1", "payments/1.2"]);
    } finally {
      await client.close();
    }
  });
});

describe("keel serve: events", () => {
  it("sees edits to Spec Kit's task files too", async () => {
    const feed = await subscribeEvents(port);
    try {
      writeFileSync(join(root, "specs/001-checkout/tasks.md"), "- [x] T001 Build the checkout page\n");
      await feed.next((e) => e.type === "spec.edited" && e.data.file === "specs/001-checkout/tasks.md");
    } finally {
      feed.close();
    }
  });

  it("keeps seeing a file after an editor saved it by rename (write a temp file, rename it over)", async () => {
    const feed = await subscribeEvents(port);
    const file = join(root, "keel/specs/payments/tasks.md");
    const editsOf = () =>
      feed.seen.filter((e) => e.type === "spec.edited" && e.data.file === "keel/specs/payments/tasks.md");
    try {
      writeFileSync(`${file}.swp-keel`, `${TASKS}\n`);
      renameSync(`${file}.swp-keel`, file);
      await feed.next(() => editsOf().length === 1);
      // The second save, in place, is what a watcher that lost the replaced file would miss.
      writeFileSync(file, `${TASKS}\n\n`);
      await feed.next(() => editsOf().length === 2);
      writeFileSync(file, TASKS);
      await feed.next(() => editsOf().length === 3);
    } finally {
      feed.close();
    }
  });

  it("streams spec.edited after an editor save and task.claimed after a claim by another process", async () => {
    const feed = await subscribeEvents(port);
    try {
      writeFileSync(
        join(root, "keel/specs/payments/spec.md"),
        PAYMENTS_SPEC.replace("Taking payments.", "Taking money."),
      );
      const edited = await feed.next((e) => e.type === "spec.edited");
      expect(edited.data.file).toBe("keel/specs/payments/spec.md");

      const run = await keelAsync(root, ["tasks", "claim", "payments/1.1", "--as", "agent:codex-7"]);
      expect(run.code, run.stderr).toBe(0);
      const claimed = await feed.next((e) => e.type === "task.claimed");
      expect(claimed.data).toMatchObject({
        action: "task.claim",
        target: "payments/1.1",
        actor: "agent:codex-7",
      });
    } finally {
      feed.close();
    }
  });

  it("replays the audit events a client missed when it reconnects with Last-Event-ID", async () => {
    const feed = await subscribeEvents(port);
    let last: string;
    try {
      const run = await keelAsync(root, [
        "tasks",
        "note",
        "payments/1.2",
        "first",
        "note",
        "--as",
        "agent:a",
      ]);
      expect(run.code, run.stderr).toBe(0);
      const seen = await feed.next((e) => e.type === "audit" && e.data.action === "task.note");
      expect(seen.id).toMatch(/^\d+$/);
      last = seen.id as string;
    } finally {
      feed.close();
    }
    // Made while this client is away; another one, still there, shows the server has sent it.
    const observer = await subscribeEvents(port);
    try {
      const note = ["tasks", "note", "payments/1.2", "second", "note", "--as", "agent:b"];
      const missed = await keelAsync(root, note);
      expect(missed.code, missed.stderr).toBe(0);
      await observer.next((e) => e.type === "audit" && e.data.actor === "agent:b");
    } finally {
      observer.close();
    }
    const again = await subscribeEvents(port, { "last-event-id": last });
    try {
      const replayed = await again.next((e) => e.type === "audit" && e.data.actor === "agent:b");
      expect(Number(replayed.id)).toBeGreaterThan(Number(last));
      expect(replayed.data).toMatchObject({ action: "task.note", target: "payments/1.2" });
      // Nothing at or before the last event seen is sent again.
      expect(again.seen.filter((e) => e.id !== null && Number(e.id) <= Number(last))).toEqual([]);
    } finally {
      again.close();
    }
  });
});
