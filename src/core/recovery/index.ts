// `keel store repair` and `keel store reset`: the explicit, audited ways out of a store Keel refused. Both
// first move the old file aside (never delete it). Repair then rebuilds the store under the same store ID from
// its segment in keel/audit/, so the chain continues and verifies, with the claims and notes replayed from the
// task events and the fencing counter at its high-water mark. Reset starts a store with a fresh ID (the old
// segment stays as history) whose fencing counter also starts at the high-water mark. Each is planned first
// (what would be done, shown without `--yes`), then applied.
// @req TRU-6, TRU-7
import {
  AUDIT_DIR,
  fencingHighWater,
  gitDirOf,
  readLocalStoreId,
  readSegment,
  type SegmentEvent,
  segmentIds,
  segmentPath,
  storeIdOf,
} from "../../store/anchor.js";
import { STORE_UNREADABLE } from "../../store/guard.js";
import {
  type ActorKind,
  type AuditEvent,
  appendEvent,
  insertEvent,
  rowOfEvent,
} from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { segmentChainProblem, verifyAudit } from "../audit/anchor.js";
import { asideName, moveAside, storeFiles } from "./aside.js";
import { replayClaims, writeClaims } from "./claims.js";

/** The local store as found: gone, refused by Keel, behind its segment, differing from it, or sound. */
export interface StoreCondition {
  state: "missing" | "refused" | "behind" | "diverged" | "sound";
  detail: string | null;
  storeId: string | null;
  events: number | null;
  schema: number | null;
  /** This store's segment and how many events it holds. */
  segment: string | null;
  segmentEvents: number | null;
}

export interface LiveLease {
  taskId: string;
  holder: string | null;
  token: number | null;
  leaseUntil: string;
}

export interface RecoveryPlan {
  action: "repair" | "reset";
  store: StoreCondition;
  /** False when there is nothing to do (a repair of a sound store). */
  needed: boolean;
  /** The segment rebuilt from (repair) or left as history (reset). */
  segment: string | null;
  previousStoreId: string | null;
  events: number;
  claims: number;
  liveLeases: LiveLease[];
  notes: number;
  fencing: number;
  moveAside: string[];
  notRecovered: string[];
}

const NOT_RECOVERED_BY_REPAIR = [
  "bearer tokens of keel serve: only their hashes lived in the store, so they cannot be rebuilt; create them again with `keel token create` (the old ones are no longer accepted)",
  "gate evidence: run `keel verify` again",
  "open conflict records of overlapping edits: apply the change again to record them",
];

const DROPPED_BY_RESET = [
  "claims and leases: every task is free again; holders of old leases are fenced off, since every new token is higher than theirs",
  "bearer tokens of keel serve: create them again with `keel token create`",
  "gate evidence and open conflict records",
];

export function inspectStore(root: string): StoreCondition {
  const none = { storeId: null, events: null, schema: null, segment: null, segmentEvents: null };
  if (storeFiles(root).length === 0) return { state: "missing", detail: null, ...none };
  let state: StateDb;
  try {
    state = StateDb.open(root);
  } catch (e) {
    if (e instanceof KeelError && e.code === STORE_UNREADABLE) {
      return { state: "refused", detail: e.message, ...none };
    }
    throw e;
  }
  try {
    const report = verifyAudit(root, state, null);
    const own = report.segments.find((s) => s.own);
    const base = {
      storeId: report.store.id,
      events: report.events,
      schema: state.db.pragma("user_version", { simple: true }) as number,
      segment: report.store.segment,
      segmentEvents: own?.events ?? 0,
    };
    if (report.ok) return { state: "sound", detail: null, ...base };
    const behind = own !== undefined && own.events > report.events;
    return {
      state: behind ? "behind" : "diverged",
      detail: report.firstBad?.problem ?? report.problems[0]?.problem ?? null,
      ...base,
    };
  } finally {
    state.close();
  }
}

/** The store ID whose segment a repair rebuilds from: as asked, as the clone's marker says, or the only one. */
function repairTarget(root: string, asked: string | undefined): string {
  if (asked !== undefined) return asked;
  const marked = readLocalStoreId(root);
  if (marked !== null) return marked;
  const ids = segmentIds(root).filter((id) => readSegment(segmentPath(root, id)).entries.length > 0);
  if (gitDirOf(root) === null && ids.length === 1) return ids[0] as string;
  throw new KeelError(
    "no store to repair: this clone has no store of its own recorded (a fresh clone never had one)",
    EXIT.usage,
    ids.length > 0
      ? `to rebuild from one of keel/audit/ (${ids.join(", ")}), name it: keel store repair --store <id>; a fresh clone simply starts its own store on its first write`
      : "nothing to rebuild from; the first write starts a store",
  );
}

function segmentEvents(root: string, id: string): SegmentEvent[] {
  const rel = `${AUDIT_DIR}/${id}.jsonl`;
  const segment = readSegment(segmentPath(root, id));
  if (segment.entries.length === 0) {
    throw new KeelError(
      `nothing to rebuild from: ${rel} holds no events`,
      EXIT.unreadable,
      "restore the segment from git, or use `keel store reset`",
    );
  }
  const fault = segmentChainProblem(segment, rel);
  if (fault !== null) {
    throw new KeelError(
      `cannot rebuild from ${rel}: ${fault.problem}`,
      EXIT.unreadable,
      `restore the segment from git (git log -- ${rel}), or start a fresh store with \`keel store reset\``,
    );
  }
  return segment.entries.map((e) => e.event as SegmentEvent);
}

