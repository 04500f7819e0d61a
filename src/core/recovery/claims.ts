// Claims rebuilt from the audit trail: every claim operation records its task, holder, fencing token and lease
// end (store/sqlite/claims.ts), so replaying the `task.*` events of a segment gives each task's last claim record and
// its handoff notes. A task under a lease that is still live stays held by its holder, with its token, so a
// rebuilt store never grants it to someone else.
// @req TRU-7
import type { SegmentEvent } from "../../store/anchor.js";
import type { StateDb } from "../../store/state-db.js";

export interface RebuiltClaim {
  taskId: string;
  status: "open" | "claimed" | "done" | "blocked" | "released";
  holder: string | null;
  token: number | null;
  leaseUntil: number | null;
  reason: string | null;
  updatedAt: string;
}

export interface RebuiltNote {
  taskId: string;
  author: string;
  at: string;
  text: string;
}

export interface RebuiltClaims {
  claims: RebuiltClaim[];
  notes: RebuiltNote[];
  /** The highest fencing token the events hand out. */
  highestToken: number;
}

/** Events of an older Keel name the holder only as their actor: a bare name was written as `agent:<name>`. */
function holderOf(e: SegmentEvent, key: "holder" | "author"): string {
  const given = e.data?.[key];
  if (typeof given === "string") return given;
  return e.actor.startsWith("agent:") ? e.actor.slice("agent:".length) : e.actor;
}

function numberOr(v: unknown, fallback: number | null): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

function timeOf(v: unknown): number | null {
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? null : t;
}

/** Replays the claim events, oldest first. */
export function replayClaims(events: readonly SegmentEvent[]): RebuiltClaims {
  const claims = new Map<string, RebuiltClaim>();
  const notes: RebuiltNote[] = [];
  let highestToken = 0;
  for (const e of events) {
    const token = applyClaimEvent(claims, e);
    if (token !== null && token > highestToken) highestToken = token;
    if (e.action === "task.note")
      notes.push({
        taskId: e.target,
        author: holderOf(e, "author"),
        at: e.at,
        text: String(e.data?.text ?? ""),
      });
  }
  return { claims: [...claims.values()].sort((a, b) => (a.taskId < b.taskId ? -1 : 1)), notes, highestToken };
}

/**
 * Applies one event to the claim records it changes (a `task.*` event; others are ignored) and returns the token
 * it names. Each event sets its task's record outright, so events applied again, in order, come to the same end:
 * the team store's mirror (core/tasks/claim-mirror.ts) relies on that.
 */
export function applyClaimEvent(claims: Map<string, RebuiltClaim>, e: SegmentEvent): number | null {
  if (!e.action.startsWith("task.")) return null;
  const prev = claims.get(e.target);
  const token = numberOr(e.data?.token, prev?.token ?? null);
  const base = prev ?? {
    taskId: e.target,
    status: "open" as const,
    holder: null,
    token: null,
    leaseUntil: null,
    reason: null,
    updatedAt: e.at,
  };
  switch (e.action) {
    case "task.claim":
      claims.set(e.target, {
        ...base,
        status: "claimed",
        holder: holderOf(e, "holder"),
        token,
        leaseUntil: timeOf(e.data?.leaseUntil),
        reason: null,
        updatedAt: e.at,
      });
      break;
    case "task.heartbeat":
      claims.set(e.target, { ...base, leaseUntil: timeOf(e.data?.leaseUntil), updatedAt: e.at });
      break;
    case "task.release":
    case "task.done":
    case "task.block":
      claims.set(e.target, {
        ...base,
        status: e.after as RebuiltClaim["status"],
        leaseUntil: null,
        reason: e.action === "task.block" ? e.reason : null,
        updatedAt: e.at,
      });
      break;
    case "task.reopen":
      claims.set(e.target, {
        ...base,
        status: "open",
        holder: null,
        leaseUntil: null,
        reason: null,
        updatedAt: e.at,
      });
      break;
  }
  return token;
}

/** Writes the rebuilt records into an empty store (inside its transaction). */
export function writeClaims(state: StateDb, rebuilt: RebuiltClaims): void {
  const claim = state.db.prepare(
    `INSERT INTO claims (task_id, status, holder, token, lease_until, reason, updated_at)
     VALUES (@taskId, @status, @holder, @token, @leaseUntil, @reason, @updatedAt)`,
  );
  for (const c of rebuilt.claims) claim.run(c);
  const note = state.db.prepare("INSERT INTO claim_notes (task_id, author, at, text) VALUES (?, ?, ?, ?)");
  for (const n of rebuilt.notes) note.run(n.taskId, n.author, n.at, n.text);
}
