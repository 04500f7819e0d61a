// The REST API of `keel serve`, as one table. Each operation names its path, its inputs (path parameters, query,
// JSON body) and its answers as zod schemas (schemas.ts), once: the dispatcher validates requests with them and
// GET /openapi.json is derived from them, so what is served and what is documented cannot differ. Reads answer
// what the matching `keel … --json` prints (the same core function builds both, src/core/api/); writes run
// the core as the caller (`principal`, or the server's actor in single-user mode), which checks roles and
// policy and changes nothing when it refuses.
// @req SRF-10
import type { IncomingMessage, ServerResponse } from "node:http";
import * as z from "zod";
import { changeListAnswer, changeShowAnswer } from "../core/api/changes.js";
import { listAnswer, searchAnswer, showAnswer } from "../core/api/queries.js";
import { statusAnswer } from "../core/api/status.js";
import { taskListAnswer, taskReadyAnswer, taskShowAnswer } from "../core/api/task-queries.js";
import { type TaskWrite, writeTask } from "../core/api/tasks.js";
import { coverageAnswer, driftAnswer, traceAnswer } from "../core/api/trace-queries.js";
import { approveChange } from "../core/approve.js";
import { checkChangeId, findChangeFolder, loadChange } from "../core/changes/load.js";
import { newChange } from "../core/changes/scaffold.js";
import { slug } from "../model/ids.js";
import { VERSION } from "../model/version.js";
import { type Actor, resolveActor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { findProjectRoot, findTasksRoot, type ProjectRoot } from "../workspace/root.js";
import * as S from "./schemas.js";
import { HttpError, readBody, sendJson } from "./wire.js";

/** What every operation needs of the server: the project root, and who acts when no token names anyone. */
export interface RestContext {
  root: string;
  cwd: string;
  /** `kind:name`, the server's actor (`keel serve --as`). */
  actor: string;
}

/** A route as the dispatcher (http.ts) matches it. */
export interface HttpRoute {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  handle(
    m: RegExpMatchArray,
    url: URL,
    req: IncomingMessage,
    res: ServerResponse,
    /** The authenticated caller; undefined in single-user mode. */
    principal: Actor | undefined,
  ): Promise<void>;
}

type Obj = z.ZodObject<z.ZodRawShape>;
const NONE = z.strictObject({});

interface Input<P extends Obj, Q extends Obj, B extends z.ZodType> {
  params: z.infer<P>;
  query: z.infer<Q>;
  body: z.infer<B>;
  principal: Actor | undefined;
  ctx: RestContext;
}

interface OperationDef<P extends Obj, Q extends Obj, B extends z.ZodType> {
  method: "GET" | "POST";
  /** OpenAPI path template; `{name}` is one URL-encoded path segment. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  params?: P;
  query?: Q;
  body?: B;
  status: 200 | 201;
  response: z.ZodType;
  /** Refusals this operation itself may answer (besides the ones every route may: see COMMON_ERRORS). */
  errors: number[];
  run(input: Input<P, Q, B>): Promise<unknown>;
}

export type Operation = OperationDef<Obj, Obj, z.ZodType>;

function op<P extends Obj = typeof NONE, Q extends Obj = typeof NONE, B extends z.ZodType = z.ZodUndefined>(
  def: OperationDef<P, Q, B>,
): Operation {
  return def as unknown as Operation;
}

const ERROR_TEXT: Record<number, string> = {
  400: "bad input: malformed JSON, a field that fails the schema, or a request the core refuses as invalid",
  401: "no token, or a bad or expired one (outside single-user mode)",
  403: "refused by role or policy (audited), or a Host header that is not served",
  404: "no such route, requirement, task or change",
  405: "the path exists but not with this method (see the Allow header)",
  409: "refused by the task queue (held, closed, stale token), by backpressure (gates not passing) or by state",
  413: "request body over 1 MiB",
  415: "a request body that is not application/json",
  429: "rate limit of the token exceeded (see Retry-After)",
  500: "the project could not be read, or a bug",
};
/** Answered by the dispatcher for any route. */
export const COMMON_ERRORS = [401, 403, 429, 500];

function project(ctx: RestContext): ProjectRoot {
  return findProjectRoot(ctx.root, true);
}

function tasksRoot(ctx: RestContext): string {
  return findTasksRoot(ctx.root, true).root;
}

/** Who a write acts as: the authenticated caller, else the server's own actor (single-user mode). */
function actingAs(p: ProjectRoot, principal: Actor | undefined, ctx: RestContext): Actor {
  return principal ?? resolveActor(loadConfig(p), { flag: ctx.actor, cwd: ctx.cwd });
}

function notFound(message: string, hint: string): HttpError {
  return new HttpError(404, "not_found", message, hint);
}

const taskParams = z.strictObject({ task: S.TaskRef });
const changeParams = z.strictObject({ id: z.string().min(1).max(200).describe("change ID") });
const bool = z.enum(["true", "false"]);

const REST_HINTS = {
  list: "list the tasks with GET /api/tasks, or `keel tasks list`",
  again: 'the same request again; a human may override with {"override":{"reason":"…"}}',
};

async function taskWrite(i: { principal: Actor | undefined; ctx: RestContext }, w: TaskWrite) {
  const p = findTasksRoot(i.ctx.root, true);
  const outcome = await writeTask(p.root, loadConfig(p), actingAs(p, i.principal, i.ctx), w, REST_HINTS);
  return outcome.answer;
}

/** Every REST operation, in the order the document lists them (a literal path before a templated one). */
export const OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/status",
    operationId: "getStatus",
    summary: "One-screen summary: specs, constitution, open changes, validation, index (keel status --json)",
    status: 200,
    response: S.StatusAnswer,
    errors: [],
    run: ({ ctx }) => statusAnswer(project(ctx)),
  }),
  op({
    method: "GET",
    path: "/api/specs",
    operationId: "listSpecs",
    summary: "The capability specs (keel list specs --json)",
    query: z.strictObject({
      capability: z.string().min(1).max(200).optional(),
      status: z.string().optional(),
    }),
    status: 200,
    response: S.SpecsAnswer,
    errors: [400],
    run: ({ ctx, query }) => listAnswer(project(ctx), { kinds: ["specs"], ...query }),
  }),
  op({
    method: "GET",
    path: "/api/requirements",
    operationId: "listRequirements",
    summary: "The living requirements (keel list requirements --json)",
    query: z.strictObject({
      capability: z.string().min(1).max(200).optional(),
      status: z.string().optional(),
    }),
    status: 200,
    response: S.RequirementsAnswer,
    errors: [400],
    run: ({ ctx, query }) => listAnswer(project(ctx), { kinds: ["requirements"], ...query }),
  }),
  op({
    method: "GET",
    path: "/api/requirements/{id}",
    operationId: "getRequirement",
    summary: "One requirement (keel show --json) with its trace (keel trace <id> --json)",
    params: z.strictObject({ id: z.string().min(1).max(200).describe("requirement ID, URL-encoded") }),
    status: 200,
    response: S.RequirementAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const p = project(ctx);
      const { answer, found, suggestions } = await showAnswer(p, params.id);
      const hint =
        suggestions.length > 0
          ? `did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?`
          : "GET /api/requirements lists the requirement IDs";
      if (answer === null || found === null) throw notFound(`no requirement "${params.id}"`, hint);
      if (found.kind !== "requirement")
        throw notFound(
          `"${params.id}" is a ${answer.kind}, not a requirement`,
          "GET /api/specs lists specs; requirement IDs look like PAY-1",
        );
      const trace = await traceAnswer(p.root, true, found.item.id);
      if (trace === null) throw notFound(`no requirement "${params.id}"`, hint);
      return { ...answer, trace };
    },
  }),
  op({
    method: "GET",
    path: "/api/search",
    operationId: "search",
    summary: "Full-text search over requirements and spec purposes, ranked (keel search --json)",
    query: z.strictObject({
      q: z.string().trim().min(1).max(500).describe("the text to look for"),
      limit: z
        .string()
        .regex(/^\d{1,5}$/)
        .optional()
        .describe("most hits to return, 1 to 10000 (default 20)"),
    }),
    status: 200,
    response: S.SearchAnswer,
    errors: [400],
    run: ({ ctx, query }) => {
      const limit = query.limit === undefined ? 20 : Number(query.limit);
      if (limit < 1 || limit > 10_000)
        throw new HttpError(400, "invalid_request", "query.limit: must be from 1 to 10000", "e.g. ?limit=50");
      return searchAnswer(project(ctx), query.q, limit);
    },
  }),
  op({
    method: "GET",
    path: "/api/tasks",
    operationId: "listTasks",
    summary: "Every task of the graph, with readiness (keel tasks list --json)",
    status: 200,
    response: S.TasksAnswer,
    errors: [],
    run: async ({ ctx }) => taskListAnswer(tasksRoot(ctx)),
  }),
  op({
    method: "GET",
    path: "/api/tasks/ready",
    operationId: "listReadyTasks",
    summary: "Tasks ready to start now (keel tasks ready --json)",
    status: 200,
    response: S.ReadyAnswer,
    errors: [],
    run: async ({ ctx }) => taskReadyAnswer(tasksRoot(ctx)),
  }),
  op({
    method: "POST",
    path: "/api/tasks/claim-next",
    operationId: "claimNextTask",
    summary: "Claim the next ready task under a lease; result is null when no task is ready",
    body: S.ClaimBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "claim", task: null, ttl: i.body.ttl }),
  }),
  op({
    method: "GET",
    path: "/api/tasks/{task}",
    operationId: "getTask",
    summary: "One task (keel tasks show --json)",
    params: taskParams,
    status: 200,
    response: S.TaskAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const shown = taskShowAnswer(tasksRoot(ctx), params.task);
      if ("unknown" in shown) throw notFound(`unknown task ${params.task}`, "GET /api/tasks lists the tasks");
      if ("ambiguous" in shown)
        throw new HttpError(
          400,
          "usage",
          `task id ${params.task} is ambiguous: ${shown.ambiguous.join(", ")}`,
          "qualify it with its scope, e.g. <scope>/<id>",
        );
      return shown;
    },
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/claim",
    operationId: "claimTask",
    summary: "Claim a task under a lease; the answer carries the fencing token",
    params: taskParams,
    body: S.ClaimBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "claim", task: i.params.task, ttl: i.body.ttl }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/heartbeat",
    operationId: "heartbeatTask",
    summary: "Extend the lease on a task you hold",
    params: taskParams,
    body: S.HeartbeatBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "heartbeat", task: i.params.task, token: i.body.token, ttl: i.body.ttl }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/release",
    operationId: "releaseTask",
    summary: "Give a claimed task back",
    params: taskParams,
    body: S.ReleaseBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "release", task: i.params.task, token: i.body.token }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/done",
    operationId: "completeTask",
    summary:
      "Mark a claimed task done; refused (409) unless every gate of the task passed on the current tree",
    params: taskParams,
    body: S.DoneBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) =>
      taskWrite(i, { op: "done", task: i.params.task, token: i.body.token, override: i.body.override }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/block",
    operationId: "blockTask",
    summary: "Mark a claimed task blocked, with the reason",
    params: taskParams,
    body: S.BlockBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) =>
      taskWrite(i, { op: "block", task: i.params.task, token: i.body.token, reason: i.body.reason }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/notes",
    operationId: "noteTask",
    summary: "Leave a handoff note on a task (it shows in the task's context pack)",
    params: taskParams,
    body: S.NoteBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "note", task: i.params.task, text: i.body.text }),
  }),
  op({
    method: "GET",
    path: "/api/changes",
    operationId: "listChanges",
    summary: "Open changes; with all=true archived ones too (keel change list --json)",
    query: z.strictObject({ all: bool.optional() }),
    status: 200,
    response: S.ChangesAnswer,
    errors: [400],
    run: async ({ ctx, query }) => changeListAnswer(project(ctx), query.all === "true"),
  }),
  op({
    method: "POST",
    path: "/api/changes",
    operationId: "proposeChange",
    summary: "Propose a change: scaffold its proposal, tasks, metadata and delta specs (keel change new)",
    body: S.NewChangeBody,
    status: 201,
    response: S.NewChangeAnswer,
    errors: [400, 409, 413, 415],
    run: async ({ ctx, body, principal }) => {
      const p = project(ctx);
      const id = slug(body.name);
      // The core refuses it too (under its lock); checked here first to answer 409 rather than 400. A name
      // that gives no valid ID is left to the core, which says why.
      if (validChangeId(id) && findChangeFolder(p, id))
        throw new HttpError(
          409,
          "change_exists",
          `change "${id}" already exists`,
          "choose another name, or edit the existing change",
        );
      const config = loadConfig(p);
      const r = newChange(p, config, actingAs(p, principal, ctx), {
        name: body.name,
        why: body.why ?? null,
        capabilities: body.capabilities ?? [],
        modify: body.modify ?? [],
        remove: body.remove ?? [],
      });
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "GET",
    path: "/api/changes/{id}",
    operationId: "getChange",
    summary: "A change's deltas, bases, overlaps, problems and conflicts (keel change show --json)",
    params: changeParams,
    status: 200,
    response: S.ChangeAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const p = project(ctx);
      const ref = existingChange(p, params.id);
      return changeShowAnswer(p, loadChange(p, ref)).answer;
    },
  }),
  op({
    method: "POST",
    path: "/api/changes/{id}/approve",
    operationId: "approveChange",
    summary: "Approve a change as the caller; roles and policy decide (an agent cannot approve by default)",
    params: changeParams,
    body: S.ApproveBody,
    status: 200,
    response: S.ApproveAnswer,
    errors: [400, 404, 413, 415],
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      existingChange(p, params.id);
      const config = loadConfig(p);
      const r = approveChange(p, config, actingAs(p, principal, ctx), params.id, body.reason ?? null);
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "GET",
    path: "/api/drift",
    operationId: "getDrift",
    summary: "Where intent and code have come apart, ranked (keel drift --json)",
    query: z.strictObject({ failOn: z.enum(["error", "warning"]).optional() }),
    status: 200,
    response: S.DriftAnswer,
    errors: [400],
    run: async ({ ctx, query }) => (await driftAnswer(ctx.root, true, query.failOn ?? "error")).answer,
  }),
  op({
    method: "GET",
    path: "/api/coverage",
    operationId: "getCoverage",
    summary: "Per capability: approved requirements implemented, tested, verified (keel coverage --json)",
    status: 200,
    response: S.CoverageAnswer,
    errors: [],
    run: ({ ctx }) => coverageAnswer(ctx.root, true),
  }),
];

