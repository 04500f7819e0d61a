// Review comments on a change: each one is an event of the hash-chained audit log (`change.comment`), so a
// comment carries its author and time, cannot be edited or removed without breaking the chain, and needs no
// table of its own. Anyone who may work on the project may comment (a read-only principal may not).
// @req WEB-12

import { type ActorKind, appendEvent, listEvents } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { enforce } from "../policy.js";
import { requireChange } from "./load.js";

const COMMENT_ACTION = "change.comment";
export const MAX_COMMENT = 4000;

export interface ChangeComment {
  /** The audit event's sequence number. */
  seq: number;
  at: string;
  /** `kind:name`. */
  by: string;
  kind: ActorKind;
  text: string;
}

/** The comments on a change, oldest first. */
export function listComments(project: ProjectRoot, changeId: string): ChangeComment[] {
  const lc = requireChange(project, changeId);
  const state = StateDb.open(project.root);
  try {
    return listEvents(state, { action: COMMENT_ACTION })
      .filter((e) => e.target === lc.id)
      .map((e) => ({
        seq: e.seq,
        at: e.at,
        by: e.actor,
        kind: e.actorKind,
        text: typeof e.data?.text === "string" ? e.data.text : "",
      }));
  } finally {
    state.close();
  }
}

/** Records a comment on a change (open or archived) in the audit log, as the actor. */
export function addComment(
  project: ProjectRoot,
  actor: Actor,
  changeId: string,
  text: string,
  now = new Date(),
): ChangeComment {
  const body = text.trim();
  if (body === "") throw usageError("a comment needs some text", "write what the reviewer should know");
  if (body.length > MAX_COMMENT)
    throw usageError(`a comment is at most ${MAX_COMMENT} characters`, "split it, or link to a longer note");
  const lc = requireChange(project, changeId);
  const state = StateDb.open(project.root);
  try {
    // A comment is held to the rule of a task note: anyone but a read-only principal.
    enforce(state, project.root, actor, "work", {}, { action: COMMENT_ACTION, target: lc.id });
    const event = state.exclusive(() =>
      appendEvent(
        state,
        project.root,
        {
          actor: actorLabel(actor),
          actorKind: actor.kind,
          action: COMMENT_ACTION,
          target: lc.id,
          data: { text: body, ...(actor.tool ? { tool: actor.tool } : {}) },
        },
        now,
      ),
    );
    return { seq: event.seq, at: event.at, by: event.actor, kind: event.actorKind, text: body };
  } finally {
    state.close();
  }
}
