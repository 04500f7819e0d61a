// The embedded store as a CoordinationStore: `.keel/state.db` through StateDb, answering at once. Claim work is run
// in one IMMEDIATE transaction with a savepoint per part (a nested transaction), so a refused part rolls back alone
// and the rest commit together: group commit, as the team store does. The work loop (src/run/) calls
// runClaimWork directly: its workers share one connection synchronously.
// @req TEAM-1, DMN-7
import { existsSync } from "node:fs";
import { join } from "node:path";
import { storeIdOf } from "../anchor.js";
import {
  type AuditEvent,
  type AuditInput,
  type EventFilter,
  type EventRow,
  forwardedInput,
  forwardKey,
} from "../audit-chain.js";
import type { ClaimNote, ClaimRow, ClaimView } from "../claim-rules.js";
import {
  type ClaimResult,
  type ClaimStep,
  type ClaimWork,
  type ConflictRow,
  type CoordinationStore,
  copyTargetRefusal,
  type EvidenceRow,
  type GateKey,
  type Settled,
  type StoreDump,
  type StoreStatus,
  type TokenRow,
} from "../coordination.js";
import { STATE_DIR } from "../index-db.js";
import { STATE_FILE, STATE_SCHEMA_VERSION, StateDb } from "../state-db.js";
import { conflictParams, EVIDENCE_FIELDS, shareConflictSql } from "../tables.js";
import { appendEvent, eventsBetween, insertEvent, latestSeq, listEvents } from "./audit-log.js";
import { Claims } from "./claims.js";
import { allTokens, INSERT_TOKEN, insertToken, revokeLiveToken } from "./tokens.js";

/** Runs claim work in one transaction on `state`, each part in a savepoint of its own. */
export function runClaimWork(
  state: StateDb,
  root: string,
  work: readonly ClaimWork[],
): Array<Settled<ClaimResult>> {
  const claims = new Claims(state, root);
  const settled: Array<Settled<ClaimResult>> = [];
  state.exclusive(() => {
    for (const w of work) {
      try {
        const value = state.exclusive(() => {
          const result = runStep(claims, w.step, w.now);
          for (const input of w.afterStep?.(result) ?? []) appendEvent(state, root, input, w.now);
          return result;
        });
        settled.push({ ok: true, value });
      } catch (error) {
        settled.push({ ok: false, error });
      }
    }
  });
  return settled;
}

function runStep(claims: Claims, step: ClaimStep, now: Date): ClaimResult {
  switch (step.op) {
    case "claim":
      return claims.claim(step.key, step.holder, step.ttlMs, now);
    case "claim-next":
      return claims.claimNext(
        () => {
          const held = new Set(claims.heldKeys(now));
          return step.candidates((k) => held.has(k));
        },
        step.holder,
        step.ttlMs,
        now,
      );
    case "heartbeat":
      return claims.heartbeat(step.key, step.token, step.ttlMs, now);
    case "finish":
      if (step.finish.status === "blocked") return claims.block(step.key, step.token, step.reason ?? "", now);
      return step.finish.status === "done"
        ? claims.done(step.key, step.token, now)
        : claims.release(step.key, step.token, now);
    case "reopen":
      return claims.reopen(step.key, step.actor, now);
    case "note":
      return claims.note(step.key, step.text, step.author, now);
  }
}

/** How far another store's log (or evidence) was taken in: a value of the meta table, 0 when unset. */
function readMark(state: StateDb, key: string): number {
  const mark = state.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
    | { value: string }
    | undefined;
  return Number(mark?.value ?? 0);
}

