// `keel tasks claim|heartbeat|release|done|block|note`: claims with leases and fencing tokens (core/claims.ts),
// done and blocked mirrored into the task's checkbox under the same lock. `done` is held back until the task's
// gates pass on the tree as it is (core/verify/backpressure.ts), unless a human overrides with a reason.
// @req TSK-6, TSK-7, TSK-8
import { parseDuration } from "../../core/claims.js";
import {
  type ClaimOp,
  claimedKeys,
  type GateOverride,
  holdsClaim,
  refuseOverride,
  resolveTaskKey,
  runClaimOp,
} from "../../core/tasks/claim-ops.js";
import { buildGraph, loadTasks, readyQueue, type TaskGraph, takeOrder } from "../../core/tasks/index.js";
import {
  checkTaskGates,
  describeFailures,
  describeTree,
  gatesRefusal,
  loadGateContext,
  mayHaveGates,
  type TaskGateCheck,
} from "../../core/verify/index.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { treeState } from "../../workspace/git-tree.js";
import { findTasksRoot } from "../../workspace/root.js";
import type { CommandContext } from "../command.js";
import { type Io, printJson } from "../output.js";
import { USAGE } from "./tasks.js";

// @req TSK-9
function resolveKey(graph: TaskGraph, ref: string | undefined): string {
  if (ref === undefined) throw usageError("a task id is needed", `usage: ${USAGE}`);
  return resolveTaskKey(graph, ref, "list the tasks with `keel tasks list`");
}

export async function claimCommand(
  io: Io,
  global: CommandContext["global"],
  sub: string,
  args: string[],
  values: { as?: string; ttl?: string; token?: string; reason?: string; next?: boolean; override?: boolean },
): Promise<ExitCode> {
  const project = findTasksRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  // Built only when a task is named: `claim --next` takes its candidates from the cached ready queue.
  let built: TaskGraph | null = null;
  const graph = (): TaskGraph => {
    built ??= buildGraph(loadTasks(project.root));
    return built;
  };
  const who = resolveActor(config, { flag: values.as, cwd: global.cwd });
  const actor = actorLabel(who);
  const now = new Date();
  const ttlMs = parseDuration(values.ttl ?? "15m");
  const token = (): number => {
    if (values.token === undefined || !/^\d+$/.test(values.token)) {
      throw usageError(`tasks ${sub} needs --token N`, "use the fencing token `keel tasks claim` returned");
    }
    return Number(values.token);
  };
  let op: ClaimOp;
  let checked: TaskGateCheck | null = null;
  if (sub === "claim") {
    if (values.next ? args.length > 0 : args.length !== 1) {
      throw usageError("tasks claim takes one task id, or --next", `usage: ${USAGE}`);
    }
    op = {
      op: "claim",
      key: values.next ? null : resolveKey(graph(), args[0]),
      // Evaluated under the lock, so readiness and the claim see the same state.
      candidates: () => takeOrder(readyQueue(project.root, claimedKeys(project.root, now))).map((v) => v.key),
      holder: actor,
      ttlMs,
    };
  } else if (sub === "note") {
    if (args.length < 2) throw usageError("tasks note needs a task id and a text", `usage: ${USAGE}`);
    op = { op: "note", key: resolveKey(graph(), args[0]), text: args.slice(1).join(" "), author: actor };
  } else {
    if (args.length !== 1) throw usageError(`tasks ${sub} takes one task id`, `usage: ${USAGE}`);
    const key = resolveKey(graph(), args[0]);
    if (values.override && sub !== "done")
      throw usageError("--override applies to `keel tasks done` only", `usage: ${USAGE}`);
    if (sub === "heartbeat") op = { op: "heartbeat", key, token: token(), ttlMs };
    else if (sub === "block") {
      if (!values.reason) throw usageError("tasks block needs --reason", "say why the task cannot go on");
      op = { op: "block", key, token: token(), reason: values.reason };
    } else if (sub === "done") {
      if (values.override && !values.reason?.trim())
        throw usageError(
          "--override needs --reason",
          'say why the task is done without passing gates: --reason "…"',
        );
      op = { op: "done", key, token: token() };
      // A token that would not pass the fence is refused by the claim store (exit 6) before gates are looked at.
      if (holdsClaim(project.root, key, op.token, now)) {
        const task = graph().nodes.get(key)?.task;
        checked =
          task && !mayHaveGates(config, task)
            ? { task: key, tree: await treeState(project.root), gates: [], ok: true }
            : await checkTaskGates(
                loadGateContext(project.root, { explicitRoot: true, graph: graph() }),
                key,
              );
        if (!checked.ok) {
          if (!values.override)
            throw gatesRefusal(
              checked,
              '`keel tasks done` again; a human may override with --override --reason "…"',
            );
          const override: GateOverride = {
            actor,
            actorKind: who.kind,
            reason: (values.reason as string).trim(),
            gates: checked.gates
              .filter((g) => g.state !== "passed")
              .map((g) => ({ gate: g.gate.name, state: g.state, evidence: g.evidence?.id ?? null })),
            commit: checked.tree.commit,
            dirty: checked.tree.dirty,
          };
          if (who.kind !== "human") refuseOverride(project.root, key, override);
          op.override = override;
        }
      }
    } else op = { op: "release", key, token: token() };
  }
  const result = runClaimOp(project.root, (key) => graph().nodes.get(key)?.task, op, now);
  if (global.json) {
    printJson(io, {
      version: 1,
      [sub]: result,
      ...(checked
        ? { gates: gatesJson(checked), overridden: op.op === "done" && op.override !== undefined }
        : {}),
    });
    return EXIT.ok;
  }
  if (checked && op.op === "done" && op.override)
    io.err(
      `warning: ${describeFailures(checked).length} gate(s) not passing on ${describeTree(checked.tree)}; overridden by ${actor}: ${op.override.reason}`,
    );
  if (result === null) io.out("no task is ready");
  else if ("note" in result) io.out(`noted on ${args[0]}`);
  else if (
    "token" in result &&
    "leaseUntil" in result &&
    sub !== "release" &&
    sub !== "done" &&
    sub !== "block"
  ) {
    io.out(
      `${sub === "heartbeat" ? "extended" : "claimed"} ${result.taskId} · token ${result.token} · lease until ${result.leaseUntil}`,
    );
  } else io.out(`${sub === "done" ? "done" : sub === "block" ? "blocked" : "released"}: ${result.taskId}`);
  return EXIT.ok;
}

function gatesJson(check: TaskGateCheck) {
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