function validChangeId(id: string): boolean {
  try {
    checkChangeId(id);
    return true;
  } catch {
    return false;
  }
}

function existingChange(p: ProjectRoot, id: string) {
  checkChangeId(id);
  const ref = findChangeFolder(p, id);
  if (!ref) throw notFound(`no change "${id}"`, "GET /api/changes lists the open changes");
  return ref;
}

// ---- dispatch ------------------------------------------------------------------------------------------------

/** `field.sub: message` for the first problems zod found, so a client knows which field to fix. */
function schemaError(where: "path" | "query" | "body", error: z.ZodError): HttpError {
  const issues = error.issues.slice(0, 3).map((i) => {
    const path = [where, ...i.path.map(String)].join(".");
    return `${path}: ${i.message}`;
  });
  return new HttpError(
    400,
    "invalid_request",
    issues.join("; "),
    "GET /openapi.json describes every route's parameters and body",
  );
}

function parse<T extends z.ZodType>(schema: T, value: unknown, where: "path" | "query" | "body"): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw schemaError(where, r.error);
  return r.data;
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const type = req.headers["content-type"];
  const raw = await readBody(req);
  if (raw.length === 0) return {};
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(
      415,
      "unsupported_media_type",
      `request body of type ${type} is not accepted`,
      "send the body as application/json",
    );
  try {
    return JSON.parse(raw.toString("utf8"));
  } catch (e) {
    throw new HttpError(
      400,
      "invalid_json",
      `request body is not valid JSON: ${(e as Error).message}`,
      "send a JSON object, e.g. {}",
    );
  }
}

