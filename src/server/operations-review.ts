// The review operations of the web app: a change's word diff, its comments, reject and apply, and the conflicts
// an apply parks for a person, with their resolution. Each is the core function the CLI calls (`keel change
// diff|reject|apply|resolve`, `keel conflicts`), acting as the caller; roles and policy are the core's.
// Spec text in these answers is an agent's to read only delivered (docs/security.md): the diff is always
// delivered (it is shown as plain text), conflicts are delivered to an agent's token.
// @req WEB-7, WEB-8, WEB-12
import * as z from "zod";
import { applyChange } from "../core/changes/apply.js";
import { addComment, listComments, MAX_COMMENT } from "../core/changes/comments.js";
import { pullTeamConflicts } from "../core/changes/conflict-sync.js";
import { type ConflictRecord, getConflict, listConflicts } from "../core/changes/conflicts.js";
import { diffChange, wordDiff } from "../core/changes/diff.js";
import { closeSettledMergeConflicts } from "../core/changes/driver.js";
import { loadChange } from "../core/changes/load.js";
import { rejectChange } from "../core/changes/reject.js";
import { type Choice, resolveChangeConflict } from "../core/changes/resolve.js";
import { authorProvenance, type DeliveryLog, deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import { SanitizedSchema } from "../core/scan/records.js";
import { withState } from "../run/context.js";
import { type Actor, actorLabel } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import type { ProjectRoot } from "../workspace/root.js";
import { actingAs, existingChange, notFound, type Operation, op, project, saying } from "./operation.js";
import { HttpError } from "./wire.js";

const changeParams = z.strictObject({ id: z.string().min(1).max(200).describe("change ID") });
const conflictParams = z.strictObject({
  id: z.string().min(1).max(100).describe("conflict ID, e.g. c-1a2b3c4d"),
});
const reasonBody = z.strictObject({ reason: z.string().max(4000).optional() });
const nullable = z.string().nullable();
const sanitized = { sanitized: SanitizedSchema.optional() };

const Conflict = z.object({
  id: z.string(),
  change: z.string().describe('the change whose apply recorded it; "git-merge" for the merge driver\'s'),
  capability: z.string(),
  requirement: z.string(),
  createdAt: z.string(),
  status: z.enum(["open", "resolved", "applied", "superseded"]),
  base: z.string().describe('the requirement block at the base; "" when it did not exist'),
  ours: z.string().describe("the living block (apply) or our branch's (git merge)"),
  theirs: z.string().describe("the change's block (apply) or the other branch's (git merge)"),
  resolution: nullable,
  resolvedBy: nullable,
  resolvedAt: nullable,
});

const Comment = z.object({
  seq: z.number().int().describe("the audit event that holds it"),
  at: z.string(),
  by: z.string(),
  kind: z.enum(["human", "agent", "system"]),
  text: z.string(),
});

const DiffAnswer = z.object({
  version: z.literal(1),
  change: z.string(),
  requirements: z.array(
    z.looseObject({
      capability: z.string(),
      op: z.string(),
      requirement: z.string(),
      title: z.string(),
      before: nullable.describe("the base block (or the living one when no base is known)"),
      after: nullable.describe("the change's block"),
      parts: z.array(z.object({ op: z.enum(["=", "+", "-"]), text: z.string() })),
      moved: z.boolean().nullable().describe("the living requirement changed since the base"),
    }),
  ),
  problems: z.array(z.looseObject({ file: z.string(), rule: z.string(), message: z.string() })),
  ...sanitized,
});

const ResolveBody = z
  .union([
    z.strictObject({ take: z.enum(["ours", "theirs", "base"]).describe("take one side as it is") }),
    z.strictObject({
      text: z
        .string()
        .max(200_000)
        .describe('the merged requirement block: its heading, text and scenarios ("" removes it)'),
    }),
  ])
  .describe("pick a side, or give a merged text");

/** A conflict's texts as an agent may receive them. */
function deliverConflict(c: ConflictRecord, log: DeliveryLog): ConflictRecord {
  const target = `conflict ${c.id}`;
  const block = (s: string) => (s === "" ? s : log.block(s, target));
  return {
    ...c,
    base: block(c.base),
    ours: block(c.ours),
    theirs: block(c.theirs),
    resolution: c.resolution === null ? null : block(c.resolution),
  };
}

/** The conflicts as the caller may read them: delivered to an agent, as recorded to anyone else. */
function forCaller(p: ProjectRoot, principal: Actor | undefined, conflicts: ConflictRecord[]) {
  if (principal?.kind !== "agent") return { conflicts };
  const log = deliveryLog(securityPolicy(loadConfig(p)));
  return { conflicts: conflicts.map((c) => deliverConflict(c, log)), ...saying(log.actions()) };
}

async function conflictById(p: ProjectRoot, id: string): Promise<ConflictRecord> {
  await pullTeamConflicts(p);
  const c = withState(p.root, (state) => getConflict(state, id));
  if (!c) throw notFound(`no conflict "${id}"`, "GET /api/conflicts lists the open conflicts");
  return c;
}

/** What the page asked for as the core's choice: `base` and a merged text are blocks given as they are. */
function choiceOf(body: z.infer<typeof ResolveBody>, c: ConflictRecord): Choice {
  if ("text" in body) return { file: "the merged text", text: body.text };
  return body.take === "base" ? { file: "the base text", text: c.base } : { take: body.take };
}

export const REVIEW_OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/conflicts",
    operationId: "listConflicts",
    summary:
      "Open conflicts: overlapping edits refused by apply or found by git merge, with base and both versions (keel conflicts --json)",
    query: z.strictObject({
      all: z.enum(["true", "false"]).optional().describe("true: resolved, applied and superseded ones too"),
      change: z.string().min(1).max(200).optional().describe("only this change's"),
    }),
    status: 200,
    response: z.object({
      version: z.literal(1),
      conflicts: z.array(Conflict),
      closed: z.array(z.string()).describe("git-merge conflicts closed now: their markers are gone"),
      ...sanitized,
    }),
    errors: [400],
    run: async ({ ctx, query, principal }) => {
      const p = project(ctx);
      const actor = actingAs(p, principal, ctx);
      await pullTeamConflicts(p); // in team mode, those recorded through other servers too
      const { closed, conflicts } = withState(p.root, (state) => ({
        closed: closeSettledMergeConflicts(p.root, state, actorLabel(actor), actor.kind),
        conflicts: listConflicts(state, {
          status: query.all === "true" ? ["open", "resolved", "applied", "superseded"] : ["open"],
          ...(query.change ? { change: query.change } : {}),
        }),
      }));
      return { version: 1, ...forCaller(p, principal, conflicts), closed };
    },
  }),
  op({
    method: "GET",
    path: "/api/conflicts/{id}",
    operationId: "getConflict",
    summary: "One conflict: the base, ours (the living requirement) and theirs (the change's)",
    params: conflictParams,
    status: 200,
    response: z.object({ version: z.literal(1), conflict: Conflict, ...sanitized }),
    errors: [400, 404],
    run: async ({ ctx, params, principal }) => {
      const p = project(ctx);
      const { conflicts, ...rest } = forCaller(p, principal, [await conflictById(p, params.id)]);
      return { version: 1, conflict: conflicts[0], ...rest };
    },
  }),
  op({
    method: "POST",
    path: "/api/conflicts/{id}/resolve",
    operationId: "resolveConflict",
    summary:
      "Resolve an open conflict with ours, theirs, the base or a merged text (keel change resolve); the next apply of its change uses it. A human reviewer's act",
    params: conflictParams,
    body: ResolveBody,
    status: 200,
    response: z.object({
      version: z.literal(1),
      ok: z.literal(true),
      conflict: z.string(),
      change: z.string(),
      capability: z.string(),
      requirement: z.string(),
      resolution: z.enum(["ours", "theirs", "file"]).describe("file: a text given as it is (base or merged)"),
      removes: z.boolean(),
      by: z.string(),
    }),
    errors: [400, 404, 409, 413, 415],
    writesIntent: true,
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      const c = await conflictById(p, params.id);
      if (c.status !== "open")
        throw new HttpError(
          409,
          "conflict_closed",
          `conflict ${c.id} is ${c.status}${c.resolvedBy ? ` (by ${c.resolvedBy})` : ""}`,
          "GET /api/conflicts lists the open conflicts",
        );
      const actor = actingAs(p, principal, ctx);
      const config = loadConfig(p);
      const r = resolveChangeConflict(
        p,
        config,
        actor,
        c.change,
        c.requirement,
        choiceOf(body, c),
        c.capability,
      );
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "GET",
    path: "/api/changes/{id}/diff",
    operationId: "getChangeDiff",
    summary:
      "A change's intent, requirement by requirement, with word-level changes against its base (keel change diff --json), its text delivered",
    params: changeParams,
    status: 200,
    response: DiffAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const p = project(ctx);
      const lc = loadChange(p, existingChange(p, params.id));
      const d = diffChange(p, lc);
      const log = deliveryLog(securityPolicy(loadConfig(p)));
      const author = typeof lc.meta.author === "string" ? authorProvenance(lc.meta.author) : undefined;
      const requirements = d.requirements.map((r) => {
        const target = `change ${lc.id} ${r.requirement}`;
        const before = r.before === null ? null : log.block(r.before, target);
        const after = r.after === null ? null : log.block(r.after, target, author);
        const same = before === r.before && after === r.after;
        return { ...r, before, after, parts: same ? r.parts : wordDiff(before, after) };
      });
      return { version: 1, ...d, requirements, ...saying(log.actions()) };
    },
  }),
  op({
    method: "GET",
    path: "/api/changes/{id}/comments",
    operationId: "listChangeComments",
    summary: "Reviewers' comments on a change, oldest first, each an audit event with its author",
    params: changeParams,
    status: 200,
    response: z.object({ version: z.literal(1), change: z.string(), comments: z.array(Comment) }),
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const p = project(ctx);
      const { id } = existingChange(p, params.id);
      return { version: 1, change: id, comments: listComments(p, id) };
    },
  }),
  op({
    method: "POST",
    path: "/api/changes/{id}/comments",
    operationId: "addChangeComment",
    summary: "Comment on a change as the caller; recorded in the audit log (change.comment)",
    params: changeParams,
    body: z.strictObject({ text: z.string().trim().min(1).max(MAX_COMMENT) }),
    status: 201,
    response: z.object({ version: z.literal(1), ok: z.literal(true), change: z.string(), comment: Comment }),
    errors: [400, 404, 413, 415],
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      const { id } = existingChange(p, params.id);
      const comment = addComment(p, actingAs(p, principal, ctx), id, body.text);
      return { version: 1, ok: true, change: id, comment };
    },
  }),
  op({
    method: "POST",
    path: "/api/changes/{id}/reject",
    operationId: "rejectChange",
    summary: "Reject a change as the caller (keel change reject); reviewers, or the change's own author, may",
    params: changeParams,
    body: reasonBody,
    status: 200,
    response: z.object({
      version: z.literal(1),
      ok: z.literal(true),
      change: z.string(),
      dir: z.string(),
      previousStatus: z.string(),
      status: z.literal("rejected"),
      by: z.string(),
      at: z.string(),
    }),
    errors: [400, 404, 413, 415],
    writesIntent: true,
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      const { id } = existingChange(p, params.id);
      const r = rejectChange(p, loadConfig(p), actingAs(p, principal, ctx), id, body.reason ?? null);
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "POST",
    path: "/api/changes/{id}/apply",
    operationId: "applyChange",
    summary:
      "Merge a change into the living specs and archive it (keel change apply); an overlapping edit is recorded as a conflict and answered 409, nothing written",
    params: changeParams,
    body: reasonBody,
    status: 200,
    response: z.object({
      version: z.literal(1),
      ok: z.literal(true),
      kind: z.literal("applied"),
      change: z.string(),
      archive: z.string(),
      files: z.array(z.string()),
      requirements: z.array(z.looseObject({ id: z.string(), op: z.string(), how: z.string() })),
      at: z.string(),
      by: z.string(),
      interrupted: z.array(z.looseObject({ change: z.string() })).optional(),
    }),
    errors: [400, 404, 409, 413, 415],
    writesIntent: true,
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      const { id } = existingChange(p, params.id);
      const r = applyChange(p, loadConfig(p), actingAs(p, principal, ctx), id, {
        reason: body.reason ?? null,
      });
      if (r.kind === "conflict")
        throw new HttpError(
          409,
          "conflict",
          `apply of "${r.change}" refused, nothing was written: ${r.conflicts.length} requirement(s) changed on both sides (${r.conflicts.map((c) => `${c.id} ${c.requirement}`).join(", ")})`,
          `resolve each (GET /api/conflicts?change=${r.change}, POST /api/conflicts/{id}/resolve), then apply again`,
        );
      return { version: 1, ok: true, ...r };
    },
  }),
];
