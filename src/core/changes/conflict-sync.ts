// Conflict records in team mode. A conflict is recorded by the checkout whose apply met it, in the same SQLite
// transaction as the apply's other writes, and is resolved later, maybe through another server. So the records are
// shared both ways: a checkout pushes its records into the team store after its writes (with its forwarded
// events, core/audit/forward.ts), and pulls the team's before it reads or resolves any. Each side keeps the version
// furthest on in the record's life (CoordinationStore.shareConflicts), so they settle on one state.
// @req TEAM-14
import type { ConflictRow, CoordinationStore } from "../../store/coordination.js";
import { coordinationStore } from "../../store/select.js";
import { SqliteStore } from "../../store/sqlite/coordination.js";
import type { StateDb } from "../../store/state-db.js";
import { mayUseTeamStore } from "../../store/team-url.js";
import { loadConfig } from "../../workspace/config.js";
import type { ProjectRoot } from "../../workspace/root.js";

/** This checkout's records, into the team store. */
export async function pushConflicts(state: StateDb, store: CoordinationStore): Promise<void> {
  await store.shareConflicts(
    state.db.prepare("SELECT * FROM conflicts ORDER BY created_at, id").all() as ConflictRow[],
  );
}

/** The team's records, into this checkout's store: before a command or a server reads or resolves conflicts. */
export async function pullConflicts(root: string, store: CoordinationStore): Promise<void> {
  if (store.kind === "sqlite") return;
  const rows = await store.conflicts();
  if (rows.length === 0) return;
  const local = new SqliteStore(root);
  try {
    await local.shareConflicts(rows);
  } finally {
    await local.close();
  }
}

/** pullConflicts for a project, when it is in team mode (else nothing, at the cost of a look at keel.yaml). */
export async function pullTeamConflicts(project: ProjectRoot): Promise<void> {
  if (!mayUseTeamStore(project.root)) return;
  await pullConflicts(project.root, await coordinationStore(project.root, loadConfig(project)));
}
