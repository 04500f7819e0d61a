// After a command in team mode: what it logged in the checkout's own log goes on into the team's chain
// (core/audit/forward.ts), so `keel audit log` on any machine shows it. A team store out of reach costs nothing but
// a warning: the events wait in the local log for the next command or server that reaches it.
import { mayUseTeamStore } from "../store/team-url.js";
import { findProjectRoot } from "../workspace/root.js";
import type { GlobalFlags } from "./command.js";
import type { Io } from "./output.js";

/** Commands that never forward: `store` moves whole logs itself (a copy marks what it moved as taken). */
const NOT_FORWARDED = new Set(["store", "serve"]);

export async function forwardAfterCommand(io: Io, global: GlobalFlags, name: string): Promise<void> {
  if (NOT_FORWARDED.has(name)) return;
  let root: string;
  try {
    root = findProjectRoot(global.root ?? global.cwd, global.root !== null).root;
  } catch {
    return; // no project: nothing was logged
  }
  if (!mayUseTeamStore(root)) return;
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
