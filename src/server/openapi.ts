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
