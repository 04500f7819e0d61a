// The query index: requirements, specs and changes as rows, with an FTS5 table for ranked full-text search.
// It lives in the same SQLite file as the validation cache (store/index-db.ts creates these tables in its
// migration) and is filled lazily by the query commands, never by `keel validate`. Rows are grouped by
// source file so a refresh replaces exactly the files that changed: delete by file, insert anew.
// @req IDX-1
import type BetterSqlite3 from "better-sqlite3";

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

/** Drops and creates the query tables; run by the index migration in store/index-db.ts. */
export const QUERY_SCHEMA_SQL = `
  DROP TABLE IF EXISTS q_state;
  DROP TABLE IF EXISTS q_sources;
  DROP TABLE IF EXISTS q_specs;
  DROP TABLE IF EXISTS q_requirements;
  DROP TABLE IF EXISTS q_changes;
  DROP TABLE IF EXISTS q_fts;
  CREATE TABLE q_state (key TEXT NOT NULL UNIQUE, value TEXT NOT NULL);
  CREATE TABLE q_sources (
    rel TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    owner TEXT,
    size INTEGER NOT NULL,
    mtime REAL NOT NULL,
    hash TEXT NOT NULL,
    indexed_at REAL NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE q_specs (
    rowid INTEGER PRIMARY KEY,
    file TEXT NOT NULL UNIQUE,
    capability TEXT NOT NULL,
    layout TEXT NOT NULL,
    title TEXT,
    status TEXT,
    purpose TEXT,
    requirements INTEGER NOT NULL,
    problem TEXT,
    json TEXT NOT NULL
  );
  CREATE INDEX q_specs_capability ON q_specs (capability);
  CREATE TABLE q_requirements (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    capability TEXT NOT NULL,
    file TEXT NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT,
    origin TEXT,
    fingerprint TEXT NOT NULL,
    ears TEXT,
    json TEXT NOT NULL
  );
  CREATE INDEX q_requirements_id ON q_requirements (id);
  CREATE INDEX q_requirements_file ON q_requirements (file, line);
  CREATE TABLE q_changes (
    dir TEXT NOT NULL UNIQUE,
    id TEXT NOT NULL,
    archived INTEGER NOT NULL,
    layout TEXT NOT NULL,
    status TEXT NOT NULL,
    tasks_done INTEGER NOT NULL,
    tasks_total INTEGER NOT NULL,
    added INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    removed INTEGER NOT NULL,
    renamed INTEGER NOT NULL,
    hash TEXT NOT NULL,
    json TEXT NOT NULL
  );
  -- Contentless: the text lives once, in q_requirements / q_specs. A requirement's FTS rowid is its
  -- q_requirements rowid; a spec purpose's is the negated q_specs rowid. \`ident\` holds an explicit
  -- requirement ID or a spec's capability, so that searching for "PAY-4" finds it. Porter stemming lets "refund"
  -- find "refunds" and "refunded".
  CREATE VIRTUAL TABLE q_fts USING fts5 (
    ident, title, body, scenarios,
    content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
  );
`;

/** Column weights for bm25: a hit in a title counts most, then the normative text, then scenarios. */
export const SEARCH_WEIGHTS = { ident: 10, title: 10, body: 3, scenarios: 1 } as const;

export type SourceKind = "spec" | "constitution" | "change";

export interface SourceRow {
  rel: string;
  kind: SourceKind;
  /** For change files, the change folder. */
  owner: string | null;
  size: number;
  mtime: number;
  hash: string;
  indexedAt: number;
}

export interface SpecRow {
  file: string;
  capability: string;
  layout: string;
  title: string | null;
  status: string | null;
  purpose: string | null;
  requirements: number;
  /** Why the file could not be read, when it could not. */
  problem: string | null;
  json: string;
}

export interface RequirementRow {
  /** Scenarios flattened for the full-text index (not stored as a column; the JSON holds them). */
  scenarios?: string;
  /** The explicit ID, for the full-text index ("" for a derived ID, which only repeats the title). */
  ident?: string;
  id: string;
  capability: string;
  file: string;
  line: number;
  col: number;
  title: string;
  text: string;
  status: string | null;
  origin: string | null;
  fingerprint: string;
  ears: string | null;
  json: string;
}

