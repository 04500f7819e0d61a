// The answer of `keel status --json`, built once for the CLI and the REST API (GET /api/status).
// @req QRY-4, QRY-5, SRF-10
import { basename } from "node:path";
import { LAYOUT_INFO, lacking } from "../../format/layouts/info.js";
import { loadConfig } from "../../workspace/config.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { inScope, type SpecRoot, scopedRoot } from "../../workspace/spec-roots.js";
import { UNREAD_SHOWN } from "../analyze/unread.js";
import { type QuerySession, withQueryIndex } from "../query/index.js";
import { analyseProject } from "../validate/engine.js";
import { buildReport } from "../validate/report.js";
import { underFolder } from "../validate/target.js";

const OVERLAP_RULE = "xref/change-overlap";

/** `keel status --json`: specs, constitution, open changes, validation and index, on one screen. */
export async function statusAnswer(project: ProjectRoot, scope: string | null = null) {
  const config = loadConfig(project);
  const { result } = analyseProject(project, config);
  // `--root NAME`: the counts of that spec root's folder only.
  const root = scopedRoot(project, scope);
  const report = buildReport(result, {
    strict: config.validate.strict,
    profile: "keel",
    rules: config.validate.rules,
    ...(root ? { select: underFolder(root.dir) } : {}),
  });
  const overlapsByChange = new Map<string, number>();
  for (const f of report.findings) {
    if (f.rule === OVERLAP_RULE && f.target)
      overlapsByChange.set(f.target, (overlapsByChange.get(f.target) ?? 0) + 1);
  }
  const q = await withQueryIndex(project, { check: "full" }, async (s) => ({
    summary: root ? await scopedSummary(s, root) : await s.summary(),
    changes: (await s.listChanges({ archived: true })).filter((c) => inScope(root, c.dir)),
    index: s.stats,
  }));
  const open = q.changes.filter((c) => !c.archived);
  return {
    version: 1 as const,
    project: {
      name: config.project ?? basename(project.root),
      layouts: project.layouts,
      imported: project.imported,
      // Only with keel.yaml `roots:`, so that a project without them answers as it always has.
      ...(project.roots.length > 0
        ? { roots: project.roots.map((r) => ({ name: r.name, dir: r.dir, layouts: r.layouts })) }
        : {}),
    },
    layouts: project.layouts.map((name) => {
      const a = LAYOUT_INFO[name];
      return { name, label: a.label, where: a.where, writesTasks: a.writesTasks, lacks: lacking(name) };
    }),
    specs: {
      count: q.summary.specs,
      requirements: q.summary.requirements,
      byStatus: q.summary.byStatus,
      byOrigin: q.summary.byOrigin,
      /** Requirement-like headings the layout does not read, so missing from `requirements`. */
      unread: { headings: result.unread.length, first: result.unread.slice(0, UNREAD_SHOWN) },
    },
    constitution: q.summary.constitution
      ? {
          file: q.summary.constitution.file,
          principles: q.summary.constitution.principles.length,
          gates: q.summary.constitution.principles.filter((p) => p.gate !== null).length,
        }
      : null,
    changes: {
      open: open.length,
      archived: q.changes.length - open.length,
      overlaps: [...overlapsByChange.values()].reduce((a, b) => a + b, 0),
      items: open.map((c) => ({ ...c, overlaps: overlapsByChange.get(c.id) ?? 0 })),
    },
    validation: {
      ok: report.ok,
      strict: report.strict,
      errors: report.summary.errors,
      warnings: report.summary.warnings,
      info: report.summary.info,
    },
    index: {
      ...q.index,
      refreshedAt: q.summary.refreshedAt ? new Date(q.summary.refreshedAt).toISOString() : null,
    },
  };
}
/** The index's summary counted over one spec root's specs and requirements (the constitution is the top level's). */
async function scopedSummary(s: QuerySession, root: SpecRoot) {
  const whole = await s.summary();
  const specs = (await s.listSpecs({})).filter((x) => inScope(root, x.file));
  const reqs = (await s.listRequirements({})).filter((r) => inScope(root, r.file));
  return {
    ...whole,
    specs: specs.length,
    requirements: reqs.length,
    byStatus: countBy(reqs.map((r) => r.status)),
    byOrigin: countBy(reqs.map((r) => r.origin)),
  };
}

/** Counts by value, as the index counts them: most first, "none" (no value) last among equals, then by name. */
function countBy(values: Array<string | null>): Record<string, number> {
  const counts = new Map<string | null, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  const rows = [...counts].sort(
    (a, b) =>
      b[1] - a[1] ||
      Number(a[0] === null) - Number(b[0] === null) ||
      String(a[0]).localeCompare(String(b[0])),
  );
  return Object.fromEntries(rows.map(([k, n]) => [k ?? "none", n]));
}

export type StatusAnswer = Awaited<ReturnType<typeof statusAnswer>>;
