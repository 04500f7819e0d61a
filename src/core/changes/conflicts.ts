// Conflict records, in the `conflicts` table of `.keel/state.db`. A conflict keeps both versions and their
// base until a human resolves it (`keel change resolve`); apply then uses the resolution, as long as the living
// requirement has not moved again since. Call the writing functions inside `state.exclusive(...)`.
// @req CHG-5
import { createHash } from "node:crypto";
import type { ConflictRow } from "../../store/coordination.js";
import type { StateDb } from "../../store/state-db.js";
import { blockCore } from "./blocks.js";

export type ConflictStatus = "open" | "resolved" | "applied" | "superseded";

/** Conflicts recorded by the git merge driver carry this change ID: they come from a merge, not a change. */
export const GIT_MERGE = "git-merge";

export interface ConflictRecord {
  id: string;
  change: string;
  capability: string;
  requirement: string;
  createdAt: string;
  status: ConflictStatus;
  /** The requirement block at the base; "" when it did not exist. */
  base: string;
  /** The living block (apply) or our branch's block (git merge); "" when absent. */
  ours: string;
  /** The change's block (apply) or the other branch's block (git merge); "" when removed. */
  theirs: string;
  /** The block a human chose ("" = the requirement is removed), once resolved. */
  resolution: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
}

function fromRow(r: ConflictRow): ConflictRecord {
  return {
    id: r.id,
    change: r.change_id,
    capability: r.capability,
    requirement: r.requirement,
    createdAt: r.created_at,
    status: r.status as ConflictStatus,
    base: r.base ?? "",
    ours: r.ours ?? "",
    theirs: r.theirs ?? "",
    resolution: r.resolution,
    resolvedBy: r.resolved_by,
    resolvedAt: r.resolved_at,
  };
}

export interface ConflictInput {
  change: string;
  capability: string;
  requirement: string;
  base: string;
  ours: string;
  theirs: string;
}

/** Records a conflict; an open one for the same change and requirement is updated in place (same ID). */
export function recordConflict(state: StateDb, input: ConflictInput, now = new Date()): ConflictRecord {
  const existing = state.db
    .prepare(
      "SELECT * FROM conflicts WHERE change_id = ? AND capability = ? AND requirement = ? AND status = 'open' ORDER BY created_at DESC LIMIT 1",
    )
    .get(input.change, input.capability, input.requirement) as ConflictRow | undefined;
  if (existing) {
    state.db
      .prepare("UPDATE conflicts SET base = ?, ours = ?, theirs = ? WHERE id = ?")
      .run(input.base, input.ours, input.theirs, existing.id);
    return { ...fromRow(existing), base: input.base, ours: input.ours, theirs: input.theirs };
  }
  const at = now.toISOString();
  let id: string;
  let salt = 0;
  do {
    id = `c-${createHash("sha256")
      .update(`${input.change}\u0000${input.capability}\u0000${input.requirement}\u0000${at}\u0000${salt++}`)
      .digest("hex")
      .slice(0, 8)}`;
  } while (state.db.prepare("SELECT 1 FROM conflicts WHERE id = ?").get(id));
  state.db
    .prepare(
      `INSERT INTO conflicts (id, change_id, capability, requirement, created_at, status, base, ours, theirs)
       VALUES (?, ?, ?, ?, ?, 'open', ?, ?, ?)`,
    )
    .run(id, input.change, input.capability, input.requirement, at, input.base, input.ours, input.theirs);
  return {
    id,
    ...input,
    createdAt: at,
    status: "open",
    resolution: null,
    resolvedBy: null,
    resolvedAt: null,
  };
}

export interface ConflictFilter {
  status?: ConflictStatus[];
  change?: string;
  requirement?: string;
}

export function listConflicts(state: StateDb, filter: ConflictFilter = {}): ConflictRecord[] {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.status && filter.status.length > 0) {
    where.push(`status IN (${filter.status.map(() => "?").join(", ")})`);
    args.push(...filter.status);
  }
  if (filter.change) {
    where.push("change_id = ?");
    args.push(filter.change);
  }
  if (filter.requirement) {
    where.push("requirement = ?");
    args.push(filter.requirement);
  }
  const sql = `SELECT * FROM conflicts ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id`;
  return (state.db.prepare(sql).all(...args) as ConflictRow[]).map(fromRow);
}

export function getConflict(state: StateDb, id: string): ConflictRecord | null {
  const row = state.db.prepare("SELECT * FROM conflicts WHERE id = ?").get(id) as ConflictRow | undefined;
  return row ? fromRow(row) : null;
}

/**
 * The human resolution to use for a requirement of a change: resolved, and recorded against the living block
 * that is still there (`ours`). A resolution made against a block that has moved since is not used.
 */
export function usableResolution(
  state: StateDb,
  change: string,
  capability: string,
  requirement: string,
  living: string,
): ConflictRecord | null {
  const rows = listConflicts(state, { change, requirement, status: ["resolved"] }).filter(
    (c) => c.capability === capability,
  );
  const core = blockCore(living);
  return rows.reverse().find((c) => blockCore(c.ours) === core) ?? null;
}

export function resolveConflict(
  state: StateDb,
  id: string,
  resolution: string,
  by: string,
  now = new Date(),
): void {
  state.db
    .prepare(
      "UPDATE conflicts SET status = 'resolved', resolution = ?, resolved_by = ?, resolved_at = ? WHERE id = ?",
    )
    .run(resolution, by, now.toISOString(), id);
}

export function setConflictStatus(state: StateDb, id: string, status: ConflictStatus): void {
  state.db.prepare("UPDATE conflicts SET status = ? WHERE id = ?").run(status, id);
}