function writeMark(state: StateDb, key: string, value: number): void {
  state.db
    .prepare(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .run(key, String(value));
}

export class SqliteStore implements CoordinationStore {
  readonly kind = "sqlite";
  readonly where = `${STATE_DIR}/${STATE_FILE}`;
  #state: StateDb | null = null;
  readonly #listeners = new Set<() => void>();

  constructor(private readonly root: string) {}

  async claim(work: readonly ClaimWork[]): Promise<Array<Settled<ClaimResult>>> {
    try {
      const settled = runClaimWork(this.#open(), this.root, work);
      this.#tell();
      return settled;
    } catch (error) {
      // The batch did not commit (the disk, a replaced store file): a new connection is made next time.
      this.#drop();
      throw error;
    }
  }

  async claims(now: Date): Promise<ClaimView[]> {
    return this.#read([], (s) => new Claims(s, this.root).list(now));
  }

  async claimOf(taskId: string, now: Date): Promise<ClaimView | null> {
    return this.#read(null, (s) => new Claims(s, this.root).get(taskId, now));
  }

  async notes(taskId: string): Promise<ClaimNote[]> {
    return this.#read([], (s) => new Claims(s, this.root).notes(taskId));
  }

  async tokens(): Promise<TokenRow[]> {
    return this.#read([], (s) => allTokens(s));
  }

  async addToken(row: TokenRow, event: AuditInput, now: Date): Promise<{ clash: string | null }> {
    const clash = insertToken(this.#open(), this.root, row, event, now);
    if (clash === null) this.#tell();
    return { clash };
  }

  async revokeToken(ref: string, now: Date, event: (row: TokenRow) => AuditInput): Promise<TokenRow | null> {
    const revoked = revokeLiveToken(this.#open(), this.root, ref, now, event);
    if (revoked) this.#tell();
    return revoked;
  }

  async append(events: readonly AuditInput[], now: Date): Promise<AuditEvent[]> {
    const state = this.#open();
    const written = state.exclusive(() => events.map((e) => appendEvent(state, this.root, e, now)));
    this.#tell();
    return written;
  }

  async events(after: number, upTo?: number): Promise<AuditEvent[]> {
    return this.#read([], (s) => eventsBetween(s, after, upTo ?? latestSeq(s)));
  }

  async latestSeq(): Promise<number> {
    return this.#read(0, (s) => latestSeq(s));
  }

  async chain(): Promise<EventRow[]> {
    return this.#read([], (s) => s.db.prepare("SELECT * FROM events ORDER BY seq").all() as EventRow[]);
  }

  async listEvents(filter: EventFilter): Promise<AuditEvent[]> {
    return this.#read([], (s) => listEvents(s, filter));
  }

  async forward(origin: string, events: readonly AuditEvent[]): Promise<number> {
    const state = this.#open();
    const key = forwardKey(origin);
    const last = state.exclusive(() => {
      const mark = state.db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
        | { value: string }
        | undefined;
      let taken = Number(mark?.value ?? 0);
      for (const e of events.filter((x) => x.seq > taken)) {
        appendEvent(state, this.root, forwardedInput(origin, e), new Date(e.at));
        taken = e.seq;
      }
      state.db
        .prepare(
          "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .run(key, String(taken));
      return taken;
    });
    this.#tell();
    return last;
  }

  async forwarded(origin: string): Promise<number> {
    return this.#read(0, (s) => readMark(s, forwardKey(origin)));
  }

  async forwardEvidence(origin: string, rows: readonly EvidenceRow[]): Promise<number> {
    const state = this.#open();
    const key = forwardKey(origin, "evidence");
    return state.exclusive(() => {
      let taken = readMark(state, key);
      const insert = state.db.prepare(
        `INSERT INTO evidence (${EVIDENCE_FIELDS.join(", ")}) VALUES (${EVIDENCE_FIELDS.map((f) => `@${f}`).join(", ")})`,
      );
      for (const row of rows.filter((r) => r.id > taken)) {
        const { id: _, ...columns } = row;
        insert.run(columns);
        taken = row.id;
      }
      writeMark(state, key, taken);
      return taken;
    });
  }

  async forwardedEvidence(origin: string): Promise<number> {
    return this.#read(0, (s) => readMark(s, forwardKey(origin, "evidence")));
  }

  async evidenceOnCommit(gates: readonly GateKey[], commit: string): Promise<Array<EvidenceRow | null>> {
    return this.#read(
      gates.map(() => null),
      (s) => {
        const newest = s.db.prepare(
          `SELECT * FROM evidence WHERE gate = ? AND command = ? AND cwd = ? AND commit_sha = ? AND dirty = 0
           ORDER BY id DESC LIMIT 1`,
        );
        return gates.map(
          (g) => (newest.get(g.name, g.command, g.cwd, commit) as EvidenceRow | undefined) ?? null,
        );
      },
    );
  }

  async shareConflicts(rows: readonly ConflictRow[]): Promise<void> {
    if (rows.length === 0) return;
    const state = this.#open();
    const share = state.db.prepare(shareConflictSql(() => "?"));
    state.exclusive(() => {
      for (const row of rows) share.run(...conflictParams(row));
    });
  }

  async conflicts(): Promise<ConflictRow[]> {
    return this.#read(
      [],
      (s) => s.db.prepare("SELECT * FROM conflicts ORDER BY created_at, id").all() as ConflictRow[],
    );
  }

  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async status(): Promise<StoreStatus> {
    const started = performance.now();
    const state = this.#open();
    const version = state.db.pragma("user_version", { simple: true }) as number;
    const counts = state.db
      .prepare(
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM claims WHERE token IS NOT NULL) AS claims",
      )
      .get() as { events: number; claims: number };
    return {
      kind: "sqlite",
      where: this.where,
      schema: version,
      latest: STATE_SCHEMA_VERSION,
      latencyMs: performance.now() - started,
      ...counts,
    };
  }

  exclusiveIntent<T>(fn: () => Promise<T>): Promise<T> {
    return fn();
  }

  async dump(): Promise<StoreDump> {
    const db = this.#open().db;
    return {
      storeId: storeIdOf(db) as string,
      events: db.prepare("SELECT * FROM events ORDER BY seq").all() as EventRow[],
      claims: db.prepare("SELECT * FROM claims ORDER BY task_id").all() as ClaimRow[],
      notes: db
        .prepare("SELECT task_id AS taskId, author, at, text FROM claim_notes ORDER BY seq")
        .all() as ClaimNote[],
      fencing: (db.prepare("SELECT value FROM counters WHERE name = 'fencing'").get() as { value: number })
        .value,
      tokens: allTokens(this.#open()),
    };
  }

  async load(dump: StoreDump, event: AuditInput, now: Date): Promise<AuditEvent> {
    if (existsSync(this.#file)) throw copyTargetRefusal(this.where, "a store file");
    const state = StateDb.open(this.root, { allowFresh: true, storeId: dump.storeId });
    try {
      return state.exclusive(() => {
        for (const row of dump.events) insertEvent(state, row);
        const claim = state.db.prepare(
          `INSERT INTO claims (task_id, status, holder, token, lease_until, reason, updated_at)
           VALUES (@task_id, @status, @holder, @token, @lease_until, @reason, @updated_at)`,
        );
        for (const c of dump.claims) claim.run(c);
        const note = state.db.prepare(
          "INSERT INTO claim_notes (task_id, author, at, text) VALUES (?, ?, ?, ?)",
        );
        for (const n of dump.notes) note.run(n.taskId, n.author, n.at, n.text);
        state.db
          .prepare("UPDATE counters SET value = max(value, ?) WHERE name = 'fencing'")
          .run(dump.fencing);
        const token = state.db.prepare(INSERT_TOKEN);
        for (const t of dump.tokens) token.run(t);
        // Its segment hook also writes every copied event the segment (keel/audit/<id>.jsonl) lacks.
        return appendEvent(state, this.root, event, now);
      });
    } finally {
      state.close();
    }
  }

  async close(): Promise<void> {
    this.#drop();
    this.#listeners.clear();
  }

  get #file(): string {
    return join(this.root, STATE_DIR, STATE_FILE);
  }

  /**
   * A read, or `fallback` when there is no store. A read never creates one: a store deleted under a long-lived
   * process (or never made) reads as empty, as the live feed always read it, and only a write opens (or refuses)
   * anew. One look at the file per read: an open connection's check that its file is unchanged stands for it.
   */
  #read<T>(fallback: T, fn: (state: StateDb) => T): T {
    if (this.#unchanged()) return fn(this.#state as StateDb);
    return existsSync(this.#file) ? fn(this.#open()) : fallback;
  }

  /** Whether the open connection's file is still the one it opened; a replaced or deleted one is let go. */
  #unchanged(): boolean {
    if (!this.#state) return false;
    try {
      this.#state.assertUnchanged();
      return true;
    } catch {
      this.#drop(); // replaced or deleted under us: a new connection sees the file now there
      return false;
    }
  }

  #open(): StateDb {
    if (this.#unchanged()) return this.#state as StateDb;
    this.#state = StateDb.open(this.root);
    return this.#state;
  }

  #drop(): void {
    this.#state?.close();
    this.#state = null;
  }

  #tell(): void {
    for (const l of this.#listeners) l();
  }
}
