// The answers of `keel change list|show --json`, built once for the CLI and the REST API (src/server/routes.ts).
// @req CHG-3, SRF-10
import { StateDb } from "../../store/state-db.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { listConflicts } from "../changes/conflicts.js";
import { changeFolders, changeStatus, type LoadedChange, loadChange, openChanges } from "../changes/load.js";
import { type ChangeReport, reportChanges } from "../changes/report.js";

/** `keel change list --json`: open changes (with `all`, archived ones too). */
export function changeListAnswer(project: ProjectRoot, all: boolean) {
  const changes = changeFolders(project, all).map((ref) => loadChange(project, ref));
  const rows = changes.map((lc) => {
    const counts = { added: 0, modified: 0, removed: 0, renamed: 0 };
    for (const d of lc.change.deltas) {
      for (const s of d.sections) {
        const n =
          s.requirements.length +
          (s.op === "REMOVED" ? s.removed.length - s.requirements.length : 0) +
          s.renames.length;
        counts[s.op.toLowerCase() as keyof typeof counts] += n;
      }
    }
    return {
      id: lc.id,
      status: changeStatus(lc),
      archived: lc.archived,
      layout: lc.layout,
      dir: lc.dir,
      author: typeof lc.meta.author === "string" ? lc.meta.author : null,
      created: typeof lc.meta.created === "string" ? lc.meta.created : null,
      capabilities: lc.change.deltas.map((d) => d.capability).sort(),
      deltas: counts,
    };
  });
  return { version: 1 as const, changes: rows };
}

function openConflictIds(project: ProjectRoot, change: string): string[] {
  const state = StateDb.open(project.root);
  try {
    return listConflicts(state, { change, status: ["open", "resolved"] }).map(
      (c) => `${c.id} ${c.requirement} (${c.status})`,
    );
  } finally {
    state.close();
  }
}

/** `keel change show <id> --json`: one change's deltas, bases, overlaps, problems and conflicts. */
export function changeShowAnswer(project: ProjectRoot, lc: LoadedChange) {
  const others = openChanges(project).filter((c) => c.dir !== lc.dir);
  const report = reportChanges(project, [lc], [lc, ...others])[0] as ChangeReport;
  const conflicts = openConflictIds(project, lc.id);
  return {
    report,
    conflicts,
    answer: {
      version: 1 as const,
      ...report,
      archived: lc.archived,
      proposal: { why: lc.change.why, whatChanges: lc.change.whatChanges },
      tasks: lc.change.tasks,
      meta: lc.meta,
      conflicts,
    },
  };
}
