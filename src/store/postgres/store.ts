// The team store: CoordinationStore over PostgreSQL. One pool per process; claim work arriving together runs in
// one transaction with a savepoint per part (group commit, as the embedded store does), its events appended last
// under the chain's lock; a dedicated connection LISTENs for every server's events and reconnects on its own when
// PostgreSQL restarts, telling its listeners once it is back so they read what they missed.
// @req TEAM-1, TEAM-3, TEAM-4, TEAM-8
import type { Client, PoolClient } from "pg";
import {
  type AuditEvent,
  type AuditInput,
  type EventFilter,
  type EventRow,
  forwardKey,
} from "../audit-chain.js";
import type { ClaimNote, ClaimRow, ClaimView } from "../claim-rules.js";
import {
  type ClaimResult,
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
import { conflictParams, shareConflictSql } from "../tables.js";
import { inspectTeamStore } from "./admin.js";
import {
  allRows,
  appendEvents,
  eventsBetween,
  forwardEvents,
  forwardedUpTo,
  insertRows,
  latestSeq,
  listEvents,
} from "./audit.js";
import { claimOf, heldKeys, listClaims, listNotes, loadClaims, runStep, Seeder } from "./claims.js";
import { type Connection, connect, inTransaction, isUnavailable, pgDriver } from "./connection.js";
import { evidenceOnCommit, forwardEvidence, forwardedEvidence } from "./evidence.js";
import { assertCurrent, EVENTS_CHANNEL, LOCKS } from "./schema.js";
import { addToken, allTokens, insertTokens, revokeToken } from "./tokens.js";

/** Longest wait between two attempts to LISTEN again after the connection was lost. */
const RELISTEN_MAX_MS = 2_000;

export class PgStore implements CoordinationStore {
  readonly kind = "postgres";
  readonly where: string;
  readonly #seeder: Seeder;
  readonly #listeners = new Set<() => void>();
  #listener: Client | null = null;
  /** True from the first watch on: a listening connection is open, being opened, or about to be again. */
  #listening = false;
  #closed = false;
  #relisten: NodeJS.Timeout | null = null;

  private constructor(
    private readonly url: string,
    private readonly conn: Connection,
    private readonly seeding: Connection,
  ) {
    this.where = conn.where;
    this.#seeder = new Seeder(seeding.pool);
  }

  /** Connects and checks the schema: a database not migrated (or migrated by a newer Keel) is refused. */
  static async open(url: string, options: { max?: number } = {}): Promise<PgStore> {
    const conn = await connect(url, options);
    // Seeds are written while a claiming transaction holds a connection of the main pool: on a pool of their own,
    // so that transactions filling the main pool never wait for one another's seeds.
    const seeding = await connect(url, { max: 1 });
    try {
      await assertCurrent(conn);
    } catch (e) {
      await Promise.all([conn.pool.end(), seeding.pool.end()]).catch(() => {});
      throw e;
    }
    return new PgStore(url, conn, seeding);
  }

  async claim(work: readonly ClaimWork[]): Promise<Array<Settled<ClaimResult>>> {
    if (work.length === 0) return [];
    const single = work.length === 1;
    try {
      return await inTransaction(this.conn, async (c) => {
        let held: Promise<Set<string>> | null = null;
        const heldNow = () => {
          held ??= heldKeys(c, (work[0] as ClaimWork).now);
          return held;
        };
        const settled: Array<Settled<ClaimResult>> = [];
        const events: Array<{ input: AuditInput; now: Date }> = [];
        for (const w of work) {
          // A step refuses before it writes (the rules are checked on the rows it locked), so only a part whose
          // afterStep may fail once the step has written needs a savepoint to roll back to: two round trips saved
          // on every other part.
          const guarded = !single && w.afterStep !== undefined;
          if (guarded) await c.query("SAVEPOINT part");
          try {
            const outcome = await runStep(c, this.#seeder, w.step, w.now, heldNow);
            const more = w.afterStep?.(outcome.result) ?? [];
            if (guarded) await c.query("RELEASE SAVEPOINT part");
            settled.push({ ok: true, value: outcome.result });
            for (const input of [...outcome.events, ...more]) events.push({ input, now: w.now });
          } catch (error) {
            // One part refused rolls back alone; a lost connection fails the whole transaction.
            if (single || isUnavailable(error)) throw error;
            if (guarded) await c.query("ROLLBACK TO SAVEPOINT part");
            settled.push({ ok: false, error });
          }
        }
        await appendEvents(c, events);
        return settled;
      });
    } catch (error) {
      // A single part's refusal is its answer; anything else (the store unreachable) is every part's.
      if (single && !String((error as { code?: unknown }).code).startsWith("store-"))
        return [{ ok: false, error }];
      throw error;
    }
  }

  async claims(now: Date): Promise<ClaimView[]> {
    return this.#read((c) => listClaims(c, now));
  }

  async claimOf(taskId: string, now: Date): Promise<ClaimView | null> {
    return this.#read((c) => claimOf(c, taskId, now));
  }

  async notes(taskId: string): Promise<ClaimNote[]> {
    return this.#read((c) => listNotes(c, taskId));
  }

  async tokens(): Promise<TokenRow[]> {
    return this.#read((c) => allTokens(c));
  }

  async addToken(row: TokenRow, event: AuditInput, now: Date): Promise<{ clash: string | null }> {
    return { clash: await inTransaction(this.conn, (c) => addToken(c, row, event, now)) };
  }

  async revokeToken(ref: string, now: Date, event: (row: TokenRow) => AuditInput): Promise<TokenRow | null> {
    return inTransaction(this.conn, (c) => revokeToken(c, ref, now, event));
  }

  async append(events: readonly AuditInput[], now: Date): Promise<AuditEvent[]> {
    return inTransaction(this.conn, (c) =>
      appendEvents(
        c,
        events.map((input) => ({ input, now })),
      ),
    );
  }

  async events(after: number, upTo?: number): Promise<AuditEvent[]> {
    return this.#read((c) => eventsBetween(c, after, upTo));
  }

  async latestSeq(): Promise<number> {
    return this.#read((c) => latestSeq(c));
  }

  async chain(): Promise<EventRow[]> {
    return this.#read((c) => allRows(c));
  }

  async listEvents(filter: EventFilter): Promise<AuditEvent[]> {
    return this.#read((c) => listEvents(c, filter));
  }

  async forward(origin: string, events: readonly AuditEvent[]): Promise<number> {
    return inTransaction(this.conn, (c) => forwardEvents(c, origin, events));
  }

  async forwarded(origin: string): Promise<number> {
    return this.#read((c) => forwardedUpTo(c, origin));
  }

  async forwardEvidence(origin: string, rows: readonly EvidenceRow[]): Promise<number> {
    return inTransaction(this.conn, (c) => forwardEvidence(c, origin, rows));
  }

  async forwardedEvidence(origin: string): Promise<number> {
    return this.#read((c) => forwardedEvidence(c, origin));
  }

  async evidenceOnCommit(gates: readonly GateKey[], commit: string): Promise<Array<EvidenceRow | null>> {
    return this.#read((c) => evidenceOnCommit(c, gates, commit));
  }

  async shareConflicts(rows: readonly ConflictRow[]): Promise<void> {
    if (rows.length === 0) return;
    const sql = shareConflictSql((n) => `$${n}`);
    await inTransaction(this.conn, async (c) => {
      for (const row of rows) await c.query(sql, conflictParams(row));
    });
  }

  async conflicts(): Promise<ConflictRow[]> {
    return this.#read(async (c) => (await c.query("SELECT * FROM conflicts ORDER BY created_at, id")).rows);
  }

  watch(listener: () => void): () => void {
    this.#listeners.add(listener);
    if (!this.#listening) {
      this.#listening = true;
      void this.#listen(0);
    }
    return () => this.#listeners.delete(listener);
  }

  status(): Promise<StoreStatus> {
    return inspectTeamStore(this.url);
  }

  async exclusiveIntent<T>(fn: () => Promise<T>): Promise<T> {
    // A session lock on a connection of its own, held while `fn` works on files and git (not in a transaction);
    // a server that dies holding it loses its session, and the lock with it.
    let client: PoolClient;
    try {
      client = await this.conn.pool.connect();
      await client.query("SELECT pg_advisory_lock($1)", [LOCKS.intent]);
    } catch (e) {
      throw this.conn.explain(e);
    }
    const cut = () => {};
    client.on("error", cut);
    try {
      return await fn();
    } finally {
      const unlocked = await client.query("SELECT pg_advisory_unlock($1)", [LOCKS.intent]).then(
        () => true,
        () => false,
      );
      client.off("error", cut);
      client.release(!unlocked);
    }
  }

  async dump(): Promise<StoreDump> {
    return this.#read(async (c) => {
      const meta = await c.query("SELECT value FROM keel_meta WHERE key = 'store_id'");
      const fencing = await c.query(
        "SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS value FROM keel_fencing",
      );
      return {
        storeId: meta.rows[0].value as string,
        events: await allRows(c),
        claims: (
          await c.query("SELECT * FROM claims WHERE token IS NOT NULL OR status <> 'open' ORDER BY task_id")
        ).rows as ClaimRow[],
        notes: (await c.query('SELECT task_id AS "taskId", author, at, text FROM claim_notes ORDER BY seq'))
          .rows as ClaimNote[],
        fencing: fencing.rows[0].value as number,
        tokens: await allTokens(c),
      };
    });
  }

  async load(dump: StoreDump, event: AuditInput, now: Date): Promise<AuditEvent> {
    return inTransaction(this.conn, async (c) => {
      const held = await c.query(
        `SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM claims WHERE token IS NOT NULL) AS claims,
           (SELECT count(*) FROM tokens) AS tokens`,
      );
      const { events, claims, tokens } = held.rows[0] as { events: number; claims: number; tokens: number };
      if (events > 0 || claims > 0 || tokens > 0)
        throw copyTargetRefusal(this.where, `${events} events, ${claims} claims and ${tokens} tokens`);
      await c.query("UPDATE keel_meta SET value = $1 WHERE key = 'store_id'", [dump.storeId]);
      await insertRows(c, dump.events, false);
      // The copied log's events are taken: a checkout forwarding the log it was copied from sends only later ones.
      const last = dump.events.at(-1)?.seq ?? 0;
      await c.query(
        "INSERT INTO keel_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [forwardKey(dump.storeId), String(last)],
      );
      await loadClaims(c, dump.claims, dump.notes);
      await insertTokens(c, dump.tokens);
      if (dump.fencing > 0) await c.query("SELECT setval('keel_fencing', $1)", [dump.fencing]);
      const [written] = await appendEvents(c, [{ input: event, now }]);
      return written as AuditEvent;
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#relisten) clearTimeout(this.#relisten);
    this.#listeners.clear();
    await this.#listener?.end().catch(() => {});
    this.#listener = null;
    await Promise.all([this.conn.pool.end(), this.seeding.pool.end()]).catch(() => {});
  }

  async #read<T>(fn: (c: Connection["pool"]) => Promise<T>): Promise<T> {
    try {
      return await fn(this.conn.pool);
    } catch (e) {
      throw this.conn.explain(e);
    }
  }

  async #listen(attempt: number): Promise<void> {
    this.#relisten = null;
    if (this.#closed) return;
    const pg = await pgDriver();
    const client = new pg.Client({ connectionString: this.url });
    const lost = () => {
      if (this.#listener !== client) return;
      this.#listener = null;
      void client.end().catch(() => {});
      this.#retry(0);
    };
    client.on("error", lost);
    client.on("end", lost);
    client.on("notification", () => this.#tell());
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch {
      void client.end().catch(() => {});
      this.#retry(attempt + 1);
      return;
    }
    if (this.#closed) {
      void client.end().catch(() => {});
      return;
    }
    this.#listener = client;
    // Events written while no one listened (at start, or during a restart) are read now.
    this.#tell();
  }

  #retry(attempt: number): void {
    if (this.#closed) return;
    const wait = Math.min(RELISTEN_MAX_MS, 50 * 2 ** attempt);
    this.#relisten = setTimeout(() => void this.#listen(attempt), wait);
    this.#relisten.unref();
  }

  #tell(): void {
    for (const l of this.#listeners) l();
  }
}
