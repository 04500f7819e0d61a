// Claim operations from the surfaces (CLI, REST, MCP), on whichever store the project uses (store/select.ts).
// A long-lived process (`keel serve`, `keel mcp`) groups them: operations that arrive while a batch is being
// written are queued and run together as the next batch, one transaction with a savepoint each (store.claim):
// one commit, one audit append, one sync for many callers. Each caller is answered only after its batch
// committed, so every answer is as durable as one written alone; a refused part rolls back alone.
// @req DMN-7, TEAM-3
import type { ClaimResult, ClaimWork, CoordinationStore, Settled } from "../../store/coordination.js";
import { coordinationStore } from "../../store/select.js";
import type { Actor } from "../../workspace/actor.js";
import type { KeelConfig } from "../../workspace/config.js";
import { enforceInStore } from "../policy.js";
import { refreshClaimMirror } from "./claim-mirror.js";
import {
  type ClaimOp,
  type ClaimOutcome,
  claimOutcome,
  claimWork,
  type LocateTask,
  workAudit,
  workDecision,
} from "./claim-ops.js";

interface Queued {
  work: ClaimWork;
  resolve(settled: Settled<ClaimResult>): void;
  reject(error: unknown): void;
}

export class ClaimBatcher {
  #queue: Queued[] = [];
  #scheduled = false;
  #writing = false;

  constructor(
    readonly root: string,
    readonly store: Promise<CoordinationStore>,
  ) {
    // A store that cannot be opened now is reported to the first caller, not as an unhandled rejection.
    store.catch(() => {});
  }

  run(work: ClaimWork): Promise<Settled<ClaimResult>> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ work, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing) return;
    this.#scheduled = true;
    // After the requests already read from their sockets have queued theirs: they share this batch.
    setImmediate(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#scheduled = false;
    this.#writing = true;
    const batch = this.#queue.splice(0);
    let settled: Array<Settled<ClaimResult>>;
    let store: CoordinationStore;
    try {
      store = await this.store;
      settled = await store.claim(batch.map((q) => q.work));
    } catch (error) {
      // The batch did not commit (the disk, a replaced store file, PostgreSQL gone): none of it happened.
      for (const q of batch) q.reject(error);
      return;
    } finally {
      // The next batch may start as soon as this one committed: the mirror's catch-up below is a read, and the
      // store, not the mirror, decides every claim.
      this.#writing = false;
      if (this.#queue.length > 0) this.#schedule();
    }
    // Answered once this process's ready views show the batch, so a claimant's next read sees its own claim.
    await refreshClaimMirror(this.root, store).catch(() => {});
    for (const [i, q] of batch.entries()) q.resolve(settled[i] as Settled<ClaimResult>);
  }
}

let installed: ClaimBatcher | null = null;

/** Makes this process group its claim operations on `root` (null: each runs alone again, as in the CLI). */
export function installClaimBatching(
  root: string | null,
  config?: Pick<KeelConfig, "store">,
): ClaimBatcher | null {
  installed =
    root === null ? null : new ClaimBatcher(root, coordinationStore(root, config ?? { store: null }));
  return installed;
}

/** The store claim operations on `root` go to: the grouping one's, or the project's. */
export function claimStore(root: string, config: Pick<KeelConfig, "store">): Promise<CoordinationStore> {
  return installed?.root === root ? installed.store : coordinationStore(root, config);
}

/**
 * Runs one claim operation as `actor`: in the next group when this process groups them, else at once, alone. The
 * actor's role is checked first, in the core, so every surface refuses alike (audited as `task.<op>.refused`).
 * @req SRF-13
 */
export async function runClaimOpGrouped(
  root: string,
  config: Pick<KeelConfig, "store">,
  locate: LocateTask,
  op: ClaimOp,
  now: Date,
  actor: Actor,
): Promise<ClaimOutcome> {
  const store = await claimStore(root, config);
  await enforceInStore(store, actor, workDecision(actor), workAudit(op));
  const work = claimWork(root, locate, op, now);
  if (installed?.root === root) return claimOutcome(op, await installed.run(work));
  const [settled] = await store.claim([work]);
  await refreshClaimMirror(root, store);
  return claimOutcome(op, settled as Settled<ClaimResult>);
}
