// Evidence: one row per gate run by `keel verify`, in `.keel/state.db` (migration 3). A row says what ran
// (gate, command, folder), how it ended (exit code, timeout, duration, output tail and digest), on what (the
// commit, whether the tree was dirty and a digest of the uncommitted state) and for what (the requirement IDs with
// the fingerprints they had, the task). Readers open the database read-only and never create it.
// @req TRC-5
import { existsSync } from "node:fs";
import { join } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import type { EvidenceRow } from "../../store/coordination.js";
import { STATE_DIR } from "../../store/index-db.js";
import { sqliteDriver } from "../../store/sqlite.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import { currentGeneration } from "../../workspace/freshness.js";
import type { TreeState } from "../../workspace/git-tree.js";
import type { GateKind } from "./gates.js";

export interface Evidence {
  id: number;
  /** The verify run the row belongs to (one UUID per `keel verify`). */
  run: string;
  gate: string;
  kind: GateKind;
  command: string;
  cwd: string;
  /** Null when the gate was killed (timeout, signal) or could not start. */
  exitCode: number | null;
  timedOut: boolean;
  /** Exit code 0 and not timed out. */
  passed: boolean;
  durationMs: number;
  startedAt: string;
  /** HEAD when the gate ran; null outside git or before the first commit. */
  commit: string | null;
  dirty: boolean;
  /** Identifies the uncommitted changes when dirty (see workspace/git-tree.ts); null when clean. */
  treeDigest: string | null;
  /** Requirement ID → its fingerprint when the gate ran (null for an ID that named no requirement). */
  requirements: Record<string, string | null>;
  task: string | null;
  outputTail: string;
  outputDigest: string;
  outputBytes: number;
  actor: string;
}

export type EvidenceInput = Omit<Evidence, "id" | "passed" | "commit" | "dirty" | "treeDigest"> & {
  tree: TreeState;
};

/** A stored row as Evidence (the team store's rows too: core/verify/team-evidence.ts). */
export function fromRow(r: EvidenceRow): Evidence {
  let requirements: Record<string, string | null> = {};
  try {
    const parsed = JSON.parse(r.requirements) as unknown;
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed))
      requirements = parsed as Record<string, string | null>;
  } catch {
    // A row edited into something else covers nothing.
  }
  return {
    id: r.id,
    run: r.run,
    gate: r.gate,
    kind: r.kind as GateKind,
    command: r.command,
    cwd: r.cwd,
    exitCode: r.exit_code,
    timedOut: r.timed_out === 1,
    passed: r.exit_code === 0 && r.timed_out === 0,
    durationMs: r.duration_ms,
    startedAt: r.started_at,
    commit: r.commit_sha,
    dirty: r.dirty === 1,
    treeDigest: r.tree_digest,
    requirements,
    task: r.task,
    outputTail: r.output_tail,
    outputDigest: r.output_digest,
    outputBytes: r.output_bytes,
    actor: r.actor,
  };
}

/** JSON with sorted keys, so the same coverage is stored as the same text. */
function sortedJson(o: Record<string, string | null>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1))));
}

