// Intent across machines, for a team server (docs/team.md): each server works on its own checkout, and git carries
// what they write. A write of intent through this server (a spec edit, a change proposed, approved, rejected or
// applied, a conflict resolved, a trace acknowledged, a task's checkbox) runs under the team's intent lock: the
// checkout is first brought up to what the others pushed, so the base-fingerprint check of the core sees their
// edits (two servers applying overlapping changes give one apply and one conflict, never two applies), and what it
// wrote is committed and pushed before the next writer starts. Between writes the checkout follows the remote on a
// short interval. A push that cannot land is kept on a branch, recorded in the audit log, and never forced.
// @req TEAM-10
import { pullConflicts } from "../core/changes/conflict-sync.js";
import type { CoordinationStore } from "../store/coordination.js";
import { type CatchUp, catchUp, type Published, publish, upstreamOf } from "../workspace/git-sync.js";

/** How often a team server fetches between writes; KEEL_TEAM_FETCH_MS sets it (a webhook could, too). */
const DEFAULT_FETCH_MS = 5_000;

export class IntentSync {
  /** git work on the checkout, one at a time (a write and the interval's fetch never overlap). */
  #queue: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  /** The last catch-up's outcome, so a checkout that cannot follow is reported once, not on every interval. */
  #last: CatchUp = "current";

  private constructor(
    private readonly root: string,
    private readonly upstream: string,
    private readonly store: CoordinationStore,
    private readonly onPublished: (outcome: Published, label: string) => Promise<void>,
  ) {}

  /** Null unless the project is on a team store and its checkout tracks a remote branch. */
  static start(
    root: string,
    store: CoordinationStore,
    onPublished: (outcome: Published, label: string) => Promise<void>,
  ): IntentSync | null {
    const upstream = store.kind === "postgres" ? upstreamOf(root) : null;
    if (upstream === null) return null;
    const sync = new IntentSync(root, upstream, store, onPublished);
    const every = Number(process.env.KEEL_TEAM_FETCH_MS) || DEFAULT_FETCH_MS;
    sync.#timer = setInterval(() => void sync.#serial(() => sync.#follow()), every);
    sync.#timer.unref();
    return sync;
  }

  /** Runs a write of intent: caught up first, published after, under the team's intent lock. */
  write<T>(label: string, fn: () => Promise<T>): Promise<T> {
    return this.#serial(() =>
      this.store.exclusiveIntent(async () => {
        await this.#follow();
        // The team's conflict records too: one recorded through another server may be what this write resolves.
        await pullConflicts(this.root, this.store);
        const result = await fn();
        const outcome = await publish(this.root, this.upstream, `keel: ${label}`);
        await this.onPublished(outcome, label);
        return result;
      }),
    );
  }

  /**
   * Brings the checkout up to the remote. One that cannot follow (edited by hand, or diverged) is said on stderr:
   * the server goes on answering from what it has, and its next write of intent is committed on top of the edits.
   */
  async #follow(): Promise<void> {
    const outcome = await catchUp(this.root, this.upstream);
    if (outcome !== this.#last && (outcome === "dirty" || outcome === "diverged"))
      process.stderr.write(
        `keel serve: the checkout cannot follow ${this.upstream}: ${outcome === "dirty" ? "it has edits not made through this server (commit or remove them)" : "its history diverged from the remote's"}\n`,
      );
    this.#last = outcome;
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => {});
    return run;
  }
}