function liveLeases(
  events: SegmentEvent[],
  now: Date,
): { leases: LiveLease[]; claims: number; notes: number; highestToken: number } {
  const rebuilt = replayClaims(events);
  const leases = rebuilt.claims
    .filter((c) => c.status === "claimed" && c.leaseUntil !== null && c.leaseUntil > now.getTime())
    .map((c) => ({
      taskId: c.taskId,
      holder: c.holder,
      token: c.token,
      leaseUntil: new Date(c.leaseUntil as number).toISOString(),
    }));
  return {
    leases,
    claims: rebuilt.claims.length,
    notes: rebuilt.notes.length,
    highestToken: rebuilt.highestToken,
  };
}

export function planRepair(root: string, now: Date, storeId?: string): RecoveryPlan & { storeId: string } {
  const store = inspectStore(root);
  const id = repairTarget(root, storeId ?? store.storeId ?? undefined);
  const events = segmentEvents(root, id);
  if (store.state === "diverged") {
    throw new KeelError(
      `the store and ${AUDIT_DIR}/${id}.jsonl differ (${store.detail}): a repair would throw away the store's version`,
      EXIT.unreadable,
      "see `keel audit verify`; keep the store as it is, or start a fresh one with `keel store reset`",
    );
  }
  const replay = liveLeases(events, now);
  return {
    action: "repair",
    store,
    needed: store.state !== "sound",
    storeId: id,
    segment: `${AUDIT_DIR}/${id}.jsonl`,
    previousStoreId: id,
    events: events.length,
    claims: replay.claims,
    liveLeases: replay.leases,
    notes: replay.notes,
    fencing: Math.max(fencingHighWater(root), replay.highestToken),
    moveAside: storeFiles(root),
    notRecovered: NOT_RECOVERED_BY_REPAIR,
  };
}

export function planReset(root: string, now: Date): RecoveryPlan {
  const store = inspectStore(root);
  const previous = store.storeId ?? readLocalStoreId(root);
  const segment = previous === null ? null : readSegment(segmentPath(root, previous));
  const events = (segment?.entries ?? []).flatMap((e) => (e.event ? [e.event] : []));
  const replay = liveLeases(events, now);
  return {
    action: "reset",
    store,
    needed: true,
    segment: previous === null || !segment?.exists ? null : `${AUDIT_DIR}/${previous}.jsonl`,
    previousStoreId: previous,
    events: events.length,
    claims: replay.claims,
    liveLeases: replay.leases,
    notes: replay.notes,
    fencing: fencingHighWater(root),
    moveAside: storeFiles(root),
    notRecovered: DROPPED_BY_RESET,
  };
}

export interface RecoveryResult {
  storeId: string;
  movedAside: string[];
  event: AuditEvent;
}

interface By {
  actor: string;
  actorKind: ActorKind;
}

/** Applies a repair plan: the old store aside, the new one rebuilt from the segment, and a `store.repair` event. */
export function applyRepair(
  root: string,
  plan: RecoveryPlan & { storeId: string },
  by: By,
  now: Date,
): RecoveryResult {
  const events = segmentEvents(root, plan.storeId);
  const movedAside = moveAside(root, asideName(root, now));
  const state = StateDb.open(root, { allowFresh: true, storeId: plan.storeId });
  try {
    const event = state.exclusive(() => {
      for (const e of events) insertEvent(state, rowOfEvent(e as AuditEvent));
      const rebuilt = replayClaims(events);
      writeClaims(state, rebuilt);
      const fencing = raiseFencing(state, rebuilt.highestToken);
      return appendEvent(
        state,
        root,
        {
          ...by,
          action: "store.repair",
          target: `store:${plan.storeId}`,
          reason: plan.store.detail ?? `the store was ${plan.store.state}`,
          data: {
            storeId: plan.storeId,
            segment: plan.segment,
            movedAside,
            events: events.length,
            claims: rebuilt.claims.length,
            liveLeases: plan.liveLeases,
            notes: rebuilt.notes.length,
            fencing,
            notRecovered: plan.notRecovered,
          },
        },
        now,
      );
    });
    return { storeId: plan.storeId, movedAside, event };
  } finally {
    state.close();
  }
}

/** Applies a reset plan: the old store aside, a fresh store (a new ID), and a `store.reset` event. */
export function applyReset(root: string, plan: RecoveryPlan, by: By, now: Date): RecoveryResult {
  const movedAside = moveAside(root, asideName(root, now));
  const state = StateDb.open(root, { allowFresh: true });
  try {
    const storeId = storeIdOf(state.db) as string;
    const event = state.exclusive(() => {
      const fencing = raiseFencing(state, plan.fencing);
      return appendEvent(
        state,
        root,
        {
          ...by,
          action: "store.reset",
          target: `store:${storeId}`,
          reason: plan.store.detail ?? `the store was ${plan.store.state}`,
          data: {
            previousStore: plan.previousStoreId,
            previousSegment: plan.segment,
            movedAside,
            fencing,
            droppedLeases: plan.liveLeases,
            dropped: plan.notRecovered,
          },
        },
        now,
      );
    });
    return { storeId, movedAside, event };
  } finally {
    state.close();
  }
}

/** Raises the fencing counter to at least `atLeast` (it never goes down), and returns it. */
function raiseFencing(state: StateDb, atLeast: number): number {
  const row = state.db
    .prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'fencing' RETURNING value")
    .get(atLeast) as { value: number };
  return row.value;
}
