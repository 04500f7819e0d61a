import * as z from "zod";
import { buildContextPack, DEFAULT_BUDGET } from "../core/context/index.js";
import { SanitizedSchema } from "../core/scan/records.js";
import { loadTaskGraph, lookupTask, type TaskGraph, type TaskView, taskView } from "../core/tasks/index.js";
import { taskLookupError } from "../core/tasks/lookup.js";
import type { ClaimView } from "../store/claim-rules.js";
import type { CoordinationStore } from "../store/coordination.js";
import { coordinationStore } from "../store/select.js";
import { loadConfig } from "../workspace/config.js";
import type { ProjectRoot } from "../workspace/root.js";
import { notFound, type Operation, op, project } from "./operation.js";
import * as S from "./schemas.js";

const LIST_HINT = "GET /api/tasks lists the tasks";
const taskParams = z.strictObject({ task: S.TaskRef });

/** The board's columns, left to right. `waiting`: open, but a dependency (or a subtask) is not done yet. */
export const BOARD_COLUMNS = ["ready", "waiting", "claimed", "blocked", "done", "deferred"] as const;
type Column = (typeof BOARD_COLUMNS)[number];

const ClaimSchema = z.object({
  taskId: z.string(),
  status: z.string(),
  holder: z.string().nullable(),
  token: z.number().int().nullable(),
  leaseUntil: z.string().nullable(),
  live: z.boolean(),
  free: z.boolean(),
  reason: z.string().nullable(),
  updatedAt: z.string(),
});

const BoardAnswer = z.object({
  version: z.literal(1),
  now: z.string().describe("the server's clock when answered: lease countdowns are measured against it"),
  columns: z.array(z.object({ name: z.enum(BOARD_COLUMNS), count: z.number().int().min(0) })),
  tasks: z.array(
    z.object({
      key: z.string(),
      scope: z.string(),
      id: z.string(),
      title: z.string(),
      status: z.string(),
      column: z.enum(BOARD_COLUMNS),
      priority: z.number().int().nullable(),
      dependsOn: z.array(z.string()),
      claim: z
        .object({ holder: z.string().nullable(), leaseUntil: z.string().nullable(), live: z.boolean() })
        .nullable()
        .describe("the latest claim's holder and lease end; null when the task was never claimed"),
    }),
  ),
});

const ContextAnswer = z.object({
  version: z.literal(1),
  task: z.string(),
  budget: z.number().int(),
  tokenizer: z.string(),
  coveredByDefault: z.string().nullable(),
  sections: z.array(
    z.object({
      kind: z.string(),
      ref: z.string(),
      fingerprint: z.string().optional(),
      tokens: z.number().int(),
      truncated: z.boolean(),
      text: z.string(),
    }),
  ),
  omitted: z.array(
    z.object({
      kind: z.string(),
      ref: z.string(),
      reason: z.string(),
      tokens: z.number().int().nullable(),
      truncated: z.boolean().optional(),
    }),
  ),
  sanitized: SanitizedSchema,
  footer: z.string(),
  text: z
    .string()
    .describe("the Markdown pack, exactly as keel context prints it and keel_context returns it"),
  totals: z.object({
    tokens: z.number().int(),
    sections: z.number().int(),
    omitted: z.number().int(),
    omittedTokens: z.number().int(),
    overBudget: z.boolean(),
  }),
});

const NotesAnswer = z.object({
  version: z.literal(1),
  now: z.string().describe("the server's clock when answered"),
  task: z.string(),
  claim: ClaimSchema.nullable(),
  notes: z.array(z.object({ taskId: z.string(), author: z.string(), at: z.string(), text: z.string() })),
});

/** The project's coordination store (the embedded one, or the team's): claims and notes are read there. */
function claimStoreOf(p: ProjectRoot): Promise<CoordinationStore> {
  return coordinationStore(p.root, loadConfig(p));
}

/** The key a path's reference names; an unknown one is 404, an ambiguous one 400 (as GET /api/tasks/{task}). */
function taskKey(graph: TaskGraph, ref: string): string {
  const l = lookupTask(graph, ref);
  if ("found" in l) return l.found;
  const refused = taskLookupError(ref, l, LIST_HINT);
  throw "unknown" in l ? notFound(refused.message, refused.hint) : refused;
}

