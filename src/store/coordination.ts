// The coordination store: the operational state every Keel process of a project shares, one interface with two
// implementations side by side. sqlite/ is the embedded default (`.keel/state.db`, one machine); postgres/ is team
// mode (keel.yaml `store: postgres://…` or KEEL_STORE_URL), where servers on many machines share one database.
// The core asks this interface and does not know which one answers (select.ts picks it). Everything here is
// asynchronous because PostgreSQL is; the embedded store answers at once.
// @req TEAM-1
import { EXIT, KeelError } from "../workspace/errors.js";
import type { AuditEvent, AuditInput, EventFilter, EventRow } from "./audit-chain.js";
import type { ClaimNote, ClaimRow, ClaimView, Finish, Grant } from "./claim-rules.js";

/** Error code of a store that cannot be reached now: a server answers 503 with Retry-After, the CLI exits 3. */
export const STORE_UNAVAILABLE = "store-unavailable";

/** One claim operation, as the store runs it (the core turns a surface's request into one: core/tasks/claim-ops.ts). */
export type ClaimStep =
  | { op: "claim"; key: string; holder: string; ttlMs: number }
  | {
      op: "claim-next";
      /** Ready tasks in order of preference, given which are held (read in the step's own transaction). */
      candidates: (isHeld: (key: string) => boolean) => readonly string[];
      holder: string;
      ttlMs: number;
    }
  | { op: "heartbeat"; key: string; token: number; ttlMs: number }
  | { op: "finish"; key: string; token: number; finish: Finish; reason: string | null }
  | { op: "reopen"; key: string; actor: string }
  | { op: "note"; key: string; text: string; author: string };

export type ClaimResult = Grant | ClaimView | ClaimNote | null;

export interface ClaimWork {
  step: ClaimStep;
  now: Date;
  /**
   * Runs in the step's transaction once the step succeeded: the core writes a task file's checkbox here, and the
   * events it returns commit with the step. Throwing rolls the step back (and only it).
   */
  afterStep?: (result: ClaimResult) => AuditInput[];
}

/** A bearer token as stored (core/auth/tokens.ts): only the SHA-256 of its secret is ever kept. */
export interface TokenRow {
  id: string;
  name: string;
  /** `kind:name`: who requests with this token act as. */
  actor: string;
  role: string;
  secret_hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
}

/** One gate run as stored (core/verify/evidence.ts reads it): the embedded store's `evidence` columns. */
export interface EvidenceRow {
  id: number;
  run: string;
  gate: string;
  kind: string;
  command: string;
  cwd: string;
  exit_code: number | null;
  timed_out: number;
  duration_ms: number;
  started_at: string;
  commit_sha: string | null;
  dirty: number;
  tree_digest: string | null;
  requirements: string;
  task: string | null;
  output_tail: string;
  output_digest: string;
  output_bytes: number;
  actor: string;
}

/** A conflict record as stored (core/changes/conflicts.ts reads it). */
export interface ConflictRow {
  id: string;
  change_id: string;
  capability: string;
  requirement: string;
  created_at: string;
  status: string;
  base: string | null;
  ours: string | null;
  theirs: string | null;
  resolution: string | null;
  resolved_by: string | null;
  resolved_at: string | null;
}

/** A gate as evidence names it. */
export interface GateKey {
  name: string;
  command: string;
  cwd: string;
}

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export interface StoreStatus {
  kind: "sqlite" | "postgres";
  /** The file, or the URL without its password. */
  where: string;
  schema: number;
  /** The newest schema this Keel knows. */
  latest: number;
  events: number;
  claims: number;
  /** Round trip of one query, ms. */
  latencyMs: number;
}

/** Everything a store holds that a copy moves (`keel store copy`), rows as stored. */
export interface StoreDump {
  /** The name of the audit chain: a copy keeps it, so the chain goes on under its name. */
  storeId: string;
  events: EventRow[];
  claims: ClaimRow[];
  notes: ClaimNote[];
  /** The fencing counter: the last token granted. */
  fencing: number;
  tokens: TokenRow[];
}

