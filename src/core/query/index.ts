// Queries over the project's intent: list, show, search and the counts behind `keel status`, answered from the
// query index (store/query-index.ts) after bringing it up to date (core/query/refresh.ts).
//
// Freshness. `list`, `search` and `status` check every file (one stat each) and refresh what changed before
// answering: a search must find a match written a moment ago into any file. `show` answers first and then
// checks only the file behind the answer: when it changed or vanished, or the ID is unknown, it refreshes
// everything and answers again. An ID names one requirement, so this never shows stale text, positions or a
// deleted file, and an unknown ID is always confirmed against the files.
// @req QRY-6

import { IndexDb, isCorruption } from "../../store/index-db.js";
import {
  type CountRow,
  QueryStore,
  type RequirementFilter,
  type RequirementRow,
  type SpecRow,
} from "../../store/query-index.js";
import { projectError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { loadSidecars, type Sidecars } from "../../workspace/sidecars.js";
import { filesUnchanged, queryFormat, replay } from "./fresh.js";
import { matchRanges, parseQuery, type Snippet, snippet, type Term } from "./fts.js";
import {
  type ChangeRecord,
  type ConstitutionRecord,
  fromChangeRow,
  fromRequirementRow,
  fromSpecRow,
  type RequirementRecord,
  type SpecRecord,
  scenarioText,
} from "./records.js";
import { closest } from "./suggest.js";

export type { ChangeRecord, RequirementRecord, SpecRecord } from "./records.js";

/** How the answer was checked against the files, and what the check cost. Part of every query's JSON. */
export interface IndexStats {
  /** "full": every file was checked; "answer": only the files behind the answer were. */
  check: "full" | "answer";
  /** Files and folders compared with the index (one stat each), or files found by a walk. */
  checked: number;
  /** True when the project's folders were walked because something changed (or could not be ruled out). */
  walked: boolean;
  /** Files read and parsed again because their content changed. */
  parsed: number;
  /** Files whose rows were dropped because they are gone. */
  removed: number;
  /** True when the index was built from scratch: missing, corrupt, or written by another Keel version. */
  rebuilt: boolean;
  /** False when `.keel/` cannot be written and the index lived in memory for this command only. */
  persistent: boolean;
}

export type ShowResult =
  | { kind: "requirement"; item: RequirementRecord; duplicates: Array<{ file: string; line: number }> }
  | { kind: "spec"; item: SpecRecord; duplicates: Array<{ file: string; line: number }> }
  | { kind: "change"; item: ChangeRecord; duplicates: Array<{ file: string; line: number }> };

export interface SearchHitRecord {
  kind: "requirement" | "spec";
  /** Requirement ID, or the capability for a spec's purpose. */
  id: string;
  title: string;
  capability: string;
  file: string;
  line: number;
  col: number;
  status: string | null;
  /** Relevance, higher is better (the negated bm25 score). */
  score: number;
  /** [start, end) UTF-16 offsets of the matches in `title`. */
  titleHighlights: Array<[number, number]>;
  /** The field the snippet comes from: the first that contains a match, else the start of the text. */
  field: "text" | "scenarios" | "purpose";
  snippet: string;
  /** [start, end) UTF-16 offsets of the matches in `snippet`. */
  highlights: Array<[number, number]>;
}

export interface SearchResult {
  query: string;
  /** The FTS5 expression the query became. */
  match: string;
  /** Hits in total; `results` holds the best `limit` of them. */
  total: number;
  results: SearchHitRecord[];
}

export interface SpecListItem {
  capability: string;
  title: string | null;
  status: string | null;
  requirements: number;
  file: string;
  layout: string;
  problem: string | null;
}

export interface ChangeListItem {
  id: string;
  status: string;
  archived: boolean;
  layout: string;
  dir: string;
  tasks: { done: number; total: number };
  deltas: { added: number; modified: number; removed: number; renamed: number };
}

export interface RequirementListItem {
  id: string;
  title: string;
  status: string | null;
  origin: string | null;
  fingerprint: string;
  capability: string;
  file: string;
  line: number;
  col: number;
}

export interface QueryOptions {
  /** "full" checks every file before answering; "answer" checks the files behind the answer. */
  check: "full" | "answer";
}

export class QuerySession {
  readonly stats: IndexStats;
  private refreshed = false;
  /** The side files, read once per session (workspace/sidecars.ts). */
  private loadedSidecars: Sidecars | null = null;

  constructor(
    readonly project: ProjectRoot,
    readonly store: QueryStore,
    private readonly options: QueryOptions,
    persistent: boolean,
    private readonly forceRebuild: boolean,
  ) {
    this.stats = {
      check: options.check,
      checked: 0,
      walked: false,
      parsed: 0,
      removed: 0,
      rebuilt: false,
      persistent,
    };
  }

  private sidecars(): Sidecars {
    this.loadedSidecars ??= loadSidecars(this.project);
    return this.loadedSidecars;
  }

  /** The row format the index must be in for this project (fresh.ts, queryFormat). */
  private format(): string {
    return queryFormat(this.project, this.sidecars());
  }

  /**
   * Checks every file and refreshes what changed; at most once per session. When nothing changed this is
   * one stat per folder and indexed file; the walk and the parsers are loaded only when something did.
   */
  async refreshAll(): Promise<void> {
    if (this.refreshed) return;
    this.refreshed = true;
    this.stats.check = "full";
    const unchanged = this.forceRebuild ? null : replay(this.project, this.store, this.format());
    if (unchanged !== null) {
      this.stats.checked = unchanged;
      return;
    }
    const { walkAndRefresh } = await import("./refresh.js");
    const counts = walkAndRefresh(this.project, this.store, this.sidecars(), this.forceRebuild);
    this.stats.checked = counts.checked;
    this.stats.walked = true;
    this.stats.parsed += counts.parsed;
    this.stats.removed += counts.removed;
    this.stats.rebuilt ||= counts.rebuilt;
  }

  /** The answer to `query`, confirmed against the files as the session's check mode says. */
  private async answer<T>(query: () => T, files: (t: T) => string[] | null): Promise<T> {
    if (this.options.check === "full" || this.store.getState("format") !== this.format()) {
      await this.refreshAll();
      return query();
    }
    const first = query();
    const rels = files(first);
    if (rels !== null) {
      this.stats.checked += new Set(rels).size;
      if (filesUnchanged(this.project, this.store, rels)) return first;
    }
    await this.refreshAll();
    return query();
  }

  // @req QRY-2
  /** A requirement (explicit or derived ID), a spec (capability) or a change (ID), in that order. */
  show(id: string): Promise<ShowResult | null> {
    return this.answer(
      () => this.lookup(id),
      (r) => {
        if (r === null || r.kind === "change") return null; // a change's folder may have gained files: check all
        return [r.item.file, ...r.duplicates.map((d) => d.file)];
      },
    );
  }

  private lookup(id: string): ShowResult | null {
    const reqs = this.store.requirementsById(id);
    if (reqs.length > 0) {
      const [first, ...rest] = reqs as [RequirementRow, ...RequirementRow[]];
      return {
        kind: "requirement",
        item: fromRequirementRow(first),
        duplicates: rest.map((r) => ({ file: r.file, line: r.line })),
      };
    }
    const specs = this.store.specsByCapability(id);
    if (specs.length > 0) {
      const [first, ...rest] = specs as [SpecRow, ...SpecRow[]];
      return {
        kind: "spec",
        item: fromSpecRow(first, this.store.requirementsOfFile(first.file)),
        duplicates: rest.map((s) => ({ file: s.file, line: 1 })),
      };
    }
    const changes = this.store.changesById(id);
    if (changes.length > 0) {
      const [first, ...rest] = changes.map(fromChangeRow) as [ChangeRecord, ...ChangeRecord[]];
      return {
        kind: "change",
        item: first,
        duplicates: rest.map((c) => ({ file: c.proposalFile ?? c.dir, line: 1 })),
      };
    }
    return null;
  }

  /** Closest known IDs, capabilities and change IDs, for an unknown one. */
  suggest(id: string): string[] {
    const names = this.store.allNames();
    return closest(id, [...names.requirements, ...names.specs, ...names.changes]);
  }

  // @req QRY-3
  search(text: string, limit: number): Promise<SearchResult> {
    const parsed = parseQuery(text);
    if (!parsed) {
      throw usageError(
        `nothing to search for in "${text}"`,
        "give at least one word, e.g. keel search refund",
      );
    }
    return this.answer(
      () => this.runSearch(text, parsed.match, parsed.terms, limit),
      (r) => (r.results.length === 0 ? null : r.results.map((h) => h.file)),
    );
  }

  private runSearch(query: string, match: string, terms: Term[], limit: number): SearchResult {
    const hits = this.store.search(match, limit);
    const results: SearchHitRecord[] = [];
    for (const hit of hits) {
      const score = Number((-hit.score).toPrecision(6));
      if (hit.rowid > 0) {
        const r = this.store.requirementByRowid(hit.rowid);
        if (!r) continue;
        const best = bestField(terms, [
          ["text", r.text],
          ["scenarios", () => scenarioText(fromRequirementRow(r))],
        ]);
        results.push({
          kind: "requirement",
          id: r.id,
          title: r.title,
          capability: r.capability,
          file: r.file,
          line: r.line,
          col: r.col,
          status: r.status,
          score,
          titleHighlights: matchRanges(r.title, terms),
          field: best.field,
          snippet: best.snippet.text,
          highlights: best.snippet.highlights,
        });
      } else {
        const s = this.store.specByRowid(-hit.rowid);
        if (!s) continue;
        const best = bestField(terms, [["purpose", s.purpose ?? ""]]);
        const extra = JSON.parse(s.json) as { purposeLine: number | null };
        results.push({
          kind: "spec",
          id: s.capability,
          title: s.title ?? s.capability,
          capability: s.capability,
          file: s.file,
          line: extra.purposeLine ?? 1,
          col: 1,
          status: s.status,
          score,
          titleHighlights: matchRanges(s.title ?? s.capability, terms),
          field: best.field,
          snippet: best.snippet.text,
          highlights: best.snippet.highlights,
        });
      }
    }
    const total = hits.length < limit ? hits.length : this.store.countMatches(match);
    return { query, match, total, results };
  }

  // @req QRY-1
  async listSpecs(filter: { capability?: string; status?: string }): Promise<SpecListItem[]> {
    await this.refreshAll();
    return this.store.listSpecs(filter).map((s) => ({
      capability: s.capability,
      title: s.title,
      status: s.status,
      requirements: s.requirements,
      file: s.file,
      layout: s.layout,
      problem: s.problem,
    }));
  }

  /** Changes, open only unless `archived`; with `capability`, those whose deltas touch it (or a capability below it). */
  async listChanges(filter: {
    archived: boolean;
    status?: string;
    capability?: string;
  }): Promise<ChangeListItem[]> {
    await this.refreshAll();
    const cap = filter.capability;
    const rows = this.store
      .listChanges(filter)
      .filter(
        (c) =>
          cap === undefined ||
          fromChangeRow(c).deltas.some((d) => d.capability === cap || d.capability.startsWith(`${cap}/`)),
      );
    return rows.map((c) => ({
      id: c.id,
      status: c.status,
      archived: c.archived === 1,
      layout: c.layout,
      dir: c.dir,
      tasks: { done: c.tasksDone, total: c.tasksTotal },
      deltas: { added: c.added, modified: c.modified, removed: c.removed, renamed: c.renamed },
    }));
  }

  async listRequirements(filter: RequirementFilter): Promise<RequirementListItem[]> {
    await this.refreshAll();
    return this.store.listRequirements(filter).map((r) => ({
      id: r.id,
      title: r.title,
      status: r.status,
      origin: r.origin,
      fingerprint: r.fingerprint,
      capability: r.capability,
      file: r.file,
      line: r.line,
      col: r.col,
    }));
  }

  // @req QRY-4
  /** Totals and breakdowns for `keel status`. */
  async summary(): Promise<{
    specs: number;
    requirements: number;
    byStatus: Record<string, number>;
    byOrigin: Record<string, number>;
    constitution: ConstitutionRecord | null;
    refreshedAt: number | null;
  }> {
    await this.refreshAll();
    const totals = this.store.totals();
    const toRecord = (rows: CountRow[]) => Object.fromEntries(rows.map((r) => [r.key ?? "none", r.n]));
    const constitution = this.store.getState("constitution");
    const at = this.store.getState("refreshed_at");
    return {
      specs: totals.specs,
      requirements: totals.requirements,
      byStatus: toRecord(this.store.counts("status")),
      byOrigin: toRecord(this.store.counts("origin")),
      constitution: constitution ? (JSON.parse(constitution) as ConstitutionRecord | null) : null,
      refreshedAt: at ? Number(at) : null,
    };
  }
}

/** The snippet of the first field with a match, else of the first non-empty field. Texts are computed lazily. */
function bestField<F extends string>(
  terms: Term[],
  fields: Array<[F, string | (() => string)]>,
): { field: F; snippet: Snippet } {
  let fallback: { field: F; snippet: Snippet } | null = null;
  for (const [field, value] of fields) {
    const text = typeof value === "function" ? value() : value;
    if (text === "") continue;
    const s = snippet(text, terms);
    if (s.highlights.length > 0) return { field, snippet: s };
    fallback ??= { field, snippet: s };
  }
  return fallback ?? { field: (fields[0] as [F, unknown])[0], snippet: { text: "", highlights: [] } };
}

/**
 * Opens the query index for one command, runs `fn`, and closes it. A corrupt index is discarded and rebuilt
 * and `fn` runs again; an index that cannot be written (read-only checkout) lives in memory instead.
 * `fn` must not print: it may run twice.
 */
export async function withQueryIndex<T>(
  project: ProjectRoot,
  options: QueryOptions,
  fn: (q: QuerySession) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    let db: IndexDb;
    let persistent = true;
    try {
      db = IndexDb.open(project.root);
    } catch {
      db = IndexDb.inMemory();
      persistent = false;
    }
    try {
      const session = new QuerySession(project, new QueryStore(db.db), options, persistent, attempt > 0);
      if (options.check === "full") await session.refreshAll();
      return await fn(session);
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_BUSY") {
        throw projectError(
          "the index (.keel/index.db) stayed locked by another Keel process",
          "wait for the other keel command to finish, then run this one again",
        );
      }
      if (attempt > 0 || !isCorruption(e)) throw e;
      db.close();
      try {
        IndexDb.discard(project.root);
      } catch {
        // Cannot delete it either: the second attempt falls back to memory if it cannot open it.
      }
    } finally {
      if (db.db.open) db.close();
    }
  }
}
