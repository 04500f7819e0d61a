import * as z from "zod";
import { traceAnswer } from "../core/api/trace-queries.js";
import { verifyProjectAudit } from "../core/audit/anchor.js";
import { ackLinks, selectSuspect } from "../core/trace/ack.js";
import { traceProject } from "../core/trace/project.js";
import type { JudgedLink } from "../core/trace/state.js";
import { gateStatuses } from "../core/verify/backpressure.js";
import { listEvidence } from "../core/verify/evidence.js";
import { loadGateContext, selectAll } from "../core/verify/gates.js";
import { BREAKDOWNS, computeMetrics, readMetricRecords } from "../run/metrics.js";
import { listAttempts, reviews } from "../run/state.js";
import { runStatus } from "../run/status.js";
import { coordinationStore } from "../store/select.js";
import { loadConfig } from "../workspace/config.js";
import { treeState } from "../workspace/git-tree.js";
import { actingAs, type Operation, op, project, readStore } from "./operation.js";
import { HttpError } from "./wire.js";

const count = z.number().int().min(0);
const nullableString = z.string().nullable();

const Evidence = z.looseObject({
  id: z.number().int(),
  gate: z.string(),
  command: z.string(),
  exitCode: z.number().int().nullable(),
  passed: z.boolean(),
  startedAt: z.string(),
  outputTail: z.string(),
});

const GatesAnswer = z.object({
  version: z.literal(1),
  gates: z.array(
    z.object({
      gate: z.object({
        name: z.string(),
        kind: z.string(),
        command: z.string(),
        cwd: z.string(),
        source: z.string(),
      }),
      state: z.enum(["passed", "failed", "timed-out", "missing"]),
      evidence: Evidence.nullable(),
      elsewhere: Evidence.nullable(),
    }),
  ),
});

const LINK_STATES = ["suspect", "dangling", "stale"] as const;

const TraceLinksAnswer = z.object({
  version: z.literal(1),
  counts: z.object({ suspect: count, dangling: count, stale: count }),
  links: z.array(
    z.looseObject({
      id: z.string().describe("the link's identity `<target> <file> <kind>`, what POST /api/trace/ack names"),
      kind: z.enum(["implements", "verifies", "documents", "commit"]),
      target: z.string(),
      file: z.string(),
      line: count,
      state: z.enum(LINK_STATES),
      reason: z.string(),
      commit: nullableString,
      baseline: nullableString.describe("the requirement's fingerprint when the link was made or last acked"),
      current: nullableString.describe("the requirement's fingerprint now"),
      requirement: z
        .object({ id: z.string(), title: z.string(), capability: z.string(), fingerprint: z.string() })
        .nullable()
        .describe("the living requirement the link names; null for a link that names none"),
    }),
  ),
});

const AckAnswer = z.object({
  version: z.literal(1),
  acks: z.array(
    z.object({
      link: z.string(),
      fingerprint: z.string(),
      by: z.string(),
      at: z.string(),
      reason: z.string(),
    }),
  ),
});

const AuditEvent = z.object({
  seq: z.number().int().min(1),
  at: z.string(),
  actor: z.string(),
  actorKind: z.enum(["human", "agent", "system"]),
  action: z.string(),
  target: z.string(),
  before: nullableString,
  after: nullableString,
  reason: nullableString,
  data: z.record(z.string(), z.unknown()).nullable(),
  prevHash: z.string(),
  hash: z.string(),
});

const AuditLogAnswer = z.object({
  version: z.literal(1),
  /** Events matching the filters, of which `events` holds the newest `limit`. */
  total: count,
  limit: z.number().int().min(1),
  events: z.array(AuditEvent),
});

const AuditVerifyAnswer = z.looseObject({
  version: z.literal(1),
  ok: z.boolean(),
  events: count,
  firstBad: z.object({ seq: z.number().int(), problem: z.string() }).nullable(),
  store: z.object({ id: nullableString, segment: nullableString, state: z.string() }),
  segments: z.array(z.looseObject({ segment: z.string(), events: count, own: z.boolean(), ok: z.boolean() })),
  problems: z.array(z.looseObject({ problem: z.string(), seq: z.number().int().nullable() })),
  notes: z.array(z.string()),
});

