// A command in team mode, around it: the commands that read or resolve conflicts first pull the team's conflict
// records (core/changes/conflict-sync.ts); after any command, what it logged in the checkout's own log goes on into
// the team's chain (core/audit/forward.ts), so `keel audit log` on any machine shows it. A team store out of reach
// costs nothing but a warning: the events wait in the local log for the next command or server that reaches it.
import { mayUseTeamStore } from "../store/team-url.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import type { GlobalFlags } from "./command.js";
import type { Io } from "./output.js";

/** Commands that never forward: `store` moves whole logs itself (a copy marks what it moved as taken). */
const NOT_FORWARDED = new Set(["store", "serve"]);

/** Commands that read or resolve conflict records. */
const READS_CONFLICTS = new Set(["conflicts", "change"]);

/** What a command does around it in team mode; null when the project is not in team mode (or there is none). */
export interface TeamCommand {
  before(): Promise<void>;
  after(): Promise<void>;
}

export function teamCommand(io: Io, global: GlobalFlags, name: string): TeamCommand | null {
  let project: ProjectRoot;
  try {
    project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  } catch {
    return null; // no project: the command says so itself
  }
  if (!mayUseTeamStore(project.root)) return null;
  return {
    before: () => (READS_CONFLICTS.has(name) ? pullConflicts(io, project) : Promise.resolve()),
    after: () => (NOT_FORWARDED.has(name) ? Promise.resolve() : forward(io, project)),
  };
}

async function pullConflicts(io: Io, project: ProjectRoot): Promise<void> {
  try {
    const { pullTeamConflicts } = await import("../core/changes/conflict-sync.js");
    await pullTeamConflicts(project);
  } catch (e) {
    io.err(
      `keel: the team's conflict records could not be read (${e instanceof Error ? e.message : String(e)}); this checkout's own are used`,
    );
  }
}

async function forward(io: Io, project: ProjectRoot): Promise<void> {
  try {
    const [{ forwardOwnLog }, { coordinationStore }, { loadConfig }] = await Promise.all([
      import("../core/audit/forward.js"),
      import("../store/select.js"),
      import("../workspace/config.js"),
    ]);
    await forwardOwnLog(project.root, await coordinationStore(project.root, loadConfig(project)));
  } catch (e) {
    io.err(
      `keel: this checkout's new audit events wait for the team log (${e instanceof Error ? e.message : String(e)}); the next command that reaches it forwards them`,
    );
  }
}
