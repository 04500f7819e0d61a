// What every HTTP answer of `keel serve` shares: JSON bodies, `{error:{code,message,hint}}` refusals with a
// precise status, and request bodies read up to a cap. The dispatcher (http.ts) and the REST route table
// (routes.ts) both use these, so an error thrown by a route is answered like any other.
// @req SRF-4, SRF-10
import type { IncomingMessage, ServerResponse } from "node:http";
import { STORE_UNAVAILABLE } from "../store/coordination.js";
import { STORE_REPLACED, STORE_UNREADABLE } from "../store/guard.js";
import { CLAIM_ERRORS } from "../store/sqlite/claims.js";
import { EXIT, type KeelError } from "../workspace/errors.js";

export const MAX_BODY = 1024 * 1024;

/**
 * Sent with every answer. The policy allows scripts, styles and connections from the server's own origin only,
 * and no inline script: the web app (web.ts) has none, and a JSON answer opened in a browser runs nothing.
 * @req WEB-4
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly hint: string,
    /** Headers the refusal is answered with (`Allow`, `Retry-After`, `WWW-Authenticate`). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, e: HttpError, headers: Record<string, string> = {}): void {
  sendJson(
    res,
    e.status,
    { error: { code: e.code, message: e.message, hint: e.hint } },
    { ...e.headers, ...headers },
  );
}

/**
 * A Keel refusal as an HTTP status: bad input 400, refused by policy or role 403, an unknown task 404, a refusal
 * of the task queue, of backpressure or of an overlapping edit 409, a store that cannot be used (damaged, deleted or
 * replaced under the server) 503, project unreadable 500, anything else 409.
 */
function httpStatusOf(e: KeelError): number {
  if (e.code === CLAIM_ERRORS.unknown) return 404;
  if (e.code === STORE_UNREADABLE || e.code === STORE_REPLACED) return 503;
  switch (e.exitCode) {
    case EXIT.usage:
      return 400;
    case EXIT.refused:
      return 403;
    case EXIT.unreadable:
      return 500;
    default:
      return 409;
  }
}

/** Seconds a client waits before trying again when the team store cannot be reached (PostgreSQL restarting). */
export const STORE_RETRY_AFTER_S = 1;

export function fromKeelError(e: KeelError): HttpError {
  // The team store unreachable: nothing was changed, and the same request will work once PostgreSQL is back.
  if (e.code === STORE_UNAVAILABLE)
    return new HttpError(503, e.code, e.message, e.hint, { "retry-after": String(STORE_RETRY_AFTER_S) });
  return new HttpError(httpStatusOf(e), e.code, e.message, e.hint);
}

export function tooLarge(): HttpError {
  return new HttpError(413, "body_too_large", `request body over ${MAX_BODY} bytes`, "send at most 1 MiB");
}

/** Reads a request body up to MAX_BODY; more is a 413 (checked on Content-Length first, then as it arrives). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
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

/** A JSON request body (an empty one counts as {}); 415 for another media type, 400 for bad JSON. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
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
