// The answer of `keel status --json`, built once for the CLI and the REST API (GET /api/status).
// @req QRY-4, QRY-5, SRF-10
import { basename } from "node:path";
import { LAYOUT_INFO, lacking } from "../../format/layouts/info.js";
import { loadConfig } from "../../workspace/config.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { UNREAD_SHOWN } from "../analyze/unread.js";
import { withQueryIndex } from "../query.js";
import { analyseProject } from "../validate/engine.js";
import { buildReport } from "../validate/report.js";

const OVERLAP_RULE = "xref/change-overlap";

/** `keel status --json`: specs, constitution, open changes, validation and index, on one screen. */
export async function statusAnswer(project: ProjectRoot) {
  const config = loadConfig(project);
  const { result } = analyseProject(project, config);
  const report = buildReport(result, {
    strict: config.validate.strict,
    profile: "keel",
    rules: config.validate.rules,
  });
  const overlapsByChange = new Map<string, number>();
  for (const f of report.findings) {
    if (f.rule === OVERLAP_RULE && f.target)
      overlapsByChange.set(f.target, (overlapsByChange.get(f.target) ?? 0) + 1);
  }
  const q = await withQueryIndex(project, { check: "full" }, async (s) => ({
    summary: await s.summary(),
    changes: await s.listChanges({ archived: true }),
    index: s.stats,
  }));
  const open = q.changes.filter((c) => !c.archived);
  return {
    version: 1 as const,
    project: {
      name: config.project ?? basename(project.root),
      layouts: project.layouts,
      imported: project.imported,
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
export type StatusAnswer = Awaited<ReturnType<typeof statusAnswer>>;
