// The REST operations. Requirement and change answers follow one rule for spec text (docs/security.md): by
// default they carry it delivered as an agent receives it through MCP (core/scan/deliver.ts), with `sanitized`
// saying what was done when anything was; with `?raw=true`, a person's tool (the web app, which marks the flags
// on the real text) gets the text as written with `security`: what the scanner flags, by field, with offsets.
// An agent's token is refused the raw text.
// @req SRF-10, TRU-2
import * as z from "zod";
import { changeListAnswer, changeShowAnswer } from "../core/api/changes.js";
import { listAnswer, searchAnswer, showAnswer } from "../core/api/queries.js";
import { statusAnswer } from "../core/api/status.js";
import { taskListAnswer, taskReadyAnswer, taskShowAnswer } from "../core/api/task-queries.js";
import { type TaskWrite, writeTask } from "../core/api/tasks.js";
import { coverageAnswer, driftAnswer, traceAnswer } from "../core/api/trace-queries.js";
import { approveChange } from "../core/approve.js";
import { checkChangeId, findChangeFolder, loadChange } from "../core/changes/load.js";
import { proposeChange } from "../core/changes/propose.js";
import { proposeOptions } from "../core/changes/propose-input.js";
import { deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import {
  changeHits,
  deliverChangeAnswer,
  deliverRequirement,
  requirementHits,
  SanitizedSchema,
  SecurityAnnotationSchema,
} from "../core/scan/records.js";
import { taskLookupError } from "../core/tasks/lookup.js";
import { slug } from "../model/ids.js";
import type { Actor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { findProjectRoot } from "../workspace/root.js";
import {
  actingAs,
  existingChange,
  notFound,
  type Operation,
  op,
  project,
  type RestContext,
  saying,
} from "./operation.js";
import { OVERSIGHT_OPERATIONS } from "./operations-oversight.js";
import { REVIEW_OPERATIONS } from "./operations-review.js";
import { SPECS_OPERATIONS } from "./operations-specs.js";
import { WORK_OPERATIONS } from "./operations-work.js";
import * as S from "./schemas.js";
import { HttpError } from "./wire.js";

const taskParams = z.strictObject({ task: S.TaskRef });
const changeParams = z.strictObject({ id: z.string().min(1).max(200).describe("change ID") });
const bool = z.enum(["true", "false"]);
const listQuery = z.strictObject({
  capability: z.string().min(1).max(200).optional(),
  status: z.string().optional(),
});

const REST_HINTS = {
  list: "list the tasks with GET /api/tasks, or `keel tasks list`",
  again: 'the same request again; a human may override with {"override":{"reason":"…"}}',
};

const annotated = { security: SecurityAnnotationSchema.optional(), sanitized: SanitizedSchema.optional() };
const rawQuery = z.strictObject({
  raw: bool.optional().describe("true: the text as written, with `security` (not for an agent's token)"),
});

/** Whether the caller asked for the raw text, and may have it. */
function wantsRaw(raw: string | undefined, principal: Actor | undefined): boolean {
  if (raw !== "true") return false;
  if (principal?.kind === "agent")
    throw new HttpError(
      403,
      "raw_text_refused",
      "an agent's token is given spec text delivered, never raw",
      "leave out raw=true: the answer's text is then delivered, and `sanitized` says what was done",
    );
  return true;
}

async function taskWrite(i: { principal: Actor | undefined; ctx: RestContext }, w: TaskWrite) {
  const p = findProjectRoot(i.ctx.root, true);
  const outcome = await writeTask(p.root, loadConfig(p), actingAs(p, i.principal, i.ctx), w, REST_HINTS);
  return outcome.answer;
}

/** Every REST operation, in the order the document lists them (a literal path before a templated one). */
const CORE_OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/status",
    operationId: "getStatus",
    summary: "One-screen summary: specs, constitution, open changes, validation, index (keel status --json)",
    status: 200,
    response: S.StatusAnswer,
    errors: [],
    run: ({ ctx }) => statusAnswer(project(ctx)),
  }),
  op({
    method: "GET",
    path: "/api/specs",
    operationId: "listSpecs",
    summary: "The capability specs (keel list specs --json)",
    query: listQuery,
    status: 200,
    response: S.SpecsAnswer,
    errors: [400],
    run: ({ ctx, query }) => listAnswer(project(ctx), { kinds: ["specs"], ...query }),
  }),
  op({
    method: "GET",
    path: "/api/requirements",
    operationId: "listRequirements",
    summary: "The living requirements (keel list requirements --json)",
    query: listQuery,
    status: 200,
    response: S.RequirementsAnswer,
    errors: [400],
    run: ({ ctx, query }) => listAnswer(project(ctx), { kinds: ["requirements"], ...query }),
  }),
  op({
    method: "GET",
    path: "/api/requirements/{id}",
    operationId: "getRequirement",
    summary: "One requirement (keel show --json) with its trace (keel trace <id> --json)",
    params: z.strictObject({ id: z.string().min(1).max(200).describe("requirement ID, URL-encoded") }),
    query: rawQuery,
    status: 200,
    response: S.RequirementAnswer.extend(annotated),
    errors: [400, 403, 404],
    run: async ({ ctx, params, query, principal }) => {
      const p = project(ctx);
      const { answer, found, suggestions } = await showAnswer(p, params.id);
      const hint =
        suggestions.length > 0
          ? `did you mean ${suggestions.map((s) => `"${s}"`).join(", ")}?`
          : "GET /api/requirements lists the requirement IDs";
      if (answer === null || found === null) throw notFound(`no requirement "${params.id}"`, hint);
      if (found.kind !== "requirement")
        throw notFound(
          `"${params.id}" is a ${answer.kind}, not a requirement`,
          "GET /api/specs lists specs; requirement IDs look like PAY-1",
        );
      const trace = await traceAnswer(p.root, true, found.item.id);
      if (trace === null) throw notFound(`no requirement "${params.id}"`, hint);
      const policy = securityPolicy(loadConfig(p));
      if (wantsRaw(query.raw, principal))
        return { ...answer, trace, security: requirementHits(found.item, policy) };
      const log = deliveryLog(policy);
      const item = deliverRequirement(found.item, log);
      return { ...answer, item, trace, ...saying(log.actions()) };
    },
  }),
  op({
    method: "GET",
    path: "/api/search",
    operationId: "search",
    summary: "Full-text search over requirements and spec purposes, ranked (keel search --json)",
    query: z.strictObject({
      q: z.string().trim().min(1).max(500).describe("the text to look for"),
      limit: z
        .string()
        .regex(/^\d{1,5}$/)
        .optional()
        .describe("most hits to return, 1 to 10000 (default 20)"),
    }),
    status: 200,
    response: S.SearchAnswer,
    errors: [400],
    run: ({ ctx, query }) => {
      const limit = query.limit === undefined ? 20 : Number(query.limit);
      if (limit < 1 || limit > 10_000)
        throw new HttpError(400, "invalid_request", "query.limit: must be from 1 to 10000", "e.g. ?limit=50");
      return searchAnswer(project(ctx), query.q, limit);
    },
  }),
  op({
    method: "GET",
    path: "/api/tasks",
    operationId: "listTasks",
    summary: "Every task of the graph, with readiness (keel tasks list --json)",
    status: 200,
    response: S.TasksAnswer,
    errors: [],
    run: async ({ ctx }) => taskListAnswer(project(ctx).root),
  }),
  op({
    method: "GET",
    path: "/api/tasks/ready",
    operationId: "listReadyTasks",
    summary: "Tasks ready to start now (keel tasks ready --json)",
    status: 200,
    response: S.ReadyAnswer,
    errors: [],
    run: async ({ ctx }) => taskReadyAnswer(project(ctx).root),
  }),
  op({
    method: "POST",
    path: "/api/tasks/claim-next",
    operationId: "claimNextTask",
    summary: "Claim the next ready task under a lease; result is null when no task is ready",
    body: S.ClaimBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "claim", task: null, ttl: i.body.ttl }),
  }),
  op({
    method: "GET",
    path: "/api/tasks/{task}",
    operationId: "getTask",
    summary: "One task (keel tasks show --json)",
    params: taskParams,
    status: 200,
    response: S.TaskAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const shown = taskShowAnswer(project(ctx).root, params.task);
      if ("lookup" in shown) {
        const refused = taskLookupError(params.task, shown.lookup, "GET /api/tasks lists the tasks");
        throw "unknown" in shown.lookup ? notFound(refused.message, refused.hint) : refused;
      }
      return shown;
    },
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/claim",
    operationId: "claimTask",
    summary: "Claim a task under a lease; the answer carries the fencing token",
    params: taskParams,
    body: S.ClaimBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "claim", task: i.params.task, ttl: i.body.ttl }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/heartbeat",
    operationId: "heartbeatTask",
    summary: "Extend the lease on a task you hold",
    params: taskParams,
    body: S.HeartbeatBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "heartbeat", task: i.params.task, token: i.body.token, ttl: i.body.ttl }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/release",
    operationId: "releaseTask",
    summary: "Give a claimed task back",
    params: taskParams,
    body: S.ReleaseBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "release", task: i.params.task, token: i.body.token }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/done",
    operationId: "completeTask",
    summary:
      "Mark a claimed task done; refused (409) unless every gate of the task passed on the current tree",
    params: taskParams,
    body: S.DoneBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    writesIntent: true,
    run: (i) =>
      taskWrite(i, { op: "done", task: i.params.task, token: i.body.token, override: i.body.override }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/block",
    operationId: "blockTask",
    summary: "Mark a claimed task blocked, with the reason",
    params: taskParams,
    body: S.BlockBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    writesIntent: true,
    run: (i) =>
      taskWrite(i, { op: "block", task: i.params.task, token: i.body.token, reason: i.body.reason }),
  }),
  op({
    method: "POST",
    path: "/api/tasks/{task}/notes",
    operationId: "noteTask",
    summary: "Leave a handoff note on a task (it shows in the task's context pack)",
    params: taskParams,
    body: S.NoteBody,
    status: 200,
    response: S.TaskWriteAnswer,
    errors: [400, 404, 409, 413, 415],
    run: (i) => taskWrite(i, { op: "note", task: i.params.task, text: i.body.text }),
  }),
  op({
    method: "GET",
    path: "/api/changes",
    operationId: "listChanges",
    summary: "Open changes; with all=true archived ones too (keel change list --json)",
    query: z.strictObject({ all: bool.optional() }),
    status: 200,
    response: S.ChangesAnswer,
    errors: [400],
    run: async ({ ctx, query }) => changeListAnswer(project(ctx), query.all === "true"),
  }),
  op({
    method: "POST",
    path: "/api/changes",
    operationId: "proposeChange",
    summary:
      "Propose a change (keel change new): its proposal and delta specs as given — checked by Keel's change rules, nothing written if they fail — or scaffolded",
    body: S.NewChangeBody,
    status: 201,
    response: S.NewChangeAnswer,
    errors: [400, 409, 413, 415],
    writesIntent: true,
    run: async ({ ctx, body, principal }) => {
      const p = project(ctx);
      const id = slug(body.name);
      // The core refuses it too (under its lock); checked here first to answer 409 rather than 400. A name
      // that gives no valid ID is left to the core, which says why.
      if (validChangeId(id) && findChangeFolder(p, id))
        throw new HttpError(
          409,
          "change_exists",
          `change "${id}" already exists`,
          "choose another name, or edit the existing change",
        );
      const config = loadConfig(p);
      const r = proposeChange(p, config, actingAs(p, principal, ctx), proposeOptions(body));
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "GET",
    path: "/api/changes/{id}",
    operationId: "getChange",
    summary: "A change's deltas, bases, overlaps, problems and conflicts (keel change show --json)",
    params: changeParams,
    query: rawQuery,
    status: 200,
    response: S.ChangeAnswer.extend(annotated),
    errors: [400, 403, 404],
    run: async ({ ctx, params, query, principal }) => {
      const p = project(ctx);
      const ref = existingChange(p, params.id);
      const answer = changeShowAnswer(p, loadChange(p, ref)).answer;
      const policy = securityPolicy(loadConfig(p));
      if (wantsRaw(query.raw, principal)) return { ...answer, security: changeHits(answer, policy) };
      const log = deliveryLog(policy);
      return { ...deliverChangeAnswer(answer, log), ...saying(log.actions()) };
    },
  }),
  op({
    method: "POST",
    path: "/api/changes/{id}/approve",
    operationId: "approveChange",
    summary: "Approve a change as the caller; roles and policy decide (an agent cannot approve by default)",
    params: changeParams,
    body: S.ApproveBody,
    status: 200,
    response: S.ApproveAnswer,
    errors: [400, 404, 413, 415],
    writesIntent: true,
    run: async ({ ctx, params, body, principal }) => {
      const p = project(ctx);
      existingChange(p, params.id);
      const config = loadConfig(p);
      const r = approveChange(p, config, actingAs(p, principal, ctx), params.id, body.reason ?? null);
      return { version: 1, ok: true, ...r };
    },
  }),
  op({
    method: "GET",
    path: "/api/drift",
    operationId: "getDrift",
    summary: "Where intent and code have come apart, ranked (keel drift --json)",
    query: z.strictObject({ failOn: z.enum(["error", "warning"]).optional() }),
    status: 200,
    response: S.DriftAnswer,
    errors: [400],
    run: async ({ ctx, query }) => (await driftAnswer(ctx.root, true, query.failOn ?? "error")).answer,
  }),
  op({
    method: "GET",
    path: "/api/coverage",
    operationId: "getCoverage",
    summary: "Per capability: approved requirements implemented, tested, verified (keel coverage --json)",
    status: 200,
    response: S.CoverageAnswer,
    errors: [],
    run: ({ ctx }) => coverageAnswer(ctx.root, true),
  }),
];

/**
 * The core operations, then those the web app added, by area (each file's own order). Routes match in this
 * order, so within each file a literal path comes before a templated one that would match it.
 */
export const OPERATIONS: Operation[] = [
  ...CORE_OPERATIONS,
  ...SPECS_OPERATIONS,
  ...REVIEW_OPERATIONS,
  ...WORK_OPERATIONS,
  ...OVERSIGHT_OPERATIONS,
];

function validChangeId(id: string): boolean {
  try {
    checkChangeId(id);
    return true;
  } catch {
    return false;
  }
}
