// In team mode the claims live in PostgreSQL, which cannot be read synchronously, while the ready views
// (`claimedKeys`, `keelClosed`) are synchronous. A process keeps a mirror of the team store's claims for them: read
// whole once, then kept up by replaying the `task.*` events written after (every server's, told by the store's
// watch) and by the results of this process's own claims as they commit. A claim itself is always decided by the
// store under its locks, never by the mirror; the mirror only says what the queue looks like.
// @req TEAM-3, TEAM-8
import type { AuditEvent } from "../../store/audit-chain.js";
import type { CoordinationStore } from "../../store/coordination.js";
import { coordinationStore } from "../../store/select.js";
import { mayUseTeamStore } from "../../store/team-url.js";
import { coalesced } from "../../workspace/coalesce.js";
import { loadConfig } from "../../workspace/config.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { applyClaimEvent, type RebuiltClaim } from "../recovery/claims.js";

interface Mirror {
  claims: Map<string, RebuiltClaim>;
  /** The last event applied. */
  seq: number;
  /**
   * Applies the events written since the mirror's last one. Coalesced: two catch-ups at once could apply an older
   * list last, and the calls made while one runs share the one queued after it.
   */
  follow: () => Promise<void>;
}

const mirrors = new Map<string, Mirror>();

async function load(root: string, store: CoordinationStore): Promise<Mirror> {
  // The position first: events from there on are applied again on top of the claims read, which they only confirm.
  const seq = await store.latestSeq();
  const now = new Date();
  const claims = new Map<string, RebuiltClaim>();
  for (const v of await store.claims(now)) {
    claims.set(v.taskId, {
      taskId: v.taskId,
      status: v.status,
      holder: v.holder,
      token: v.token,
      leaseUntil: v.leaseUntil === null ? null : Date.parse(v.leaseUntil),
      reason: v.reason,
      updatedAt: v.updatedAt,
    });
  }
  const mirror: Mirror = { claims, seq, follow: () => Promise.resolve() };
  // The store unreachable: the next event, or the store coming back, catches up.
  mirror.follow = coalesced(() => catchUp(mirror, store).catch(() => {}));
  mirrors.set(root, mirror);
  await catchUp(mirror, store);
  return mirror;
}

async function catchUp(mirror: Mirror, store: CoordinationStore): Promise<void> {
  for (const e of await store.events(mirror.seq)) apply(mirror, e);
}

/** One event, unless the mirror has it already (a tapped feed and a catch-up may both bring it). */
function apply(mirror: Mirror, e: AuditEvent): void {
  if (e.seq <= mirror.seq) return;
  applyClaimEvent(mirror.claims, e);
  mirror.seq = e.seq;
}

/** A reader of the log that hands on every event it reads, in order (the server's live feed: EventFeed.tap). */
export type EventTap = (fn: (e: AuditEvent) => void) => () => void;

/**
 * For a long-lived process (a server, an MCP server): the mirror read now, then kept up whenever any process
 * writes an event: from `tap`, a reader of the log the process runs anyway (so the log is not read twice on every
 * event), else by reading it on the store's watch. Returns the way to stop following. The embedded store needs
 * none: it is read directly.
 */
export async function followClaimMirror(
  root: string,
  store: CoordinationStore,
  tap?: EventTap,
): Promise<() => void> {
  if (store.kind === "sqlite") return () => {};
  const mirror = await load(root, store);
  const stop = tap ? tap((e) => apply(mirror, e)) : store.watch(() => void mirror.follow());
  return () => {
    stop();
    mirrors.delete(root);
  };
}

/** For a process that reads claims once (a CLI command): the team store's claims, read now. */
export async function loadClaimMirror(project: ProjectRoot): Promise<void> {
  if (!mayUseTeamStore(project.root)) return;
  const store = await coordinationStore(project.root, loadConfig(project));
  if (store.kind !== "sqlite") await load(project.root, store);
}

/** After a write of this process: the mirror brought up to the store's log (a CLI's next read sees its own claim). */
export async function refreshClaimMirror(root: string, store: CoordinationStore): Promise<void> {
  const mirror = mirrors.get(root);
  if (mirror && store.kind !== "sqlite") await mirror.follow();
}

/** Tasks held at `now` (closed, or claimed under a live lease) by the mirror; null when there is none. */
export function mirroredHeld(root: string, now: Date): Set<string> | null {
  const mirror = mirrors.get(root);
  if (!mirror) return null;
  const held = new Set<string>();
  for (const c of mirror.claims.values()) {
    const live = c.status === "claimed" && c.leaseUntil !== null && c.leaseUntil > now.getTime();
    if (live || c.status === "done" || c.status === "blocked") held.add(c.taskId);
  }
  return held;
}

/** Tasks closed (done or blocked) by the mirror; null when there is none. */
export function mirroredClosed(root: string): Map<string, "done" | "blocked"> | null {
  const mirror = mirrors.get(root);
  if (!mirror) return null;
  const closed = new Map<string, "done" | "blocked">();
  for (const c of mirror.claims.values())
    if (c.status === "done" || c.status === "blocked") closed.set(c.taskId, c.status);
  return closed;
}
