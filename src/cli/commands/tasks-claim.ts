// `keel tasks claim|heartbeat|release|done|block|note`: claims with leases and fencing tokens (store/sqlite/claims.ts),
// done and blocked mirrored into the task's checkbox under the same lock. `done` is held back until the task's
// gates pass on the tree as it is (core/verify/backpressure.ts), unless a human overrides with a reason.
// @req TSK-6, TSK-7, TSK-8
import { type TaskWrite, writeTask } from "../../core/api/tasks.js";
import { describeFailures, describeTree } from "../../core/verify/index.js";
import { parseDuration } from "../../store/sqlite/claims.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import type { CommandContext } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { type Io, printJson } from "../output.js";
import { USAGE } from "./tasks.js";

const HINTS = {
  list: LIST_TASKS,
  again: '`keel tasks done` again; a human may override with --override --reason "…"',
};

/** The operation the command line asks for, its arguments checked before anything is read. */
function requested(sub: string, args: string[], values: ClaimFlags): TaskWrite {
  const token = (): number => {
    if (values.token === undefined || !/^\d+$/.test(values.token)) {
      throw usageError(`tasks ${sub} needs --token N`, "use the fencing token `keel tasks claim` returned");
    }
    return Number(values.token);
  };
  if (values.ttl !== undefined) parseDuration(values.ttl);
  if (sub === "claim") {
    if (values.next ? args.length > 0 : args.length !== 1) {
      throw usageError("tasks claim takes one task id, or --next", `usage: ${USAGE}`);
    }
    return { op: "claim", task: values.next ? null : (args[0] as string), ttl: values.ttl };
  }
  if (sub === "note") {
    if (args.length < 2) throw usageError("tasks note needs a task id and a text", `usage: ${USAGE}`);
    return { op: "note", task: args[0] as string, text: args.slice(1).join(" ") };
  }
  if (args.length !== 1) throw usageError(`tasks ${sub} takes one task id`, `usage: ${USAGE}`);
  const task = args[0] as string;
  if (values.override && sub !== "done")
    throw usageError("--override applies to `keel tasks done` only", `usage: ${USAGE}`);
  if (sub === "heartbeat") return { op: "heartbeat", task, token: token(), ttl: values.ttl };
  if (sub === "block") {
    if (!values.reason) throw usageError("tasks block needs --reason", "say why the task cannot go on");
    return { op: "block", task, token: token(), reason: values.reason };
  }
  if (sub === "done") {
    if (values.override && !values.reason?.trim())
      throw usageError(
        "--override needs --reason",
        'say why the task is done without passing gates: --reason "…"',
      );
    return {
      op: "done",
      task,
      token: token(),
      override: values.override ? { reason: values.reason as string } : undefined,
    };
  }
  return { op: "release", task, token: token() };
}

interface ClaimFlags {
  as?: string;
  ttl?: string;
  token?: string;
  reason?: string;
  next?: boolean;
  override?: boolean;
}

export async function claimCommand(
  io: Io,
  global: CommandContext["global"],
  sub: string,
  args: string[],
  values: ClaimFlags,
): Promise<ExitCode> {
  const w = requested(sub, args, values);
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  const who = resolveActor(config, { flag: values.as, cwd: global.cwd });
  const actor = actorLabel(who);
  const { answer, check: checked } = await writeTask(project.root, config, who, w, HINTS);
  const result = answer.result;
  if (global.json) {
    const { version, result: _, ...gates } = answer;
    printJson(io, { version, [sub]: result, ...gates });
    return EXIT.ok;
  }
  if (checked && answer.overridden && w.op === "done")
    io.err(
      `warning: ${describeFailures(checked).length} gate(s) not passing on ${describeTree(checked.tree)}; overridden by ${actor}: ${w.override?.reason.trim()}`,
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
