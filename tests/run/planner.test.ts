// The planner of `keel run --plan`, with a real planner agent (tests/support/plan-agent.mjs, a child process run
// as a `command:` agent) in real git projects: an invalid plan goes back with its positioned findings and the next
// attempt sees them; only a plan that validates (by `keel validate` too) is written into the change, never over an
// existing one without `replace`; and policy decides whether the plan stands or waits for a human. One run goes
// through bubblewrap, where the agent can write its scratch folder and nothing else.
// @verifies RUN-8
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { contentHash } from "../../src/model/fingerprint.js";
import { type PlanOptions, planChange } from "../../src/run/planner.js";
import { openSandbox } from "../../src/run/sandbox.js";
import { type AuditEvent, listEvents, verifyChain } from "../../src/store/sqlite/audit-log.js";
import { StateDb } from "../../src/store/state-db.js";
import type { Actor } from "../../src/workspace/actor.js";
import { EXIT, KeelError } from "../../src/workspace/errors.js";
import { keel } from "../support/cli.js";
import { lineOf, tempProjects, treeDigests } from "../support/files.js";
import { PAYMENTS_SPEC } from "../support/fixtures.js";
import { commitAll, gitInit } from "../support/git.js";

const projects = tempProjects("keel-planner-");
const outside = tempProjects("keel-planner-agent-");
const AGENT = join(import.meta.dirname, "..", "support", "plan-agent.mjs");
const CHANGE = "add-refunds";
const TASKS = `keel/changes/${CHANGE}/tasks.md`;
const alice: Actor = { name: "alice", kind: "human", role: "reviewer", source: "flag" };

const DELTA = `## ADDED Requirements

### Requirement: Refund by key {#PAY-3}
The system SHALL refund a payment named by its refund key.

#### Scenario: Refund
- **WHEN** a refund request names a paid payment
- **THEN** the payment is refunded

### Requirement: Refund receipts {#PAY-4}
The system SHALL send a receipt for every refund.

#### Scenario: Receipt
- **WHEN** a refund completes
- **THEN** a receipt is sent
`;

/** Depends on a task that does not exist: `tasks/unknown-dependency`. */
const INVALID = `## 1. Refunds

- [ ] 1.1 Add the refund endpoint
  - covers: PAY-3
  - boundaries: src/refunds/**
- [ ] 1.2 Send the refund receipt
  - covers: PAY-4
  - depends-on: 9.9
  - boundaries: src/receipts/**
`;
const VALID = INVALID.replace("depends-on: 9.9", "depends-on: 1.1");

type Step = string | null | { exit: number } | { tasks: string; touch: string[] };

interface Fixture {
  root: string;
  /** Where the agent logs each prompt it got: outside the project. */
  log: string;
  agentDir: string;
}

/** A word for `sh -c`: single-quoted, so nothing in it is read by the shell. */
const shellWord = (text: string) => `'${text.replaceAll("'", "'\\''")}'`;

function setup(script: Step[], extra: { policy?: string; files?: Record<string, string> } = {}): Fixture {
  const agentDir = outside({});
  const log = join(agentDir, "agent.log");
  const command = [
    `PLAN_AGENT_SCRIPT=${shellWord(JSON.stringify(script))}`,
    `PLAN_AGENT_LOG=${shellWord(log)}`,
    shellWord(process.execPath),
    shellWord(AGENT),
  ].join(" ");
  const root = projects({
    "keel/keel.yaml": [
      "version: 1",
      "run:",
      "  planner: planner",
      "  max_attempts: 3",
      "agents:",
      "  planner:",
      `    command: ${JSON.stringify(command)}`,
      extra.policy ?? "",
    ].join("\n"),
    ".gitignore": ".keel/\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    [`keel/changes/${CHANGE}/proposal.md`]:
      "# Refunds\n\n## Why\nCustomers ask for refunds.\n\n## What Changes\n- Refunds by key, with receipts.\n",
    [`keel/changes/${CHANGE}/change.yaml`]: `id: ${CHANGE}\nstatus: draft\nauthor: human:alice\n`,
    [`keel/changes/${CHANGE}/specs/payments/spec.md`]: DELTA,
    ...extra.files,
  });
  gitInit(root);
  commitAll(root, "initial");
  return { root, log, agentDir };
}

/** The project's files but git's own (the store keeps an anchor under .git/, see keel/audit). */
function projectDigests(root: string): Map<string, string> {
  return new Map([...treeDigests(root)].filter(([rel]) => !rel.startsWith(".git/")));
}

function plan(f: Fixture, options: Partial<PlanOptions> = {}) {
  return planChange(f.root, CHANGE, { actor: alice, sandbox: "none", ...options });
}

