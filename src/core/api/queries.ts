// The answers of the read queries, built once for every surface: `keel … --json` prints them and `keel serve`
// returns them over REST (src/server/routes.ts), so the two cannot drift apart. Each answer is the plain
// object the CLI prints, `version` first; a missing target is `null` here and each surface words its refusal.
// The status answer is in status.ts, the task answers in task-queries.ts and the trace answers in
// trace-queries.ts, so that a command loads only what its answer needs.
// @req QRY-1, QRY-2, QRY-3, QRY-5, SRF-10
import type { ProjectRoot } from "../../workspace/root.js";
import { showWithProposals } from "../query/proposed.js";
import { withQueryIndex } from "../query.js";

export type ListKind = "specs" | "changes" | "requirements";

export interface ListFilter {
  kinds: ListKind[];
  capability?: string | undefined;
  status?: string | undefined;
  archived?: boolean | undefined;
}

/** `keel list … --json`: the kinds asked for (the others absent), filtered alike. */
export async function listAnswer(project: ProjectRoot, filter: ListFilter) {
  const { kinds, capability, status } = filter;
  const out = await withQueryIndex(project, { check: "full" }, async (q) => {
    const specs = kinds.includes("specs") ? await q.listSpecs({ capability, status }) : undefined;
    const changes = kinds.includes("changes")
      ? await q.listChanges({ archived: filter.archived ?? false, status, capability })
      : undefined;
    const requirements = kinds.includes("requirements")
      ? await q.listRequirements({ capability, status })
      : undefined;
    return { specs, changes, requirements, index: q.stats };
  });
  return { version: 1 as const, ...out };
}

/**
 * `keel show <id> --json`: a requirement, spec or change by ID, or a requirement an open change proposes (marked
 * `proposed`); null (with suggestions) when none has it.
 */
export async function showAnswer(project: ProjectRoot, id: string) {
  const { found, suggestions, index } = await withQueryIndex(project, { check: "answer" }, async (q) => {
    const found = await showWithProposals(q, id);
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
export async function searchAnswer(project: ProjectRoot, text: string, limit: number) {
  const out = await withQueryIndex(project, { check: "full" }, async (q) => ({
    ...(await q.search(text, limit)),
    index: q.stats,
  }));
  return { version: 1 as const, ...out };
}