const RunsAnswer = z.object({
  version: z.literal(1),
  run: z
    .looseObject({ id: z.string(), startedAt: z.string(), status: z.string(), alive: z.boolean() })
    .nullable()
    .describe("the newest run; null when the project never ran `keel run`"),
  workers: z.array(
    z.object({
      worker: z.number().int(),
      task: z.string(),
      attempt: count,
      phase: z.string(),
      agent: z.string(),
      elapsedMs: z.number(),
      taskElapsedMs: z.number(),
    }),
  ),
  counts: z.object({ landed: count, blocked: count, review: count, attempts: count }),
  attempts: z
    .array(
      z.looseObject({
        taskId: z.string(),
        attempt: count,
        agent: z.string(),
        startedAt: z.string(),
        endedAt: z.string(),
        outcome: z.string(),
        feedback: nullableString.describe("what the next attempt is told: the red gate's output tail, …"),
      }),
    )
    .describe("the newest run's attempts, newest first"),
  reviews: z
    .array(
      z.object({
        taskId: z.string(),
        runId: z.string(),
        token: z.number().int(),
        branch: z.string(),
        commit: z.string(),
        requestedAt: z.string(),
      }),
    )
    .describe("green tasks waiting for a person's review (keel run review)"),
});

const MetricSet = z.looseObject({
  tasks: count,
  attempts: count,
  firstPass: z.object({ tasks: count, rate: z.number().nullable() }),
  landed: count,
  blocked: count,
  outcomes: z.record(z.string(), count),
});

const MetricsAnswer = z.looseObject({
  version: z.literal(1),
  by: z.array(z.enum(["agent", "capability", "day"])),
  empty: z.boolean(),
  since: nullableString,
  runs: count,
  overall: MetricSet,
  byAgent: z.array(MetricSet.extend({ agent: z.string() })),
  byCapability: z.array(MetricSet.extend({ capability: z.string() })),
  byDay: z.array(MetricSet.extend({ day: z.string(), landedOn: count })),
  gates: z.array(z.object({ gate: z.string(), runs: count, passed: count, passRate: z.number() })),
});

/** `since`: an ISO date or time (a page turns "the last week" into one). */
const Since = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/)
  .refine((v) => !Number.isNaN(Date.parse(v)), "not a date")
  .describe("only events (or tasks first attempted) at or after this ISO date or time");

function isoOf(since: string | undefined): string | null {
  return since === undefined ? null : new Date(Date.parse(since)).toISOString();
}

/** The most events one audit page answers with, and how many when `limit` is not given. */
const AUDIT_MAX = 1000;
const AUDIT_DEFAULT = 200;

/** Every link of the trace that needs a person, with the requirement it names (what `keel trace` lists). */
async function linksNeedingReview(root: string) {
  const answer = await traceAnswer(root, true, null);
  const out: Array<
    JudgedLink & {
      requirement: { id: string; title: string; capability: string; fingerprint: string } | null;
    }
  > = [];
  for (const r of answer?.requirements ?? []) {
    const requirement = { id: r.id, title: r.title, capability: r.capability, fingerprint: r.fingerprint };
    for (const l of [...r.implementations, ...r.tests, ...r.docs, ...r.commits])
      if (l.state !== "ok") out.push({ ...l, requirement });
  }
  for (const l of answer?.dangling ?? []) out.push({ ...l, requirement: null });
  return out;
}

/** `keel run status`, with the newest run's attempts (their gate output tails) and the review queue. */
function runsAnswer(root: string) {
  const status = runStatus(root);
  const run = status.run;
  const records = readStore(root, { attempts: [], reviews: [] }, (s) => ({
    attempts: run ? listAttempts(s, { run: run.id }).reverse() : [],
    reviews: reviews(s),
  }));
  return { version: 1 as const, ...status, ...records };
}

