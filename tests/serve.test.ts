// `keel serve`: the real CLI serves a temp project on a free port; REST answers match the CLI's --json, the
// security defaults refuse what they should, the MCP SDK client works over Streamable HTTP, and an SSE
// subscriber sees an editor's save and a claim made by another process.
// @verifies SRF-4, SRF-5
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { type IncomingMessage, request } from "node:http";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, jsonOut, keel, keelAsync } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";

const project = tempProjects("keel-serve-");

const SPEC = PAYMENTS_SPEC;

const TASKS = `## 1. Refunds
- [ ] 1.1 Make refunds idempotent
  - covers: PAY-1
- [ ] 1.2 Write the docs
`;

let root: string;
let server: ChildProcessWithoutNullStreams;
let base: string;
let port: number;

interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  // biome-ignore lint/suspicious/noExplicitAny: JSON checked field by field
  json: any;
}

function http(
  method: string,
  path: string,
  opts: { host?: string; body?: Buffer | string; headers?: Record<string, string> } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        headers: { host: opts.host ?? `127.0.0.1:${port}`, ...opts.headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }),
        );
      },
    );
    // The server answers a refused body early and closes; writing the rest may then fail, which is fine.
    req.on("error", (e) => (opts.body ? undefined : reject(e)));
    req.end(opts.body);
  });
}

/** The CLI's --json answer without the index stats (they say how much work this run did, not what is there). */
// biome-ignore lint/suspicious/noExplicitAny: JSON
function withoutIndex(v: any): any {
  const { index: _index, ...rest } = v;
  return rest;
}

interface SseEvent {
  type: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON
  data: any;
}

/** A plain GET on /events, parsed as it arrives; `next(pred)` resolves on the first matching event. */
function subscribe(): Promise<{
  next: (pred: (e: SseEvent) => boolean) => Promise<SseEvent>;
  close: () => void;
}> {
  return new Promise((resolve, reject) => {
    const seen: SseEvent[] = [];
    const waiters: Array<{ pred: (e: SseEvent) => boolean; done: (e: SseEvent) => void }> = [];
    const req = request(
      { host: "127.0.0.1", port, path: "/events", headers: { host: `localhost:${port}` } },
      (res) => {
        expect(res.statusCode).toBe(200);
        expect(res.headers["content-type"]).toMatch(/^text\/event-stream/);
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => {
          buf += d;
          for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const lines = block.split("\n");
            const type = lines.find((l) => l.startsWith("event: "))?.slice(7);
            const data = lines.find((l) => l.startsWith("data: "))?.slice(6);
            if (type === undefined || data === undefined) continue;
            const e = { type, data: JSON.parse(data) };
            seen.push(e);
            for (const w of [...waiters])
              if (w.pred(e)) {
                waiters.splice(waiters.indexOf(w), 1);
                w.done(e);
              }
          }
        });
        resolve({
          next: (pred) =>
            new Promise((done) => {
              const hit = seen.find(pred);
              if (hit) done(hit);
              else waiters.push({ pred, done });
            }),
          close: () => req.destroy(),
        });
      },
    );
    req.on("error", reject);
    req.end();
  });
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  });
  server = spawn(process.execPath, [CLI, "serve", "--port", "0"], { cwd: root, env: cliEnv() });
  const first = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout });
    lines.once("line", resolve);
    server.once("exit", (code) => reject(new Error(`keel serve exited with ${code}`)));
  });
  const m = first.match(/^keel serve: (http:\/\/127\.0\.0\.1:(\d+))$/);
  expect(m, first).not.toBeNull();
  base = (m as RegExpMatchArray)[1] as string;
  port = Number((m as RegExpMatchArray)[2]);
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGTERM");
    expect(await exited).toBe(0);
  }
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
    const claim = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "keel_claim_task", arguments: { task: "payments/1.2" } },
    });
    for (const host of ["evil.example", `evil.example:${port}`, "127.0.0.1", `127.0.0.1:${port + 1}`]) {
      const r = await http("POST", "/mcp", {
        host,
        body: claim,
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
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
  it("serves the MCP tools to the SDK client", async () => {
    const client = new Client({ name: "keel-serve-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain("keel_ready_tasks");
      const r = (await client.callTool({ name: "keel_ready_tasks", arguments: {} })) as CallToolResult;
      expect(r.isError ?? false).toBe(false);
      const keys = (r.structuredContent as { tasks: Array<{ key: string }> }).tasks.map((t) => t.key);
      expect(keys.sort()).toEqual(["payments/1.1", "payments/1.2"]);
    } finally {
      await client.close();
    }
  });
});

describe("keel serve: events", () => {
  it("streams spec.edited after an editor save and task.claimed after a claim by another process", async () => {
    const feed = await subscribe();
    try {
      writeFileSync(
        join(root, "keel/specs/payments/spec.md"),
        SPEC.replace("Taking payments.", "Taking money."),
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
});
