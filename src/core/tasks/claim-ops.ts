// Claims on tasks of the graph, with the task's status mirrored into its file so progress shows in git: the
// checkbox of a Markdown task, the `status` value of a Task Master task. The write happens in the same locked
// transaction as the claim change: if the file cannot be written, the claim change is rolled back, and a
// concurrent edit of the file is never overwritten (the file is re-read and re-parsed under the lock, and only
// the one checkbox character or status value changes). A layout Keel does not write (Beads) keeps the state in
// Keel's own store only.
// @req TSK-8, LAY-5, LAY-6
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LAYOUT_INFO } from "../../format/layouts/info.js";
import {
  keelStatusToTaskmaster,
  parseTaskmaster,
  setTaskmasterStatus,
} from "../../format/layouts/taskmaster.js";
import { parseTasks } from "../../format/tasks.js";
import type { AuditInput } from "../../store/audit-chain.js";
import type { ClaimNote, Finish } from "../../store/claim-rules.js";
import type {
  ClaimResult,
  ClaimStep,
  ClaimWork,
  CoordinationStore,
  Settled,
} from "../../store/coordination.js";
import { STATE_DIR } from "../../store/index-db.js";
import type { ActorKind } from "../../store/sqlite/audit-log.js";
import { CLAIM_ERRORS, Claims, type ClaimView, type Grant, refusal } from "../../store/sqlite/claims.js";
import { runClaimWork } from "../../store/sqlite/coordination.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import type { Actor } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { authorize, type Decision, enforceDecision } from "../policy.js";
import { mirroredClosed, mirroredHeld } from "./claim-mirror.js";
import type { IsClaimed, TaskGraph } from "./graph.js";
import type { LoadedTask } from "./load.js";
import { lookupTask, taskLookupError } from "./lookup.js";

/**
 * The checkbox of each lasting state, the states written into task files. A claim itself is not written: it is
 * transient (a lease), writing it would churn the file on every claim, and a `[-]` (or Task Master's
 * `in-progress`) left by an expired lease would keep the task from ready, since Keel reads it back as in progress.
 */
const MARK = { done: "x", blocked: "!" } as const;

type LastingStatus = keyof typeof MARK;

/** Tasks held under a live lease, or closed by a claim (done or blocked), as of `now`. */
export function claimedKeys(root: string, now: Date): IsClaimed {
  const mirrored = mirroredHeld(root, now);
  if (mirrored) return (key) => mirrored.has(key);
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return () => false;
  const state = StateDb.open(root);
  try {
    const held = new Set(new Claims(state, root).heldKeys(now));
    return (key) => held.has(key);
  } finally {
    state.close();
  }
}

/**
 * Tasks closed (done or blocked) in Keel's state, for the layouts Keel never writes (Beads): there the file
 * cannot say so, so the state is the task's status. Empty when there is no state database.
 */
export function keelClosed(root: string): Map<string, "done" | "blocked"> {
  const mirrored = mirroredClosed(root);
  if (mirrored) return mirrored;
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return new Map();
  const state = StateDb.open(root);
  try {
    return new Claims(state, root).closed();
  } finally {
    state.close();
  }
}

/** Whether `token` is the current token of a live-or-expired claim on `key`, i.e. `done` would pass the fence. */
export async function holdsClaim(
  store: CoordinationStore,
  key: string,
  token: number,
  now: Date,
): Promise<boolean> {
  const claim = await store.claimOf(key, now);
  return claim !== null && claim.token === token && claim.status === "claimed";
}

/** A human's override of a task's backpressure, recorded with `done` as a `task.done.override` event. */
export interface GateOverride {
  actor: string;
  actorKind: ActorKind;
  reason: string;
  /** The gates that were not passing, as the check saw them. */
  gates: Array<{ gate: string; state: string; evidence: number | null }>;
  commit: string | null;
  dirty: boolean;
}

/** Error code of an override an agent (or system) asked for: overriding backpressure is a human act. */
export const OVERRIDE_REFUSED = "override-human-only";

