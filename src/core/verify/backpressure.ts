// Backpressure: a task is not done until every gate selected for it (its `verify:` commands, the acceptance
// gates of the requirements it covers, the project gates) has passing evidence on the tree as it is now — the
// same commit, and either a clean tree then and now, or the same uncommitted changes (same tree digest). The
// newest evidence of the gate on this tree decides, so a gate that passed and then failed on the same tree is
// failing. A task that has no gates at all is not held back.
// @req TRC-6
import type { KeelConfig } from "../../workspace/config.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { type TreeState, treeState } from "../../workspace/git-tree.js";
import { type Evidence, gateEvidence } from "./evidence.js";
import { type Gate, type GateContext, selectForTask } from "./gates.js";
import { newerRun, teamEvidenceOnTree } from "./team-evidence.js";

export type GateState = "passed" | "failed" | "timed-out" | "missing";

export interface GateStatus {
  gate: Pick<Gate, "name" | "kind" | "command" | "cwd" | "source">;
  state: GateState;
  /** The evidence that decided (on this tree), or null when there is none. */
  evidence: Evidence | null;
  /** For a missing gate: its newest evidence on another tree, to say where it last ran. */
  elsewhere: Evidence | null;
}

export interface TaskGateCheck {
  task: string;
  tree: TreeState;
  gates: GateStatus[];
  /** Every gate passed (true too when the task has no gates). */
  ok: boolean;
}

/**
 * The state of each gate on `tree`: its newest evidence recorded on exactly that tree decides (in team mode, on a
 * clean tree, the newest from any machine: team-evidence.ts).
 */
export async function gateStatuses(
  ctx: Pick<GateContext, "root" | "config">,
  gates: Gate[],
  tree: TreeState,
): Promise<GateStatus[]> {
  const found = gateEvidence(ctx.root, gates, tree);
  const team = await teamEvidenceOnTree(ctx, gates, tree);
  return gates.map((g, i): GateStatus => {
    const gate = { name: g.name, kind: g.kind, command: g.command, cwd: g.cwd, source: g.source };
    const local = found[i] as (typeof found)[number];
    const evidence = newerRun(local.onTree, team[i] ?? null);
    if (evidence === null) return { gate, state: "missing", evidence: null, elsewhere: local.elsewhere };
    const state: GateState = evidence.passed ? "passed" : evidence.timedOut ? "timed-out" : "failed";
    return { gate, state, evidence, elsewhere: null };
  });
}

/**
 * Whether a task can have any gate at all: project gates or acceptance commands are declared, or it has `verify:`
 * commands. False lets `keel tasks done` skip loading the project's specs.
 */
export function mayHaveGates(config: KeelConfig, task: { verification: string[] }): boolean {
  return (
    Object.keys(config.gateSpecs).length > 0 ||
    Object.keys(config.acceptance).length > 0 ||
    task.verification.length > 0
  );
}

/** The backpressure check of `keel tasks done <key>`: every gate of the task on the tree as it is now. */
export async function checkTaskGates(ctx: GateContext, key: string): Promise<TaskGateCheck> {
  const tree = await treeState(ctx.root);
  const statuses = await gateStatuses(ctx, selectForTask(ctx, key).gates, tree);
  return { task: key, tree, gates: statuses, ok: statuses.every((s) => s.state === "passed") };
}

/** `abc1234 (clean)`, `abc1234 + uncommitted changes 9f8e7d6c`, `no commit`: the tree, for messages. */
export function describeTree(tree: TreeState): string {
  if (!tree.git) return "this folder (not a git repository)";
  const at = tree.commit ? `commit ${tree.commit.slice(0, 12)}` : "no commit yet";
  return tree.dirty ? `${at} with uncommitted changes ${tree.digest?.slice(0, 12)}` : `${at} (clean tree)`;
}

/** One line per gate that is not passing, for the refusal. */
export function describeFailures(check: TaskGateCheck): string[] {
  return check.gates
    .filter((s) => s.state !== "passed")
    .map((s) => {
      const e = s.evidence;
      if (s.state === "failed")
        return `${s.gate.name}: failed (exit ${e?.exitCode ?? "killed"}) — evidence #${e?.id}`;
      if (s.state === "timed-out") return `${s.gate.name}: timed out — evidence #${e?.id}`;
      const last = s.elsewhere;
      const where = last
        ? `; last run ${last.passed ? "passed" : "failed"} on ${last.commit ? last.commit.slice(0, 12) : "no commit"}${last.dirty ? " with other uncommitted changes" : ""}`
        : "";
      return `${s.gate.name}: no evidence on this tree${where}`;
    });
}

/** Error code of a completion refused because the task's gates lack passing evidence (exit 7). */
export const GATES_NOT_PASSING = "gates-not-passing";

/** The refusal of `done`: which gates are failing or missing on this tree; `then` says what to do after verify. */
export function gatesRefusal(check: TaskGateCheck, then: string): KeelError {
  const failing = describeFailures(check);
  return new KeelError(
    `task ${check.task} is not done: ${failing.length} of ${check.gates.length} gate${check.gates.length === 1 ? "" : "s"} ${failing.length === 1 ? "has" : "have"} no passing evidence on ${describeTree(check.tree)}:\n${failing.map((f) => `    - ${f}`).join("\n")}`,
    EXIT.gates,
    `run \`keel verify --task ${check.task}\`, then ${then}`,
    undefined,
    GATES_NOT_PASSING,
  );
}
