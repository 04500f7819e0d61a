// Checking answers of `keel serve` against its own OpenAPI document: the document's structure (an OpenAPI 3.1
// subset, checked with a JSON Schema of that structure, plus the rules a schema cannot say), and each reply
// against the schema the document gives for its path, method and status (ajv, JSON Schema 2020-12).
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { expect } from "vitest";
import { httpRequest, type Reply, type Served, startServe } from "./serve.js";

// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document, walked by the checks below
export type Doc = any;

export const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

/** The shape of an OpenAPI 3.1 document, as far as Keel's document uses it (OAS 3.1.0, sections 4.8.x). */
const OAS_31 = {
  $defs: {
    mediaTypes: {
      type: "object",
      propertyNames: { pattern: "^[a-z]+/[a-z0-9.+-]+$" },
      additionalProperties: {
        type: "object",
        properties: { schema: { type: ["object", "boolean"] } },
        additionalProperties: false,
      },
    },
    parameter: {
      type: "object",
      required: ["name", "in"],
      properties: {
        name: { type: "string", minLength: 1 },
        in: { enum: ["path", "query", "header", "cookie"] },
        description: { type: "string" },
        required: { type: "boolean" },
        schema: { type: ["object", "boolean"] },
      },
      additionalProperties: false,
      // A path parameter is required (OAS 3.1 4.8.12.1): not in the path, or required: true.
      anyOf: [
        { properties: { in: { enum: ["query", "header", "cookie"] } } },
        { required: ["required"], properties: { required: { const: true } } },
      ],
    },
    operation: {
      type: "object",
      required: ["responses"],
      properties: {
        operationId: { type: "string", pattern: "^[A-Za-z][A-Za-z0-9_]*$" },
        summary: { type: "string" },
        description: { type: "string" },
        parameters: { type: "array", items: { $ref: "#/$defs/parameter" } },
        requestBody: {
          type: "object",
          required: ["content"],
          properties: {
            description: { type: "string" },
            required: { type: "boolean" },
            content: { $ref: "#/$defs/mediaTypes" },
          },
          additionalProperties: false,
        },
        responses: {
          type: "object",
          minProperties: 1,
          propertyNames: { pattern: "^(default|[1-5](\\d\\d|XX))$" },
          additionalProperties: {
            type: "object",
            required: ["description"],
            properties: { description: { type: "string" }, content: { $ref: "#/$defs/mediaTypes" } },
            additionalProperties: false,
          },
        },
        security: { type: "array" },
      },
      additionalProperties: false,
    },
  },
  type: "object",
  required: ["openapi", "info", "paths"],
  properties: {
    openapi: { type: "string", pattern: "^3\\.1\\.\\d+$" },
    info: {
      type: "object",
      required: ["title", "version"],
      properties: { title: { type: "string" }, version: { type: "string" }, description: { type: "string" } },
    },
    jsonSchemaDialect: { type: "string", format: "uri" },
    paths: {
      type: "object",
      propertyNames: { pattern: "^/" },
      additionalProperties: {
        type: "object",
        propertyNames: { enum: [...METHODS, "summary", "description", "parameters"] },
        additionalProperties: { $ref: "#/$defs/operation" },
      },
    },
    components: {
      type: "object",
      properties: {
        schemas: { type: "object", additionalProperties: { type: ["object", "boolean"] } },
        securitySchemes: { type: "object" },
      },
    },
    security: { type: "array", items: { type: "object" } },
  },
  additionalProperties: false,
};

/** Replaces `#/components/schemas/X` references with the schema itself, so a part compiles on its own. */
function inline(doc: Doc, schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map((s) => inline(doc, s));
  if (schema === null || typeof schema !== "object") return schema;
  const ref = (schema as { $ref?: string }).$ref;
  if (typeof ref === "string") {
    const m = /^#\/components\/schemas\/(.+)$/.exec(ref);
    expect(m, `unresolvable $ref ${ref}`).not.toBeNull();
    const target = doc.components?.schemas?.[(m as RegExpExecArray)[1] as string];
    expect(target, `$ref ${ref} names no component`).toBeDefined();
    return inline(doc, target);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(doc, v)]));
}

function ajv(): Ajv2020 {
  const a = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  a.addFormat("uri", /^[a-z][a-z0-9+.-]*:\S+$/i);
  return a;
}