/** Records an override refused to a non-human actor (`task.done.override.refused`), then throws exit 5. */
export async function refuseOverride(
  store: CoordinationStore,
  key: string,
  override: GateOverride,
): Promise<never> {
  await store.append(
    [
      {
        actor: override.actor,
        actorKind: override.actorKind,
        action: "task.done.override.refused",
        target: key,
        reason: override.reason,
        data: {
          rule: OVERRIDE_REFUSED,
          gates: override.gates,
          commit: override.commit,
          dirty: override.dirty,
        },
      },
    ],
    new Date(),
  );
  throw new KeelError(
    `refused by rule ${OVERRIDE_REFUSED}: ${override.actor} is ${override.actorKind === "agent" ? "an agent" : `a ${override.actorKind} actor`}; only a human may mark task ${key} done without passing gates`,
    EXIT.refused,
    `make the gates pass (keel verify --task ${key}), or ask a human to override`,
    undefined,
    "refused",
  );
}

/**
 * Where a task is written (from a graph built before the lock; the file is re-read under it), and in which
 * layout: the layout says whether Keel writes the file and how, the scope names a Task Master task's tag.
 */
export type LocateTask = (
  key: string,
) => Pick<LoadedTask, "file" | "id" | "line" | "dialect" | "scope"> | undefined;

export type ClaimOp =
  | {
      op: "claim";
      key: string | null;
      /** Ready tasks in order of preference, given the claimed ones (read under the lock, on its connection). */
      candidates: (isClaimed: IsClaimed) => string[];
      holder: string;
      ttlMs: number;
    }
  | { op: "heartbeat"; key: string; token: number; ttlMs: number }
  | { op: "release"; key: string; token: number }
  | { op: "done"; key: string; token: number; override?: GateOverride }
  | { op: "block"; key: string; token: number; reason: string }
  | { op: "note"; key: string; text: string; author: string };

/** What `runClaimOp` answers: a grant, the claim after the operation, a note's text, or null (nothing ready). */
export type ClaimOutcome = Grant | ClaimView | { note: string } | null;

/**
 * One claim operation as the store runs it. `done` and `block` write the task's lasting status into its file in
 * the store's transaction (a file that cannot be written rolls the claim change back), and an override is
 * recorded with `done`.
 */
export function claimWork(root: string, locate: LocateTask, op: ClaimOp, now: Date): ClaimWork {
  switch (op.op) {
    case "claim":
      return {
        now,
        step: op.key
          ? { op: "claim", key: op.key, holder: op.holder, ttlMs: op.ttlMs }
          : { op: "claim-next", candidates: op.candidates, holder: op.holder, ttlMs: op.ttlMs },
      };
    case "heartbeat":
      return { now, step: { op: "heartbeat", key: op.key, token: op.token, ttlMs: op.ttlMs } };
    case "release":
      return { now, step: finishStep(op.key, op.token, { status: "released", verb: "release" }, null) };
    case "done":
      return {
        now,
        step: finishStep(op.key, op.token, { status: "done", verb: "done" }, null),
        afterStep: () => {
          mirror(root, locate, op.key, "done");
          return op.override ? [overrideEvent(op.key, op.token, op.override)] : [];
        },
      };
    case "block":
      return {
        now,
        step: finishStep(op.key, op.token, { status: "blocked", verb: "block" }, op.reason),
        afterStep: () => {
          mirror(root, locate, op.key, "blocked");
          return [];
        },
      };
    case "note":
      return { now, step: { op: "note", key: op.key, text: op.text, author: op.author } };
  }
}

function finishStep(key: string, token: number, finish: Finish, reason: string | null): ClaimStep {
  return { op: "finish", key, token, finish, reason };
}

function overrideEvent(key: string, token: number, o: GateOverride): AuditInput {
  return {
    actor: o.actor,
    actorKind: o.actorKind,
    action: "task.done.override",
    target: key,
    reason: o.reason,
    data: { token, gates: o.gates, commit: o.commit, dirty: o.dirty },
  };
}

/** The store's answer as the surfaces give it: a note is answered with its text. */
export function claimOutcome(op: ClaimOp, settled: Settled<ClaimResult>): ClaimOutcome {
  if (!settled.ok) throw settled.error;
  const value = settled.value;
  return op.op === "note" ? { note: (value as ClaimNote).text } : (value as Grant | ClaimView | null);
}

/** The role check every claim operation passes first: may `actor` work on tasks? */
export function workDecision(actor: Actor): Decision {
  return authorize(actor, "work", {});
}

export function workAudit(op: ClaimOp): { action: string; target: string } {
  return { action: `task.${op.op}`, target: op.key ?? "next" };
}