function compile(path: string): { pattern: RegExp; names: string[] } {
  const names: string[] = [];
  const source = path
    .split("/")
    .map((seg) => {
      const m = /^\{(\w+)\}$/.exec(seg);
      if (!m) return seg.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
      names.push(m[1] as string);
      return "([^/]+)";
    })
    .join("/");
  return { pattern: new RegExp(`^${source}$`), names };
}

function toRoute(o: Operation, ctx: RestContext): HttpRoute {
  const { pattern, names } = compile(o.path);
  return {
    method: o.method,
    pattern,
    handle: async (m, url, req, res, principal) => {
      const raw: Record<string, string> = {};
      for (const [i, name] of names.entries()) {
        try {
          raw[name] = decodeURIComponent(m[i + 1] as string);
        } catch {
          throw new HttpError(400, "invalid_request", `path.${name}: bad URL encoding`, "encode with %XX");
        }
      }
      const params = parse(o.params ?? NONE, raw, "path");
      const query = parse(o.query ?? NONE, Object.fromEntries(url.searchParams), "query");
      let body: unknown;
      if (o.body) body = parse(o.body, await jsonBody(req), "body");
      else req.resume();
      const answer = await o.run({ params, query, body, principal, ctx });
      sendJson(res, o.status, answer);
    },
  };
}

