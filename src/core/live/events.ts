// The live event feed of `keel serve`: a file watcher on the spec folders and a tail of the audit log, fanned
// out to Server-Sent Events subscribers. Each event is `{ type, data }`; audit events carry their sequence
// number as the SSE id, so a client that reconnects with Last-Event-ID gets what it missed.
// @req SRF-5
import { existsSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { type FSWatcher, watch } from "chokidar";
import { AUDIT_DIR } from "../../store/anchor.js";
import type { AuditEvent } from "../../store/audit-chain.js";
import type { CoordinationStore } from "../../store/coordination.js";
import { DriftWatch } from "./drift-watch.js";

export interface LiveEvent {
  type: string;
  data: Record<string, unknown>;
  /** The audit sequence number, for audit events. */
  id?: number;
}

/**
 * Folders watched for edits, relative to the project root, where they exist: the folders of every layout Keel
 * reads (format/layouts/): its own, OpenSpec's, Spec Kit's (newer and older), Kiro's, Task Master's (not its legacy
 * `tasks/`, a name too common to watch) and Beads'.
 */
const WATCHED = ["keel", "openspec", "specs", ".specify", "memory", ".kiro", ".taskmaster", ".beads"];
export const DEBOUNCE_MS = 100;
export const AUDIT_POLL_MS = 250;

/**
 * The SSE type of an audit action; actions without a named type are sent as `audit` (every state change is
 * on the stream). A claim that took over an expired lease is also reported as `task.expired`.
 */
export function eventTypes(e: AuditEvent): string[] {
  switch (e.action) {
    case "task.claim":
      return e.data && "expiredHolder" in e.data ? ["task.expired", "task.claimed"] : ["task.claimed"];
    case "task.release":
      return ["task.released"];
    case "task.done":
    case "task.done.override":
      return ["task.done"];
    case "task.block":
      return ["task.blocked"];
    case "change.new":
      return ["change.proposed"];
    case "change.apply":
      return ["change.applied"];
    case "change.apply.conflict":
    case "merge.conflict":
      return ["change.conflicted"];
    default:
      // The work loop's steps (run.start, run.attempt, run.task.landed, …) keep their own names on the stream.
      return e.action.startsWith("run.") ? [e.action] : ["audit"];
  }
}

function auditPayload(e: AuditEvent): Record<string, unknown> {
  return {
    seq: e.seq,
    at: e.at,
    action: e.action,
    actor: e.actor,
    target: e.target,
    before: e.before,
    after: e.after,
    reason: e.reason,
    data: e.data,
  };
}

/** An audit event as the stream sends it: one message per SSE type, with the sequence number as its id. */
function liveEvents(e: AuditEvent): LiveEvent[] {
  return eventTypes(e).map((type) => ({ type, data: auditPayload(e), id: e.seq }));
}

export type Listener = (e: LiveEvent) => void;

/**
 * Edits that can change whether a link is suspect: a spec's requirements (living or a change's delta) and the
 * acknowledgements. A task file's checkbox, written on every `done`, cannot, and must not cost a judgement.
 */
function judgesDrift(file: string): boolean {
  return file.endsWith("/spec.md") || file.endsWith("/trace-acks.yaml");
}

/** Dot-files and dot-folders (editor swap and temp files, `.openspec.yaml` aside) are not intent edits. */
function hidden(rel: string): boolean {
  return rel.split(sep).some((part) => part.startsWith(".") && part.length > 1 && part !== ".openspec.yaml");
}

/**
 * The audit segments (`keel/audit/`, store/anchor.ts) are Keel's own log, appended on every event: the audit
 * tail already reports what they record, and they are not intent.
 */
function isAuditSegment(rel: string): boolean {
  const posix = rel.split(sep).join("/");
  return posix === AUDIT_DIR || posix.startsWith(`${AUDIT_DIR}/`);
}

export class EventFeed {
  private readonly listeners = new Set<Listener>();
  private readonly taps = new Set<(e: AuditEvent) => void>();
  private readonly watchers: FSWatcher[] = [];
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private poll: NodeJS.Timeout | null = null;
  private store: CoordinationStore | null = null;
  private unwatch: (() => void) | null = null;
  private lastSeq = 0;
  /** A read of the log in flight, and whether another was asked for meanwhile (it runs once this one ends). */
  private reading: Promise<void> | null = null;
  private again = false;
  private drift: DriftWatch | null = null;
  /** The latest `drift.checked`: a new subscriber gets it at once, as the current state. */
  private lastDriftCheck: LiveEvent | null = null;

  /** `drift`: also judge the trace after each edit and send `drift.found` / `drift.resolved` (drift-watch.ts). */
  constructor(
    private readonly root: string,
    private readonly options: { drift?: boolean } = {},
  ) {}

  /**
   * Starts watching; resolves once the watchers are in place, so an edit made after that is seen. Node's own
   * recursive `fs.watch` is not used: on Linux it loses a file once an editor (or Keel's atomic write) has
   * replaced it by rename, and later saves of that file would go unseen. chokidar watches each folder.
   */
  async start(store: CoordinationStore): Promise<void> {
    const ready: Array<Promise<void>> = [];
    for (const dir of WATCHED) {
      const abs = join(this.root, dir);
      if (!existsSync(abs)) continue;
      const ignored = (path: string) =>
        hidden(relative(abs, path)) || isAuditSegment(relative(this.root, path));
      const w = watch(abs, { ignoreInitial: true, ignored });
      const onFile = (path: string) => this.edited(`${dir}/${relative(abs, path).split(sep).join("/")}`);
      w.on("add", onFile).on("change", onFile).on("unlink", onFile);
      w.on("error", () => {}); // a folder removed under the watcher ends its events, not the server
      ready.push(new Promise((resolve) => w.once("ready", resolve)));
      this.watchers.push(w);
    }
    await Promise.all(ready);
    this.store = store;
    this.lastSeq = await store.latestSeq().catch(() => 0);
    // The team store tells of every server's events as they commit; the poll is the embedded store's way to see
    // other processes' writes, and the team store's fallback while its listening connection is being restored.
    this.unwatch = store.watch(() => this.nudge());
    this.poll = setInterval(() => this.nudge(), AUDIT_POLL_MS);
  }

  subscribe(listener: Listener, lastEventId: number | null): () => void {
    if (lastEventId !== null && lastEventId < this.lastSeq && this.store) {
      // What the client missed, up to where the feed is: later events reach it live, in order, after these.
      const upTo = this.lastSeq;
      void this.store
        .events(lastEventId, upTo)
        .then((events: AuditEvent[]) => {
          for (const ev of events.flatMap(liveEvents)) listener(ev);
        })
        .catch(() => {});
    }
    if (this.lastDriftCheck) listener(this.lastDriftCheck);
    // Drift is judged for subscribers only: the first one takes the baseline (a trace of the whole project),
    // which a server with none never pays for, nor makes its first requests wait behind.
    if (this.options.drift && !this.drift) {
      this.drift = new DriftWatch(this.root, (e) => this.emit(e));
      this.drift.start();
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Every audit event the feed reads, in order and before its subscribers get it: for the server's own mirrors
   * (server/token-mirror.ts), which must not read the log a second time. Not a subscriber: no drift is judged for it.
   */
  tap(fn: (e: AuditEvent) => void): () => void {
    this.taps.add(fn);
    return () => this.taps.delete(fn);
  }

  /**
   * Reads the audit tail now rather than at the next poll: a write this process has just made (a claim, an
   * approval) reaches every subscriber at once. Other processes' writes still arrive within one poll.
   */
  nudge(): void {
    if (this.reading) {
      this.again = true;
      return;
    }
    this.reading = this.tail().finally(() => {
      this.reading = null;
      if (this.again) {
        this.again = false;
        this.nudge();
      }
    });
  }

  close(): void {
    this.drift?.close();
    for (const w of this.watchers) void w.close();
    for (const t of this.pending.values()) clearTimeout(t);
    if (this.poll) clearInterval(this.poll);
    this.unwatch?.();
    this.store = null;
    this.listeners.clear();
    this.taps.clear();
  }

  private emit(e: LiveEvent): void {
    if (e.type === "drift.checked") this.lastDriftCheck = e;
    for (const l of this.listeners) l(e);
  }

  /** One `spec.edited` per file per burst of writes (an editor's save is often several). */
  private edited(file: string): void {
    const t = this.pending.get(file);
    if (t) clearTimeout(t);
    this.pending.set(
      file,
      setTimeout(() => {
        this.pending.delete(file);
        this.emit({ type: "spec.edited", data: { file, at: new Date().toISOString() } });
        if (judgesDrift(file)) this.drift?.changed();
      }, DEBOUNCE_MS),
    );
  }

  private async tail(): Promise<void> {
    const store = this.store;
    if (!store) return;
    try {
      const events = await store.events(this.lastSeq);
      if (events.length === 0 || this.store !== store) return;
      this.lastSeq = (events[events.length - 1] as AuditEvent).seq;
      for (const e of events) for (const tap of this.taps) tap(e);
      for (const e of events.flatMap(liveEvents)) this.emit(e);
    } catch {
      // a busy, half-migrated or unreachable store is read again on the next tick
    }
  }
}
