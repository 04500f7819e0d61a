import { resolve } from "node:path";
import {
  AGENT_NAMES,
  type AgentsList,
  type AgentsReport,
  addAgents,
  listAgents,
  parseAgentNames,
  removeAgents,
} from "../../core/agents/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type Grammar, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { synopses } from "../subcommands.js";
import { table } from "../table.js";

const USAGE = "keel agents <subcommand> [options]";
const ADD_USAGE = "keel agents add <agent>... [--json]";
const REMOVE_USAGE = "keel agents remove <agent>... [--json]";
const LIST_USAGE = "keel agents list [--json]";

/** The subcommands' grammars (none takes a flag of its own); `run` below carries them out. */
const SUBCOMMANDS: Record<string, Grammar> = {
  add: {
    summary: `set up agents (${AGENT_NAMES.length} known: \`keel agents list\`): AGENTS.md block, phase commands, MCP config`,
    usage: ADD_USAGE,
    flags: {},
    args: ["agent"],
  },
  remove: {
    summary: "take away exactly what `keel agents add` wrote for these agents (edited files are kept)",
    usage: REMOVE_USAGE,
    flags: {},
    args: ["agent"],
  },
  list: {
    summary: "every agent Keel knows, what it writes, and the state of each file",
    usage: LIST_USAGE,
    flags: {},
  },
};

const COLOR = {
  created: "green",
  updated: "yellow",
  removed: "yellow",
  unchanged: "dim",
  kept: "dim",
} as const;

export function printAgentsReport(io: Io, verb: string, report: AgentsReport): void {
  const lines = [`keel agents ${verb} in ${report.root}`];
  for (const f of report.files) {
    const reason = f.reason ? ` (${f.reason})` : "";
    lines.push(`  ${paint(io, COLOR[f.action], f.action.padEnd(9))} ${f.path}${reason}`);
  }
  lines.push(`agents set up: ${report.agents.length > 0 ? report.agents.join(", ") : "none"}`);
  io.out(lines.join("\n"));
}

/**
 * One row per file an agent writes, its name on the first. A set-up agent's rows carry each file's state; for
 * the others, the phase commands are folded into one row (`keel-{phase}.md`, and how many).
 */
function agentsTable(io: Io, list: AgentsList): string {
  const rows: string[][] = [];
  for (const a of list.agents) {
    const state = new Map(a.files.map((f) => [f.path, f.state]));
    const commands = a.targets.filter((t) => t.kind === "command");
    const shown = a.setUp ? a.targets : a.targets.filter((t) => t.kind !== "command" || t === commands[0]);
    shown.forEach((t, i) => {
      const folded = !a.setUp && t.kind === "command";
      const path = folded && t.phase ? foldPhase(t.path, t.phase) : t.path;
      const kind = folded ? `command ×${commands.length}` : t.kind;
      const format = t.key ? `${t.format} ${t.key}` : t.format;
      const status = a.setUp ? (state.get(t.path) ?? "") : i === 0 ? "not set up" : "";
      rows.push([i === 0 ? paint(io, "bold", a.name) : "", kind, path, format, status]);
    });
  }
  return table(io, ["agent", "writes", "path", "format", "state"], rows);
}

/** `path` with its file name's `phase` shown as `{phase}`. */
function foldPhase(path: string, phase: string): string {
  const at = path.lastIndexOf(phase);
  return `${path.slice(0, at)}{phase}${path.slice(at + phase.length)}`;
}

const command: Command = {
  name: "agents",
  summary: "set up coding agents: add, remove, list (AGENTS.md block, phase commands, MCP config)",
  usage: USAGE,
  flags: {},
  subcommands: SUBCOMMANDS,
  run({ io, global, argv }) {
    const { positionals } = parseFlags(argv, {}, USAGE);
    const [sub, ...names] = positionals;
    const root = findProjectRoot(
      global.root !== null ? resolve(global.cwd, global.root) : global.cwd,
      global.root !== null,
    ).root;
    if (sub === "add" || sub === "remove") {
      const agents = parseAgentNames(names);
      const report = sub === "add" ? addAgents(root, agents) : removeAgents(root, agents);
      if (global.json) printJson(io, report);
      else printAgentsReport(io, sub, report);
      return EXIT.ok;
    }
    if (sub === "list") {
      if (names.length > 0) throw usageError("agents list takes no arguments", `usage: ${LIST_USAGE}`);
      const list = listAgents(root);
      if (global.json) printJson(io, list);
      else io.out(agentsTable(io, list));
      return EXIT.ok;
    }
    throw usageError(
      sub === undefined ? "agents needs a subcommand" : `unknown subcommand "${sub}"`,
      synopses(SUBCOMMANDS),
    );
  },
};

export default command;
