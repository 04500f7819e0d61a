import { resolve } from "node:path";
import {
  type AgentsReport,
  addAgents,
  listAgents,
  parseAgentNames,
  removeAgents,
} from "../../core/agents/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE =
  "keel agents add <name…> | remove <name…> | list [--json]   (claude, codex, cursor, copilot, gemini)";

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

const command: Command = {
  name: "agents",
  summary: "set up coding agents: AGENTS.md block, phase commands, MCP config",
  usage: USAGE,
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
      if (names.length > 0) throw usageError("agents list takes no arguments", `usage: ${USAGE}`);
      const list = listAgents(root);
      if (global.json) printJson(io, list);
      else {
        io.out(
          list.agents
            .map((a) =>
              a.setUp
                ? `${paint(io, "bold", a.name)}  set up\n${a.files.map((f) => `  ${f.state.padEnd(8)} ${f.path}`).join("\n")}`
                : `${a.name}  not set up`,
            )
            .join("\n"),
        );
      }
      return EXIT.ok;
    }
    throw usageError(
      sub === undefined ? "agents needs a subcommand" : `unknown subcommand "${sub}"`,
      `usage: ${USAGE}`,
    );
  },
};

export default command;
