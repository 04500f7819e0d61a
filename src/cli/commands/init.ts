import { resolve } from "node:path";
import { AGENT_NAMES, addAgents, parseAgentNames } from "../../core/agents/index.js";
import { findInitRoot, type InitReport, initProject } from "../../core/init.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { printAgentsReport } from "./agents.js";

const USAGE = "keel init [--agents <name,…>] [--json]";

const FLAGS = {
  agents: {
    type: "string",
    value: "name,…",
    help: `also set up these coding agents (${AGENT_NAMES.join(", ")}); default none`,
    complete: "agent",
  },
} as const satisfies Flags;

const command: Command = {
  name: "init",
  summary: "create keel/ in this repository (idempotent; never overwrites a file)",
  usage: USAGE,
  flags: FLAGS,
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 0) {
      throw usageError(`init takes no arguments (got "${positionals[0]}")`, `usage: ${USAGE}`);
    }
    const root = global.root !== null ? resolve(global.cwd, global.root) : findInitRoot(global.cwd);
    // Names are checked before anything is written, so a bad --agents leaves the folder untouched.
    const agents = values.agents !== undefined ? parseAgentNames([values.agents]) : null;
    // The script this process started from (`node_modules/.bin/keel` under `npx keel`, resolved by
    // `driverCommand`): the merge driver git runs must be this Keel, however it was installed.
    const report = initProject(root, { keel: { node: process.execPath, script: process.argv[1] ?? "" } });
    const agentsReport = agents ? addAgents(root, agents) : null;
    if (global.json) printJson(io, agentsReport ? { ...report, agents: agentsReport } : report);
    else {
      printHuman(io, report);
      if (agentsReport) printAgentsReport(io, "add", agentsReport);
    }
    return EXIT.ok;
  },
};

function updateNote(report: InitReport, rel: string): string {
  if (rel === ".gitignore") return " (added .keel/)";
  return rel === "git config merge.keel" && report.mergeDriver ? ` (driver: ${report.mergeDriver})` : "";
}

// @req INIT-7
function printHuman(io: Io, report: InitReport): void {
  const lines = [`keel init in ${report.root}`];
  for (const rel of report.created) lines.push(`  ${paint(io, "green", "created")}  ${rel}`);
  for (const rel of report.updated) {
    lines.push(`  ${paint(io, "yellow", "updated")}  ${rel}${updateNote(report, rel)}`);
  }
  for (const rel of report.kept)
    lines.push(`  ${paint(io, "dim", "kept   ")}  ${rel} (already there, left alone)`);
  if (report.created.length === 0 && report.updated.length === 0)
    lines.push("nothing to do: the project is set up");
  else
    lines.push("next: write a capability spec in keel/specs/<capability>/spec.md, then run `keel validate`");
  io.out(lines.join("\n"));
  for (const w of report.warnings) {
    const where = w.line !== undefined ? `${w.file}:${w.line}:${w.col ?? 1}: ` : `${w.file}: `;
    io.err(
      `${paint(io, "yellow", "warning")}: ${where}${w.message}\n  ${paint(io, "dim", "hint:")} ${w.hint}`,
    );
  }
}

export default command;
