// The agents `keel run` can start: the registry of presets, one small adapter per foreign CLI, and the step that
// turns a keel.yaml `agents:` entry into a runnable agent — its preset with the entry's model, arguments,
// network and environment applied, or its `command:`. keel.yaml is parsed (src/workspace/run-config.ts) without
// knowing the presets; an unknown one is reported here, with its line, when a run starts.
// @req RUN-7
import { CONFIG_FILE } from "../../workspace/config.js";
import { projectError } from "../../workspace/errors.js";
import type { AgentEntry } from "../../workspace/run-config.js";
import { aider } from "./aider.js";
import { claude } from "./claude.js";
import { codex } from "./codex.js";
import { commandAgent } from "./command.js";
import { cursor } from "./cursor.js";
import { gemini } from "./gemini.js";
import { opencode } from "./opencode.js";
import type { AgentPreset, ResolvedAgent } from "./types.js";

export type {
  AgentLaunch,
  AgentPreset,
  AgentPrompt,
  AgentRequest,
  AgentUsage,
  ResolvedAgent,
} from "./types.js";

export const PRESETS: readonly AgentPreset[] = [claude, codex, gemini, aider, cursor, opencode];

export function findPreset(name: string): AgentPreset | null {
  return PRESETS.find((p) => p.name === name) ?? null;
}

function presetAgent(preset: AgentPreset, entry: AgentEntry): ResolvedAgent {
  return {
    name: preset.name,
    entry: entry.name,
    network: entry.network ?? preset.network,
    passEnv: [...new Set([...preset.passEnv, ...entry.env])],
    stateDirs: preset.stateDirs,
    launch: (req) => preset.launch({ ...req, model: entry.model, args: entry.args }),
    usage: preset.usage,
  };
}

/** The runnable agent of a keel.yaml entry; an unknown preset is a project error naming the entry's line. */
export function resolveAgent(entry: AgentEntry): ResolvedAgent {
  if (entry.command !== null) return commandAgent({ ...entry, command: entry.command });
  const preset = findPreset(entry.preset ?? "");
  if (preset === null) {
    const known = PRESETS.map((p) => p.name).join(", ");
    throw projectError(
      `agent \`${entry.name}\` in ${CONFIG_FILE} names the unknown preset \`${entry.preset}\``,
      `use one of ${known}, or \`command:\` to run any other program (see docs/run.md#agent-presets)`,
      { file: CONFIG_FILE, line: entry.line, col: 1 },
    );
  }
  return presetAgent(preset, entry);
}