export interface ChangeRow {
  dir: string;
  id: string;
  archived: number;
  layout: string;
  status: string;
  tasksDone: number;
  tasksTotal: number;
  added: number;
  modified: number;
  removed: number;
  renamed: number;
  hash: string;
  json: string;
}

export interface SearchHit {
  /** Positive: a requirement's rowid; negative: a spec purpose's (negated q_specs rowid). */
  rowid: number;
  score: number;
}

export interface RequirementFilter {
  capability?: string;
  /** A status, or "none" for requirements without one. */
  status?: string;
}

export interface CountRow {
  key: string | null;
  n: number;
}

const WRITE_ATTEMPTS = 6;
const REQ_COLUMNS = `id, capability, file, line, col, title, text, status, origin, fingerprint, ears, json`;
const SPEC_COLUMNS = `file, capability, layout, title, status, purpose, requirements, problem, json`;
const CHANGE_COLUMNS = `dir, id, archived, layout, status, tasks_done AS tasksDone, tasks_total AS tasksTotal,
  added, modified, removed, renamed, hash, json`;

/** Typed access to the query tables of one open index. Statements are prepared on first use. */
export class QueryStore {
  private readonly cache = new Map<string, Statement>();

  constructor(readonly db: Database) {}

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s;
  }

  /**
   * Runs `fn` in one write transaction that takes the write lock up front (BEGIN IMMEDIATE), so concurrent
   * refreshes queue instead of failing half-way. Each attempt waits up to the connection's busy timeout;
   * a rebuild in another process can take longer, so a few attempts are made. The page cache is enlarged
   * meanwhile: a rebuild touches the same index pages over and over.
   */
  write<T>(fn: () => T): T {
    const before = this.db.pragma("cache_size", { simple: true }) as number;
    this.db.pragma("cache_size = -65536");
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return this.db.transaction(fn).immediate();
        } catch (e) {
          if ((e as { code?: string }).code !== "SQLITE_BUSY" || attempt >= WRITE_ATTEMPTS) throw e;
        }
      }
    } finally {
      this.db.pragma(`cache_size = ${before}`);
    }
  }

  getState(key: string): string | null {
    const row = this.stmt("SELECT value FROM q_state WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value ?? null;
  }

  setState(key: string, value: string): void {
    this.stmt(
      "INSERT INTO q_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
  }

  sources(): Map<string, SourceRow> {
    const rows = this.stmt(
      "SELECT rel, kind, owner, size, mtime, hash, indexed_at AS indexedAt FROM q_sources",
    ).all() as SourceRow[];
    return new Map(rows.map((r) => [r.rel, r]));
  }

  /** [rel, size, mtime, indexedAt] of every indexed file: the cheapest form for a freshness check. */
  sourceStats(): Array<[string, number, number, number]> {
    return this.stmt("SELECT rel, size, mtime, indexed_at FROM q_sources").raw().all() as Array<
      [string, number, number, number]
    >;
  }

  source(rel: string): SourceRow | null {
    return (
      (this.stmt(
        "SELECT rel, kind, owner, size, mtime, hash, indexed_at AS indexedAt FROM q_sources WHERE rel = ?",
      ).get(rel) as SourceRow | undefined) ?? null
    );
  }

  putSource(row: SourceRow): void {
    this.stmt(
      `INSERT INTO q_sources (rel, kind, owner, size, mtime, hash, indexed_at)
       VALUES (@rel, @kind, @owner, @size, @mtime, @hash, @indexedAt)
       ON CONFLICT(rel) DO UPDATE SET kind = excluded.kind, owner = excluded.owner, size = excluded.size,
       mtime = excluded.mtime, hash = excluded.hash, indexed_at = excluded.indexed_at`,
    ).run(row);
  }

  deleteSource(rel: string): void {
    this.stmt("DELETE FROM q_sources WHERE rel = ?").run(rel);
  }

  /** Empties every query table (the validation cache is left alone). */
  clear(): void {
    this.db.exec(`DELETE FROM q_fts; DELETE FROM q_requirements; DELETE FROM q_specs; DELETE FROM q_changes;
      DELETE FROM q_sources; DELETE FROM q_state;`);
  }

  /** Removes a spec file's rows: the spec, its requirements and their full-text entries. */
  deleteSpecFile(file: string): void {
    const spec = this.stmt("SELECT rowid FROM q_specs WHERE file = ?").get(file) as
      | { rowid: number }
      | undefined;
    if (spec) this.stmt("DELETE FROM q_fts WHERE rowid = ?").run(-spec.rowid);
    for (const r of this.stmt("SELECT rowid FROM q_requirements WHERE file = ?").all(file) as {
      rowid: number;
    }[]) {
      this.stmt("DELETE FROM q_fts WHERE rowid = ?").run(r.rowid);
    }
    this.stmt("DELETE FROM q_requirements WHERE file = ?").run(file);
    this.stmt("DELETE FROM q_specs WHERE file = ?").run(file);
  }

  /** Replaces everything indexed from one spec file. `fresh`: the tables hold nothing of it (a rebuild). */
  putSpecFile(spec: SpecRow, requirements: RequirementRow[], fresh = false): void {
    if (!fresh) this.deleteSpecFile(spec.file);
    const specInfo = this.stmt(
      `INSERT INTO q_specs (${SPEC_COLUMNS}) VALUES (@file, @capability, @layout, @title, @status, @purpose,
       @requirements, @problem, @json)`,
    ).run(spec);
    const fts = this.stmt("INSERT INTO q_fts (rowid, ident, title, body, scenarios) VALUES (?, ?, ?, ?, ?)");
    if (spec.purpose) {
      fts.run(-Number(specInfo.lastInsertRowid), spec.capability, spec.title ?? "", spec.purpose, "");
    }
    // Positional parameters: binding by name costs more, and a rebuild inserts 100,000s of rows.
    const insert = this.stmt(
      `INSERT INTO q_requirements (${REQ_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const r of requirements) {
      const info = insert.run(
        r.id,
        r.capability,
        r.file,
        r.line,
        r.col,
        r.title,
        r.text,
        r.status,
        r.origin,
        r.fingerprint,
        r.ears,
        r.json,
      );
      fts.run(Number(info.lastInsertRowid), r.ident ?? "", r.title, r.text, r.scenarios ?? "");
    }
  }

  putChange(row: ChangeRow): void {
    this.stmt(
      `INSERT INTO q_changes (dir, id, archived, layout, status, tasks_done, tasks_total, added, modified,
       removed, renamed, hash, json) VALUES (@dir, @id, @archived, @layout, @status, @tasksDone, @tasksTotal, @added,
       @modified, @removed, @renamed, @hash, @json)
       ON CONFLICT(dir) DO UPDATE SET id = excluded.id, archived = excluded.archived, layout = excluded.layout,
       status = excluded.status, tasks_done = excluded.tasks_done, tasks_total = excluded.tasks_total,
       added = excluded.added, modified = excluded.modified, removed = excluded.removed, renamed = excluded.renamed,
       hash = excluded.hash, json = excluded.json`,
    ).run(row);
  }

  deleteChange(dir: string): void {
    this.stmt("DELETE FROM q_changes WHERE dir = ?").run(dir);
  }

  changeHashes(): Map<string, string> {
    const rows = this.stmt("SELECT dir, hash FROM q_changes").all() as { dir: string; hash: string }[];
    return new Map(rows.map((r) => [r.dir, r.hash]));
  }

  // ---- queries ------------------------------------------------------------------------------------------

  requirementsById(id: string): RequirementRow[] {
    return this.stmt(`SELECT ${REQ_COLUMNS} FROM q_requirements WHERE id = ? ORDER BY file, line`).all(
      id,
    ) as RequirementRow[];
  }

  requirementsOfFile(file: string): RequirementRow[] {
    return this.stmt(`SELECT ${REQ_COLUMNS} FROM q_requirements WHERE file = ? ORDER BY line`).all(
      file,
    ) as RequirementRow[];
  }

  specsByCapability(capability: string): SpecRow[] {
    return this.stmt(`SELECT ${SPEC_COLUMNS} FROM q_specs WHERE capability = ? ORDER BY file`).all(
      capability,
    ) as SpecRow[];
  }

  changesById(id: string): ChangeRow[] {
    return this.stmt(`SELECT ${CHANGE_COLUMNS} FROM q_changes WHERE id = ? ORDER BY archived, dir`).all(
      id,
    ) as ChangeRow[];
  }

  listSpecs(filter: { capability?: string; status?: string }): SpecRow[] {
    const { where, args } = capabilityStatusWhere(filter);
    const sql = `SELECT ${SPEC_COLUMNS} FROM q_specs ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY capability, file`;
    return this.db.prepare(sql).all(...args) as SpecRow[];
  }

  listChanges(filter: { archived: boolean; status?: string }): ChangeRow[] {
    const where: string[] = [];
    const args: string[] = [];
    if (!filter.archived) where.push("archived = 0");
    if (filter.status !== undefined) {
      where.push("status = ?");
      args.push(filter.status);
    }
    const sql = `SELECT ${CHANGE_COLUMNS} FROM q_changes ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY archived, id, dir`;
    return this.db.prepare(sql).all(...args) as ChangeRow[];
  }

  listRequirements(filter: RequirementFilter): RequirementRow[] {
    const { where, args } = capabilityStatusWhere(filter);
    const sql = `SELECT ${REQ_COLUMNS} FROM q_requirements ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
      ORDER BY file, line`;
    return this.db.prepare(sql).all(...args) as RequirementRow[];
  }

  // @req QRY-3
  /** Ranked full-text hits, best first. `match` is an FTS5 query expression. */
  search(match: string, limit: number): SearchHit[] {
    const w = SEARCH_WEIGHTS;
    return this.stmt(
      `SELECT rowid, bm25(q_fts, ${w.ident}, ${w.title}, ${w.body}, ${w.scenarios}) AS score FROM q_fts WHERE q_fts MATCH ?
       ORDER BY score, rowid LIMIT ?`,
    ).all(match, limit) as SearchHit[];
  }

  countMatches(match: string): number {
    return (this.stmt("SELECT count(*) AS n FROM q_fts WHERE q_fts MATCH ?").get(match) as { n: number }).n;
  }

  requirementByRowid(rowid: number): RequirementRow | null {
    return (
      (this.stmt(`SELECT ${REQ_COLUMNS} FROM q_requirements WHERE rowid = ?`).get(rowid) as
        | RequirementRow
        | undefined) ?? null
    );
  }

  specByRowid(rowid: number): SpecRow | null {
    return (
      (this.stmt(`SELECT ${SPEC_COLUMNS} FROM q_specs WHERE rowid = ?`).get(rowid) as SpecRow | undefined) ??
      null
    );
  }

  /** Every requirement ID, capability and change ID: the candidates for "did you mean". */
  allNames(): { requirements: string[]; specs: string[]; changes: string[] } {
    const pluck = (sql: string) => (this.db.prepare(sql).pluck().all() as string[]) ?? [];
    return {
      requirements: pluck("SELECT DISTINCT id FROM q_requirements"),
      specs: pluck("SELECT DISTINCT capability FROM q_specs"),
      changes: pluck("SELECT DISTINCT id FROM q_changes"),
    };
  }

  counts(column: "status" | "origin"): CountRow[] {
    return this.db
      .prepare(
        `SELECT ${column} AS key, count(*) AS n FROM q_requirements GROUP BY ${column} ORDER BY n DESC, key IS NULL, key`,
      )
      .all() as CountRow[];
  }

  totals(): { specs: number; requirements: number; sources: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      specs: one("SELECT count(*) AS n FROM q_specs"),
      requirements: one("SELECT count(*) AS n FROM q_requirements"),
      sources: one("SELECT count(*) AS n FROM q_sources"),
    };
  }
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** WHERE terms for a capability (with its nested capabilities) and a status (`none`: no status written). */
function capabilityStatusWhere(filter: { capability?: string; status?: string }): {
  where: string[];
  args: string[];
} {
  const where: string[] = [];
  const args: string[] = [];
  if (filter.capability !== undefined) {
    where.push("(capability = ? OR capability LIKE ? ESCAPE '\\')");
    args.push(filter.capability, `${likeEscape(filter.capability)}/%`);
  }
  if (filter.status !== undefined) {
    if (filter.status === "none") where.push("status IS NULL");
    else {
      where.push("status = ?");
      args.push(filter.status);
    }
  }
  return { where, args };
}
