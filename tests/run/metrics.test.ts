// `keel metrics` over a small recorded history, in a real state store: two agents, two capabilities, two days, a
// retried task, a stall, a boundary violation, a review rejection, a merge-queue send-back, a revert and a re-open.
// Every expected number below is worked out by hand from the history (see the comments), then checked against
// the pure computation and against the built CLI's JSON, text and SVG.
// @verifies RUN-15
import { existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { listEvidence, recordEvidence } from "../../src/core/verify/evidence.js";
import { computeMetrics, METRIC_ACTIONS, type MetricsReport, percentile } from "../../src/run/metrics.js";
import { escapeXml, metricsSvg } from "../../src/run/metrics-svg.js";
import { type AttemptRecord, listAttempts, type Outcome, recordAttempt } from "../../src/run/state.js";
import { appendEvent, listEvents } from "../../src/store/sqlite/audit-log.js";
import { StateDb } from "../../src/store/state-db.js";
import { jsonOut, keel } from "../support/cli.js";
import { tempProjects } from "../support/files.js";

const project = tempProjects("keel-metrics-");
const KEEL_YAML = { "keel/keel.yaml": "version: 1\n" };

const D1 = "2026-11-20";
const D2 = "2026-11-21";
const at = (day: string, hm: string) => `${day}T${hm}:00.000Z`;
const MIN = 60_000;

type A = [
  task: string,
  attempt: number,
  agent: string,
  outcome: Outcome,
  day: string,
  from: string,
  to: string,
];

/** The attempts, in the order the loop would record them; cost and tokens per attempt where the agent said. */
const ATTEMPTS: Array<{ a: A; caps: string[]; cost?: [usd: number, input: number, output: number] }> = [
  {
    a: ["add-refunds/1.1", 1, "claude", "gate-failed", D1, "09:00", "09:10"],
    caps: ["payments"],
    cost: [0.1, 1000, 100],
  },
  {
    a: ["add-refunds/1.2", 1, "claude", "green", D1, "09:00", "09:05"],
    caps: ["payments"],
    cost: [0.05, 500, 50],
  },
  { a: ["invoices/2.1", 1, "codex", "stalled", D1, "09:00", "09:30"], caps: ["invoicing"] },
  {
    a: ["add-refunds/1.1", 2, "claude", "green", D1, "09:10", "09:20"],
    caps: ["payments"],
    cost: [0.2, 2000, 200],
  },
  { a: ["invoices/2.1", 2, "codex", "boundary", D1, "09:30", "09:40"], caps: ["invoicing"] },
  { a: ["invoices/2.1", 3, "codex", "gate-failed", D1, "09:40", "09:50"], caps: ["invoicing"] },
  {
    a: ["add-refunds/1.2", 2, "claude", "green", D1, "10:00", "10:05"],
    caps: ["payments"],
    cost: [0.05, 500, 50],
  },
  {
    a: ["invoices/2.2", 1, "codex", "integration-failed", D2, "08:00", "08:20"],
    caps: ["invoicing", "payments"],
    cost: [0.3, 3000, 300],
  },
  { a: ["invoices/2.2", 2, "codex", "green", D2, "08:30", "08:40"], caps: ["invoicing", "payments"] },
  { a: ["invoices/2.3", 1, "claude", "green", D2, "09:00", "09:06"], caps: ["invoicing"] },
  { a: ["invoices/2.1", 4, "claude", "green", D2, "10:05", "10:15"], caps: ["invoicing"] },
];

type E = [
  action: string,
  target: string,
  when: string,
  extra?: { data?: Record<string, unknown>; before?: string },
];

const EVENTS: E[] = [
  ["run.start", "run-1", at(D1, "08:59")],
  ["run.task.review", "add-refunds/1.2", at(D1, "09:06")],
  [
    "run.task.landed",
    "add-refunds/1.1",
    at(D1, "09:30"),
    { data: { agent: "claude", attempts: 2, commit: "a1" } },
  ],
  ["run.review.reject", "add-refunds/1.2", at(D1, "09:40")],
  ["run.task.blocked", "invoices/2.1", at(D1, "09:55")],
  [
    "run.task.landed",
    "add-refunds/1.2",
    at(D1, "10:15"),
    { data: { agent: "claude", attempts: 2, commit: "b2" } },
  ],
  ["run.end", "run-1", at(D1, "10:20")],
  ["change.revert", "revert-add-refunds", at(D1, "11:00"), { data: { reverts: "add-refunds" } }],
  ["run.start", "run-2", at(D2, "07:59")],
  [
    "run.task.landed",
    "invoices/2.2",
    at(D2, "08:50"),
    { data: { agent: "codex", attempts: 2, commit: "d2" } },
  ],
  [
    "run.task.landed",
    "invoices/2.3",
    at(D2, "09:10"),
    { data: { agent: "claude", attempts: 1, commit: "e1" } },
  ],
  // Re-opening a blocked task is a retry, not rework.
  ["task.reopen", "invoices/2.1", at(D2, "10:00"), { before: "blocked" }],
  [
    "run.task.landed",
    "invoices/2.1",
    at(D2, "10:20"),
    { data: { agent: "claude", attempts: 4, commit: "c4" } },
  ],
  ["task.reopen", "invoices/2.3", at(D2, "12:00"), { before: "done" }],
  ["change.revert", "revert-unrelated", at(D2, "12:30"), { data: { reverts: "unrelated" } }],
];

function attemptOf({ a, caps, cost }: (typeof ATTEMPTS)[number]): AttemptRecord {
  const [taskId, attempt, agent, outcome, day, from, to] = a;
  const startedAt = at(day, from);
  const endedAt = at(day, to);
  return {
    runId: day === D1 ? "run-1" : "run-2",
    taskId,
    attempt,
    agent,
    startedAt,
    endedAt,
    outcome,
    agentMs: Date.parse(endedAt) - Date.parse(startedAt),
    gateMs: 0,
    queueMs: 0,
    overheadMs: 12,
    costUsd: cost?.[0] ?? null,
    inputTokens: cost?.[1] ?? null,
    outputTokens: cost?.[2] ?? null,
    capabilities: caps,
    feedback: null,
  };
}

const TREE = { git: false, commit: null, dirty: false, digest: null };

/** A project whose store holds the history above, written through the real store functions. */
function recordedProject(): string {
  const root = project(KEEL_YAML);
  const state = StateDb.open(root, { allowFresh: true });
  try {
    for (const a of ATTEMPTS) recordAttempt(state, attemptOf(a));
    for (const [action, target, when, extra] of EVENTS) {
      state.exclusive(() =>
        appendEvent(
          state,
          root,
          {
            actor: "system:keel-run",
            actorKind: "system",
            action,
            target,
            before: extra?.before ?? null,
            data: extra?.data ?? null,
          },
          new Date(when),
        ),
      );
    }
    const gate = (task: string, name: string, exitCode: number, startedAt: string) =>
      recordEvidence(state, {
        run: `verify-${startedAt}`,
        gate: name,
        kind: "task",
        command: `npm run ${name}`,
        cwd: ".",
        exitCode,
        timedOut: false,
        durationMs: 1000,
        startedAt,
        requirements: {},
        task,
        outputTail: "",
        outputDigest: "0".repeat(64),
        outputBytes: 0,
        actor: "agent:claude",
        tree: TREE,
      });
    gate("add-refunds/1.1", "test", 1, at(D1, "09:09"));
    gate("add-refunds/1.1", "test", 0, at(D1, "09:19"));
    gate("add-refunds/1.1", "lint", 0, at(D1, "09:19"));
    gate("add-refunds/1.2", "test", 0, at(D1, "09:04"));
    // Evidence of a task the loop never attempted is not the loop's.
    gate("other/9", "test", 1, at(D1, "09:00"));
  } finally {
    state.close();
  }
  return root;
}

function computedFrom(root: string, since: string | null = null): MetricsReport {
  const state = StateDb.open(root);
  try {
    const events = METRIC_ACTIONS.flatMap((action) => listEvents(state, { action })).sort(
      (a, b) => a.seq - b.seq,
    );
    return computeMetrics({ attempts: listAttempts(state), events, evidence: listEvidence(root), since });
  } finally {
    state.close();
  }
}

let root: string;
beforeAll(() => {
  root = recordedProject();
});

const outcomes = (o: Partial<Record<Outcome, number>>) => ({
  green: 0,
  "gate-failed": 0,
  boundary: 0,
  stalled: 0,
  crashed: 0,
  "timed-out": 0,
  "integration-failed": 0,
  conflict: 0,
  rejected: 0,
  interrupted: 0,
  ...o,
});

describe("the metrics computed from the records", () => {
  it("overall: first pass 2 of 5, a retried task counts two attempts, rework of four tasks", () => {
    const r = computedFrom(root);
    expect(r.empty).toBe(false);
    expect(r.runs).toBe(2);
    expect(r.from).toBe(at(D1, "09:00"));
    // The newest record about a counted task: the re-open of invoices/2.3 (the unrelated revert names no task).
    expect(r.to).toBe(at(D2, "12:00"));
    expect(r.overall).toEqual({
      tasks: 5,
      attempts: 11,
      // add-refunds/1.2 and invoices/2.3 were green first; 1.1 failed a gate, 2.1 stalled, 2.2 failed integration.
      firstPass: { tasks: 2, rate: 0.4 },
      landed: 5,
      // Attempts of the landed tasks: 1.1 → 2, 1.2 → 2, 2.1 → 4, 2.2 → 2, 2.3 → 1: mean 11/5, median 2, max 4.
      attemptsPerTask: { mean: 2.2, p50: 2, max: 4 },
      // First start → landing: 30 min, 75 min, 25 h 20 min, 50 min, 10 min; p50 the 3rd of 5, p90 the 5th.
      timeToDoneMs: { p50: 50 * MIN, p90: (25 * 60 + 20) * MIN },
      // 1.1 and 1.2 reverted (their change was), 1.2 rejected in review, 2.2 sent back, 2.3 re-opened when done.
      rework: { tasks: 4, reopened: 1, reverted: 2, rejected: 1, sentBack: 1 },
      blocked: 1,
      boundaryViolations: 1,
      stalls: 1,
      outcomes: outcomes({ green: 6, "gate-failed": 2, boundary: 1, stalled: 1, "integration-failed": 1 }),
      // Known for 1.1 (0.10 + 0.20), 1.2 (0.05 + 0.05) and 2.2 (0.30): $0.70 over 3 tasks.
      cost: { tasks: 3, usd: 0.7, perTaskUsd: 0.233333, inputTokens: 7000, outputTokens: 700 },
    });
  });

  it("per agent: each agent's first try, its landings and the rework sent back from its work", () => {
    const [claude, codex] = computedFrom(root).byAgent;
    expect(claude?.agent).toBe("claude");
    // claude tried 1.1 (failed first), 1.2, 2.3 and took over 2.1 after codex, green at its first try: 3 of 4.
    expect(claude).toMatchObject({
      tasks: 4,
      attempts: 6,
      firstPass: { tasks: 3, rate: 0.75 },
      landed: 4,
      attemptsPerTask: { mean: 1.5, p50: 1, max: 2 },
      // 2.1 counts from claude's own first attempt (10:05) to the landing (10:20): 15 minutes.
      timeToDoneMs: { p50: 15 * MIN, p90: 75 * MIN },
      rework: { tasks: 3, reopened: 1, reverted: 2, rejected: 1, sentBack: 0 },
      blocked: 0,
      boundaryViolations: 0,
      stalls: 0,
      cost: { tasks: 2, usd: 0.4, perTaskUsd: 0.2, inputTokens: 4000, outputTokens: 400 },
    });
    expect(codex).toMatchObject({
      agent: "codex",
      tasks: 2,
      attempts: 5,
      firstPass: { tasks: 0, rate: 0 },
      landed: 1,
      attemptsPerTask: { mean: 2, p50: 2, max: 2 },
      timeToDoneMs: { p50: 50 * MIN, p90: 50 * MIN },
      rework: { tasks: 1, reopened: 0, reverted: 0, rejected: 0, sentBack: 1 },
      // 2.1 was blocked after codex's third attempt.
      blocked: 1,
      boundaryViolations: 1,
      stalls: 1,
      cost: { tasks: 1, usd: 0.3, perTaskUsd: 0.3, inputTokens: 3000, outputTokens: 300 },
    });
  });

  it("per capability and per day", () => {
    const r = computedFrom(root);
    expect(r.byCapability.map((c) => c.capability)).toEqual(["invoicing", "payments"]);
    const [invoicing, payments] = r.byCapability;
    // invoicing: 2.1, 2.2, 2.3 (2.2 covers both capabilities); only 2.3 was green first.
    expect(invoicing).toMatchObject({
      tasks: 3,
      attempts: 7,
      firstPass: { tasks: 1, rate: 0.3333 },
      attemptsPerTask: { mean: 2.3333, p50: 2, max: 4 },
      rework: { tasks: 2, sentBack: 1, reopened: 1 },
      blocked: 1,
      cost: { tasks: 1, usd: 0.3 },
    });
    expect(payments).toMatchObject({
      tasks: 3,
      attempts: 6,
      firstPass: { tasks: 1, rate: 0.3333 },
      timeToDoneMs: { p50: 50 * MIN, p90: 75 * MIN },
      rework: { tasks: 3 },
      cost: { tasks: 3, usd: 0.7 },
    });
    // Day 1 began 1.1, 1.2, 2.1 and landed 1.1, 1.2; day 2 began 2.2, 2.3 and landed them and 2.1.
    expect(r.byDay.map((d) => [d.day, d.tasks, d.firstPass.rate, d.landedOn, d.landed])).toEqual([
      [D1, 3, 0.3333, 2, 3],
      [D2, 2, 0.5, 3, 2],
    ]);
    // Gate runs of the counted tasks only: test passed 2 of 3, lint 1 of 1.
    expect(r.gates).toEqual([
      { gate: "lint", runs: 1, passed: 1, passRate: 1 },
      { gate: "test", runs: 3, passed: 2, passRate: 0.6667 },
    ]);
  });

  it("--since keeps the tasks first attempted from then on", () => {
    const r = computedFrom(root, at(D2, "00:00"));
    expect(r.runs).toBe(1);
    expect(r.overall).toMatchObject({ tasks: 2, attempts: 3, firstPass: { tasks: 1, rate: 0.5 }, landed: 2 });
    expect(r.byAgent.map((a) => a.agent)).toEqual(["claude", "codex"]);
  });

  it("percentiles are nearest-rank: a value that occurred", () => {
    expect(percentile([4, 1, 2, 2, 2], 50)).toBe(2);
    expect(percentile([1, 2], 50)).toBe(1);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 90)).toBe(7);
  });
});

