// `keel tasks claim|heartbeat|release|done|block|note`: claims with leases and fencing tokens (core/claims.ts),
// done and blocked mirrored into the task's checkbox under the same lock.
import { CLAIM_ERRORS, parseDuration, refusal } from "../../core/claims.js";
import { type ClaimOp, claimedKeys, runClaimOp } from "../../core/tasks/claim-ops.js";
import {
  buildGraph,
  findTask,
  loadTasks,
  readyQueue,
  type TaskGraph,
  takeOrder,
} from "../../core/tasks/index.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findTasksRoot } from "../../workspace/root.js";
import type { CommandContext } from "../command.js";
import { type Io, printJson } from "../output.js";
import { USAGE } from "./tasks.js";

function resolveKey(graph: TaskGraph, ref: string | undefined): string {
  if (ref === undefined) throw usageError("a task id is needed", `usage: ${USAGE}`);
  const found = findTask(graph, ref);
  if (found === null)
    throw refusal(CLAIM_ERRORS.unknown, `unknown task ${ref}`, "list the tasks with `keel tasks list`");
  if ("ambiguous" in found) {
    throw usageError(
      `task id ${ref} is ambiguous: ${found.ambiguous.join(", ")}`,
      "qualify it with its scope, e.g. `<scope>/<id>`",
    );
  }
  return found.key;
}

export function claimCommand(
  io: Io,
  global: CommandContext["global"],
  sub: string,
  args: string[],
  values: { as?: string; ttl?: string; token?: string; reason?: string; next?: boolean },
): ExitCode {
  const project = findTasksRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  // Built only when a task is named: `claim --next` takes its candidates from the cached ready queue.
  let built: TaskGraph | null = null;
  const graph = (): TaskGraph => {
    built ??= buildGraph(loadTasks(project.root));
    return built;
  };
  const actor = actorLabel(resolveActor(config, { flag: values.as, cwd: global.cwd }));
  const now = new Date();
  const ttlMs = parseDuration(values.ttl ?? "15m");
  const token = (): number => {
    if (values.token === undefined || !/^\d+$/.test(values.token)) {
      throw usageError(`tasks ${sub} needs --token N`, "use the fencing token `keel tasks claim` returned");
    }
    return Number(values.token);
  };
  let op: ClaimOp;
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
    if (sub === "heartbeat") op = { op: "heartbeat", key, token: token(), ttlMs };
    else if (sub === "block") {
      if (!values.reason) throw usageError("tasks block needs --reason", "say why the task cannot go on");
      op = { op: "block", key, token: token(), reason: values.reason };
    } else op = { op: sub as "release" | "done", key, token: token() };
  }
  const result = runClaimOp(project.root, (key) => graph().nodes.get(key)?.task, op, now);
  if (global.json) {
    printJson(io, { version: 1, [sub]: result });
    return EXIT.ok;
  }
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
