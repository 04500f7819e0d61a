// The project's names a completion offers: task keys, requirement and change IDs, capabilities and agents, read
// through the same index and loaders as `keel list` and `keel tasks list`. Loaded only when one is asked for.
import { AGENT_NAMES } from "../../core/agents/registry.js";
import { listAnswer } from "../../core/api/queries.js";
import { loadTasks } from "../../core/tasks/load.js";
import { findProjectRoot } from "../../workspace/root.js";
import type { GlobalFlags } from "../command.js";
import type { ValueSource } from "./engine.js";

export function projectValues(global: GlobalFlags): ValueSource {
  const project = () => findProjectRoot(global.root ?? global.cwd, global.root !== null);
  return async (kind) => {
    switch (kind) {
      case "agent":
        return [...AGENT_NAMES];
      case "task":
        return loadTasks(project().root).tasks.map((t) => t.key);
      case "requirement":
        return ((await listAnswer(project(), { kinds: ["requirements"] })).requirements ?? []).map(
          (r) => r.id,
        );
      case "change":
        return ((await listAnswer(project(), { kinds: ["changes"] })).changes ?? []).map((c) => c.id);
      case "capability":
        return ((await listAnswer(project(), { kinds: ["specs"] })).specs ?? []).map((s) => s.capability);
    }
  };
}
