// The audit log: an append-only, hash-chained record of every state-changing operation, in the local store.
// Each event's hash covers its fields and the previous event's hash, so editing, deleting, inserting or
// reordering events breaks the chain at the first event touched. The newest (seq, hash) is also kept in
// `.keel/audit-head`, so dropping events from the end is caught too.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { STATE_DIR } from "../store/index-db.js";
import type { StateDb } from "../store/state-db.js";
import { writeFileAtomic } from "../workspace/atomic.js";

export const GENESIS = "0".repeat(64);
const HEAD_FILE = "audit-head";

export type ActorKind = "human" | "agent" | "system";

export interface AuditInput {
  actor: string;
  actorKind: ActorKind;
  action: string;
  target: string;
  before?: string | null;
  after?: string | null;
  reason?: string | null;
  /** Anything else worth keeping (tool, model, rule that refused, fingerprints…), as JSON. */
  data?: Record<string, unknown> | null;
}

export interface AuditEvent {
  seq: number;
  at: string;
  actor: string;
  actorKind: ActorKind;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  data: Record<string, unknown> | null;
  prevHash: string;
  hash: string;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  actor_kind: string;
  action: string;
  target: string;
  before: string | null;
  after: string | null;
  reason: string | null;
  data: string | null;
  prev_hash: string;
  hash: string;
}

export function eventHash(e: Omit<AuditEvent, "hash">): string {
  const canonical = JSON.stringify([
    e.seq,
    e.at,
    e.actor,
    e.actorKind,
    e.action,
    e.target,
    e.before,
    e.after,
    e.reason,
    e.data === null ? null : canonicalJson(e.data),
    e.prevHash,
  ]);
  return createHash("sha256").update(canonical).digest("hex");
}

/** JSON with object keys sorted, so a hash does not depend on key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Appends one event. Call inside `state.exclusive(...)` together with the change it records. */
export function appendEvent(
  state: StateDb,
  projectRoot: string,
  input: AuditInput,
  now = new Date(),
): AuditEvent {
  const last = state.db.prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").get() as
    | { seq: number; hash: string }
    | undefined;
  const base = {
    seq: (last?.seq ?? 0) + 1,
    at: now.toISOString(),
    actor: input.actor,
    actorKind: input.actorKind,
    action: input.action,
    target: input.target,
    before: input.before ?? null,
    after: input.after ?? null,
    reason: input.reason ?? null,
    data: input.data ?? null,
    prevHash: last?.hash ?? GENESIS,
  };
  const event: AuditEvent = { ...base, hash: eventHash(base) };
  state.db
    .prepare(
      `INSERT INTO events (seq, at, actor, actor_kind, action, target, before, after, reason, data, prev_hash, hash)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      event.seq,
      event.at,
      event.actor,
      event.actorKind,
      event.action,
      event.target,
      event.before,
      event.after,
      event.reason,
      event.data === null ? null : canonicalJson(event.data),
      event.prevHash,
      event.hash,
    );
  writeFileAtomic(join(projectRoot, STATE_DIR, HEAD_FILE), `${event.seq} ${event.hash}\n`);
  return event;
}

export interface EventFilter {
  since?: string;
  actor?: string;
  target?: string;
  action?: string;
}

export function listEvents(state: StateDb, filter: EventFilter = {}): AuditEvent[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.since) {
    where.push("at >= ?");
    args.push(filter.since);
  }
  if (filter.actor) {
    where.push("actor = ?");
    args.push(filter.actor);
  }
  if (filter.target) {
    where.push("(target = ? OR target LIKE ? ESCAPE '\\')");
    args.push(filter.target, `${filter.target.replace(/[\\%_]/g, (c) => `\\${c}`)}/%`);
  }
  if (filter.action) {
    where.push("action = ?");
    args.push(filter.action);
  }
  const sql = `SELECT * FROM events ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq`;
  return (state.db.prepare(sql).all(...args) as Row[]).map(fromRow);
}

function fromRow(r: Row): AuditEvent {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    actorKind: r.actor_kind as ActorKind,
    action: r.action,
    target: r.target,
    before: r.before,
    after: r.after,
    reason: r.reason,
    data: r.data === null ? null : (JSON.parse(r.data) as Record<string, unknown>),
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

export interface VerifyResult {
  ok: boolean;
  events: number;
  /** The first event that is wrong (or, for events dropped from the end, the first one missing). */
  firstBad: { seq: number; problem: string } | null;
}

/** Walks the chain from the start and names the first event that does not fit. */
export function verifyChain(state: StateDb, projectRoot: string): VerifyResult {
  const rows = state.db.prepare("SELECT * FROM events ORDER BY rowid").all() as Row[];
  let prev = GENESIS;
  let expected = 1;
  for (const row of rows) {
    const e = fromRow(row);
    const bad = (problem: string): VerifyResult => ({
      ok: false,
      events: rows.length,
      firstBad: { seq: e.seq, problem },
    });
    if (e.seq !== expected) {
      return e.seq > expected
        ? {
            ok: false,
            events: rows.length,
            firstBad: { seq: expected, problem: `event ${expected} is missing (deleted)` },
          }
        : bad(`event ${e.seq} is out of order (expected ${expected}): events were inserted or reordered`);
    }
    if (e.prevHash !== prev)
      return bad(
        `event ${e.seq} does not follow event ${e.seq - 1}: an event was inserted, deleted or reordered`,
      );
    const { hash, ...rest } = e;
    if (eventHash(rest) !== hash)
      return bad(`event ${e.seq} was edited: its content does not match its hash`);
    prev = hash;
    expected++;
  }
  const head = readHead(projectRoot);
  if (head && head.seq >= expected) {
    return {
      ok: false,
      events: rows.length,
      firstBad: {
        seq: expected,
        problem: `event ${expected} is missing: the log ends at ${expected - 1} but event ${head.seq} was written`,
      },
    };
  }
  if (head && head.seq === expected - 1 && head.hash !== prev) {
    return {
      ok: false,
      events: rows.length,
      firstBad: {
        seq: head.seq,
        problem: `event ${head.seq} was replaced: its hash differs from the one recorded when it was written`,
      },
    };
  }
  return { ok: true, events: rows.length, firstBad: null };
}

function readHead(projectRoot: string): { seq: number; hash: string } | null {
  try {
    const [seq, hash] = readFileSync(join(projectRoot, STATE_DIR, HEAD_FILE), "utf8")
      .trim()
      .split(" ");
    return seq && hash ? { seq: Number(seq), hash } : null;
  } catch {
    return null;
  }
}

/** One JSON object per line, oldest first: the chain can be re-verified from the export alone. */
export function exportJsonl(state: StateDb): string {
  return listEvents(state)
    .map((e) => `${JSON.stringify(e)}\n`)
    .join("");
}