/** Records one gate run. Runs in its own short write transaction. */
export function recordEvidence(state: StateDb, input: EvidenceInput): Evidence {
  return state.exclusive(() => {
    const { id } = state.db
      .prepare(
        `INSERT INTO evidence (run, gate, kind, command, cwd, exit_code, timed_out, duration_ms, started_at,
           commit_sha, dirty, tree_digest, requirements, task, output_tail, output_digest, output_bytes, actor)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      )
      .get(
        input.run,
        input.gate,
        input.kind,
        input.command,
        input.cwd,
        input.exitCode,
        input.timedOut ? 1 : 0,
        input.durationMs,
        input.startedAt,
        input.tree.commit,
        input.tree.dirty ? 1 : 0,
        input.tree.digest,
        sortedJson(input.requirements),
        input.task,
        input.outputTail,
        input.outputDigest,
        input.outputBytes,
        input.actor,
      ) as { id: number };
    return fromRow(state.db.prepare("SELECT * FROM evidence WHERE id = ?").get(id) as EvidenceRow);
  });
}

type Db = BetterSqlite3.Database;

/** Runs `fn` over a read-only connection; `fallback` when there is no database or no evidence table yet. */
function read<T>(root: string, fallback: T, fn: (db: Db) => T): T {
  const path = join(root, STATE_DIR, STATE_FILE);
  if (!existsSync(path)) return fallback;
  // A long-lived process reads on the connection it keeps open (StateDb.open) rather than opening one per read.
  if (currentGeneration(root) !== null) {
    const state = StateDb.open(root);
    try {
      return fn(state.db);
    } finally {
      state.close();
    }
  }
  const Driver = sqliteDriver();
  const db = new Driver(path, { readonly: true, fileMustExist: true, timeout: 10_000 });
  try {
    const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'evidence'").get();
    return has ? fn(db) : fallback;
  } finally {
    db.close();
  }
}

export interface EvidenceFilter {
  gate?: string;
  command?: string;
  cwd?: string;
  task?: string;
  /** Rows whose covered requirements include this ID. */
  requirement?: string;
  commit?: string;
  run?: string;
  /** At most this many rows (newest first). */
  limit?: number;
}

function where(filter: EvidenceFilter): { sql: string; args: Array<string | number> } {
  const clauses: string[] = [];
  const args: Array<string | number> = [];
  const eq = (column: string, value: string | undefined) => {
    if (value === undefined) return;
    clauses.push(`${column} = ?`);
    args.push(value);
  };
  eq("gate", filter.gate);
  eq("command", filter.command);
  eq("cwd", filter.cwd);
  eq("task", filter.task);
  eq("commit_sha", filter.commit);
  eq("run", filter.run);
  if (filter.requirement !== undefined) {
    clauses.push("EXISTS (SELECT 1 FROM json_each(evidence.requirements) WHERE key = ?)");
    args.push(filter.requirement);
  }
  return { sql: clauses.length ? `WHERE ${clauses.join(" AND ")}` : "", args };
}

function rows(db: Db, filter: EvidenceFilter): Evidence[] {
  const w = where(filter);
  const limit = filter.limit !== undefined ? ` LIMIT ${Math.max(0, Math.floor(filter.limit))}` : "";
  return (
    db.prepare(`SELECT * FROM evidence ${w.sql} ORDER BY id DESC${limit}`).all(...w.args) as EvidenceRow[]
  ).map(fromRow);
}

/** Evidence rows matching `filter`, newest first. */
/** Names the evidence recorded so far: it changes whenever a row is added (rows are never edited). */
export function evidenceStamp(root: string): string {
  return read(root, "none", (db) => {
    const row = db.prepare("SELECT COUNT(*) AS n, MAX(id) AS last FROM evidence").get() as {
      n: number;
      last: number;
    };
    return `${row.n}:${row.last}`;
  });
}

export function listEvidence(root: string, filter: EvidenceFilter = {}): Evidence[] {
  return read(root, [], (db) => rows(db, filter));
}

/** The newest row of each gate among those matching `filter`, by gate name: the latest status of every gate. */
export function latestEvidence(root: string, filter: EvidenceFilter = {}): Evidence[] {
  return read(root, [], (db) => {
    const w = where(filter);
    const rows = db
      .prepare(
        `SELECT * FROM evidence WHERE id IN (SELECT MAX(id) FROM evidence ${w.sql} GROUP BY gate) ORDER BY gate`,
      )
      .all(...w.args) as EvidenceRow[];
    return rows.map(fromRow);
  });
}

/** Every gate run for a task (by task key), newest first. */
export function evidenceForTask(root: string, taskKey: string): Evidence[] {
  return listEvidence(root, { task: taskKey });
}

/** Every gate run that covered a requirement, newest first. */
export function evidenceForRequirement(root: string, requirementId: string): Evidence[] {
  return listEvidence(root, { requirement: requirementId });
}

/** The newest evidence row that has a commit, or null: what `keel verify --changed` compares against. */
export function newestCommittedEvidence(root: string): Evidence | null {
  return read(root, null, (db) => {
    const row = db
      .prepare("SELECT * FROM evidence WHERE commit_sha IS NOT NULL ORDER BY id DESC LIMIT 1")
      .get() as EvidenceRow | undefined;
    return row ? fromRow(row) : null;
  });
}

/** For every requirement any evidence covered: the fingerprint recorded by the newest row covering it. */
export function lastVerifiedFingerprints(root: string): Map<string, string | null> {
  return read(root, new Map(), (db) => {
    const rows = db
      .prepare(
        `SELECT je.key AS id, je.value AS fingerprint, MAX(e.id) AS newest
         FROM evidence e, json_each(e.requirements) je GROUP BY je.key`,
      )
      .all() as Array<{ id: string; fingerprint: string | null }>;
    return new Map(rows.map((r) => [r.id, r.fingerprint]));
  });
}

/**
 * For each gate: its newest evidence recorded on exactly `tree` (same commit, same dirtiness, same digest of the
 * uncommitted changes), and, when there is none, its newest evidence anywhere (to say where it last ran). One
 * connection for all the gates.
 */
export function gateEvidence(
  root: string,
  gates: Array<{ name: string; command: string; cwd: string }>,
  tree: TreeState,
): Array<{ onTree: Evidence | null; elsewhere: Evidence | null }> {
  const none = gates.map(() => ({ onTree: null, elsewhere: null }));
  return read(root, none, (db) => {
    const onTree = db.prepare(
      `SELECT * FROM evidence WHERE gate = ? AND command = ? AND cwd = ? AND commit_sha IS ? AND dirty = ?
         AND tree_digest IS ? ORDER BY id DESC LIMIT 1`,
    );
    return gates.map((g) => {
      const row = onTree.get(g.name, g.command, g.cwd, tree.commit, tree.dirty ? 1 : 0, tree.digest) as
        | EvidenceRow
        | undefined;
      if (row) return { onTree: fromRow(row), elsewhere: null };
      const last = rows(db, { gate: g.name, command: g.command, cwd: g.cwd, limit: 1 })[0];
      return { onTree: null, elsewhere: last ?? null };
    });
  });
}