/** The REST routes and GET /openapi.json, for the dispatcher. */
export function restRoutes(ctx: RestContext): HttpRoute[] {
  const doc = openApiDocument();
  return [
    ...OPERATIONS.map((o) => toRoute(o, ctx)),
    {
      method: "GET",
      pattern: /^\/openapi\.json$/,
      handle: async (_m, _u, req, res) => {
        req.resume();
        sendJson(res, 200, doc);
      },
    },
  ];
}

// ---- the document ----------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, target: "draft-2020-12" }) as Json;
  return rest;
}

const ERROR_REF = { $ref: "#/components/schemas/Error" };

function errorResponses(statuses: number[]): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const s of [...new Set(statuses)].sort((a, b) => a - b))
    out[String(s)] = {
      description: ERROR_TEXT[s] ?? "refused",
      content: { "application/json": { schema: ERROR_REF } },
    };
  return out;
}

function parameters(o: Operation): Json[] {
  const out: Json[] = [];
  for (const [where, schema] of [
    ["path", o.params],
    ["query", o.query],
  ] as const) {
    if (!schema) continue;
    const js = jsonSchema(schema, "input") as { properties?: Record<string, Json>; required?: string[] };
    for (const [name, prop] of Object.entries(js.properties ?? {})) {
      const { description, ...rest } = prop as Json & { description?: string };
      out.push({
        name,
        in: where,
        required: where === "path" || (js.required ?? []).includes(name),
        ...(description ? { description } : {}),
        schema: rest,
      });
    }
  }
  return out;
}