function columnOf(v: TaskView, claim: ClaimView | undefined): Column {
  if (v.status === "done" || claim?.status === "done") return "done";
  if (v.status === "blocked" || claim?.status === "blocked") return "blocked";
  if (claim?.live || v.status === "in_progress") return "claimed";
  if (v.status === "deferred") return "deferred";
  return v.ready ? "ready" : "waiting";
}

/** Every task of the graph in file order, in its column, with its claim. */
export async function boardAnswer(p: ProjectRoot, now: Date) {
  const root = p.root;
  const graph = loadTaskGraph(root);
  const claims = new Map((await (await claimStoreOf(p)).claims(now)).map((v) => [v.taskId, v]));
  // Held as `keel tasks ready` counts it (Claims.heldKeys): under a live lease, or closed by a claim.
  const isClaimed = (key: string) => {
    const c = claims.get(key);
    return c !== undefined && (c.live || c.status === "done" || c.status === "blocked");
  };
  const counts = new Map<Column, number>(BOARD_COLUMNS.map((c) => [c, 0]));
  const tasks = graph.order.map((key) => {
    const v = taskView(graph, key, isClaimed);
    const claim = claims.get(key);
    const column = columnOf(v, claim);
    counts.set(column, (counts.get(column) ?? 0) + 1);
    return {
      key,
      scope: v.scope,
      id: v.id,
      title: v.title,
      status: v.status,
      column,
      priority: v.priority,
      dependsOn: v.dependsOn,
      claim: claim ? { holder: claim.holder, leaseUntil: claim.leaseUntil, live: claim.live } : null,
    };
  });
  return {
    version: 1 as const,
    // The clock as the answer leaves, not as it was begun: pages set their lease countdowns by it, and a board of
    // thousands of tasks takes a while to build (the stale start time made a 10-minute lease show 10:01).
    now: new Date().toISOString(),
    columns: BOARD_COLUMNS.map((name) => ({ name, count: counts.get(name) ?? 0 })),
    tasks,
  };
}

export const WORK_OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/board",
    operationId: "getTaskBoard",
    summary:
      "The task board: every task in its column (ready, waiting, claimed, blocked, done, deferred) with its claim's holder and lease end",
    status: 200,
    response: BoardAnswer,
    errors: [],
    run: async ({ ctx }) => boardAnswer(project(ctx), new Date()),
  }),
  op({
    method: "GET",
    path: "/api/tasks/{task}/context",
    operationId: "getTaskContext",
    summary: "A task's context pack as an agent receives it (keel context --json, with the pack's text)",
    params: taskParams,
    query: z.strictObject({
      budget: z
        .string()
        .regex(/^[1-9][0-9]{0,8}$/)
        .optional()
        .describe(`tokens (default ${DEFAULT_BUDGET})`),
    }),
    status: 200,
    response: ContextAnswer,
    errors: [400, 404],
    run: async ({ ctx, params, query }) => {
      const root = project(ctx).root;
      const key = taskKey(loadTaskGraph(root), params.task);
      const budget = query.budget === undefined ? DEFAULT_BUDGET : Number(query.budget);
      const result = await buildContextPack(root, key, budget);
      if ("lookup" in result) throw notFound(`no task "${params.task}"`, LIST_HINT);
      return { version: 1, ...result.pack };
    },
  }),
  op({
    method: "GET",
    path: "/api/tasks/{task}/notes",
    operationId: "listTaskNotes",
    summary: "A task's handoff notes, oldest first, and its claim record (holder, lease end, fencing token)",
    params: taskParams,
    status: 200,
    response: NotesAnswer,
    errors: [400, 404],
    run: async ({ ctx, params }) => {
      const p = project(ctx);
      const key = taskKey(loadTaskGraph(p.root), params.task);
      const now = new Date();
      const store = await claimStoreOf(p);
      const [claim, notes] = await Promise.all([store.claimOf(key, now), store.notes(key)]);
      return { version: 1, now: now.toISOString(), task: key, claim, notes };
    },
  }),
];
