// Task work, the one implementation behind `keel tasks claim|heartbeat|release|done|block|note`, the MCP tools
// and the REST routes: claim (a named task or the next ready one), heartbeat, release, done, block and note,
// each run by the core's claim store as the acting Actor (whose role the core checks). `done` carries the
// backpressure: refused unless every gate of the task passed on the tree as it is; only a human may override,
// with a reason. Each surface words its own hints (how to list tasks, how to try again).
// @req TSK-6, TSK-7, TSK-8, SRF-10

import { type ClaimView, type Grant, parseDuration } from "../../store/sqlite/claims.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import type { KeelConfig } from "../../workspace/config.js";
import { treeState } from "../../workspace/git-tree.js";
import { claimStore, runClaimOpGrouped } from "../tasks/claim-batch.js";
import {
  type ClaimOp,
  type GateOverride,
  holdsClaim,
  refuseOverride,
  resolveTaskKey,
} from "../tasks/claim-ops.js";
import { readyQueue, type TaskGraph, takeOrder } from "../tasks/index.js";
import { loadTaskGraph } from "../tasks/load.js";
import {
  checkTaskGates,
  gatesRefusal,
  loadGateContext,
  mayHaveGates,
  type TaskGateCheck,
} from "../verify/index.js";

export type TaskWrite =
  | { op: "claim"; task: string | null; ttl?: string | undefined }
  | { op: "heartbeat"; task: string; token: number; ttl?: string | undefined }
  | { op: "release"; task: string; token: number }
  | { op: "done"; task: string; token: number; override?: { reason: string } | undefined }
  | { op: "block"; task: string; token: number; reason: string }
  | { op: "note"; task: string; text: string };

export interface TaskGatesAnswer {
  ok: boolean;
  tree: { commit: string | null; dirty: boolean; digest: string | null };
  gates: Array<{ name: string; kind: string; command: string; state: string; evidence: number | null }>;
}

export interface TaskWriteAnswer {
  version: 1;
  /** What the claim store answered: a grant, the claim's state after the operation, a note, or null. */
  result: Grant | ClaimView | { note: string } | null;
  /** For `done`: the gates as checked (absent when the fencing token was refused first). */
  gates?: TaskGatesAnswer;
  overridden?: boolean;
}

export function gatesAnswer(check: TaskGateCheck): TaskGatesAnswer {
  return {
    ok: check.ok,
    tree: { commit: check.tree.commit, dirty: check.tree.dirty, digest: check.tree.digest },
    gates: check.gates.map((g) => ({
      name: g.gate.name,
      kind: g.gate.kind,
      command: g.gate.command,
      state: g.state,
      evidence: g.evidence?.id ?? null,
    })),
  };
}

/** How a surface tells the caller to find a task, and to try `done` again once the gates pass. */
export interface TaskWriteHints {
  list: string;
  again: string;
}

export interface TaskWriteOutcome {
  answer: TaskWriteAnswer;
  /** For `done`: the gate check itself, for a surface's own wording (absent when the token was refused first). */
  check: TaskGateCheck | null;
}

/** Runs one task operation as `actor`; a refusal of the core (KeelError) is thrown with nothing changed. */
export async function writeTask(
  root: string,
  config: KeelConfig,
  actor: Actor,
  w: TaskWrite,
  hints: TaskWriteHints,
): Promise<TaskWriteOutcome> {
  const label = actorLabel(actor);
  const now = new Date();
  let built: TaskGraph | null = null;
  const graph = (): TaskGraph => {
    built ??= loadTaskGraph(root);
    return built;
  };
  const key = (ref: string) => resolveTaskKey(graph(), ref, hints.list);
  let op: ClaimOp;
  let checked: TaskGateCheck | null = null;
  switch (w.op) {
    case "claim":
      op = {
        op: "claim",
        key: w.task === null ? null : key(w.task),
        // Evaluated under the lock, so readiness and the claim see the same state.
        candidates: (isClaimed) => takeOrder(readyQueue(root, isClaimed)).map((v) => v.key),
        holder: label,
        ttlMs: parseDuration(w.ttl ?? "15m"),
      };
      break;
    case "heartbeat":
      op = { op: "heartbeat", key: key(w.task), token: w.token, ttlMs: parseDuration(w.ttl ?? "15m") };
      break;
    case "release":
      op = { op: "release", key: key(w.task), token: w.token };
      break;
    case "block":
      op = { op: "block", key: key(w.task), token: w.token, reason: w.reason };
      break;
    case "note":
      op = { op: "note", key: key(w.task), text: w.text, author: label };
      break;
    case "done": {
      const done: Extract<ClaimOp, { op: "done" }> = { op: "done", key: key(w.task), token: w.token };
      // A token that would not pass the fence is refused by the claim store before gates are looked at.
      if (await holdsClaim(await claimStore(root, config), done.key, done.token, now)) {
        const task = graph().nodes.get(done.key)?.task;
        checked =
          task && !mayHaveGates(config, task)
            ? { task: done.key, tree: await treeState(root), gates: [], ok: true }
            : await checkTaskGates(loadGateContext(root, { explicitRoot: true, graph: graph() }), done.key);
        if (!checked.ok) {
          if (!w.override) throw gatesRefusal(checked, hints.again);
          const override: GateOverride = {
            actor: label,
            actorKind: actor.kind,
            reason: w.override.reason.trim(),
            gates: checked.gates
              .filter((g) => g.state !== "passed")
              .map((g) => ({ gate: g.gate.name, state: g.state, evidence: g.evidence?.id ?? null })),
            commit: checked.tree.commit,
            dirty: checked.tree.dirty,
          };
          if (actor.kind !== "human")
            await refuseOverride(await claimStore(root, config), done.key, override);
          done.override = override;
        }
      }
      op = done;
      break;
    }
  }
  const result = await runClaimOpGrouped(root, config, (k) => graph().nodes.get(k)?.task, op, now, actor);
  const answer: TaskWriteAnswer = {
    version: 1,
    result,
    ...(checked
      ? { gates: gatesAnswer(checked), overridden: op.op === "done" && op.override !== undefined }
      : {}),
  };
  return { answer, check: checked };
}