/**
 * Runs one claim operation as `actor` on the embedded store, at once (the work loop's workers; the surfaces go
 * through claim-batch.ts, whichever store the project uses). The actor's role is checked here, in the core, so
 * every surface refuses alike: a read-only actor changes nothing (refused with exit 5 and audited as
 * `task.<op>.refused`).
 * @req SRF-13
 */
export function runClaimOp(
  root: string,
  locate: LocateTask,
  op: ClaimOp,
  now: Date,
  actor: Actor,
  /** A store the caller keeps open (a long run makes thousands of these calls); else one is opened here. */
  open?: StateDb,
): ClaimOutcome {
  const state = open ?? StateDb.open(root);
  try {
    enforceDecision(state, root, actor, workDecision(actor), workAudit(op));
    const [settled] = runClaimWork(state, root, [claimWork(root, locate, op, now)]);
    return claimOutcome(op, settled as Settled<ClaimResult>);
  } finally {
    if (!open) state.close();
  }
}

/**
 * Writes a task's lasting status into its file, re-reading the file under the lock. The task is found by its ID
 * in the file, which names one task only (a repeated ID is keyed `<ID>@2`…) and comes from no line number, so
 * lines added or removed meanwhile do not send the status to another task. A layout whose files Keel does not
 * write (Beads: bd owns its export) is left as it is: the status lives in Keel's state only.
 */
function mirror(root: string, locate: LocateTask, key: string, status: LastingStatus): void {
  const where = locate(key);
  if (!where || !LAYOUT_INFO[where.dialect].writesTasks) return;
  const path = join(root, where.file);
  const text = readFileSync(path, "utf8");
  const next =
    where.dialect === "taskmaster"
      ? withTaskmasterStatus(text, where, key, status)
      : withCheckbox(text, where, key, MARK[status]);
  if (next !== text) writeFileAtomic(path, next);
}

type Located = NonNullable<ReturnType<LocateTask>>;

/** The refusal when the task is no longer where the graph (built before the lock) found it. */
function taskMoved(key: string, where: Located): KeelError {
  return new KeelError(
    `task ${key} is no longer in ${where.file}`,
    1,
    "the file changed meanwhile: run the command again",
    { file: where.file, line: where.line, col: 1 },
    "task-moved",
  );
}

/** The Markdown text with the one checkbox character of the task set to `mark`. */
function withCheckbox(text: string, where: Located, key: string, mark: string): string {
  // IDs do not depend on the Markdown dialect (it only adds derived dependencies).
  const task = parseTasks(text).tasks.find((t) => t.id === where.id);
  if (!task) throw taskMoved(key, where);
  let offset = 0;
  for (let l = 1; l < task.line; l++) offset = text.indexOf("\n", offset) + 1;
  const at = offset + task.checkboxCol; // the character after `[`
  if (text[at - 1] !== "[" || text[at] === mark) return text;
  return text.slice(0, at) + mark + text.slice(at + 1);
}

/** The tasks.json text with only the `status` value of the task (in its tag, the task's scope) changed. */
function withTaskmasterStatus(text: string, where: Located, key: string, status: LastingStatus): string {
  const tag = parseTaskmaster(text).tags.find((t) => t.tag === where.scope);
  if (!tag?.tasks.some((t) => t.id === where.id)) throw taskMoved(key, where);
  try {
    return setTaskmasterStatus(text, where.scope, where.id, keelStatusToTaskmaster(status));
  } catch (e) {
    // Invalid JSON or an ID written twice: no one edit is right, so nothing is written and the task stays claimed.
    throw new KeelError(
      `task ${key} cannot be written into ${where.file}: ${(e as Error).message}`,
      1,
      "fix the file (keel validate shows where), then run the command again",
      { file: where.file, line: where.line, col: 1 },
      "task-not-written",
    );
  }
}

/**
 * The task a reference names (a key, or an ID only one task has). An unknown task is a task-queue refusal
 * (exit 6, with the closest names); an ambiguous one is the usage error every surface gives.
 */
export function resolveTaskKey(graph: TaskGraph, ref: string, listHint: string): string {
  const l = lookupTask(graph, ref);
  if ("found" in l) return l.found;
  if ("unknown" in l)
    throw refusal(CLAIM_ERRORS.unknown, `unknown task ${ref}`, taskLookupError(ref, l, listHint).hint);
  throw taskLookupError(ref, l, listHint);
}