export interface CoordinationStore {
  readonly kind: "sqlite" | "postgres";
  /** Where the state is, for messages: a file path, or a URL without its password. */
  readonly where: string;
  /**
   * Runs claim work in one transaction, each part on its own: a refused part (a stale token) rolls back alone and
   * the others commit together (group commit). Each part is answered only once the transaction committed.
   */
  claim(work: readonly ClaimWork[]): Promise<Array<Settled<ClaimResult>>>;
  /** Every claim record, ordered by task ID. */
  claims(now: Date): Promise<ClaimView[]>;
  /** One task's claim record, or null when it was never claimed. */
  claimOf(taskId: string, now: Date): Promise<ClaimView | null>;
  notes(taskId: string): Promise<ClaimNote[]>;
  /** Every bearer token, live or not, oldest first. */
  tokens(): Promise<TokenRow[]>;
  /**
   * Adds a token with its audit event, in one transaction. A live token of the same name refuses it: nothing is
   * written, and the answer names the live one.
   */
  addToken(row: TokenRow, event: AuditInput, now: Date): Promise<{ clash: string | null }>;
  /** Revokes the live token with this ID or name, with the event made of it; null when no such token is live. */
  revokeToken(ref: string, now: Date, event: (row: TokenRow) => AuditInput): Promise<TokenRow | null>;
  /** Appends events on their own (a refusal, a comment), in one transaction. */
  append(events: readonly AuditInput[], now: Date): Promise<AuditEvent[]>;
  /** Events with `after < seq <= upTo`, oldest first. */
  events(after: number, upTo?: number): Promise<AuditEvent[]>;
  latestSeq(): Promise<number>;
  /** `keel audit log`: the events the filter matches, oldest first. */
  listEvents(filter: EventFilter): Promise<AuditEvent[]>;
  /**
   * Takes in the events of another log that this store has not taken yet, each exactly once however often (and
   * from however many processes) it is asked: `origin` names that log, and its events are appended in its order,
   * at their own times, each marked with where it came from. In team mode a checkout's own log (the events of spec
   * and change writes, evidence and refusals) is forwarded this way into the team's chain. Answers the origin's
   * last event taken.
   */
  forward(origin: string, events: readonly AuditEvent[]): Promise<number>;
  /** The last event of `origin`'s log this store took in (0 when none). */
  forwarded(origin: string): Promise<number>;
  /**
   * Takes in another store's gate evidence as `forward` takes its events: each row once, by its ID there. In team
   * mode every checkout's evidence is forwarded, so a gate run on one machine counts on every server.
   */
  forwardEvidence(origin: string, rows: readonly EvidenceRow[]): Promise<number>;
  /** The last evidence row of `origin` this store took in (0 when none). */
  forwardedEvidence(origin: string): Promise<number>;
  /**
   * For each gate, its newest evidence recorded on `commit` with a clean tree, by any checkout, or null: a commit
   * is the same on every machine, while uncommitted changes are one machine's own.
   */
  evidenceOnCommit(gates: readonly GateKey[], commit: string): Promise<Array<EvidenceRow | null>>;
  /**
   * Takes in conflict records from another store (a checkout's, or the team's): one it lacks is added, and one it
   * holds is replaced only by a version further on in its life (open, then resolved, then applied or superseded),
   * so records shared both ways between the checkouts and the team store settle on the furthest version of each.
   */
  shareConflicts(rows: readonly ConflictRow[]): Promise<void>;
  /** Every conflict record, oldest first. */
  conflicts(): Promise<ConflictRow[]>;
  /** The whole log as stored, for verification and copying. */
  chain(): Promise<EventRow[]>;
  /**
   * Calls `listener` after events are written, by any process where the store can tell (PostgreSQL: LISTEN/NOTIFY,
   * on every server); the embedded store tells only of this process's own writes, and the live feed polls it.
   */
  watch(listener: () => void): () => void;
  status(): Promise<StoreStatus>;
  /**
   * Runs `fn` holding the project's intent lock: one writer of intent (specs, changes) at a time across every
   * process on the store, so a server brings its checkout up to the others' pushes, writes and pushes before the
   * next one starts. The embedded store serves one machine, whose write lock already serialises its writers.
   */
  exclusiveIntent<T>(fn: () => Promise<T>): Promise<T>;
  dump(): Promise<StoreDump>;
  /**
   * Fills an empty store with `dump` in one transaction and appends `event` (the copy's own record) to the chain
   * it continues. A store that holds events or claims already is refused: a copy never merges two histories.
   */
  load(dump: StoreDump, event: AuditInput, now: Date): Promise<AuditEvent>;
  close(): Promise<void>;
}

/** The refusal of a copy into a store that already holds state. */
export function copyTargetRefusal(where: string, what: string): KeelError {
  return new KeelError(
    `the store at ${where} already holds ${what}: a copy never merges two histories`,
    EXIT.conflict,
    "copy into an empty store (a new database, or `--replace` for the embedded store, which moves its file aside)",
    undefined,
    "store-not-empty",
  );
}
