// MCP over Streamable HTTP with sessions, for `keel serve`: an `initialize` POST opens a session (its own MCP
// server and transport, the id in the Mcp-Session-Id header); later POSTs, the GET notification stream and
// DELETE name it. A session belongs to the principal that opened it: a request for it with any other
// principal is refused. Sessions are capped, and one with no request for the idle time is closed, so they
// cannot pile up.
// @req SRF-9
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { isInitializeRequest } from "@modelcontextprotocol/sdk/types.js";
import { type Actor, actorLabel } from "../workspace/actor.js";

const DEFAULT_MAX_SESSIONS = 64;
const DEFAULT_IDLE_MS = 10 * 60_000;

export interface McpSessionOptions {
  /** A new MCP server for a session, acting as its principal (undefined in single-user mode). */
  makeServer(principal: Actor | undefined): McpServer;
  maxSessions?: number;
  idleMs?: number;
  /** Told of every refused request (another principal's session, too many sessions), e.g. to audit it. */
  onRefused?(refusal: { reason: string; session: string | null; principal: Actor | undefined }): void;
}

interface Session {
  id: string;
  principal: Actor | undefined;
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  /** Requests in progress, the GET notification stream included: a session with one open is not idle. */
  open: number;
}

/** The same caller: both anonymous, or the same actor with the same role, authenticated by the same token. */
function samePrincipal(a: Actor | undefined, b: Actor | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return actorLabel(a) === actorLabel(b) && a.role === b.role && a.tokenId === b.tokenId;
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  const text = JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null });
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
  });
  res.end(text);
}

export class McpSessions {
  private readonly sessions = new Map<string, Session>();
  /** Sessions being opened (initialize in progress), counted against the cap. */
  private opening = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly max: number;
  private readonly idleMs: number;

  constructor(private readonly options: McpSessionOptions) {
    this.max = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
    this.sweeper = setInterval(() => this.sweep(), Math.max(10, Math.min(this.idleMs / 2, 30_000)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  /**
   * Serves one request on /mcp: POST (with its parsed JSON body), GET (the session's notification stream) or
   * DELETE (ends the session). `principal` is the authenticated caller, undefined in single-user mode.
   */
  async handle(req: IncomingMessage, res: ServerResponse, body: unknown, principal?: Actor): Promise<void> {
    const header = req.headers["mcp-session-id"];
    const id = Array.isArray(header) ? header[0] : header;
    if (id !== undefined) {
      const session = this.sessions.get(id);
      if (!session) {
        rpcError(res, 404, -32001, `Session not found: ${id} (it ended or expired; initialize a new one)`);
        return;
      }
      if (!samePrincipal(session.principal, principal)) {
        this.options.onRefused?.({ reason: "session-principal", session: id, principal });
        rpcError(res, 403, -32000, `Session ${id} belongs to another principal; initialize your own session`);
        return;
      }
      await this.serve(session, req, res, body);
      return;
    }
    if (req.method !== "POST" || !isInitializeRequest(body)) {
      rpcError(res, 400, -32000, "Bad Request: no Mcp-Session-Id header; start with an initialize request");
      return;
    }
    if (this.sessions.size + this.opening >= this.max) this.sweep();
    if (this.sessions.size + this.opening >= this.max) {
      this.options.onRefused?.({ reason: "too-many-sessions", session: null, principal });
      rpcError(
        res,
        503,
        -32000,
        `Too many open MCP sessions (${this.max}); close one (DELETE /mcp) or wait for idle ones to expire`,
      );
      return;
    }
    this.opening++;
    let opened: Session | null = null;
    const server = this.options.makeServer(principal);
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        opened = { id: sid, principal, server, transport, lastSeen: Date.now(), open: 0 };
        this.sessions.set(sid, opened);
      },
      onsessionclosed: (sid) => {
        void this.end(sid);
      },
    });
    try {
      await server.connect(transport);
      const pending: Session = { id: "", principal, server, transport, lastSeen: Date.now(), open: 0 };
      await this.serve(pending, req, res, body);
    } finally {
      this.opening--;
      if (opened === null) {
        // initialize failed: nothing to keep
        void transport.close();
        void server.close();
      }
    }
  }

  /** Closes every session. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id)));
  }

  private async serve(session: Session, req: IncomingMessage, res: ServerResponse, body: unknown) {
    const live = () => this.sessions.get(session.id) ?? session;
    live().open++;
    live().lastSeen = Date.now();
    res.once("close", () => {
      const s = live();
      s.open--;
      s.lastSeen = Date.now();
    });
    await session.transport.handleRequest(req, res, body);
  }

  private async end(id: string): Promise<void> {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    await s.transport.close().catch(() => {});
    await s.server.close().catch(() => {});
  }

  /** Closes the sessions with no request in progress and none for the idle time. */
  private sweep(): void {
    const now = Date.now();
    for (const s of this.sessions.values())
      if (s.open <= 0 && now - s.lastSeen >= this.idleMs) void this.end(s.id);
  }
}
