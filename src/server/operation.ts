// One REST operation of `keel serve`: its path, its inputs (path parameters, query, JSON body) and its answers as
// zod schemas, written once — the dispatcher (routes.ts) validates requests with them and the OpenAPI document
// (openapi.ts) is derived from them — and the helpers operations share: where the project is, and who acts.
import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import * as z from "zod";
import { type ChangeRefOnDisk, checkChangeId, findChangeFolder } from "../core/changes/load.js";
import type { SanitizeAction } from "../core/scan/types.js";
import { withState } from "../run/context.js";
import { STATE_DIR } from "../store/index-db.js";
import { STATE_FILE, type StateDb } from "../store/state-db.js";
import { type Actor, resolveActor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { memoUntilChange } from "../workspace/freshness.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import { HttpError } from "./wire.js";

/** What every operation needs of the server: the project root, and who acts when no token names anyone. */
export interface RestContext {
  root: string;
  cwd: string;
  /** `kind:name`, the server's actor (`keel serve --as`). */
  actor: string;
  /** A team server's way to run a write of intent (intent-sync.ts); absent: the write runs as it is. */
  intent?: <T>(label: string, fn: () => Promise<T>) => Promise<T>;
  /** A team server's forward of the checkout's own log into the team chain (core/audit/forward.ts); never throws. */
  forward?: () => Promise<void>;
}

/** A route as the dispatcher (http.ts) matches it. */
export interface HttpRoute {
  method: "GET" | "POST" | "DELETE";
  pattern: RegExp;
  /** The route authenticates by the request's own signature (a webhook), not by a bearer token. */
  signed?: boolean;
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
export const NONE = z.strictObject({});

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
  /** It writes intent (spec, change, task or acknowledgement files): a team server carries it to the others. */
  writesIntent?: true;
  run(input: Input<P, Q, B>): Promise<unknown>;
}

export type Operation = OperationDef<Obj, Obj, z.ZodType>;

export function op<
  P extends Obj = typeof NONE,
  Q extends Obj = typeof NONE,
  B extends z.ZodType = z.ZodUndefined,
>(def: OperationDef<P, Q, B>): Operation {
  return def as unknown as Operation;
}

export const ERROR_TEXT: Record<number, string> = {
  400: "bad input: malformed JSON, a field that fails the schema, or a request the core refuses as invalid",
  401: "no token, or a bad or expired one (outside single-user mode)",
  403: "refused by role or policy (audited), or a Host header that is not served",
  404: "no such route, requirement, task or change",
  405: "the path exists but not with this method (see the Allow header)",
  409: "refused by the task queue (held, closed, stale token), by backpressure (gates not passing) or by state",
  413: "request body over 1 MiB",
  415: "a request body that is not application/json",
  429: "rate limit of the token, or of refused requests from the address, exceeded (see Retry-After)",
  500: "the project could not be read, or a bug",
  503: "the state database is damaged, or was deleted or replaced while the server ran (restart it)",
};
/** Answered by the dispatcher for any route. */
export const COMMON_ERRORS = [401, 403, 429, 500, 503];

export function project(ctx: RestContext): ProjectRoot {
  // Found once per state of the project (a warm server's watcher says when that changes), not on every request.
  return memoUntilChange(ctx.root, "project-root", () => findProjectRoot(ctx.root, true));
}

/** Who a write acts as: the authenticated caller, else the server's own actor (single-user mode). */
export function actingAs(p: ProjectRoot, principal: Actor | undefined, ctx: RestContext): Actor {
  return principal ?? resolveActor(loadConfig(p), { flag: ctx.actor, cwd: ctx.cwd });
}

export function notFound(message: string, hint: string): HttpError {
  return new HttpError(404, "not_found", message, hint);
}

/** The folder of an existing change (open or archived), or 404. */
export function existingChange(p: ProjectRoot, id: string): ChangeRefOnDisk {
  checkChangeId(id);
  const ref = findChangeFolder(p, id);
  if (!ref) throw notFound(`no change "${id}"`, "GET /api/changes lists the open changes");
  return ref;
}

/** `sanitized`, in an answer only when delivery did anything (so that a clean answer is the CLI's). */
export function saying(actions: SanitizeAction[]): { sanitized?: SanitizeAction[] } {
  return actions.length > 0 ? { sanitized: actions } : {};
}

/** Reads the project's store, or answers `none` when it has none: a read never creates one. */
export function readStore<T>(root: string, none: T, read: (state: StateDb) => T): T {
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return none;
  return withState(root, read);
}
