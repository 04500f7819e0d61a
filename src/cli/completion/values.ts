// The project's names a completion offers: task keys, requirement and change IDs, capabilities and agents, read
// through the same index and loaders as `keel list` and `keel tasks list`. Each is loaded only when asked for, so
// completing a command or a flag loads none of them.
import { findProjectRoot } from "../../workspace/root.js";
import type { GlobalFlags } from "../command.js";
import type { ValueSource } from "./engine.js";

export function projectValues(global: GlobalFlags): ValueSource {
  const project = () => findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const listed = async (kind: "specs" | "changes" | "requirements") =>
    (await import("../../core/api/queries.js")).listAnswer(project(), { kinds: [kind] });
  return async (kind) => {
    switch (kind) {
      case "root":
        // A spec root's name; a folder is typed as a path.
        return project().roots.map((r) => r.name);
      case "agent":
        return [...(await import("../../core/agents/adapters/index.js")).AGENT_NAMES];
      case "task":
        return (await import("../../core/tasks/load.js")).loadTasks(project().root).tasks.map((t) => t.key);
      case "requirement":
        return ((await listed("requirements")).requirements ?? []).map((r) => r.id);
      case "change":
        return ((await listed("changes")).changes ?? []).map((c) => c.id);
      case "capability":
        return ((await listed("specs")).specs ?? []).map((s) => s.capability);
    }
  };
}
