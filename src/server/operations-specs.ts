// The REST operations of the web app's specs view: a capability's requirements with their text, page by page (so a
// large spec is never one answer), who wrote each (`keel blame --json`), one requirement's versions (`keel
// history --json`), and the in-place edit with a base fingerprint (core/specs/edit.ts). Blame and history hold
// the raw text of specs and changes, so, like `?raw=true`, they are a person's view: an agent's token is refused
// them (it reads requirements through MCP or GET /api/requirements/{id}, delivered).
// @req WEB-6, TRU-2
import * as z from "zod";
import { RequirementAnswer } from "../core/api/answers.js";
import { requirementHistory, specBlame } from "../core/history/index.js";
import { withQueryIndex } from "../core/query/index.js";
import { deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import {
  deliverRequirement,
  requirementHits,
  SanitizedSchema,
  SecurityAnnotationSchema,
} from "../core/scan/records.js";
import { editRequirement, NO_REQUIREMENT } from "../core/specs/edit.js";
import { ORIGINS, REQUIREMENT_STATUSES } from "../model/types.js";
import type { Actor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { KeelError } from "../workspace/errors.js";
import { actingAs, notFound, type Operation, op, project } from "./operation.js";
import { HttpError } from "./wire.js";

const idParams = z.strictObject({ id: z.string().min(1).max(200).describe("requirement ID, URL-encoded") });
const capabilityParams = z.strictObject({
  capability: z.string().min(1).max(200).describe("capability (nested ones with `/`), URL-encoded"),
});
const digits = z.string().regex(/^\d{1,6}$/);
const count = z.number().int().min(0);
const text = z.string().nullable();

/** A page of requirements: at most this many in one answer. */
const PAGE_MAX = 200;

const RequirementRecord = RequirementAnswer.shape.item;

const SpecRequirementsAnswer = z.object({
  version: z.literal(1),
  capability: z.string(),
  total: count.describe("requirements in the spec"),
  offset: count,
  requirements: z.array(RequirementRecord.extend({ security: SecurityAnnotationSchema.optional() })),
  sanitized: SanitizedSchema.optional(),
});

const Attribution = {
  actor: text,
  actorSource: z.enum(["marker", "change", "audit", "git"]).nullable(),
  origin: z.enum(ORIGINS).nullable(),
  tool: text,
  model: text,
  change: text,
  at: text,
  why: text,
};

const BlameAnswer = z.object({
  version: z.literal(1),
  capability: z.string(),
  file: z.string(),
  git: z.boolean(),
  requirements: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      line: count,
      fingerprint: z.string(),
      versions: count,
      introduced: z.object({
        version: count,
        source: z.enum(["git", "working-tree", "audit"]),
        commit: z
          .object({ sha: z.string(), author: z.string(), at: z.string(), subject: z.string() })
          .nullable(),
        event: z.object({ seq: count, action: z.string() }).nullable(),
      }),
      ...Attribution,
    }),
  ),
});

const HistoryAnswer = z.object({
  version: z.literal(1),
  id: z.string(),
  capability: z.string(),
  file: z.string(),
  current: z.boolean(),
  git: z.boolean(),
  aliases: z.array(z.string()),
  versions: z.array(
    z.object({
      version: count,
      kind: z.enum(["added", "modified", "renamed", "metadata", "removed"]),
      source: z.enum(["git", "working-tree", "audit"]),
      commit: z
        .object({
          sha: z.string(),
          author: z.string(),
          email: z.string(),
          at: z.string(),
          subject: z.string(),
        })
        .nullable(),
      event: z.object({ seq: count, action: z.string(), actor: z.string(), at: z.string() }).nullable(),
      id: text,
      title: text,
      fingerprint: text,
      status: z.enum(REQUIREMENT_STATUSES).nullable(),
      basis: z.enum(["explicit", "inferred"]).nullable(),
      block: text.describe("the requirement's Markdown in this version"),
      diff: text.describe("unified line diff from the previous version"),
      ...Attribution,
    }),
  ),
});

const EditBody = z.strictObject({
  base: z
    .string()
    .min(1)
    .max(64)
    .describe("the fingerprint of the requirement the new text was written against"),
  text: z
    .string()
    .max(64 * 1024)
    .describe("the new normative text; scenarios stay as they are"),
  reason: z.string().max(4000).optional(),
});

const EditAnswer = z.object({
  version: z.literal(1),
  ok: z.literal(true),
  id: z.string(),
  capability: z.string(),
  file: z.string(),
  before: z.string(),
  after: z.string(),
  changed: z.boolean().describe("false: the text was already the one given, nothing was written"),
  by: z.string(),
  at: z.string(),
});

