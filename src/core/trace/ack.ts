// `keel trace ack`: a person reviewed suspect links and says why they still hold. Each ack is written to the
// committed keel/trace-acks.yaml at the requirement's current fingerprint, and audited, under the state lock so
// two reviewers never lose each other's acks. Reviewing intent is a human act, as approving a change is; an agent's
// attempt is refused and audited (`trace.ack.refused`).

import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import type { Actor } from "../../workspace/actor.js";
import { actorLabel } from "../../workspace/actor.js";
import { EXIT, KeelError, usageError } from "../../workspace/errors.js";
import { type Ack, readAcks, writeAcks } from "./acks.js";
import type { TraceReport } from "./report.js";
import type { JudgedLink } from "./state.js";

/**
 * The suspect links a reference names: `REQ` (all of its suspect links), `REQ@path` (those in one file or commit),
 * or a whole link ID (`REQ path kind`).
 */
export function selectSuspect(report: TraceReport, ref: string): JudgedLink[] {
  const [req, file] = ref.includes("@")
    ? (ref.split("@", 2) as [string, string])
    : [ref.split(" ")[0] as string, null];
  const r = report.requirements.find((x) => x.id === req);
  if (!r)
    throw usageError(
      `no requirement ${req}`,
      "name a requirement ID, `REQ@path`, or a link ID from `keel trace`",
    );
  const links = [...r.implementations, ...r.tests, ...r.docs, ...r.commits].filter(
    (l) => l.state === "suspect",
  );
  const chosen = links.filter((l) => (ref.includes(" ") ? l.id === ref : file === null || l.file === file));
  if (chosen.length === 0)
    throw usageError(
      `no suspect link matches ${ref}`,
      `\`keel trace ${req}\` lists its links and their states`,
    );
  return chosen;
}

export function ackLinks(
  root: string,
  links: JudgedLink[],
  actor: Actor,
  reason: string,
  now = new Date(),
): Ack[] {
  if (actor.kind !== "human") throw refuseAck(root, links, actor, now);
  if (reason.trim() === "") throw usageError("trace ack needs --reason", "say why the links still hold");
  const acks: Ack[] = links.map((l) => ({
    link: l.id,
    fingerprint: l.current as string,
    by: actorLabel(actor),
    at: now.toISOString(),
    reason: reason.trim(),
  }));
  const state = StateDb.open(root);
  try {
    state.exclusive(() => {
      writeAcks(root, readAcks(root), acks);
      for (const a of acks)
        appendEvent(
          state,
          root,
          {
            actor: a.by,
            actorKind: actor.kind,
            action: "trace.ack",
            target: a.link,
            after: a.fingerprint,
            reason: a.reason,
          },
          now,
        );
    });
  } finally {
    state.close();
  }
  return acks;
}

/** The refusal of an agent's (or system's) acknowledgement, audited as a refused approval is. */
function refuseAck(root: string, links: JudgedLink[], actor: Actor, now: Date): KeelError {
  const error = new KeelError(
    `${actorLabel(actor)} may not acknowledge links: reviewing a link against changed intent is a human act`,
    EXIT.refused,
    "ask a person to review the link, or propose a change to the code or the requirement",
    undefined,
    "ack-refused",
  );
  const state = StateDb.open(root);
  try {
    state.exclusive(() => {
      for (const l of links)
        appendEvent(
          state,
          root,
          {
            actor: actorLabel(actor),
            actorKind: actor.kind,
            action: "trace.ack.refused",
            target: l.id,
            reason: error.message,
          },
          now,
        );
    });
  } finally {
    state.close();
  }
  return error;
}
