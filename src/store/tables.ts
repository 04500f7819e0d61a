// Tables whose DDL is the same text in both stores' SQL (sqlite's state-db.ts and postgres/schema.ts): written once,
// so the two schemas cannot drift apart. Tables whose types differ between the dialects are written in each.
// @req TEAM-1

/**
 * Bearer tokens of `keel serve` (core/auth/tokens.ts): only the SHA-256 of each secret is kept. A live token's
 * name is unique, so `keel token revoke <name>` names one token.
 */
export const TOKENS_TABLE = `
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    expires_at TEXT,
    revoked_at TEXT
  );
  CREATE UNIQUE INDEX tokens_live_name ON tokens (name) WHERE revoked_at IS NULL;
`;

/**
 * The columns of one gate run (core/verify/evidence.ts) after its ID, with their types: the same in the embedded
 * store's `evidence` and the team store's, which adds the checkout the row came from.
 */
const EVIDENCE_TYPES = {
  run: "TEXT NOT NULL",
  gate: "TEXT NOT NULL",
  kind: "TEXT NOT NULL",
  command: "TEXT NOT NULL",
  cwd: "TEXT NOT NULL",
  exit_code: "INTEGER",
  timed_out: "INTEGER NOT NULL",
  duration_ms: "INTEGER NOT NULL",
  started_at: "TEXT NOT NULL",
  commit_sha: "TEXT",
  dirty: "INTEGER NOT NULL",
  tree_digest: "TEXT",
  requirements: "TEXT NOT NULL",
  task: "TEXT",
  output_tail: "TEXT NOT NULL",
  output_digest: "TEXT NOT NULL",
  output_bytes: "INTEGER NOT NULL",
  actor: "TEXT NOT NULL",
} as const;

/** Their names, in order: what a copy of a row between the stores writes. */
export const EVIDENCE_FIELDS = Object.keys(EVIDENCE_TYPES) as Array<keyof typeof EVIDENCE_TYPES>;

/** Their DDL, to follow an ID column. */
export const EVIDENCE_COLUMNS = EVIDENCE_FIELDS.map((f) => `\n    ${f} ${EVIDENCE_TYPES[f]}`).join(",");

/**
 * How far on in its life a conflict record is (open, then resolved, then applied or superseded), as SQL over the
 * `status` of `table`: a shared record is replaced only by a version with a larger rank.
 */
export const conflictRank = (table: string): string =>
  `(CASE ${table}.status WHEN 'open' THEN 0 WHEN 'resolved' THEN 1 ELSE 2 END)`;

/** Conflict records (core/changes/conflicts.ts): their columns and types, the same in both stores. */
const CONFLICT_TYPES = {
  id: "TEXT PRIMARY KEY",
  change_id: "TEXT NOT NULL",
  capability: "TEXT NOT NULL",
  requirement: "TEXT NOT NULL",
  created_at: "TEXT NOT NULL",
  status: "TEXT NOT NULL",
  base: "TEXT",
  ours: "TEXT",
  theirs: "TEXT",
  resolution: "TEXT",
  resolved_by: "TEXT",
  resolved_at: "TEXT",
} as const;

const CONFLICT_COLUMNS = Object.keys(CONFLICT_TYPES) as Array<keyof typeof CONFLICT_TYPES>;

/**
 * The upsert of one shared conflict record, in either dialect (`param(n)` spells the n-th parameter): added when
 * missing, replaced when the incoming version is further on. Its parameters are `conflictParams(row)`.
 */
export function shareConflictSql(param: (n: number) => string): string {
  const updates = CONFLICT_COLUMNS.filter((c) => c !== "id").map((c) => `${c} = excluded.${c}`);
  return `INSERT INTO conflicts (${CONFLICT_COLUMNS.join(", ")})
    VALUES (${CONFLICT_COLUMNS.map((_, i) => param(i + 1)).join(", ")})
    ON CONFLICT (id) DO UPDATE SET ${updates.join(", ")}
    WHERE ${conflictRank("excluded")} > ${conflictRank("conflicts")}`;
}

export function conflictParams(
  row: Record<keyof typeof CONFLICT_TYPES, string | null>,
): Array<string | null> {
  return CONFLICT_COLUMNS.map((c) => row[c]);
}

export const CONFLICTS_TABLE = `
  CREATE TABLE conflicts (${CONFLICT_COLUMNS.map((c) => `\n    ${c} ${CONFLICT_TYPES[c]}`).join(",")}
  );
`;
