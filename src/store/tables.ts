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
 * The columns of one gate run (core/verify/evidence.ts), after its ID: the same in the embedded store's `evidence`
 * and the team store's, which adds the checkout the row came from.
 */
export const EVIDENCE_COLUMNS = `
    run TEXT NOT NULL,
    gate TEXT NOT NULL,
    kind TEXT NOT NULL,
    command TEXT NOT NULL,
    cwd TEXT NOT NULL,
    exit_code INTEGER,
    timed_out INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    commit_sha TEXT,
    dirty INTEGER NOT NULL,
    tree_digest TEXT,
    requirements TEXT NOT NULL,
    task TEXT,
    output_tail TEXT NOT NULL,
    output_digest TEXT NOT NULL,
    output_bytes INTEGER NOT NULL,
    actor TEXT NOT NULL`;

/**
 * How far on in its life a conflict record is (open, then resolved, then applied or superseded), as SQL over the
 * `status` of `table`: a shared record is replaced only by a version with a larger rank.
 */
export const conflictRank = (table: string): string =>
  `(CASE ${table}.status WHEN 'open' THEN 0 WHEN 'resolved' THEN 1 ELSE 2 END)`;

const CONFLICT_COLUMNS = [
  "id",
  "change_id",
  "capability",
  "requirement",
  "created_at",
  "status",
  "base",
  "ours",
  "theirs",
  "resolution",
  "resolved_by",
  "resolved_at",
] as const;

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
  row: Record<(typeof CONFLICT_COLUMNS)[number], string | null>,
): Array<string | null> {
  return CONFLICT_COLUMNS.map((c) => row[c]);
}

/** Conflict records (core/changes/conflicts.ts), in both stores. */
export const CONFLICTS_TABLE = `
  CREATE TABLE conflicts (
    id TEXT PRIMARY KEY,
    change_id TEXT NOT NULL,
    capability TEXT NOT NULL,
    requirement TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL,
    base TEXT,
    ours TEXT,
    theirs TEXT,
    resolution TEXT,
    resolved_by TEXT,
    resolved_at TEXT
  );
`;