/** Tags balance, attributes are quoted, every `&` starts an entity: enough to know an XML parser will take it. */
function expectWellFormed(xml: string): void {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  let roots = 0;
  while (i < body.length) {
    const lt = body.indexOf("<", i);
    const textEnd = lt === -1 ? body.length : lt;
    const text = body.slice(i, textEnd);
    expect(text, "raw & or > in text").not.toMatch(/&(?!(amp|lt|gt|quot|apos);)|>/);
    if (lt === -1) break;
    tag.lastIndex = lt;
    const m = tag.exec(body);
    expect(m, `malformed tag at ${body.slice(lt, lt + 60)}`).not.toBeNull();
    const [whole, close, name, attrs, selfClose] = m as RegExpExecArray;
    expect(attrs ?? "").not.toMatch(/&(?!(amp|lt|gt|quot|apos);)/);
    if (close) expect(stack.pop(), `</${name}> closes nothing open`).toBe(name);
    else if (!selfClose) {
      if (stack.length === 0) roots++;
      stack.push(name as string);
    } else if (stack.length === 0) roots++;
    i = lt + whole.length;
  }
  expect(stack).toEqual([]);
  expect(roots).toBe(1);
}

describe("the chart", () => {
  it("escapes names and stays well-formed", () => {
    const attempt = attemptOf(ATTEMPTS[1] as (typeof ATTEMPTS)[number]);
    const report = computeMetrics({
      attempts: [{ ...attempt, agent: `aider <"local"> & 'co'`, capabilities: ["a&b"] }],
      events: [],
      evidence: [],
      since: null,
    });
    const svg = metricsSvg(report);
    expectWellFormed(svg);
    expect(svg).toContain(escapeXml(`aider <"local"> & 'co'`));
    expect(svg).not.toContain("aider <");
    expect(svg).toContain("a&amp;b");
    expect(svg).toMatch(/<title id="keel-metrics-title">/);
    expect(svg).toMatch(/viewBox="0 0 880 \d+"/);
  });

  it("the checker catches what is not XML", () => {
    expect(() => expectWellFormed("<svg><g></svg>")).toThrow();
    expect(() => expectWellFormed("<svg>a & b</svg>")).toThrow();
    expect(() => expectWellFormed("<svg x=1></svg>")).toThrow();
  });

  it("says so when there is nothing to draw", () => {
    const svg = metricsSvg(computeMetrics({ attempts: [], events: [], evidence: [], since: null }));
    expectWellFormed(svg);
    expect(svg).toContain("No run yet");
  });
});