/** A JSON-RPC error answer of the MCP endpoint, or one of the dispatcher's refusals. */
const RPC_OR_ERROR = {
  "application/json": {
    schema: {
      anyOf: [
        ERROR_REF,
        {
          type: "object",
          properties: { jsonrpc: { const: "2.0" }, error: { type: "object" } },
          required: ["jsonrpc", "error"],
        },
      ],
    },
  },
};

function mcpOperation(operationId: string, summary: string, ok: Record<string, Json>): Json {
  const rpc = (description: string) => ({ description, content: RPC_OR_ERROR });
  return {
    operationId,
    summary,
    responses: {
      ...ok,
      ...errorResponses([...COMMON_ERRORS, 413]),
      "400": rpc("not JSON (JSON-RPC parse error), not valid JSON-RPC, or no session named"),
      "403": rpc("a Host header that is not served, a refused role, or another principal's session"),
      "404": rpc("the session ended or expired"),
      "406": rpc("the Accept header lacks application/json or text/event-stream"),
      "503": rpc("too many open sessions"),
    },
  };
}

/**
 * Routes the dispatcher serves beside the REST table, described here so the document covers every route:
 * the live event stream and MCP over Streamable HTTP.
 */
const OTHER_PATHS: Record<string, Json> = {
  "/events": {
    get: {
      operationId: "streamEvents",
      summary: "Server-Sent Events: every state change (spec edited, change proposed, task claimed, …)",
      parameters: [
        {
          name: "Last-Event-ID",
          in: "header",
          required: false,
          description: "resume after this audit event",
          schema: { type: "string", pattern: "^\\d+$" },
        },
      ],
      responses: {
        "200": {
          description: "an endless text/event-stream; each event has `event: <type>` and `data: <json>`",
          content: { "text/event-stream": { schema: { type: "string" } } },
        },
        ...errorResponses(COMMON_ERRORS),
      },
    },
  },
  "/mcp": {
    get: mcpOperation("mcpStream", "MCP notification stream of a session (Mcp-Session-Id header)", {
      "200": {
        description: "server-to-client messages as an event stream",
        content: { "text/event-stream": { schema: { type: "string" } } },
      },
    }),
    delete: mcpOperation("mcpEndSession", "End an MCP session (Mcp-Session-Id header)", {
      "200": { description: "the session is closed" },
    }),
    post: {
      ...mcpOperation(
        "mcp",
        "MCP over Streamable HTTP: one JSON-RPC 2.0 message; an initialize request opens a session",
        {
          "200": {
            description: "the JSON-RPC answer, as JSON or as an event stream",
            content: {
              "application/json": { schema: { type: "object" } },
              "text/event-stream": { schema: { type: "string" } },
            },
          },
          "202": { description: "a notification or response was accepted" },
        },
      ),
      requestBody: {
        required: true,
        content: {
          "application/json": { schema: { type: "object", description: "a JSON-RPC 2.0 message" } },
        },
      },
    },
  },
  "/openapi.json": {
    get: {
      operationId: "getOpenApi",
      summary: "This document",
      responses: {
        "200": {
          description: "the OpenAPI 3.1 document of every route",
          content: { "application/json": { schema: { type: "object" } } },
        },
        ...errorResponses(COMMON_ERRORS),
      },
    },
  },
};

