// The answers of the read queries, built once for every surface: `keel … --json` prints them and `keel serve`
// returns them over REST (src/server/routes.ts), so the two cannot drift apart. Each answer is the plain
// object the CLI prints, `version` first; a missing target is `null` here and each surface words its refusal.
// The status answer is in status.ts, the task answers in task-queries.ts and the trace answers in
// trace-queries.ts, so that a command loads only what its answer needs.
// @req QRY-1, QRY-2, QRY-3, QRY-5, SRF-10
import type { ProjectRoot } from "../../workspace/root.js";
import { inScope, type SpecRoot } from "../../workspace/spec-roots.js";
import { type SearchResult, withQueryIndex } from "../query/index.js";
import { showWithProposals } from "../query/proposed.js";
import { findQualified } from "../query/qualified.js";

export type ListKind = "specs" | "changes" | "requirements";

export interface ListFilter {
  kinds: ListKind[];
  capability?: string | undefined;
  status?: string | undefined;
  archived?: boolean | undefined;
  /** `--root NAME`: only what lies in that spec root's folder. */
  root?: SpecRoot | null;
}

/** `keel list … --json`: the kinds asked for (the others absent), filtered alike. */
export async function listAnswer(project: ProjectRoot, filter: ListFilter) {
  const { kinds, capability, status } = filter;
  const out = await withQueryIndex(project, { check: "full" }, async (q) => {
    const root = filter.root ?? null;
    const specs = kinds.includes("specs")
      ? (await q.listSpecs({ capability, status })).filter((s) => inScope(root, s.file))
      : undefined;
    const changes = kinds.includes("changes")
      ? (await q.listChanges({ archived: filter.archived ?? false, status, capability })).filter((c) =>
          inScope(root, c.dir),
        )
      : undefined;
    const requirements = kinds.includes("requirements")
      ? (await q.listRequirements({ capability, status })).filter((r) => inScope(root, r.file))
      : undefined;
    return { specs, changes, requirements, index: q.stats };
  });
  return { version: 1 as const, ...out };
}

/**
 * `keel show <id> --json`: a requirement, spec or change by ID, or a requirement an open change proposes (marked
 * `proposed`), resolved in the spec roots (core/query/qualified.ts); null (with suggestions) when none has it.
 */
export async function showAnswer(project: ProjectRoot, id: string, root: SpecRoot | null = null) {
  const { found, suggestions, index } = await withQueryIndex(project, { check: "answer" }, async (q) => {
    const found = await findQualified(project.roots, root, id, (x) => showWithProposals(q, x));
    return { found, suggestions: found ? [] : q.suggest(id), index: q.stats };
  });
  if (!found) return { answer: null, found: null, suggestions };
  return {
    answer: { version: 1 as const, kind: found.kind, item: found.item, duplicates: found.duplicates, index },
    found,
    suggestions,
  };
}

/** `keel search <text> --json`: the best `limit` hits, ranked. */
export async function searchAnswer(
  project: ProjectRoot,
  text: string,
  limit: number,
  root: SpecRoot | null = null,
) {
  const out = await withQueryIndex(project, { check: "full" }, async (q) => ({
    ...(root === null
      ? await q.search(text, limit)
      : inRootOnly(await q.search(text, Number.MAX_SAFE_INTEGER), root, limit)),
    index: q.stats,
  }));
  return { version: 1 as const, ...out };
}

/** Of every hit, ranked, the best `limit` of those in the root's folder. */
function inRootOnly(all: SearchResult, root: SpecRoot, limit: number): SearchResult {
  const results = all.results.filter((h) => inScope(root, h.file));
  return { ...all, total: results.length, results: results.slice(0, limit) };
}
