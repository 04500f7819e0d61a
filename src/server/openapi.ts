import * as z from "zod";
import { VERSION } from "../model/version.js";
import { COMMON_ERRORS, ERROR_TEXT, type Operation } from "./operation.js";
import { OPERATIONS } from "./operations.js";
import * as S from "./schemas.js";

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

const HOOK_HEADERS: Record<"github" | "jira", Array<[string, string]>> = {
  github: [
    ["X-Hub-Signature-256", "sha256=<hex>: HMAC-SHA256 of the raw body with the webhook's secret"],
    ["X-GitHub-Delivery", "the delivery's GUID; a delivery is taken once"],
    ["X-GitHub-Event", "issues (assigned, labeled) is handled; ping and others are ignored"],
  ],
  jira: [
    ["X-Hub-Signature", "sha256=<hex>: HMAC-SHA256 of the raw body with the webhook's secret"],
    ["X-Atlassian-Webhook-Identifier", "the delivery's ID, kept across retries; a delivery is taken once"],
  ],
};

const HOOK_ANSWER = {
  type: "object",
  properties: {
    version: { const: 1 },
    ok: { const: true },
    provider: { enum: ["github", "jira"] },
    delivery: { type: "string" },
    change: { type: "string", description: "the draft change opened from the ticket" },
    dir: { type: "string" },
    files: { type: "array", items: { type: "string" } },
    ticket: { type: "string", description: "octo/repo#42, PROJ-7" },
    source: { type: "string", description: "the ticket's page" },
    author: { type: "string", description: "who wrote the ticket" },
    event: { type: "string", description: "what happened: assigned to …, labeled …, moved … to …" },
    plan: {
      type: "object",
      properties: {
        started: { type: "boolean" },
        reason: { type: "string" },
        pid: { type: ["integer", "null"] },
        log: { type: "string" },
      },
      required: ["started", "reason"],
    },
  },
  required: [
    "version",
    "ok",
    "provider",
    "delivery",
    "change",
    "ticket",
    "source",
    "author",
    "event",
    "plan",
  ],
};

const HOOK_IGNORED = {
  type: "object",
  properties: {
    version: { const: 1 },
    ok: { const: true },
    provider: { enum: ["github", "jira"] },
    delivery: { type: "string" },
    ignored: { type: "string", description: "why the delivery does not count; nothing was written" },
  },
  required: ["version", "ok", "provider", "delivery", "ignored"],
};

const HOOK_ERRORS: Record<number, string> = {
  400: "malformed JSON, a payload without the ticket's fields, or no delivery ID",
  401: "no signature, or one that does not match the body and the secret",
  409: "a replay: this delivery ID was already accepted",
  413: "request body over 1 MiB",
  503: "the provider is not configured in keel.yaml `triggers:`, or its secret variable is not set",
};

/** A webhook route: signed by the provider, never by a bearer token; nothing is written on any refusal. */
function hookOperation(provider: "github" | "jira", summary: string): Json {
  const error = (description: string) => ({
    description,
    content: { "application/json": { schema: ERROR_REF } },
  });
  const errors = errorResponses([403, 429, 500]);
  for (const [status, text] of Object.entries(HOOK_ERRORS)) errors[status] = error(text);
  return {
    post: {
      operationId: `hook${provider === "github" ? "GitHub" : "Jira"}`,
      summary,
      security: [{}],
      parameters: HOOK_HEADERS[provider].map(([name, description]) => ({
        name,
        in: "header",
        required: true,
        description,
        schema: { type: "string" },
      })),
      requestBody: {
        required: true,
        content: {
          "application/json": { schema: { type: "object", description: `the ${provider} webhook payload` } },
          ...(provider === "github"
            ? { "application/x-www-form-urlencoded": { schema: { type: "object" } } }
            : {}),
        },
      },
      responses: {
        "201": {
          description: "the draft change opened from the ticket",
          content: { "application/json": { schema: HOOK_ANSWER } },
        },
        "202": {
          description: "ignored (another event or action, filtered out, or the ticket's change exists)",
          content: { "application/json": { schema: HOOK_IGNORED } },
        },
        ...errors,
      },
    },
  };
}

function sessionResponse(description: string): Json {
  return {
    description,
    content: {
      "application/json": {
        schema: {
          type: "object",
          required: ["version", "mode", "principal", "csrf", "canApprove"],
          properties: {
            version: { const: 1 },
            mode: { enum: ["single-user", "signed-in", "signed-out"] },
            principal: {
              type: ["object", "null"],
              properties: {
                name: { type: "string" },
                kind: { type: "string" },
                role: { type: ["string", "null"] },
              },
            },
            csrf: { type: ["string", "null"] },
            canApprove: { type: "boolean" },
          },
        },
      },
    },
  };
}

/**
 * Routes the dispatcher serves beside the REST table, described here so the document covers every route:
 * the live event stream, MCP over Streamable HTTP and the issue-tracker webhooks.
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
  "/hooks/github": hookOperation(
    "github",
    "GitHub issues webhook: an issue assigned or labeled opens a draft change",
  ),
  "/hooks/jira": hookOperation(
    "jira",
    "Jira issue_updated webhook: an issue assigned or transitioned opens a draft change",
  ),
  "/api/session": {
    get: {
      operationId: "getSession",
      summary:
        "The web app's session: mode (single-user, signed-in, signed-out), principal, CSRF token for writes, whether it may approve",
      responses: { "200": sessionResponse("the session"), ...errorResponses(COMMON_ERRORS) },
    },
    post: {
      operationId: "signIn",
      summary:
        "Sign in with a token: answers an HttpOnly, SameSite=Strict session cookie and the session's CSRF token",
      requestBody: {
        required: true,
        content: {
          "application/json": {
            schema: { type: "object", required: ["token"], properties: { token: { type: "string" } } },
          },
        },
      },
      responses: {
        "200": sessionResponse("signed in; Set-Cookie holds the session"),
        ...errorResponses([400, 415, ...COMMON_ERRORS]),
      },
    },
    delete: {
      operationId: "signOut",
      summary: "Sign out: forgets the session and clears its cookie (send the CSRF token in x-keel-csrf)",
      responses: {
        "200": { description: "signed out", content: { "application/json": { schema: { type: "object" } } } },
        ...errorResponses(COMMON_ERRORS),
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