/** The OpenAPI 3.1 document of every route, derived from OPERATIONS. */
export function openApiDocument(): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const o of OPERATIONS) {
    const item: Json = {
      operationId: o.operationId,
      summary: o.summary,
      ...(o.description ? { description: o.description } : {}),
    };
    const params = parameters(o);
    if (params.length > 0) item.parameters = params;
    if (o.body)
      item.requestBody = {
        required: false,
        description: "a JSON object; an empty body counts as {}",
        content: { "application/json": { schema: jsonSchema(o.body, "input") } },
      };
    item.responses = {
      [String(o.status)]: {
        description: "the answer",
        content: { "application/json": { schema: jsonSchema(o.response, "output") } },
      },
      ...errorResponses([...o.errors, ...COMMON_ERRORS]),
    };
    paths[o.path] ??= {};
    (paths[o.path] as Record<string, Json>)[o.method.toLowerCase()] = item;
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Keel",
      version: VERSION,
      description:
        "REST API of `keel serve`. Reads answer what `keel … --json` prints; writes run the core as the caller. " +
        "In single-user loopback mode no token is needed; otherwise send `Authorization: Bearer <token>`.",
    },
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    paths: { ...paths, ...OTHER_PATHS },
    components: {
      schemas: { Error: jsonSchema(S.ErrorBody, "output") },
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
    },
    security: [{}, { bearer: [] }],
  };
}
