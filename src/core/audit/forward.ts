// In team mode the team store's chain is the project's audit log, yet some writes are still recorded first in the
// checkout's own log (`.keel/state.db`), in the same SQLite transaction as what they record: spec edits, changes
// and their conflicts, trace acknowledgements, gate evidence, policy refusals. Each is forwarded into the team's
// chain after the write, and the gate evidence rows with them, so a gate run on one machine counts on every server.
// It is a transactional outbox: the local log is the outbox, and the team store keeps the mark of how far it has
// taken each checkout's log, so every event arrives once however many processes forward it. A team store that
// cannot be reached loses nothing: the events wait in the local log for the next forward.
// @req TEAM-4, TEAM-12, TEAM-13
import { existsSync } from "node:fs";
import { join } from "node:path";
import { storeIdOf } from "../../store/anchor.js";
import type { CoordinationStore, EvidenceRow } from "../../store/coordination.js";
import { STATE_DIR } from "../../store/index-db.js";
import { eventsBetween, latestSeq } from "../../store/sqlite/audit-log.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import { coalesced } from "../../workspace/coalesce.js";
import { pushConflicts } from "../changes/conflict-sync.js";

/** Events forwarded per transaction: a long backlog goes over in parts, each committed with its mark. */
const PART = 500;

export interface Forwarded {
  /** Events taken into the team chain now. */
  forwarded: number;
  /** The checkout's log's last event the team chain holds. */
  upTo: number;
}

/**
 * Forwards the events of the checkout's own log that the team store has not taken yet. `known` is how far the
 * caller last saw it taken (a server remembers it, so a write that added no local event costs no query).
 */
export async function forwardOwnLog(root: string, store: CoordinationStore, known = 0): Promise<Forwarded> {
  if (store.kind === "sqlite" || !existsSync(join(root, STATE_DIR, STATE_FILE)))
    return { forwarded: 0, upTo: 0 };
  const state = StateDb.open(root);
  try {
    const origin = storeIdOf(state.db);
    const latest = latestSeq(state);
    if (origin === null || latest <= known) return { forwarded: 0, upTo: known };
    // Evidence and conflict records first: the events then never arrive before the rows they speak of.
    await forwardEvidenceRows(state, origin, store);
    await pushConflicts(state, store);
    let upTo = await store.forwarded(origin);
    let forwarded = 0;
    while (upTo < latest) {
      const part = eventsBetween(state, upTo, Math.min(latest, upTo + PART));
      const next = await store.forward(origin, part);
      forwarded += part.filter((e) => e.seq > upTo && e.seq <= next).length;
      upTo = next;
    }
    return { forwarded, upTo };
  } finally {
    state.close();
  }
}

/** The checkout's gate evidence the team store has not taken yet, in parts. */
async function forwardEvidenceRows(state: StateDb, origin: string, store: CoordinationStore): Promise<void> {
  const after = state.db.prepare("SELECT * FROM evidence WHERE id > ? ORDER BY id LIMIT ?");
  let upTo = await store.forwardedEvidence(origin);
  for (;;) {
    const part = after.all(upTo, PART) as EvidenceRow[];
    if (part.length === 0) return;
    upTo = await store.forwardEvidence(origin, part);
  }
}

/**
 * A long-lived process's forwarder (a team server): forwards coalesced, so a burst of writes costs one or two, and
 * remembers how far the team chain holds this checkout's log, so a write that logged nothing here costs no query.
 */
export class LogForwarder {
  #upTo = 0;
  readonly nudge: () => Promise<void>;

  constructor(root: string, store: CoordinationStore, onError: (e: unknown) => void) {
    this.nudge = coalesced(async () => {
      try {
        this.#upTo = Math.max(this.#upTo, (await forwardOwnLog(root, store, this.#upTo)).upTo);
      } catch (e) {
        onError(e);
      }
    });
  }
}
