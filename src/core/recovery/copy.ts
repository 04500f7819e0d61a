// `keel store copy`: a project's coordination state moved between the embedded store and a team store, either way.
// Rows move as they are (the two schemas keep the same columns), the chain keeps its name (store ID), and the copy
// appends its own `store.copy` event to the chain it continues, so the target verifies and says where it came from.
// @req TEAM-6
import { type ActorKind, type AuditEvent, type VerifyResult, walkChain } from "../../store/audit-chain.js";
import type { CoordinationStore } from "../../store/coordination.js";

/** What the team store does not hold yet: these stay in each machine's `.keel/state.db`, and a copy leaves them. */
export const NOT_COPIED = ["gate evidence", "conflict records", "work-loop runs"] as const;

export interface CopyResult {
  from: string;
  to: string;
  storeId: string;
  events: number;
  claims: number;
  notes: number;
  fencing: number;
  tokens: number;
  /** The copy's own event in the target. */
  event: AuditEvent;
  /** The target's chain, walked once the copy committed. */
  verified: VerifyResult;
  notCopied: readonly string[];
}

export async function copyStore(
  from: CoordinationStore,
  to: CoordinationStore,
  by: { actor: string; actorKind: ActorKind },
  now: Date,
): Promise<CopyResult> {
  const dump = await from.dump();
  const counts = {
    events: dump.events.length,
    claims: dump.claims.length,
    notes: dump.notes.length,
    fencing: dump.fencing,
    tokens: dump.tokens.length,
  };
  const event = await to.load(
    dump,
    {
      ...by,
      action: "store.copy",
      target: `store:${dump.storeId}`,
      data: { from: from.where, to: to.where, ...counts, notCopied: [...NOT_COPIED] },
    },
    now,
  );
  const verified = walkChain(await to.chain(), null);
  return {
    from: from.where,
    to: to.where,
    storeId: dump.storeId,
    ...counts,
    event,
    verified,
    notCopied: NOT_COPIED,
  };
}
