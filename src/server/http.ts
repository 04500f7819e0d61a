// `keel serve`: HTTP on loopback, thin over the same core as the CLI. REST routes answer exactly what the
// matching `keel … --json` command prints (they run that command's code with its output captured), `/mcp`
// is the MCP server of src/mcp over Streamable HTTP (stateless: a server and transport per request), and
// `/events` is a Server-Sent Events stream (events.ts). Safe by default: only loopback Host headers are
// served (DNS rebinding), no CORS headers, bodies are capped, and no route reads a file by path.
// @req SRF-4
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { Command, GlobalFlags } from "../cli/command.js";
import type { Io } from "../cli/output.js";
import { KeelError } from "../workspace/errors.js";
import { EventFeed, type LiveEvent } from "../core/live/events.js";

export const MAX_BODY = 1024 * 1024;
/** SSE comment lines keep idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

export interface ServeOptions {
  host: string;
  port: number;
  /** The project root (already found) and the flags the CLI was given, reused for every route. */
  root: string;
  global: GlobalFlags;
  /** Who acts for MCP tool calls that name nobody. */
  actor: string;
}

export interface RunningServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, e: HttpError, headers: Record<string, string> = {}) {
  sendJson(res, e.status, { error: { code: e.code, message: e.message, hint: e.hint } }, headers);
}

/** A Keel refusal as an HTTP status: bad input 400, project unreadable 500, other refusals 409. */
function fromKeelError(e: KeelError): HttpError {
  const status = e.exitCode === 2 ? 400 : e.exitCode === 3 ? 500 : 409;
  return new HttpError(status, e.code, e.message, e.hint);
}

type Loader = () => Promise<{ default: Command }>;
const STATUS: Loader = () => import("../cli/commands/status.js");
const LIST: Loader = () => import("../cli/commands/list.js");
const SHOW: Loader = () => import("../cli/commands/show.js");
const TASKS: Loader = () => import("../cli/commands/tasks.js");
const SEARCH: Loader = () => import("../cli/commands/search.js");
const TRACE: Loader = () => import("../cli/commands/trace.js");

/** Runs a command's own code with `--json`, its output captured: the route answers what the CLI prints. */
async function runJson(global: GlobalFlags, load: Loader, argv: string[]): Promise<unknown> {
  let out = "";
  const io: Io = { out: (s) => (out += `${s}\n`), err: () => {}, color: false };
  const command = (await load()).default;
  try {
    await command.run({ io, global: { ...global, json: true }, argv });
  } catch (e) {
    if (e instanceof KeelError) throw fromKeelError(e);
    throw e;
  }
  return JSON.parse(out);
}

interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  handle(m: RegExpMatchArray, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void>;
}

function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

/** Reads a request body up to MAX_BODY; more is a 413 (checked on Content-Length first, then as it arrives). */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > MAX_BODY) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", (e) => {
      if (!failed) reject(e);
    });
  });
}

