// Task files as discovery (workspace/discover.ts) sees them: a capability's or a change's `tasks.md` in Keel's or
// OpenSpec's layout, Spec Kit's and Kiro's feature `tasks.md`, Task Master's tasks.json and Beads' issues.jsonl. Validation and analysis read tasks this way,
// so that the files they read are the files the validation cache watches.
import type { SourceEntry } from "../../workspace/discover.js";
import type { TaskSource } from "./load.js";

/** The task source a discovered entry is, or null when it is not a task file Keel reads (archived changes). */
export function taskSourceOf(entry: SourceEntry): TaskSource | null {
  if (entry.role !== "tasks") return null;
  if (entry.change) {
    if (entry.change.archived) return null;
    return { file: entry.rel, scope: entry.change.id, dialect: entry.layout };
  }
  if (entry.capability === undefined) return null;
  return { file: entry.rel, scope: entry.capability, dialect: entry.layout };
}