/** The prompts the agent logged, one per attempt. */
function logged(f: Fixture): Array<{ attempt: number; prompt: string; feedback: string | null }> {
  if (!existsSync(f.log)) return [];
  return readFileSync(f.log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
}

function events(root: string): AuditEvent[] {
  const state = StateDb.open(root);
  try {
    expect(verifyChain(state, root).ok).toBe(true);
    return listEvents(state);
  } finally {
    state.close();
  }
}

describe("keel run --plan", () => {
  it("sends an invalid plan back with its positioned finding, and writes the plan that validates", async () => {
    const f = setup([INVALID, VALID]);
    const result = await plan(f);

    const depLine = lineOf(INVALID, "depends-on: 9.9");
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [1, "invalid"],
      [2, "valid"],
    ]);
    const unknown = result.attempts[0]?.findings.find((x) => x.rule === "tasks/unknown-dependency");
    expect(unknown).toMatchObject({ file: TASKS, line: depLine, severity: "error" });
    expect(result.attempts[1]?.findings.filter((x) => x.severity === "error")).toEqual([]);

    // The second attempt was told where the first went wrong, at tasks.md:LINE:COL, with the rule.
    const [first, second] = logged(f);
    expect(first?.feedback).toBeNull();
    expect(first?.prompt).toContain("`PAY-3`: Refund by key");
    expect(second?.attempt).toBe(2);
    expect(second?.feedback).toContain(`tasks.md:${depLine}:${unknown?.col}: error:`);
    expect(second?.feedback).toContain("[tasks/unknown-dependency]");
    expect(second?.prompt).toContain(second?.feedback?.trim());

    expect(result.file).toBe(TASKS);
    expect(result.tasks).toBe(2);
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(VALID);
    const validate = keel(f.root, "validate", "--json");
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(JSON.parse(validate.stdout).ok).toBe(true);

    // Without a policy, agents only propose: the plan waits for a human; the change stays as it was.
    expect(result).toMatchObject({ accepted: false, rule: "policy.default", status: "draft" });
    expect(result.next).toContain(`keel change approve ${CHANGE}`);
    const event = events(f.root).find((e) => e.action === "run.plan");
    expect(event).toMatchObject({ actor: "human:alice", target: CHANGE, after: contentHash(VALID) });
    expect(event?.data).toMatchObject({
      change: CHANGE,
      agent: "planner",
      author: "agent:planner",
      attempts: 2,
      tasks: 2,
      accepted: false,
      rule: "policy.default",
    });
  });

  // @verifies RUN-8
  it("is what `keel run --plan` runs: text and --json answers, exit 1 when no plan validates", () => {
    const f = setup([INVALID, VALID]);
    const r = keel(f.root, "run", "--plan", CHANGE, "--sandbox", "none", "--as", "human:alice", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      version: 1,
      ok: true,
      file: TASKS,
      tasks: 2,
      accepted: false,
    });
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(VALID);
    const g = setup([INVALID]);
    const failed = keel(g.root, "run", "--plan", CHANGE, "--sandbox", "none", "--max-attempts", "1");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("[tasks/unknown-dependency]");
    expect(existsSync(join(g.root, TASKS))).toBe(false);
  });

  it("judges covers against the project: an unknown requirement is an error, an uncovered one a warning", async () => {
    const unknownCover = VALID.replace("covers: PAY-4", "covers: PAY-9");
    const partial = VALID.replace("  - covers: PAY-4\n", "");
    const f = setup([unknownCover, partial]);
    const result = await plan(f);

    const [first, second] = result.attempts;
    expect(first?.outcome).toBe("invalid");
    expect(first?.findings.find((x) => x.rule === "tasks/unknown-requirement")).toMatchObject({
      severity: "error",
      file: TASKS,
      line: lineOf(unknownCover, "1.2 Send"),
    });
    // The change's PAY-4 is owed a task: reported at its heading in the delta spec, as `keel validate` does.
    const delta = `keel/changes/${CHANGE}/specs/payments/spec.md`;
    const uncovered = { rule: "tasks/uncovered-requirement", severity: "warning", file: delta };
    expect(first?.findings).toContainEqual(
      expect.objectContaining({ ...uncovered, line: lineOf(DELTA, "{#PAY-4}") }),
    );
    expect(logged(f)[1]?.feedback).toContain(`${delta}:${lineOf(DELTA, "{#PAY-4}")}:1: warning:`);
    // A warning does not hold a plan back: the second one stands, and says what it leaves uncovered.
    expect(second?.outcome).toBe("valid");
    expect(second?.findings).toEqual([expect.objectContaining(uncovered)]);
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(partial);
  });

  it("writes nothing when no plan validates within the attempts, and returns the last findings", async () => {
    const f = setup([INVALID]);
    const before = projectDigests(f.root);
    const result = await plan(f, { maxAttempts: 2 });

    expect(result.ok).toBe(false);
    expect(result.file).toBeNull();
    expect(result.attempts.map((a) => a.outcome)).toEqual(["invalid", "invalid"]);
    expect(result.attempts[1]?.findings.map((x) => x.rule)).toContain("tasks/unknown-dependency");
    expect(logged(f)).toHaveLength(2);
    expect(existsSync(join(f.root, TASKS))).toBe(false);
    expect(projectDigests(f.root)).toEqual(before);
    const failed = events(f.root).find((e) => e.action === "run.plan.failed");
    expect(failed?.data).toMatchObject({ attempts: 2, outcomes: ["invalid", "invalid"] });
    expect(events(f.root).some((e) => e.action === "run.plan")).toBe(false);
  });

  it("tries again after an agent that crashes or writes no plan, telling it what happened", async () => {
    const f = setup([{ exit: 3 }, null, VALID]);
    const result = await plan(f);

    expect(result.attempts.map((a) => a.outcome)).toEqual(["crashed", "missing", "valid"]);
    const [, second, third] = logged(f);
    expect(second?.feedback).toContain("exited with code 3");
    expect(third?.feedback).toContain("no tasks.md was written");
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(VALID);
  });

  it("refuses to overwrite the change's tasks.md unless asked to replace it", async () => {
    const f = setup([VALID], { files: { [TASKS]: "- [ ] 1.1 The old plan\n" } });
    const refused = await plan(f).catch((e: unknown) => e);

    expect(refused).toBeInstanceOf(KeelError);
    expect((refused as KeelError).exitCode).toBe(EXIT.usage);
    expect((refused as KeelError).message).toContain(`${TASKS} exists`);
    expect((refused as KeelError).hint).toContain("--replace");
    expect(logged(f)).toEqual([]);
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe("- [ ] 1.1 The old plan\n");

    const replaced = await plan(f, { replace: true });
    expect(replaced.ok).toBe(true);
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(VALID);
    const event = events(f.root).find((e) => e.action === "run.plan");
    expect(event?.before).toBe(contentHash("- [ ] 1.1 The old plan\n"));
  });

  it("leaves the plan to a human where the area lets agents only propose", async () => {
    const policy =
      "policy:\n  default: apply-approved\n  areas:\n    - match: payments\n      agents: propose-only\n";
    const result = await plan(setup([VALID], { policy }));

    expect(result).toMatchObject({ ok: true, accepted: false, rule: "policy.areas[0]" });
    expect(result.reason).toContain('lets agents only propose in "payments"');
    expect(result.next).toContain(`keel change approve ${CHANGE}`);
  });

  it("lets the plan stand by policy where the area lets agents apply approved changes", async () => {
    const policy = "policy:\n  areas:\n    - match: payments\n      agents: apply-approved\n";
    const f = setup([VALID], { policy });
    const result = await plan(f);

    expect(result).toMatchObject({
      ok: true,
      accepted: true,
      rule: "policy.areas[0]",
      next: null,
      status: "draft",
    });
    expect(result.reason).toContain("accepted by policy");
    expect(events(f.root).find((e) => e.action === "run.plan")?.data).toMatchObject({ accepted: true });
  });

  const bwrap = (() => {
    try {
      openSandbox("bwrap");
      return true;
    } catch (e) {
      console.log(
        `[planner tests] bubblewrap is not usable here (${(e as Error).message}): sandboxed plan skipped`,
      );
      return false;
    }
  })();

  it.runIf(bwrap)("runs the planner in bubblewrap, where only its scratch folder is writable", async () => {
    const probe = outside({});
    // From the agent's working directory, .keel/run/plan/<change>/<run>/work/: the project root is six folders up.
    const up = "../../../../../../";
    const escapes = [
      join(probe, "escaped.txt"),
      `${up}escaped.txt`,
      `${up}keel/escaped.txt`,
      `${up}.keel/escaped.txt`,
    ];
    const f = setup([{ tasks: VALID, touch: escapes }]);
    const result = await plan(f, { sandbox: "bwrap" });

    expect(result.ok, JSON.stringify(result.attempts, null, 1)).toBe(true);
    expect(readFileSync(join(f.root, TASKS), "utf8")).toBe(VALID);
    const work = join(f.root, result.scratch, "work");
    for (const path of escapes) expect(existsSync(resolve(work, path)), path).toBe(false);
    // Its log lies outside the project, so the sandbox kept it from being written too.
    expect(existsSync(f.log)).toBe(false);
  });
});