/** Asserts the document is a well-formed OpenAPI 3.1 document whose every schema compiles. */
export function checkDocument(doc: Doc): void {
  const a = ajv();
  const validate = a.compile(OAS_31);
  expect(validate(doc), a.errorsText(validate.errors)).toBe(true);
  const ids = new Set<string>();
  for (const [path, item] of Object.entries<Doc>(doc.paths)) {
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${path}`;
      if (op.operationId) {
        expect(ids.has(op.operationId), `${where}: operationId ${op.operationId} twice`).toBe(false);
        ids.add(op.operationId);
      }
      // Every templated segment has exactly one path parameter, and no path parameter is not in the path.
      const pathParams = (op.parameters ?? []).filter((p: Doc) => p.in === "path").map((p: Doc) => p.name);
      expect([...pathParams].sort(), where).toEqual([...templated].sort());
      const names = (op.parameters ?? []).map((p: Doc) => `${p.in}:${p.name}`);
      expect(new Set(names).size, `${where}: a parameter twice`).toBe(names.length);
      const schemas: unknown[] = [
        ...(op.parameters ?? []).map((p: Doc) => p.schema),
        ...Object.values<Doc>(op.requestBody?.content ?? {}).map((c) => c.schema),
        ...Object.values<Doc>(op.responses).flatMap((r) =>
          Object.values<Doc>(r.content ?? {}).map((c) => c.schema),
        ),
      ];
      for (const s of schemas) if (s !== undefined) a.compile(inline(doc, s) as object);
    }
  }
}

/** Whether `pathname` is an instance of the path template `t` (`{name}` stands for one segment). */
export function templateMatches(t: string, pathname: string): boolean {
  const source = t
    .split("/")
    .map((seg) => (/^\{[^}]+\}$/.test(seg) ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`).test(pathname);
}

/** The templated path of the document that `pathname` is an instance of; a literal path beats a template. */
export function templateOf(doc: Doc, pathname: string): string | null {
  const hits = Object.keys(doc.paths).filter((t) => templateMatches(t, pathname));
  hits.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  return hits[0] ?? null;
}

/**
 * Checks replies against the document: the status is one the operation documents, and a JSON body is valid
 * against that status's schema. Remembers which operations were answered, with which statuses.
 */
export class ReplyChecker {
  readonly seen = new Map<string, Set<number>>();
  private readonly validators = new Map<string, ValidateFunction>();
  /** One validator instance compiles every answer schema (ajv caches what it compiled). */
  private readonly ajv = ajv();
  constructor(readonly doc: Doc) {}

  /** Sends a request (a body that is not already text or bytes goes as JSON) and checks the answer. */
  async send(
    server: Served,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> {
    const opts: { body?: string | Buffer; headers: Record<string, string> } = { headers };
    if (body !== undefined) {
      opts.body = typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body);
      opts.headers = { "content-type": "application/json", ...headers };
    }
    return this.check(method, path, await httpRequest(server.port, method, path, opts));
  }

  /** Asserts a reply's body is the document's shared error body (for statuses no operation lists, like 405). */
  checkErrorBody(where: string, reply: Reply): void {
    let validate = this.validators.get("Error");
    if (!validate) {
      validate = this.ajv.compile(inline(this.doc, { $ref: "#/components/schemas/Error" }) as object);
      this.validators.set("Error", validate);
    }
    expect(validate(reply.json), `${where}: ${this.ajv.errorsText(validate.errors)}`).toBe(true);
  }

  check(method: string, path: string, reply: Reply): Reply {
    const pathname = new URL(path, "http://x").pathname;
    const template = templateOf(this.doc, pathname);
    const where = `${method} ${path} → ${reply.status}`;
    expect(template, `${where}: no documented path`).not.toBeNull();
    const op = this.doc.paths[template as string][method.toLowerCase()];
    expect(op, `${where}: method not documented`).toBeDefined();
    const response = op.responses[String(reply.status)];
    expect(response, `${where}: status not documented (body ${reply.text.slice(0, 300)})`).toBeDefined();
    const key = `${method.toUpperCase()} ${template}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)?.add(reply.status);
    const type = String(reply.headers["content-type"] ?? "").split(";")[0] as string;
    if (!response.content) return reply;
    const media = response.content[type];
    expect(media, `${where}: content type ${type} not documented`).toBeDefined();
    if (type !== "application/json") return reply;
    const id = `${key} ${reply.status}`;
    let validate = this.validators.get(id);
    if (!validate) {
      validate = this.ajv.compile(inline(this.doc, media.schema) as object);
      this.validators.set(id, validate);
    }
    expect(
      validate(reply.json),
      `${where}: ${this.ajv.errorsText(validate.errors)}\n${reply.text.slice(0, 600)}`,
    ).toBe(true);
    return reply;
  }
}

/**
 * The two servers the REST tests drive, on one project: `human` acts as human:alice and `agent` as the default
 * agent:mcp (single-user mode), with a checker of the OpenAPI document they serve.
 */
export async function startRestServers(
  root: string,
): Promise<{ human: Served; agent: Served; doc: Doc; checker: ReplyChecker }> {
  const [human, agent] = await Promise.all([startServe(root, ["--as", "human:alice"]), startServe(root)]);
  const r = await httpRequest(human.port, "GET", "/openapi.json");
  expect(r.status).toBe(200);
  expect(r.headers["content-type"]).toMatch(/^application\/json/);
  return { human, agent, doc: r.json, checker: new ReplyChecker(r.json) };
}