describe("keel metrics (the built CLI)", () => {
  it("--json reports the same numbers, as version 1", () => {
    const out = jsonOut(keel(root, "metrics", "--json"));
    expect(out.version).toBe(1);
    expect(out.by).toEqual(["agent", "capability", "day"]);
    expect(out.svg).toBeNull();
    expect(out.overall.firstPass).toEqual({ tasks: 2, rate: 0.4 });
    expect(out.overall.attemptsPerTask).toEqual({ mean: 2.2, p50: 2, max: 4 });
    expect(out.byAgent.map((a: { agent: string; firstPass: unknown }) => [a.agent, a.firstPass])).toEqual([
      ["claude", { tasks: 3, rate: 0.75 }],
      ["codex", { tasks: 0, rate: 0 }],
    ]);
  });

  it("--by and --since narrow the report; a bad --by is a usage error", () => {
    const out = jsonOut(keel(root, "metrics", "--json", "--by", "agent", "--since", D2));
    expect(out.by).toEqual(["agent"]);
    expect(out.byCapability).toEqual([]);
    expect(out.byDay).toEqual([]);
    expect(out.overall.tasks).toBe(2);
    const bad = keel(root, "metrics", "--by", "week");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--by must be one of agent, capability, day, not "week"');
  });

  it("prints a summary and the per-agent table", () => {
    const r = keel(root, "metrics");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("keel metrics: 5 tasks, 11 attempts, 2 runs, 2026-11-20 to 2026-11-21");
    expect(r.stdout).toMatch(/first-pass gate rate\s+40% \(2 of 5 tasks\)/);
    expect(r.stdout).toMatch(/attempts per task\s+mean 2.2 · p50 2 · max 4 \(5 landed\)/);
    expect(r.stdout).toMatch(/time to done\s+p50 50m · p90 1d 1h/);
    expect(r.stdout).toMatch(
      /rework\s+4 tasks: 1 rejected in review, 1 sent back by the merge queue, 1 re-opened, 2 reverted/,
    );
    expect(r.stdout).toMatch(/cost\s+\$0.70 over 3 of 5 tasks \(\$0.23 a task\)/);
    expect(r.stdout).toMatch(/claude\s+4\s+75%\s+4\s+1.5\s+15m\s+3\s+0\s+0\s+\$0.20/);
    expect(r.stdout).toMatch(/codex\s+2\s+0%\s+1\s+2\s+50m\s+1\s+1\s+1\s+\$0.30/);
  });

  it("--svg writes the chart inside the project: well-formed, with the agents and their numbers", () => {
    const out = jsonOut(keel(root, "metrics", "--json", "--svg", "reports/metrics.svg"));
    expect(out.svg).toBe("reports/metrics.svg");
    const svg = readFileSync(join(root, "reports", "metrics.svg"), "utf8");
    expectWellFormed(svg);
    for (const needle of [
      ">claude<",
      ">codex<",
      ">75%<",
      ">0%<",
      ">40%<",
      ">invoicing<",
      ">payments<",
      ">11-20<",
    ])
      expect(svg).toContain(needle);
    expect(svg).toContain("First-pass gate rate 40% over 5 tasks in 2 runs");
  });

  it("refuses an --svg path outside the project, also through a symbolic link", () => {
    const outside = project({});
    const r = keel(root, "metrics", "--svg", join(outside, "m.svg"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("is outside the project");
    mkdirSync(join(outside, "real"));
    symlinkSync(join(outside, "real"), join(root, "linked"));
    const viaLink = keel(root, "metrics", "--svg", "linked/m.svg");
    expect(viaLink.code).toBe(2);
    expect(existsSync(join(outside, "m.svg"))).toBe(false);
    expect(existsSync(join(outside, "real", "m.svg"))).toBe(false);
  });

  it("with no run yet: an empty report that says so, exit 0, and no store created", () => {
    const fresh = project(KEEL_YAML);
    const text = keel(fresh, "metrics");
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("no runs yet");
    const out = jsonOut(keel(fresh, "metrics", "--json"));
    expect(out).toMatchObject({
      version: 1,
      empty: true,
      runs: 0,
      overall: { tasks: 0, firstPass: { rate: null } },
    });
    expect(existsSync(join(fresh, ".keel", "state.db"))).toBe(false);
  });
});
