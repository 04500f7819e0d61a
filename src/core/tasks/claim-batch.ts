// Group commit for the claim store in a long-lived process (`keel serve`, `keel mcp`). Claim operations that
// arrive while a batch is being written are queued and run together as the next batch: one write transaction on
// one connection kept open, one append and flush of the audit segment, one WAL sync. Each caller is answered only
// after its batch committed, so every answer is as durable as one written alone; each operation is a savepoint of
// its own, so a refused one (a stale token) rolls back alone and the others commit.
// @req DMN-7
import { StateDb } from "../../store/state-db.js";
import type { Actor } from "../../workspace/actor.js";
import { type ClaimOp, type LocateTask, runClaimOp } from "./claim-ops.js";

type Outcome = ReturnType<typeof runClaimOp>;

interface Queued {
  locate: LocateTask;
  op: ClaimOp;
  now: Date;
  actor: Actor;
  resolve(outcome: Outcome): void;
  reject(error: unknown): void;
}

export class ClaimBatcher {
  #state: StateDb | null = null;
  #queue: Queued[] = [];
  #scheduled = false;

  constructor(readonly root: string) {}

  run(locate: LocateTask, op: ClaimOp, now: Date, actor: Actor): Promise<Outcome> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ locate, op, now, actor, resolve, reject });
      if (this.#scheduled) return;
      this.#scheduled = true;
      // After the requests already read from their sockets have queued theirs: they share this batch.
      setImmediate(() => this.#flush());
    });
  }

  close(): void {
    this.#state?.close();
    this.#state = null;
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#queue.splice(0);
    const results: Array<{ ok: true; value: Outcome } | { ok: false; error: unknown }> = [];
    try {
      const state = this.#open();
      state.exclusive(() => {
        for (const q of batch) {
          try {
            results.push({ ok: true, value: runClaimOp(this.root, q.locate, q.op, q.now, q.actor, state) });
          } catch (error) {
            results.push({ ok: false, error });
          }
        }
      });
    } catch (error) {
      // The batch did not commit (the disk, a replaced store file): none of it happened, and every caller hears why.
      this.close();
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => {
      const r = results[i] as (typeof results)[number];
      if (r.ok) q.resolve(r.value);
      else q.reject(r.error);
    });
  }

  #open(): StateDb {
    if (this.#state) {
      try {
        this.#state.assertUnchanged();
        return this.#state;
      } catch {
        this.close(); // replaced or deleted under us: a new connection sees the file now there
      }
    }
    this.#state = StateDb.open(this.root);
    return this.#state;
  }
}

let installed: ClaimBatcher | null = null;

/** Makes this process group its claim operations on `root` (null: each runs alone again, as in the CLI). */
export function installClaimBatching(root: string | null): ClaimBatcher | null {
  installed?.close();
  installed = root === null ? null : new ClaimBatcher(root);
  return installed;
}

/** Runs one claim operation: in the next group when this process groups them, else at once, alone. */
export function runClaimOpGrouped(
  root: string,
  locate: LocateTask,
  op: ClaimOp,
  now: Date,
  actor: Actor,
): Promise<Outcome> {
  if (installed?.root === root) return installed.run(locate, op, now, actor);
  return Promise.resolve().then(() => runClaimOp(root, locate, op, now, actor));
}
