// The MCP tools: a small core set, each thin over the same core modules the CLI calls. Input and output are
// described with zod (the SDK turns them into JSON Schema and validates both); a refusal of the core (a
// KeelError) becomes a tool result with `isError`, its code, message and hint, so an agent knows what to do.
// Repository text in an answer (requirements, task titles, search snippets, the context pack) is delivered as
// an agent may receive it (core/scan/deliver.ts): the structured content says what was done in `sanitized`,
// the text content in a short note.
// @req SRF-1, SRF-2, TSK-6, TSK-7, TSK-8, TSK-12, TRU-2
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { ProposalSchema } from "../core/api/answers.js";
import { type TaskWrite, writeTask } from "../core/api/tasks.js";
import { requirementTrace } from "../core/api/trace-queries.js";
import { openChangesPhrase, proposedPhrase } from "../core/changes/proposed.js";
import { buildContextPack, DEFAULT_BUDGET } from "../core/context/index.js";
import { type RequirementRecord, withQueryIndex } from "../core/query/index.js";
import { showWithProposals } from "../core/query/proposed.js";
import { type DeliveryLog, deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import { deliverRequirement, SanitizedSchema, sanitizedNote } from "../core/scan/records.js";
import { claimedKeys, resolveTaskKey } from "../core/tasks/claim-ops.js";
import { readyQueue, takeOrder } from "../core/tasks/index.js";
import { loadTaskGraph } from "../core/tasks/load.js";
import { taskLookupError } from "../core/tasks/lookup.js";
import { traceProject } from "../core/trace/project.js";
import { storeErrorOf } from "../store/guard.js";
import type { ClaimView } from "../store/sqlite/claims.js";
import { type Actor, actorLabel, resolveActor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { KeelError, usageError } from "../workspace/errors.js";
import { syncFreshness } from "../workspace/freshness.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import type { ToolGroup } from "./tool-groups.js";
import { findingInputs, findingOutputs, noteFinding, registerChangeTools } from "./tools-changes.js";
import { registerOptInTools } from "./tools-opt-in.js";

/** Where the server looks for the project, and who acts when a call names nobody. */
export interface McpContext {
  root: string | null;
  cwd: string;
  /** `kind:name`; `agent:mcp` unless `keel mcp --as` or KEEL_ACTOR says otherwise. */
  actor: string;
  /**
   * The authenticated caller (from a token, over HTTP): every call acts as this actor with its role, and an
   * `as` argument naming anyone else is refused. Absent in single-user mode (stdio, loopback without auth).
   */
  principal?: Actor;
  /** A team server's way to run a write of intent (server/intent-sync.ts); absent: the write runs as it is. */
  intent?: <T>(label: string, fn: () => Promise<T>) => Promise<T>;
}

export const taskRef = z.string().min(1).max(200).describe("task key (scope/id) or bare id");
export const token = z.number().int().min(1).describe("fencing token returned by keel_claim_task");
const ttl = z
  .string()
  .regex(/^\d+(\.\d+)?(ms|s|m|h|d)?$/)
  .optional()
  .describe("lease length, e.g. 15m (default 15m)");
export const as = z
  .string()
  .min(1)
  .max(120)
  .optional()
  .describe("actor kind:name (default: the server's actor)");

const grantShape = {
  task: z.string(),
  holder: z.string(),
  token: z.number(),
  leaseUntil: z.string(),
};

const linkShape = z.object({ file: z.string(), line: z.number(), kind: z.string(), state: z.string() });

export function projectOf(ctx: McpContext): ProjectRoot {
  return findProjectRoot(ctx.root ?? ctx.cwd, ctx.root !== null);
}

export const HINTS = {
  list: "list the ready tasks with keel_ready_tasks, or run `keel tasks list`",
  again: "call keel_complete_task again",
};

/** A refusal an agent can act on: the error code, the message and what to do next. */
export function errorResult(thrown: unknown): CallToolResult {
  const e = storeErrorOf(thrown) ?? thrown;
  if (e instanceof KeelError)
    return {
      isError: true,
      content: [{ type: "text", text: `error [${e.code}]: ${e.message}\nhint: ${e.hint}` }],
    };
  const message = e instanceof Error ? e.message : String(e);
  return { isError: true, content: [{ type: "text", text: `internal error: ${message}` }] };
}

export function ok<T extends Record<string, unknown>>(text: string, structured: T): CallToolResult {
  return { content: [{ type: "text", text }], structuredContent: structured };
}

/** A delivery log with the project's scanning policy (keel.yaml `security:`). */
export function deliveryFor(project: ProjectRoot): DeliveryLog {
  return deliveryLog(securityPolicy(loadConfig(project)));
}

/** `ok` for an answer whose repository text went through `log`: `sanitized` added, and a note when non-empty. */
export function delivered<T extends Record<string, unknown>>(
  text: string,
  structured: T,
  log: DeliveryLog,
): CallToolResult {
  const sanitized = log.actions();
  const note = sanitizedNote(sanitized);
  return ok(note === null ? text : `${text}\n\n${note}`, { ...structured, sanitized });
}

/** Runs a handler, turning a thrown KeelError into an `isError` result. */
export function guarded<A>(fn: (args: A) => Promise<CallToolResult>): (args: A) => Promise<CallToolResult> {
  return async (args) => {
    try {
      await syncFreshness(); // a long-lived server counts every change made before the call (tree-watch.ts)
      return await fn(args);
    } catch (e) {
      return errorResult(e);
    }
  };
}

/**
 * A tool's write of intent (a spec, change or task file): on a team server caught up, written, committed and pushed
 * under the team's intent lock, as the REST writes are; elsewhere run as it is.
 */
export function writingIntent<T>(ctx: McpContext, label: string, fn: () => Promise<T>): Promise<T> {
  return ctx.intent ? ctx.intent(label, fn) : fn();
}

/**
 * The living requirement with this ID, or the one an open change proposes (marked `proposed`); unknown, a usage
 * error with near IDs (or `hint` when there are none).
 */
export async function requireRequirement(
  project: ProjectRoot,
  id: string,
  hint: string,
): Promise<RequirementRecord> {
  const shown = await withQueryIndex(project, { check: "answer" }, async (q) => {
    const r = await showWithProposals(q, id);
    return { r, suggestions: r?.kind === "requirement" ? [] : q.suggest(id) };
  });
  if (shown.r?.kind !== "requirement")
    throw usageError(
      `unknown requirement: ${id}`,
      shown.suggestions.length > 0 ? `did you mean ${shown.suggestions.join(", ")}?` : hint,
    );
  return shown.r.item;
}

/** The core tools, and the opt-in groups named (`keel mcp --tools`). */
export function registerTools(server: McpServer, ctx: McpContext, groups: readonly ToolGroup[] = []): void {
  const actorOf = (root: ProjectRoot, flag: string | undefined) => {
    const who = ctx.principal ?? resolveActor(loadConfig(root), { flag: flag ?? ctx.actor, cwd: ctx.cwd });
    const label = actorLabel(who);
    if (ctx.principal && flag !== undefined && flag !== label)
      throw usageError(
        `this connection is authenticated as ${label} and cannot act as ${flag}`,
        "leave out `as`, or connect with the other actor's token",
      );
    return { who, label };
  };

  server.registerTool(
    "keel_context",
    {
      description:
        "Context pack for one task: task, covered requirements, constitution, notes, within a token budget.",
      inputSchema: {
        task: taskRef,
        budget: z
          .number()
          .int()
          .min(1)
          .max(999_999_999)
          .optional()
          .describe(`tokens (default ${DEFAULT_BUDGET})`),
      },
      outputSchema: {
        task: z.string(),
        budget: z.number(),
        tokens: z.number(),
        overBudget: z.boolean(),
        sections: z.array(
          z.object({ kind: z.string(), ref: z.string(), tokens: z.number(), truncated: z.boolean() }),
        ),
        omitted: z.array(z.object({ kind: z.string(), ref: z.string(), reason: z.string() })),
        sanitized: SanitizedSchema,
        text: z.string(),
      },
    },
    guarded(async ({ task, budget }) => {
      const project = projectOf(ctx);
      const result = await buildContextPack(project.root, task, budget ?? DEFAULT_BUDGET);
      if ("lookup" in result) throw taskLookupError(task, result.lookup, HINTS.list);
      const p = result.pack;
      return ok(p.text, {
        task: p.task,
        budget: p.budget,
        tokens: p.totals.tokens,
        overBudget: p.totals.overBudget,
        sections: p.sections.map((s) => ({
          kind: s.kind,
          ref: s.ref,
          tokens: s.tokens,
          truncated: s.truncated,
        })),
        omitted: p.omitted.map((o) => ({ kind: o.kind, ref: o.ref, reason: o.reason })),
        // The pack's own "Untrusted content" section says what was done; its text needs no second note.
        sanitized: p.sanitized,
        text: p.text,
      });
    }),
  );

  server.registerTool(
    "keel_search",
    {
      description: "Full-text search over requirements and spec purposes, best match first.",
      inputSchema: {
        query: z.string().min(1).max(500),
        limit: z.number().int().min(1).max(100).optional().describe("default 10"),
      },
      outputSchema: {
        total: z.number(),
        results: z.array(
          z.object({
            kind: z.enum(["requirement", "spec"]),
            id: z.string(),
            title: z.string(),
            capability: z.string(),
            status: z.string().nullable(),
            file: z.string(),
            line: z.number(),
            snippet: z.string(),
          }),
        ),
        sanitized: SanitizedSchema,
      },
    },
    guarded(async ({ query, limit }) => {
      const project = projectOf(ctx);
      const out = await withQueryIndex(project, { check: "full" }, (q) => q.search(query, limit ?? 10));
      const log = deliveryFor(project);
      const results = out.results.map((h) => {
        const target = `${h.kind} ${h.id}`;
        return {
          kind: h.kind,
          id: h.id,
          title: log.inline(h.title, target),
          capability: h.capability,
          status: h.status,
          file: h.file,
          line: h.line,
          snippet: log.inline(h.snippet, target),
        };
      });
      const text =
        results.length === 0
          ? "no matches"
          : [
              ...results.map((r) => `${r.id}  ${r.title}  (${r.file}:${r.line})`),
              `${out.total} match(es)`,
            ].join("\n");
      return delivered(text, { total: out.total, results }, log);
    }),
  );

  server.registerTool(
    "keel_requirement",
    {
      description:
        "One requirement by ID: its text and scenarios, and its trace to tasks, code, tests and evidence.",
      inputSchema: { id: z.string().min(1).max(200) },
      outputSchema: {
        id: z.string(),
        title: z.string(),
        capability: z.string(),
        status: z.string().nullable(),
        fingerprint: z.string(),
        file: z.string(),
        line: z.number(),
        text: z.string(),
        scenarios: z.array(z.object({ name: z.string(), steps: z.array(z.string()) })),
        trace: z.object({
          tasks: z.array(z.object({ key: z.string(), title: z.string(), done: z.boolean() })),
          implementations: z.array(linkShape),
          tests: z.array(linkShape),
          evidenceStatus: z.string(),
          evidenceNote: z.string(),
        }),
        proposed: ProposalSchema.optional().describe("present when only an open change proposes it"),
        openChanges: z.array(ProposalSchema).optional().describe("other open changes that would change it"),
        sanitized: SanitizedSchema,
      },
    },
    guarded(async ({ id }) => {
      const project = projectOf(ctx);
      const log = deliveryFor(project);
      const req = deliverRequirement(
        await requireRequirement(project, id, "find requirements with keel_search"),
        log,
      );
      const traced = await traceProject(project.root, true);
      const t = requirementTrace(traced.report, req.id);
      const link = (l: { file: string; line: number; kind: string; state: string }) => ({
        file: l.file,
        line: l.line,
        kind: l.kind,
        state: l.state,
      });
      const trace = {
        tasks: t?.tasks ?? [],
        implementations: (t?.implementations ?? []).map(link),
        tests: (t?.tests ?? []).map(link),
        evidenceStatus: t?.evidenceStatus ?? "none",
        evidenceNote: t?.evidenceNote ?? "not traced",
      };
      const scenarios = req.scenarios.map((s) => ({
        name: s.name,
        steps: s.steps.map((st) => (st.keyword ? `${st.keyword} ${st.text}` : st.text)),
      }));
      const marks = [
        ...(req.proposed ? [proposedPhrase(req.proposed)] : []),
        ...(req.openChanges ? [`open changes: ${openChangesPhrase(req.openChanges)}`] : []),
      ];
      const text = `${req.id} — ${req.title} (${req.status ?? "no status"})\n${marks.map((m) => `${m}\n`).join("")}${req.text}\ntasks: ${trace.tasks.map((k) => k.key).join(", ") || "none"} · code: ${trace.implementations.length} · tests: ${trace.tests.length} · evidence: ${trace.evidenceStatus}`;
      const answer = {
        id: req.id,
        title: req.title,
        capability: req.capability,
        status: req.status,
        fingerprint: req.fingerprint,
        file: req.file,
        line: req.line,
        text: req.text,
        scenarios,
        trace,
        ...(req.proposed ? { proposed: req.proposed } : {}),
        ...(req.openChanges ? { openChanges: req.openChanges } : {}),
      };
      return delivered(text, answer, log);
    }),
  );

  server.registerTool(
    "keel_ready_tasks",
    {
      description: "Tasks ready to start now: dependencies done, not claimed, not blocked; in claim order.",
      inputSchema: { limit: z.number().int().min(1).max(1000).optional().describe("default 50") },
      outputSchema: {
        total: z.number(),
        tasks: z.array(
          z.object({
            key: z.string(),
            title: z.string(),
            priority: z.number().nullable(),
            covers: z.array(z.string()),
            file: z.string(),
            line: z.number(),
          }),
        ),
        sanitized: SanitizedSchema,
      },
    },
    guarded(async ({ limit }) => {
      const project = projectOf(ctx);
      const root = project.root;
      const log = deliveryFor(project);
      const queue = takeOrder(readyQueue(root, claimedKeys(root, new Date())));
      const tasks = queue.slice(0, limit ?? 50).map((v) => ({
        key: v.key,
        title: log.inline(v.title, `task ${v.key}`),
        priority: v.priority,
        covers: v.covers,
        file: v.file,
        line: v.line,
      }));
      const text =
        tasks.length === 0 ? "no task is ready" : tasks.map((t) => `${t.key}  ${t.title}`).join("\n");
      return delivered(text, { total: queue.length, tasks }, log);
    }),
  );

  server.registerTool(
    "keel_claim_task",
    {
      description: "Claim a task (by id, or the next ready one) under a lease; returns the fencing token.",
      inputSchema: {
        task: taskRef.optional(),
        next: z.boolean().optional().describe("claim the next ready task instead of a named one"),
        ttl,
        as,
      },
      outputSchema: {
        claimed: z.boolean(),
        task: z.string().nullable(),
        holder: z.string().nullable(),
        token: z.number().nullable(),
        leaseUntil: z.string().nullable(),
      },
    },
    guarded(async (args) => {
      if ((args.task === undefined) === (args.next !== true))
        throw usageError("name a task, or pass next: true (not both)", "e.g. { task: 'payments/1.1' }");
      const project = projectOf(ctx);
      const { who, label } = actorOf(project, args.as);
      const w: TaskWrite = { op: "claim", task: args.task ?? null, ttl: args.ttl };
      const grant = (await writeTask(project.root, loadConfig(project), who, w, HINTS)).answer.result;
      if (grant === null || !("holder" in grant) || grant.leaseUntil === null)
        return ok("no task is ready", {
          claimed: false,
          task: null,
          holder: null,
          token: null,
          leaseUntil: null,
        });
      return ok(`claimed ${grant.taskId} · token ${grant.token} · lease until ${grant.leaseUntil}`, {
        claimed: true,
        task: grant.taskId,
        holder: label,
        token: grant.token,
        leaseUntil: grant.leaseUntil,
      });
    }),
  );

  server.registerTool(
    "keel_heartbeat",
    {
      description: "Extend the lease on a task you hold.",
      inputSchema: { task: taskRef, token, ttl },
      outputSchema: grantShape,
    },
    guarded(async (args) => {
      const project = projectOf(ctx);
      const w: TaskWrite = { op: "heartbeat", task: args.task, token: args.token, ttl: args.ttl };
      const { who } = actorOf(project, undefined);
      const view = (await writeTask(project.root, loadConfig(project), who, w, HINTS)).answer.result;
      const v = view as {
        taskId: string;
        holder: string | null;
        token: number | null;
        leaseUntil: string | null;
      };
      return ok(`extended ${v.taskId} · lease until ${v.leaseUntil}`, {
        task: v.taskId,
        holder: v.holder ?? "",
        token: v.token ?? args.token,
        leaseUntil: v.leaseUntil ?? "",
      });
    }),
  );

  server.registerTool(
    "keel_complete_task",
    {
      description:
        "Mark a claimed task done. Refused unless every gate of the task passed on the current tree.",
      inputSchema: { task: taskRef, token },
      outputSchema: {
        task: z.string(),
        status: z.literal("done"),
        gates: z.array(z.object({ name: z.string(), state: z.string() })),
      },
    },
    guarded(async (args) => {
      const project = projectOf(ctx);
      const w: TaskWrite = { op: "done", task: args.task, token: args.token };
      const { who } = actorOf(project, undefined);
      const { answer } = await writingIntent(ctx, `keel_complete_task ${args.task}`, () =>
        writeTask(project.root, loadConfig(project), who, w, HINTS),
      );
      const key = (answer.result as ClaimView).taskId;
      const gates = (answer.gates?.gates ?? []).map((g) => ({ name: g.name, state: g.state }));
      return ok(`done: ${key}`, { task: key, status: "done" as const, gates });
    }),
  );

  server.registerTool(
    "keel_note",
    {
      description:
        "Leave a handoff note on a task, or record a finding (severity, requirement); both show in its context pack.",
      inputSchema: { task: taskRef, text: z.string().min(1).max(4000), as, ...findingInputs },
      outputSchema: { task: z.string(), author: z.string(), text: z.string(), ...findingOutputs },
    },
    guarded(async (args) => {
      const project = projectOf(ctx);
      const graph = loadTaskGraph(project.root);
      const key = resolveTaskKey(graph, args.task, HINTS.list);
      const { who, label } = actorOf(project, args.as);
      if (args.kind === "finding") return noteFinding(ctx, project, who, key, args);
      if (args.severity !== undefined || args.requirement !== undefined)
        throw usageError(
          "severity and requirement belong to a finding",
          'pass kind: "finding", or leave them out',
        );
      const w: TaskWrite = { op: "note", task: key, text: args.text };
      const r = (await writeTask(project.root, loadConfig(project), who, w, HINTS)).answer.result as {
        note: string;
      };
      return ok(`noted on ${key}`, { task: key, author: label, text: r.note });
    }),
  );

  registerChangeTools(server, ctx, actorOf);
  registerOptInTools(server, ctx, actorOf, groups);
}
