// One MCP server's link to the live event feed (core/live/events.ts): `keel serve`'s own feed, shared by
// every session, or, over stdio, a feed this server starts for its first listener and closes with itself.
// Resource subscriptions and log forwarding both listen through it, so a server watches the project once.
import { EventFeed, type LiveEvent } from "../core/live/events.js";
import { coordinationStore } from "../store/select.js";
import { loadConfig } from "../workspace/config.js";
import { findProjectRoot } from "../workspace/root.js";

/** A live event source: `EventFeed`, or anything that hands out its events the same way. */
export interface LiveSource {
  subscribe(listener: (e: LiveEvent) => void, lastEventId: number | null): () => void;
}

/** Told each event with the project root its paths are relative to. */
export type LiveListener = (root: string, e: LiveEvent) => void;

export class LiveLink {
  private readonly listeners = new Set<LiveListener>();
  private connecting: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;
  private owned: EventFeed | null = null;
  private closed = false;

  /** `start` and `explicit` locate the project as the server's tools do; `shared` is the caller's running feed. */
  constructor(
    private readonly start: string,
    private readonly explicit: boolean,
    private readonly shared?: LiveSource,
  ) {}

  /** Adds a listener; resolves once the feed's watchers are in place, so the listener misses no later edit. */
  listen(listener: LiveListener): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.listeners.add(listener);
    this.connecting ??= this.connect();
    return this.connecting;
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.owned?.close();
    this.owned = null;
  }

  private async connect(): Promise<void> {
    const project = findProjectRoot(this.start, this.explicit);
    const root = project.root;
    let source = this.shared;
    if (!source) {
      this.owned = new EventFeed(root);
      source = this.owned;
      await this.owned.start(await coordinationStore(root, loadConfig(project)));
    }
    if (this.closed) return;
    this.unsubscribe = source.subscribe((e) => {
      for (const listener of this.listeners) listener(root, e);
    }, null);
  }
}