/** Raw spec text is a person's: an agent's token reads it delivered, through the operations that deliver it. */
function forPeople(principal: Actor | undefined, what: string): void {
  if (principal?.kind === "agent")
    throw new HttpError(
      403,
      "raw_text_refused",
      `an agent's token is given spec text delivered, never raw: ${what} is a person's view`,
      "read requirements with GET /api/requirements/{id}, or through MCP",
    );
}

/** A missing requirement or spec is the core's error of this code (exit 2); over REST it is 404. */
function orNotFound<T>(code: string, run: () => T, hint: string): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof KeelError && e.code === code) throw notFound(e.message, hint);
    throw e;
  }
}

export const SPECS_OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/specs/{capability}/requirements",
    operationId: "listSpecRequirements",
    summary: "A page of a spec's requirements with their text and scenarios (keel show <id> --json for each)",
    params: capabilityParams,
    query: z.strictObject({
      raw: z.enum(["true", "false"]).optional().describe("true: the text as written, with `security`"),
      offset: digits.optional().describe("requirements to skip (default 0)"),
      limit: digits.optional().describe(`most requirements to return, 1 to ${PAGE_MAX} (default 50)`),
    }),
    status: 200,
    response: SpecRequirementsAnswer,
    errors: [400, 403, 404],
    run: async ({ ctx, params, query, principal }) => {
      const p = project(ctx);
      const offset = Number(query.offset ?? 0);
      const limit = Number(query.limit ?? 50);
      if (limit < 1 || limit > PAGE_MAX)
        throw new HttpError(
          400,
          "invalid_request",
          `query.limit: must be from 1 to ${PAGE_MAX}`,
          "e.g. ?limit=50",
        );
      const raw = query.raw === "true";
      if (raw) forPeople(principal, "raw text");
      const { total, records } = await withQueryIndex(p, { check: "full" }, async (q) => {
        if ((await q.listSpecs({ capability: params.capability })).length === 0)
          throw notFound(`no spec "${params.capability}"`, "GET /api/specs lists the capabilities");
        const ids = (await q.listRequirements({ capability: params.capability })).map((r) => r.id);
        const page = [...new Set(ids)].slice(offset, offset + limit);
        const found = await Promise.all(page.map((id) => q.show(id)));
        return {
          total: new Set(ids).size,
          records: found.flatMap((f) => (f?.kind === "requirement" ? [f.item] : [])),
        };
      });
      const policy = securityPolicy(loadConfig(p));
      const common = { version: 1 as const, capability: params.capability, total, offset };
      if (raw)
        return {
          ...common,
          requirements: records.map((r) => ({ ...r, security: requirementHits(r, policy) })),
        };
      const log = deliveryLog(policy);
      const requirements = records.map((r) => deliverRequirement(r, log));
      const actions = log.actions();
      return { ...common, requirements, ...(actions.length > 0 ? { sanitized: actions } : {}) };
    },
  }),
  op({
    method: "GET",
    path: "/api/specs/{capability}/blame",
    operationId: "blameSpec",
    summary: "Who introduced each requirement of a spec as it reads now (keel blame --json); not for agents",
    params: capabilityParams,
    status: 200,
    response: BlameAnswer,
    errors: [403, 404],
    run: async ({ ctx, params, principal }) => {
      forPeople(principal, "blame");
      const b = orNotFound(
        "usage",
        () => specBlame(project(ctx).root, params.capability, true),
        "GET /api/specs lists the capabilities",
      );
      return { version: 1, ...b };
    },
  }),
  op({
    method: "GET",
    path: "/api/requirements/{id}/history",
    operationId: "getRequirementHistory",
    summary: "Every version of a requirement: who, when, why, diff (keel history --json); not for agents",
    params: idParams,
    status: 200,
    response: HistoryAnswer,
    errors: [403, 404],
    run: async ({ ctx, params, principal }) => {
      forPeople(principal, "history");
      const h = orNotFound(
        "usage",
        () => requirementHistory(project(ctx).root, params.id, true),
        "GET /api/requirements lists the requirement IDs",
      );
      return { version: 1, ...h };
    },
  }),
  op({
    method: "POST",
    path: "/api/requirements/{id}/edit",
    operationId: "editRequirement",
    summary:
      "Replace a living requirement's text in place, against the fingerprint it was read at: 409 and nothing written when it changed meanwhile; roles and policy decide",
    params: idParams,
    body: EditBody,
    status: 200,
    response: EditAnswer,
    errors: [400, 404, 409, 413, 415],
    writesIntent: true,
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      const actor = actingAs(p, principal, ctx);
      const edit = { id: params.id, base: body.base, text: body.text, reason: body.reason ?? null };
      const r = orNotFound(
        NO_REQUIREMENT,
        () => editRequirement(p, loadConfig(p), actor, edit),
        "GET /api/requirements lists the requirement IDs",
      );
      return { version: 1, ok: true, ...r };
    },
  }),
];