export const OVERSIGHT_OPERATIONS: Operation[] = [
  op({
    method: "GET",
    path: "/api/gates",
    operationId: "getGates",
    summary:
      "The latest state of every project and constitution gate on the tree as it is (keel check --json's gates)",
    status: 200,
    response: GatesAnswer,
    errors: [],
    run: async ({ ctx }) => {
      const ctxGates = loadGateContext(ctx.root, { explicitRoot: true });
      return {
        version: 1,
        gates: await gateStatuses(ctxGates, selectAll(ctxGates).gates, await treeState(ctxGates.root)),
      };
    },
  }),
  op({
    method: "GET",
    path: "/api/trace/links",
    operationId: "listTraceLinks",
    summary:
      "Suspect, dangling and stale trace links, with the requirement's fingerprint at link time and now (keel trace --json)",
    query: z.strictObject({ state: z.enum(LINK_STATES).optional().describe("only links in this state") }),
    status: 200,
    response: TraceLinksAnswer,
    errors: [400],
    run: async ({ ctx, query }) => {
      const all = await linksNeedingReview(ctx.root);
      const counts = { suspect: 0, dangling: 0, stale: 0 };
      for (const l of all) counts[l.state as (typeof LINK_STATES)[number]]++;
      const links = query.state === undefined ? all : all.filter((l) => l.state === query.state);
      return { version: 1, counts, links };
    },
  }),
  op({
    method: "POST",
    path: "/api/trace/ack",
    operationId: "ackTraceLinks",
    summary:
      "Acknowledge suspect links with the reason they still hold (keel trace ack); a human act, refused to agents",
    body: z.strictObject({
      link: z
        .string()
        .min(1)
        .max(1000)
        .describe(
          "a requirement ID (all its suspect links), `REQ@path`, or a link ID from GET /api/trace/links",
        ),
      reason: z.string().trim().min(1).max(4000),
    }),
    status: 200,
    response: AckAnswer,
    errors: [400, 413, 415],
    writesIntent: true,
    run: async ({ ctx, body, principal }) => {
      const { project: loaded, report } = await traceProject(ctx.root, true);
      const links = selectSuspect(report, body.link);
      const actor = actingAs(loaded.project, principal, ctx);
      return { version: 1, acks: ackLinks(loaded.project.root, links, actor, body.reason) };
    },
  }),
  op({
    method: "GET",
    path: "/api/audit",
    operationId: "listAuditEvents",
    summary:
      "The audit log, newest first, filtered by actor, action, target and time (keel audit log --json)",
    query: z.strictObject({
      actor: z.string().min(1).max(200).optional().describe("`kind:name` exactly, or a name of any kind"),
      action: z.string().min(1).max(200).optional(),
      target: z.string().min(1).max(1000).optional().describe("a target, or a prefix up to a `/`"),
      since: Since.optional(),
      limit: z
        .string()
        .regex(/^\d{1,4}$/)
        .optional()
        .describe(`most events to answer with, 1 to ${AUDIT_MAX} (default ${AUDIT_DEFAULT})`),
    }),
    status: 200,
    response: AuditLogAnswer,
    errors: [400],
    run: async ({ ctx, query }) => {
      const limit = query.limit === undefined ? AUDIT_DEFAULT : Number(query.limit);
      if (limit < 1 || limit > AUDIT_MAX)
        throw new HttpError(
          400,
          "invalid_request",
          `query.limit: must be from 1 to ${AUDIT_MAX}`,
          "e.g. ?limit=100",
        );
      const { since, limit: _, ...rest } = query;
      const filter = { ...rest, ...(since === undefined ? {} : { since: isoOf(since) as string }) };
      // The project's log: the team's chain in team mode (every server's events), else this checkout's.
      const p = project(ctx);
      const events = await (await coordinationStore(p.root, loadConfig(p))).listEvents(filter);
      return { version: 1, total: events.length, limit, events: events.slice(-limit).reverse() };
    },
  }),
  op({
    method: "GET",
    path: "/api/audit/verify",
    operationId: "verifyAudit",
    summary: "Verify the hash chain of the audit log and its segments in git (keel audit verify --json)",
    status: 200,
    response: AuditVerifyAnswer,
    errors: [],
    run: async ({ ctx }) => ({ version: 1, ...verifyProjectAudit(project(ctx).root) }),
  }),
  op({
    method: "GET",
    path: "/api/runs",
    operationId: "getRuns",
    summary:
      "The work loop: the newest run, its workers and attempts with their gate output, and the review queue (keel run status --json)",
    status: 200,
    response: RunsAnswer,
    errors: [],
    run: async ({ ctx }) => runsAnswer(project(ctx).root),
  }),
  op({
    method: "GET",
    path: "/api/metrics",
    operationId: "getMetrics",
    summary:
      "The work loop's track record: first-pass rate, attempts, rework, time to done (keel metrics --json)",
    query: z.strictObject({ since: Since.optional() }),
    status: 200,
    response: MetricsAnswer,
    errors: [400],
    run: async ({ ctx, query }) => {
      const root = project(ctx).root;
      const since = isoOf(query.since);
      const records = readMetricRecords(root, since);
      const report = computeMetrics({ ...records, evidence: listEvidence(root), since, by: BREAKDOWNS });
      return { version: 1, by: BREAKDOWNS, ...report };
    },
  }),
];
