// `keel verify` as a core operation: take the tree's state, run the selected gates, record one evidence row per
// gate as it finishes, then one audit event for the run. Surfaces (CLI, MCP, server) call this.
// @req TRC-5
import { randomUUID } from "node:crypto";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import type { Actor } from "../../workspace/actor.js";
import { actorLabel } from "../../workspace/actor.js";
import { type TreeState, treeState } from "../../workspace/git-tree.js";
import { type Evidence, recordEvidence } from "./evidence.js";
import type { Gate, Selection } from "./gates.js";
import { type GateRun, gateResult, passed, type RunOptions, runGates } from "./run.js";

export * from "./backpressure.js";
export * from "./evidence.js";
export * from "./gates.js";
export * from "./run.js";

export interface VerifyOptions {
  actor: Actor;
  /** The task key the run is for (`--task`), recorded on every row. */
  task?: string | null;
  /**
   * The project whose store records the evidence, when the gates run in another checkout of it (`keel run` runs
   * them in a task's worktree); default: `root`.
   */
  storeRoot?: string;
  /** Extra environment for every gate. */
  env?: NodeJS.ProcessEnv;
  wrap?: RunOptions["wrap"];
  /** The store of `storeRoot`, when the caller keeps it open. */
  state?: StateDb;
  /** Replaces every selected gate's timeout. */
  timeoutMs?: number | null;
  concurrency?: number;
  graceMs?: number;
  onStart?: RunOptions["onStart"];
  onFinish?: (run: GateRun, evidence: Evidence) => void;
}

export interface VerifyResult {
  run: string;
  tree: TreeState;
  /** The tree's state after the gates ran, when it differs from the state before (someone changed files). */
  treeAfter: TreeState | null;
  results: Array<{ gate: Gate; run: GateRun; evidence: Evidence }>;
  passed: boolean;
}

function sameTree(a: TreeState, b: TreeState): boolean {
  return a.commit === b.commit && a.dirty === b.dirty && a.digest === b.digest;
}

export async function verify(
  root: string,
  selection: Selection,
  options: VerifyOptions,
): Promise<VerifyResult> {
  const gates =
    options.timeoutMs != null
      ? selection.gates.map((g) => ({ ...g, timeoutMs: options.timeoutMs as number }))
      : selection.gates;
  const tree = await treeState(root);
  const run = randomUUID();
  const actor = actorLabel(options.actor);
  const storeRoot = options.storeRoot ?? root;
  const state = options.state ?? StateDb.open(storeRoot);
  try {
    const evidence = new Map<Gate, Evidence>();
    const runs = await runGates(gates, {
      root,
      ...(options.env ? { env: options.env } : {}),
      ...(options.wrap ? { wrap: options.wrap } : {}),
      ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
      ...(options.graceMs !== undefined ? { graceMs: options.graceMs } : {}),
      ...(options.onStart ? { onStart: options.onStart } : {}),
      onFinish: (r) => {
        const row = recordEvidence(state, {
          run,
          gate: r.gate.name,
          kind: r.gate.kind,
          command: r.gate.command,
          cwd: r.gate.cwd,
          exitCode: r.exitCode,
          timedOut: r.timedOut,
          durationMs: r.durationMs,
          startedAt: r.startedAt.toISOString(),
          tree,
          requirements: r.gate.requirements,
          task: options.task ?? null,
          outputTail: r.output.tail,
          outputDigest: r.output.digest,
          outputBytes: r.output.bytes,
          actor,
        });
        evidence.set(r.gate, row);
        options.onFinish?.(r, row);
      },
    });
    const after = await treeState(root);
    const results = runs.map((r) => ({ gate: r.gate, run: r, evidence: evidence.get(r.gate) as Evidence }));
    const ok = runs.every(passed);
    state.exclusive(() => {
      appendEvent(state, storeRoot, {
        actor,
        actorKind: options.actor.kind,
        action: "verify.run",
        target: selection.scope.target ?? selection.scope.kind,
        after: ok ? "passed" : "failed",
        data: {
          run,
          scope: selection.scope.kind,
          commit: tree.commit,
          dirty: tree.dirty,
          ...(tree.digest ? { treeDigest: tree.digest } : {}),
          gates: results.map((r) => ({
            gate: r.gate.name,
            evidence: r.evidence.id,
            result: gateResult(r.run),
            exitCode: r.run.exitCode,
          })),
          ...(options.actor.tool ? { tool: options.actor.tool } : {}),
          ...(options.actor.model ? { model: options.actor.model } : {}),
        },
      });
    });
    return { run, tree, treeAfter: sameTree(tree, after) ? null : after, results, passed: ok };
  } finally {
    if (!options.state) state.close();
  }
}
