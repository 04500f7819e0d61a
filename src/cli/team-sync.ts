// A command in team mode, around it: the commands that read or resolve conflicts first pull the team's conflict
// records (core/changes/conflict-sync.ts); after any command, what it logged in the checkout's own log goes on into
// the team's chain (core/audit/forward.ts), so `keel audit log` on any machine shows it. A team store out of reach
// costs nothing but a warning: the events wait in the local log for the next command or server that reaches it.
import { mayUseTeamStore } from "../store/team-url.js";
import { findProjectRoot } from "../workspace/root.js";
import type { GlobalFlags } from "./command.js";
import type { Io } from "./output.js";

/** Commands that never forward: `store` moves whole logs itself (a copy marks what it moved as taken). */
const NOT_FORWARDED = new Set(["store", "serve"]);

/** Commands that read or resolve conflict records. */
const READS_CONFLICTS = new Set(["conflicts", "change"]);

/** The project's root when it is in team mode, else null (no project, or the embedded store). */
function teamRoot(global: GlobalFlags): string | null {
  let root: string;
  try {
    root = findProjectRoot(global.root ?? global.cwd, global.root !== null).root;
  } catch {
    return null; // no project: the command says so itself
  }
  return mayUseTeamStore(root) ? root : null;
}

export async function pullBeforeCommand(io: Io, global: GlobalFlags, name: string): Promise<void> {
  if (!READS_CONFLICTS.has(name)) return;
  const root = teamRoot(global);
  if (root === null) return;
  try {
    const [{ pullTeamConflicts }, { findProjectRoot: find }] = await Promise.all([
      import("../core/changes/conflict-sync.js"),
      import("../workspace/root.js"),
    ]);
    await pullTeamConflicts(find(root, true));
  } catch (e) {
    io.err(
      `keel: the team's conflict records could not be read (${e instanceof Error ? e.message : String(e)}); this checkout's own are used`,
    );
  }
}

export async function forwardAfterCommand(io: Io, global: GlobalFlags, name: string): Promise<void> {
  if (NOT_FORWARDED.has(name)) return;
  const root = teamRoot(global);
  if (root === null) return;
  try {
    const [{ forwardOwnLog }, { coordinationStore }, { loadConfig }, { findProjectRoot: find }] =
      await Promise.all([
        import("../core/audit/forward.js"),
        import("../store/select.js"),
        import("../workspace/config.js"),
        import("../workspace/root.js"),
      ]);
    await forwardOwnLog(root, await coordinationStore(root, loadConfig(find(root, true))));
  } catch (e) {
    io.err(
      `keel: this checkout's new audit events wait for the team log (${e instanceof Error ? e.message : String(e)}); the next command that reaches it forwards them`,
    );
  }
}
