// Findings on a task: what an agent or a person found while working on it (a bug, a gap in a spec, a risk),
// with a severity and, optionally, the requirement it is about. A finding is an event of the audit log
// (`task.finding`), so it is hash-chained with everything else and needs no table of its own; the context pack
// reads a task's findings back from the log and shows them next to its handoff notes.
// @req SRF-7

import { appendEvent } from "../store/sqlite/audit-log.js";
import type { StateDb } from "../store/state-db.js";
import { type Actor, actorLabel } from "../workspace/actor.js";
import { usageError } from "../workspace/errors.js";
import { enforce } from "./policy.js";

export const FINDING_SEVERITIES = ["error", "warning", "info"] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** The audit action a finding is recorded as. */
export const FINDING_ACTION = "task.finding";

export interface TaskFinding {
  task: string;
  severity: FindingSeverity;
  /** The requirement the finding is about, when it names one. */
  requirement: string | null;
  text: string;
  author: string;
  at: string;
  /** The audit event's sequence number. */
  seq: number;
}

export interface NewFinding {
  task: string;
  severity: FindingSeverity;
  requirement?: string | null;
  text: string;
}

/** Records a finding on a task as `actor` (refused to the read-only role, and that refusal audited). */
export function recordFinding(
  state: StateDb,
  root: string,
  actor: Actor,
  f: NewFinding,
  now: Date,
): TaskFinding {
  if (f.text.trim() === "")
    throw usageError(`a finding on task ${f.task} needs some text`, "say what was found and where");
  if (!(FINDING_SEVERITIES as readonly string[]).includes(f.severity))
    throw usageError(`unknown severity "${f.severity}"`, `use one of ${FINDING_SEVERITIES.join(", ")}`);
  enforce(state, root, actor, "work", {}, { action: FINDING_ACTION, target: f.task });
  const author = actorLabel(actor);
  const requirement = f.requirement ?? null;
  const event = state.exclusive(() =>
    appendEvent(
      state,
      root,
      {
        actor: author,
        actorKind: actor.kind,
        action: FINDING_ACTION,
        target: f.task,
        data: { severity: f.severity, requirement, text: f.text },
      },
      now,
    ),
  );
  return {
    task: f.task,
    severity: f.severity,
    requirement,
    text: f.text,
    author,
    at: event.at,
    seq: event.seq,
  };
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  data: string | null;
}

/** A task's findings, oldest first, from any handle on the state database (a read-only one will do). */
export function taskFindings(
  db: { prepare(sql: string): { all(...params: unknown[]): unknown[] } },
  task: string,
): TaskFinding[] {
  const rows = db
    .prepare("SELECT seq, at, actor, data FROM events WHERE target = ? AND action = ? ORDER BY seq")
    .all(task, FINDING_ACTION) as Row[];
  const out: TaskFinding[] = [];
  for (const r of rows) {
    let data: Record<string, unknown> = {};
    try {
      data = JSON.parse(r.data ?? "{}") as Record<string, unknown>;
    } catch {
      continue; // an event that is not a finding's shape is not shown as one
    }
    const severity = data.severity as FindingSeverity;
    if (!(FINDING_SEVERITIES as readonly string[]).includes(severity) || typeof data.text !== "string")
      continue;
    out.push({
      task,
      severity,
      requirement: typeof data.requirement === "string" ? data.requirement : null,
      text: data.text,
      author: r.actor,
      at: r.at,
      seq: r.seq,
    });
  }
  return out;
}