function tooLarge(): HttpError {
  return new HttpError(413, "body_too_large", `request body over ${MAX_BODY} bytes`, "send at most 1 MiB");
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const feed = new EventFeed(opts.root);
  const sse = new Set<ServerResponse>();
  let boundPort = opts.port;
  let hosts = allowedHosts(boundPort);

  const routes: Route[] = [
    {
      method: "GET",
      pattern: /^\/api\/status$/,
      handle: async (_m, _u, _q, res) => sendJson(res, 200, await runJson(opts.global, STATUS, [])),
    },
    {
      method: "GET",
      pattern: /^\/api\/specs$/,
      handle: async (_m, _u, _q, res) => sendJson(res, 200, await runJson(opts.global, LIST, ["specs"])),
    },
    {
      method: "GET",
      pattern: /^\/api\/requirements\/([^/]+)$/,
      handle: async (m, _u, _q, res) => {
        const id = decodeURIComponent(m[1] as string);
        if (id.startsWith("-"))
          throw new HttpError(400, "usage", `not a requirement ID: ${id}`, "IDs start with a letter");
        const shown = await runJson(opts.global, SHOW, [id]).catch((e: unknown) => {
          if (e instanceof HttpError && e.status === 400 && e.message.startsWith("no requirement"))
            throw new HttpError(404, "not_found", `no requirement "${id}"`, e.hint);
          throw e;
        });
        if ((shown as { kind: string }).kind !== "requirement")
          throw new HttpError(
            404,
            "not_found",
            `"${id}" is a ${(shown as { kind: string }).kind}, not a requirement`,
            "GET /api/specs lists specs; requirement IDs look like PAY-1",
          );
        const trace = await runJson(opts.global, TRACE, [id]);
        sendJson(res, 200, { ...(shown as object), trace });
      },
    },
    {
      method: "GET",
      pattern: /^\/api\/tasks$/,
      handle: async (_m, _u, _q, res) => sendJson(res, 200, await runJson(opts.global, TASKS, ["list"])),
    },
    {
      method: "GET",
      pattern: /^\/api\/tasks\/ready$/,
      handle: async (_m, _u, _q, res) => sendJson(res, 200, await runJson(opts.global, TASKS, ["ready"])),
    },
    {
      method: "GET",
      pattern: /^\/api\/search$/,
      handle: async (_m, url, _q, res) => {
        const q = url.searchParams.get("q")?.trim() ?? "";
        if (q === "")
          throw new HttpError(400, "usage", "search needs ?q=<text>", "e.g. /api/search?q=refund");
        const limit = url.searchParams.get("limit");
        const argv = ["--", q];
        if (limit !== null) argv.unshift("--limit", limit);
        sendJson(res, 200, await runJson(opts.global, SEARCH, argv));
      },
    },
    { method: "POST", pattern: /^\/mcp$/, handle: (_m, _u, req, res) => mcp(req, res) },
    { method: "GET", pattern: /^\/events$/, handle: async (_m, _u, req, res) => events(req, res) },
  ];

  async function mcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString("utf8"));
    } catch {
      sendJson(res, 400, {
        jsonrpc: "2.0",
        error: { code: -32700, message: "Parse error: invalid JSON" },
        id: null,
      });
      return;
    }
    const [{ createServer }, { StreamableHTTPServerTransport }] = await Promise.all([
      import("../mcp/server.js"),
      import("@modelcontextprotocol/sdk/server/streamableHttp.js"),
    ]);
    const server = createServer({ root: opts.global.root, cwd: opts.global.cwd, actor: opts.actor });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-content-type-options": "nosniff",
    });
    res.write(": keel events\n\n");
    const write = (e: LiveEvent) => {
      res.write(
        `${e.id !== undefined ? `id: ${e.id}\n` : ""}event: ${e.type}\ndata: ${JSON.stringify(e.data)}\n\n`,
      );
    };
    const header = req.headers["last-event-id"];
    const last = typeof header === "string" && /^\d+$/.test(header) ? Number(header) : null;
    const unsubscribe = feed.subscribe(write, last);
    const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
    sse.add(res);
    res.on("close", () => {
      clearInterval(keepalive);
      unsubscribe();
      sse.delete(res);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // DNS rebinding: a page on another origin that resolves to 127.0.0.1 still sends its own Host.
    const host = req.headers.host ?? "";
    if (!hosts.has(host.toLowerCase())) {
      req.resume();
      throw new HttpError(
        403,
        "forbidden_host",
        `Host "${host}" is not served`,
        `use http://127.0.0.1:${boundPort}/ (only loopback Host headers are accepted)`,
      );
    }
    const length = Number(req.headers["content-length"] ?? 0);
    if (Number.isFinite(length) && length > MAX_BODY) throw tooLarge();
    const url = new URL(req.url ?? "/", `http://${host}`);
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0)
      throw new HttpError(
        404,
        "not_found",
        `no route ${url.pathname}`,
        "see docs/cli.md#serve for the routes",
      );
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      const allow = matching.map((r) => r.method).join(", ");
      throw Object.assign(
        new HttpError(
          405,
          "method_not_allowed",
          `${req.method} is not allowed on ${url.pathname}`,
          `use ${allow}`,
        ),
        { allow },
      );
    }
    await route.handle(url.pathname.match(route.pattern) as RegExpMatchArray, url, req, res);
  }

  const server: Server = createHttpServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err =
        e instanceof HttpError
          ? e
          : e instanceof KeelError
            ? fromKeelError(e)
            : new HttpError(
                500,
                "internal",
                e instanceof Error ? e.message : String(e),
                "please report this as a bug",
              );
      if (res.headersSent) {
        res.end();
        return;
      }
      const headers: Record<string, string> = {};
      if ("allow" in err) headers.allow = String((err as { allow: string }).allow);
      if (err.status === 413 || err.status === 403) {
        // Do not read what is left of a refused body; answer and close.
        headers.connection = "close";
        req.resume();
      }
      sendError(res, err, headers);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  boundPort = port;
  hosts = allowedHosts(port);
  feed.start();
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        feed.close();
        for (const res of sse) res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
