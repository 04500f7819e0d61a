// `keel serve`: HTTP, thin over the same core as the CLI. REST routes (routes.ts) answer what the matching
// `keel … --json` command prints (the same core function builds both), `/mcp` is the MCP server of src/mcp
// over Streamable HTTP (with sessions, mcp-http.ts), and `/events` is a Server-Sent Events stream
// (core/live), and `/hooks/github` and `/hooks/jira` take issue-tracker webhooks (hooks.ts). Safe by default: loopback unless told otherwise, a token on every request off loopback or with
// --auth (auth.ts), only known Host headers (DNS rebinding), no CORS headers, capped bodies, and no route
// reads a file by path. The server holds the store it started with: deleted or replaced under it, every
// request is answered 503 (auth.ts), and SQLite's damage reports are answered as the store's, not as bugs.
// @req SRF-4, TRU-8, RUN-13
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { LogForwarder } from "../core/audit/forward.js";
import { EventFeed, type LiveEvent } from "../core/live/events.js";
import { installClaimBatching } from "../core/tasks/claim-batch.js";
import { followClaimMirror, refreshClaimMirror } from "../core/tasks/claim-mirror.js";
import type { ToolGroup } from "../mcp/tool-groups.js";
import { type PlanSpawner, triggerWarnings } from "../run/triggers/index.js";
import type { CoordinationStore } from "../store/coordination.js";
import { storeErrorOf } from "../store/guard.js";
import { closeStores, coordinationStore } from "../store/select.js";
import type { Actor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { KeelError } from "../workspace/errors.js";
import { syncFreshness } from "../workspace/freshness.js";
import type { Published } from "../workspace/git-sync.js";
import { findProjectRoot } from "../workspace/root.js";
import { watchProject } from "../workspace/tree-watch.js";
import { type Admission, type AuthOptions, Gatekeeper, isLoopback } from "./auth.js";
import { BrowserGate } from "./browser-gate.js";
import { handleHook } from "./hooks.js";
import { IntentSync } from "./intent-sync.js";
import type { HttpRoute } from "./operation.js";
import { restRoutes } from "./routes.js";
import { TokenMirror } from "./token-mirror.js";
import { WebApp } from "./web.js";
import {
  fromKeelError,
  HttpError,
  MAX_BODY,
  readBody,
  SECURITY_HEADERS,
  sendError,
  sendJson,
  tooLarge,
} from "./wire.js";

/** SSE comment lines keep idle connections (and proxies) from timing out. */
const KEEPALIVE_MS = 15_000;

export interface ServeOptions {
  host: string;
  port: number;
  /** The project root (already found) and the flags the CLI was given, reused for every route. */
  root: string;
  global: { root: string | null; cwd: string };
  /** Who acts in single-user mode: for MCP tool calls that name nobody, and for REST writes. */
  actor: string;
  /** Tokens and rate limits (auth.ts); not required in single-user loopback mode. */
  auth: AuthOptions;
  /** Host names (`name` or `name:port`) served besides loopback, for a non-loopback bind. */
  allowHosts?: string[];
  /** The opt-in MCP tool groups every session offers besides the core tools (`--mcp-tools`). */
  mcpTools?: readonly ToolGroup[];
  /** Starts `keel run --plan` for a triggered change (src/run/triggers/plan.ts); a test observes it here. */
  spawnPlan?: PlanSpawner;
  /**
   * Keep the model warm under a watcher and group claims (default true). False where the process does other work
   * on the project that never syncs with a watcher (`keel run --serve`: the supervisor reads as it always did).
   */
  warm?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  /** What `keel serve` warns of at start (a webhook configured without its secret). */
  warnings: string[];
  close(): Promise<void>;
}

/** Host headers served: loopback, plus the bound address and `--allow-host` names, each with the port. */
function allowedHosts(port: number, bound: string, extra: string[]): Set<string> {
  const names = ["127.0.0.1", "localhost", "[::1]", bound.includes(":") ? `[${bound}]` : bound, ...extra];
  return new Set(names.map((n) => (/:\d+$/.test(n) ? n : `${n}:${port}`).toLowerCase()));
}

/** A write that could not be pushed is on the audit log, with the branch that keeps it. */
async function keptAside(store: CoordinationStore, outcome: Published, label: string): Promise<void> {
  if (outcome.kind !== "kept") return;
  await store.append(
    [
      {
        actor: "system:keel-serve",
        actorKind: "system",
        action: "intent.push.kept",
        target: outcome.branch,
        reason: outcome.reason,
        data: { commit: outcome.commit, write: label },
      },
    ],
    new Date(),
  );
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  // The model stays warm between requests while this watcher sees no change (workspace/freshness.ts).
  const warm = opts.warm ?? true;
  // The coordination store first: a team store that cannot be reached (or is not migrated) stops the start with
  // its reason, before a port is taken.
  const config = loadConfig(findProjectRoot(opts.root, true));
  const store = await coordinationStore(opts.root, config);
  const watcher = warm ? watchProject(opts.root) : null;
  // Claims from many clients commit together, one transaction and one flush per group (core/tasks/claim-batch.ts);
  // a team server always groups them, since its store is shared with other servers.
  const batching = warm || store.kind === "postgres";
  if (batching) installClaimBatching(opts.root, config);

  // A team server's writes of intent are carried to the other servers through git (intent-sync.ts).
  const intent = IntentSync.start(opts.root, store, (outcome, label) => keptAside(store, outcome, label));
  const feed = new EventFeed(opts.root, { drift: true });
  // Every server's claims reach this one's ready views, from the events the feed reads (the log is read once).
  const unwatch = await followClaimMirror(opts.root, store, (fn) => feed.tap(fn));
  const sse = new Set<ServerResponse>();
  let boundPort = opts.port;
  const extraHosts = opts.allowHosts ?? [];
  let hosts = allowedHosts(boundPort, opts.host, extraHosts);
  // A team server checks tokens against the team's, held in memory and kept up by the feed's token events.
  const tokens = store.kind === "postgres" ? await TokenMirror.load(store) : null;
  if (tokens) feed.tap((e) => tokens.apply(e));
  const gate = new Gatekeeper(opts.root, opts.auth, store, tokens);
  // What this checkout logs itself (spec and change writes, evidence, refusals) goes on into the team's chain.
  const forwarder =
    store.kind === "postgres"
      ? new LogForwarder(opts.root, store, (e) =>
          process.stderr.write(
            `keel serve: events of this checkout wait for the team log: ${e instanceof Error ? e.message : String(e)}\n`,
          ),
        )
      : null;
  // The web app (web.ts) and its browsers' sessions (browser-gate.ts).
  const web = WebApp.load();
  const browsers = new BrowserGate({
    root: opts.root,
    cwd: opts.global.cwd,
    actor: opts.actor,
    auth: opts.auth,
    gate,
  });

  const routes: HttpRoute[] = [
    ...restRoutes({
      root: opts.root,
      cwd: opts.global.cwd,
      actor: opts.actor,
      ...(intent ? { intent: (label, fn) => intent.write(label, fn) } : {}),
      ...(forwarder ? { forward: forwarder.nudge } : {}),
    }),
    { method: "POST", pattern: /^\/mcp$/, handle: (_m, _u, req, res, who) => mcp(req, res, who) },
    { method: "GET", pattern: /^\/mcp$/, handle: (_m, _u, req, res, who) => mcp(req, res, who) },
    { method: "DELETE", pattern: /^\/mcp$/, handle: (_m, _u, req, res, who) => mcp(req, res, who) },
    { method: "GET", pattern: /^\/events$/, handle: async (_m, _u, req, res) => events(req, res) },
    {
      method: "GET",
      pattern: /^\/api\/session$/,
      handle: (_m, _u, req, res, who) => browsers.session(req, res, who),
    },
    { method: "POST", pattern: /^\/api\/session$/, handle: (_m, _u, req, res) => browsers.signIn(req, res) },
    {
      method: "DELETE",
      pattern: /^\/api\/session$/,
      handle: (_m, _u, req, res) => browsers.signOut(req, res),
    },
    {
      method: "POST",
      pattern: /^\/hooks\/(github|jira)$/,
      signed: true,
      handle: (m, _u, req, res) =>
        handleHook(m[1] as "github" | "jira", req, res, {
          root: opts.root,
          gate,
          ...(opts.spawnPlan ? { spawnPlan: opts.spawnPlan } : {}),
        }),
    },
  ];

  // MCP sessions (mcp-http.ts), made on the first /mcp request; their servers share this server's event feed.
  let sessions: Promise<import("./mcp-http.js").McpSessions> | null = null;
  function mcpSessions() {
    sessions ??= Promise.all([import("../mcp/server.js"), import("./mcp-http.js")]).then(
      ([{ createServer }, { McpSessions }]) =>
        new McpSessions({
          makeServer: (principal) =>
            createServer(
              {
                root: opts.global.root,
                cwd: opts.global.cwd,
                actor: opts.actor,
                ...(principal ? { principal } : {}),
                // An agent's writes of intent through MCP are carried to the other servers as REST writes are.
                ...(intent ? { intent: (label, fn) => intent.write(label, fn) } : {}),
              },
              { feed, tools: opts.mcpTools ?? [] },
            ),
          onRefused: ({ reason, session, principal }) =>
            void gate.recordRefusal({
              action: "mcp.session.refused",
              reason,
              target: "/mcp",
              actor: principal,
              data: { session },
            }),
        }),
    );
    return sessions;
  }

  async function mcp(req: IncomingMessage, res: ServerResponse, principal: Actor | undefined): Promise<void> {
    if (req.method !== "POST") {
      await (await mcpSessions()).handle(req, res, undefined, principal);
      return;
    }
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
    await (await mcpSessions()).handle(req, res, body, principal);
  }

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      ...SECURITY_HEADERS,
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
      throw new HttpError(
        403,
        "forbidden_host",
        `Host "${host}" is not served`,
        extraHosts.length > 0 || !isLoopback(opts.host)
          ? `use a served name (${[...hosts].join(", ")}), or add it with --allow-host`
          : `use http://127.0.0.1:${boundPort}/ (only loopback Host headers are accepted)`,
      );
    }
    const url = new URL(req.url ?? "/", `http://${host}`);
    // The app's own files hold no project data: served to anyone who may reach the server, so it can sign in.
    if ((req.method === "GET" || req.method === "HEAD") && web?.serve(url.pathname, req, res)) return;
    const signed = routes.some((r) => r.signed && r.pattern.test(url.pathname));
    if (req.method !== "GET" && !signed) {
      const refusal = browsers.refuseWrite(req, host, url.pathname);
      if (refusal) throw refusal;
    }
    if (!signed) await gate.know(req, Gatekeeper.bearer(req));
    const admitted: Admission = signed ? gate.admitSigned(req) : browsers.admit(req, url.pathname);
    if (!admitted.ok)
      throw new HttpError(admitted.status, admitted.code, admitted.message, admitted.hint, admitted.headers);
    const principal = browsers.principalOf(req, admitted.principal);
    const length = Number(req.headers["content-length"] ?? 0);
    if (Number.isFinite(length) && length > MAX_BODY) throw tooLarge();
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    if (matching.length === 0)
      throw new HttpError(
        404,
        "not_found",
        `no route ${url.pathname}`,
        "GET /openapi.json lists every route",
      );
    const route = matching.find((r) => r.method === req.method);
    if (!route) {
      const allow = [...new Set(matching.map((r) => r.method))].join(", ");
      throw new HttpError(
        405,
        "method_not_allowed",
        `${req.method} is not allowed on ${url.pathname}`,
        `use ${allow}`,
        {
          allow,
        },
      );
    }
    await syncFreshness(); // every change made before the request is counted before it reads anything
    await route.handle(url.pathname.match(route.pattern) as RegExpMatchArray, url, req, res, principal);
    // What a write of this server's appended to the audit log goes out on /events now, not at the next poll (an
    // other write's local events are forwarded to the team chain first; a REST write of intent's already were).
    if (req.method !== "GET") {
      if (forwarder) void forwarder.nudge().then(() => feed.nudge());
      else feed.nudge();
    }
  }

  const server: Server = createHttpServer((req, res) => {
    handle(req, res).catch((thrown: unknown) => {
      const e = storeErrorOf(thrown) ?? thrown;
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
      // What is left of a refused request's body is drained, not read, and a refused Host closes the
      // connection. An oversized body does not: closing while the client is still sending would reset the
      // connection (unread data) and could destroy the 413 before the client reads it, so the rest is drained
      // and discarded, as any unread body is (the server's request timeout bounds a client that never stops).
      req.resume();
      sendError(res, err, err.status === 403 ? { connection: "close" } : {});
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
  hosts = allowedHosts(port, opts.host, extraHosts);
  await feed.start(store);
  // Events from before the feed's first position were not tapped: the mirrors are read once more after it.
  await tokens?.reload();
  await refreshClaimMirror(opts.root, store);
  void forwarder?.nudge(); // what this checkout logged while no server ran
  const warnings = triggerWarnings(opts.root, process.env);
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    warnings,
    close: async () => {
      let audited: Promise<void> = Promise.resolve();
      await new Promise<void>((resolve) => {
        feed.close();
        intent?.close();
        unwatch();
        audited = gate.close();
        watcher?.close();
        if (batching) installClaimBatching(null);
        void sessions?.then((s) => s.close());
        for (const res of sse) res.end();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // The refusals still counted are written before the store closes; the team store's pool and listening
      // connection would keep the process alive.
      await audited;
      await closeStores();
    },
  };
}
