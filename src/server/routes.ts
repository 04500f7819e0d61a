// The REST routes of `keel serve` for the dispatcher (http.ts): each operation (operations.ts) becomes a route
// that parses its path parameters, query and JSON body with the operation's schemas — a request that does not
// fit is refused with 400 naming the field, before anything runs — plus GET /openapi.json (openapi.ts).
// @req SRF-10
import type * as z from "zod";
import { openApiDocument } from "./openapi.js";
import { type HttpRoute, NONE, type Operation, type RestContext } from "./operation.js";
import { OPERATIONS } from "./operations.js";
import { HttpError, readJson, sendJson } from "./wire.js";

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
      if (o.body) body = parse(o.body, await readJson(req), "body");
      else req.resume();
      const run = () => o.run({ params, query, body, principal, ctx });
      let answer: unknown;
      try {
        answer =
          o.writesIntent && ctx.intent
            ? await ctx.intent(`${o.operationId} ${url.pathname}`, run)
            : await run();
      } finally {
        // What a write of intent logged in the checkout's own log is in the team's chain before it is answered,
        // refused or not. Other writes (claims go to the team store itself) are forwarded after their answer.
        if (o.writesIntent) await ctx.forward?.();
      }
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
