// The shapes of the REST API, each written once with zod: routes.ts validates requests with them, and the
// OpenAPI document (openapi.ts) is derived from them, so the document cannot drift from what is served.
// Answers are the core's (src/core/api/answers.ts); the requests are REST's own.
// @req SRF-10
import * as z from "zod";
import { proposeInput } from "../core/changes/propose-input.js";

export * from "../core/api/answers.js";

export const TaskRef = z.string().min(1).max(200).describe("task key (scope/id, URL-encoded) or bare id");
export const FencingToken = z.number().int().min(1).describe("the fencing token the claim returned");
export const Ttl = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/)
  .describe("lease length, e.g. 15m (default 15m)");

export const ClaimBody = z.strictObject({ ttl: Ttl.optional() });
export const HeartbeatBody = z.strictObject({ token: FencingToken, ttl: Ttl.optional() });
export const ReleaseBody = z.strictObject({ token: FencingToken });
export const DoneBody = z.strictObject({
  token: FencingToken,
  override: z
    .strictObject({ reason: z.string().trim().min(1).max(4000) })
    .optional()
    .describe("a human's override of failing gates, with the reason (refused to agents)"),
});
export const BlockBody = z.strictObject({ token: FencingToken, reason: z.string().trim().min(1).max(4000) });
export const NoteBody = z.strictObject({ text: z.string().min(1).max(4000) });

export const NewChangeBody = z.strictObject(proposeInput);
export const ApproveBody = z.strictObject({ reason: z.string().max(4000).optional() });
