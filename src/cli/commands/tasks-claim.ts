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
import { type CommandContext, parseFlags } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { printJson } from "../output.js";
import {
  BLOCK_FLAGS,
  BLOCK_USAGE,
  CLAIM_FLAGS,
  CLAIM_USAGE,
  DONE_FLAGS,
  DONE_USAGE,
  HEARTBEAT_FLAGS,
  HEARTBEAT_USAGE,
  NOTE_FLAGS,
  NOTE_USAGE,
  RELEASE_FLAGS,
  RELEASE_USAGE,
} from "./tasks.js";

const HINTS = {
  list: LIST_TASKS,
  again: '`keel tasks done` again; a human may override with --override --reason "…"',
};

function fencingToken(sub: string, token: string | undefined): number {
  if (token === undefined || !/^\d+$/.test(token)) {
    throw usageError(`tasks ${sub} needs --token N`, "use the fencing token `keel tasks claim` returned");
  }
  return Number(token);
}

function oneTask(sub: string, positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw usageError(`tasks ${sub} takes one task id`, `usage: ${usage}`);
  return positionals[0] as string;
}

// Each subcommand checks its arguments before anything is read.

export function claim(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, CLAIM_FLAGS, CLAIM_USAGE);
  if (values.ttl !== undefined) parseDuration(values.ttl);
  if (values.next ? positionals.length > 0 : positionals.length !== 1) {
    throw usageError("tasks claim takes one task id, or --next", `usage: ${CLAIM_USAGE}`);
  }
  const task = values.next ? null : (positionals[0] as string);
  return perform(ctx, { op: "claim", task, ttl: values.ttl }, values.as);
}

export function heartbeat(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, HEARTBEAT_FLAGS, HEARTBEAT_USAGE);
  if (values.ttl !== undefined) parseDuration(values.ttl);
  const task = oneTask("heartbeat", positionals, HEARTBEAT_USAGE);
  const token = fencingToken("heartbeat", values.token);
  return perform(ctx, { op: "heartbeat", task, token, ttl: values.ttl }, values.as);
}

export function release(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, RELEASE_FLAGS, RELEASE_USAGE);
  const task = oneTask("release", positionals, RELEASE_USAGE);
  const token = fencingToken("release", values.token);
  return perform(ctx, { op: "release", task, token }, values.as);
}

export function done(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, DONE_FLAGS, DONE_USAGE);
  const task = oneTask("done", positionals, DONE_USAGE);
  if (values.override && !values.reason?.trim())
    throw usageError(
      "--override needs --reason",
      'say why the task is done without passing gates: --reason "…"',
    );
  const token = fencingToken("done", values.token);
  const override = values.override ? { reason: values.reason as string } : undefined;
  return perform(ctx, { op: "done", task, token, override }, values.as);
}

export function block(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, BLOCK_FLAGS, BLOCK_USAGE);
  const task = oneTask("block", positionals, BLOCK_USAGE);
  if (!values.reason) throw usageError("tasks block needs --reason", "say why the task cannot go on");
  const token = fencingToken("block", values.token);
  return perform(ctx, { op: "block", task, token, reason: values.reason }, values.as);
}

export function note(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, NOTE_FLAGS, NOTE_USAGE);
  if (positionals.length < 2)
    throw usageError("tasks note needs a task id and a text", `usage: ${NOTE_USAGE}`);
  const [task, ...text] = positionals as [string, ...string[]];
  return perform(ctx, { op: "note", task, text: text.join(" ") }, values.as);
}

/** Writes the claim operation as `as` (default KEEL_ACTOR), and says what became of it. */
async function perform(
  { io, global }: CommandContext,
  w: TaskWrite,
  as: string | undefined,
): Promise<ExitCode> {
  const sub = w.op;
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const config = loadConfig(project);
  const who = resolveActor(config, { flag: as, cwd: global.cwd });
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
  else if ("note" in result) io.out(`noted on ${w.task}`);
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
