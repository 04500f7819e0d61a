// The webhook routes of `keel serve`, POST /hooks/github and /hooks/jira: HTTP around src/run/triggers, which
// verifies, reads and acts on the delivery. The body is read under the server's cap (413 past it) and passed on as
// bytes, since the signature covers them exactly; a bad signature is counted against the client's address like a
// bad token (auth.ts), so a flood of forgeries is throttled and audited in aggregate.
// @req RUN-13
import type { IncomingMessage, ServerResponse } from "node:http";
import { HookRefusal, type PlanSpawner, receiveHook } from "../run/triggers/index.js";
import type { TriggerProvider } from "../workspace/triggers-config.js";
import type { Gatekeeper } from "./auth.js";
import { HttpError, readBody, sendJson } from "./wire.js";

export interface HookContext {
  root: string;
  gate: Gatekeeper;
  spawnPlan?: PlanSpawner;
}

export async function handleHook(
  provider: TriggerProvider,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: HookContext,
): Promise<void> {
  const body = await readBody(req);
  try {
    const answer = receiveHook(provider, req.headers, body, {
      root: ctx.root,
      env: process.env,
      ...(ctx.spawnPlan ? { spawnPlan: ctx.spawnPlan } : {}),
    });
    sendJson(res, answer.status, answer.body);
  } catch (e) {
    if (!(e instanceof HookRefusal)) throw e;
    if (e.status === 401) ctx.gate.refuseSigned(req, e.code);
    throw new HttpError(e.status, e.code, e.message, e.hint);
  }
}
