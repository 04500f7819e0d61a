// MCP over Streamable HTTP with sessions: the SDK client on `keel serve` gets a session, subscribes to a spec
// and is notified on its GET stream when the file changes; the session layer (src/server/mcp-http.ts) binds
// a session to the principal that opened it, caps open sessions and expires idle ones.
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import {
  LATEST_PROTOCOL_VERSION,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "../src/mcp/server.js";
import { McpSessions } from "../src/server/mcp-http.js";
import type { Actor } from "../src/workspace/actor.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { type Served, startServe } from "./support/serve.js";

const project = tempProjects("keel-serve-mcp-");

let root: string;
let served: Served;
let base: string;

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": "## 1. Refunds\n- [ ] 1.1 Make refunds idempotent\n  - covers: PAY-1\n",
  });
  served = await startServe(root);
  base = served.base;
});

afterAll(async () => {
  expect(await served?.stop()).toBe(0);
});

// @verifies SRF-9
describe("keel serve: MCP sessions", () => {
  it("keeps a session, notifies its subscriber over the GET stream, and ends it on DELETE", async () => {
    const client = new Client({ name: "keel-session-test", version: "1.0.0" });
    const uri = "keel://spec/payments";
    let notified: () => void = () => {};
    const update = new Promise<void>((resolve) => {
      notified = resolve;
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      if (n.params.uri === uri) notified();
    });
    const transport = new StreamableHTTPClientTransport(new URL(`${base}/mcp`));
    await client.connect(transport);
    try {
      expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(client.getServerCapabilities()?.resources?.subscribe).toBe(true);
      const { prompts } = await client.listPrompts();
      expect(prompts).toHaveLength(9);
      await client.subscribeResource({ uri });
      writeFileSync(join(root, "keel/specs/payments/spec.md"), PAYMENTS_SPEC.replace("Taking", "Accepting"));
      await update;
      const sessionId = transport.sessionId as string;
      await transport.terminateSession();
      const after = await rawPost(new URL(`${base}/mcp`), listTools(2), { "mcp-session-id": sessionId });
      expect(after.status).toBe(404);
    } finally {
      await client.close();
    }
  });
});

// @verifies SRF-17
describe("keel serve: MCP logging", () => {
  it("sends a session that set a level the server's live events as log messages, over its GET stream", async () => {
    const client = new Client({ name: "keel-logging-http-test", version: "1.0.0" });
    const messages: Array<{ level: string; data: { type: string; message: string } }> = [];
    let edited: () => void = () => {};
    const seen = new Promise<void>((resolve) => {
      edited = resolve;
    });
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const m = n.params as (typeof messages)[number];
      messages.push(m);
      if (m.data.type === "spec.edited") edited();
    });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      expect(client.getServerCapabilities()?.logging).toEqual({});
      await client.setLoggingLevel("info");
      writeFileSync(join(root, "keel/specs/payments/spec.md"), PAYMENTS_SPEC.replace("Taking", "Handling"));
      await seen;
      const spec = messages.find((m) => m.data.type === "spec.edited");
      expect(spec).toMatchObject({ level: "info", data: { message: "keel/specs/payments/spec.md edited" } });
      // keel serve judges drift after every spec edit; its heartbeat (drift.checked) is debug, below the level.
      expect(messages.filter((m) => m.level === "debug")).toEqual([]);
    } finally {
      await client.close();
    }
  });
});

/** A raw JSON-RPC POST; resolves with the status, the session header and the body text. */
function rawPost(
  url: URL,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; session: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": LATEST_PROTOCOL_VERSION,
          ...headers,
        },
      },
      (res: IncomingMessage) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => {
          text += d;
        });
        res.on("end", () => {
          const s = res.headers["mcp-session-id"];
          resolve({ status: res.statusCode ?? 0, session: Array.isArray(s) ? s[0] : s, text });
        });
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

const initialize = (id: number) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: "t", version: "1" },
  },
});
const listTools = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list", params: {} });

const alice: Actor = { name: "alice", kind: "human", role: "owner", source: "token" };
const bot: Actor = { name: "codex-7", kind: "agent", role: "agent", source: "token" };

/** The session layer on a plain HTTP server; the principal comes from a test header (the auth layer's job). */
async function sessionServer(opts: { maxSessions?: number; idleMs?: number }) {
  const refused: string[] = [];
  const sessions = new McpSessions({
    ...opts,
    makeServer: (principal) =>
      createServer({ root, cwd: root, actor: "agent:mcp", ...(principal ? { principal } : {}) }),
    onRefused: (r) => refused.push(r.reason),
  });
  const http: Server = createHttpServer((req, res) => {
    let raw = "";
    req.on("data", (d) => {
      raw += d;
    });
    req.on("end", () => {
      const who = req.headers["x-test-principal"];
      const principal = who === "alice" ? alice : who === "bot" ? bot : undefined;
      void sessions.handle(req, res, raw === "" ? undefined : JSON.parse(raw), principal);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const url = new URL(`http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`);
  return {
    url,
    sessions,
    refused,
    close: async () => {
      await sessions.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

// @verifies SRF-9
describe("MCP sessions: principals, cap and idle expiry", () => {
  it("refuses a session to any principal but the one that opened it", async () => {
    const s = await sessionServer({});
    try {
      const opened = await rawPost(s.url, initialize(1), { "x-test-principal": "alice" });
      expect(opened.status).toBe(200);
      const session = opened.session as string;
      expect(session).toBeDefined();
      const own = await rawPost(s.url, listTools(2), {
        "x-test-principal": "alice",
        "mcp-session-id": session,
      });
      expect(own.status).toBe(200);
      expect(own.text).toContain("keel_propose_change");
      const other = await rawPost(s.url, listTools(3), {
        "x-test-principal": "bot",
        "mcp-session-id": session,
      });
      expect(other.status).toBe(403);
      expect(other.text).toContain("belongs to another principal");
      const anonymous = await rawPost(s.url, listTools(4), { "mcp-session-id": session });
      expect(anonymous.status).toBe(403);
      expect(s.refused).toEqual(["session-principal", "session-principal"]);
      const unknown = await rawPost(s.url, listTools(5), { "mcp-session-id": "no-such-session" });
      expect(unknown.status).toBe(404);
      const noSession = await rawPost(s.url, listTools(6), { "x-test-principal": "alice" });
      expect(noSession.status).toBe(400);
    } finally {
      await s.close();
    }
  });

  it("caps open sessions, and an idle session makes room when it has expired", async () => {
    const capped = await sessionServer({ maxSessions: 1 });
    try {
      expect((await rawPost(capped.url, initialize(1))).status).toBe(200);
      const second = await rawPost(capped.url, initialize(2));
      expect(second.status).toBe(503);
      expect(second.text).toContain("Too many open MCP sessions");
      expect(capped.sessions.size).toBe(1);
    } finally {
      await capped.close();
    }
    const expiring = await sessionServer({ maxSessions: 1, idleMs: 0 });
    try {
      const first = await rawPost(expiring.url, initialize(1));
      expect(first.status).toBe(200);
      const second = await rawPost(expiring.url, initialize(2));
      expect(second.status).toBe(200);
      expect(second.session).not.toBe(first.session);
      const gone = await rawPost(expiring.url, listTools(3), { "mcp-session-id": first.session as string });
      expect(gone.status).toBe(404);
    } finally {
      await expiring.close();
    }
  });
});
