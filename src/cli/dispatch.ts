// The command line, run in this process: global flags, then a lazily loaded command. The `keel` binary runs it
// (cli/main.ts) unless the project's daemon answers, and the daemon runs it for its clients (cli/daemon/).

import { VERSION } from "../model/version.js";
import { usageError } from "../workspace/errors.js";
import type { Command, GlobalFlags } from "./command.js";
import { type Io, reportError } from "./output.js";

type Loader = () => Promise<{ default: Command }>;

/** Summaries live here (not in the modules) so `keel help` loads no command code. */
const COMMANDS: Record<string, { summary: string; load: Loader; hidden?: boolean }> = {
  init: { summary: "create keel/ in this repository (idempotent)", load: () => import("./commands/init.js") },
  validate: {
    summary: "check specs and changes; exit 1 on errors",
    load: () => import("./commands/validate.js"),
  },
  list: { summary: "list specs, changes or requirements", load: () => import("./commands/list.js") },
  show: { summary: "show a spec, change or requirement by id", load: () => import("./commands/show.js") },
  search: {
    summary: "full-text search over requirements, ranked",
    load: () => import("./commands/search.js"),
  },
  status: { summary: "one-screen summary of the project", load: () => import("./commands/status.js") },
  import: {
    summary: "write a Keel layout from a Spec Kit, Kiro, Task Master or Beads project",
    load: () => import("./commands/import.js"),
  },
  export: {
    summary: "write the specs in Spec Kit's or OpenSpec's layout",
    load: () => import("./commands/export.js"),
  },
  change: {
    summary: "change proposals: new, list, show, diff, status, approve, apply, reject, revert, resolve",
    load: () => import("./commands/change.js"),
  },
  conflicts: {
    summary: "open conflicts (overlapping edits), with both versions",
    load: () => import("./commands/conflicts.js"),
  },
  "merge-driver": {
    summary: "git merge driver for spec files (run by git)",
    load: () => import("./commands/merge-driver.js"),
    hidden: true,
  },
  history: {
    summary: "every version of a requirement: who, when, why, diff",
    load: () => import("./commands/history.js"),
  },
  blame: {
    summary: "who introduced each requirement of a spec as it reads now",
    load: () => import("./commands/blame.js"),
  },
  tasks: { summary: "task graph: list, show, ready, next, graph", load: () => import("./commands/tasks.js") },
  context: { summary: "the context pack for one task", load: () => import("./commands/context.js") },
  trace: {
    summary: "trace links from code, tests, docs and commits",
    load: () => import("./commands/trace.js"),
  },
  analyze: {
    summary: "cross-artifact report: coverage gaps, unwired gates, missing files, terms",
    load: () => import("./commands/analyze.js"),
  },
  audit: {
    summary: "read, verify and export the hash-chained audit log",
    load: () => import("./commands/audit.js"),
  },
  verify: { summary: "run gates and record evidence", load: () => import("./commands/verify.js") },
  boundaries: { summary: "changes outside a task's globs", load: () => import("./commands/boundaries.js") },
  check: {
    summary: "for CI: validate, drift and gate status in one verdict",
    load: () => import("./commands/check.js"),
  },
  drift: { summary: "where intent and code have come apart", load: () => import("./commands/drift.js") },
  coverage: {
    summary: "implemented, tested, verified per capability",
    load: () => import("./commands/coverage.js"),
  },
  run: {
    summary: "the work loop: agents work ready tasks in worktrees, gated; status, review",
    load: () => import("./commands/run.js"),
  },
  metrics: {
    summary: "the work loop's track record: first-pass rate, rework, time to done, cost",
    load: () => import("./commands/metrics.js"),
  },
  mcp: { summary: "serve Keel to agents over MCP (stdio)", load: () => import("./commands/mcp.js") },
  agents: {
    summary: "set up coding agents: add, remove, list (AGENTS.md, commands, MCP config)",
    load: () => import("./commands/agents.js"),
  },
  daemon: {
    summary: "a warm process that answers read commands fast: start, run, stop, status",
    load: () => import("./commands/daemon.js"),
  },
  serve: {
    summary: "serve REST, live events and MCP over HTTP on loopback",
    load: () => import("./commands/serve.js"),
  },
  token: {
    summary: "bearer tokens for keel serve --auth: create, list, revoke",
    load: () => import("./commands/token.js"),
  },
  store: {
    summary: "the local state store: status, repair (rebuild from keel/audit/), reset",
    load: () => import("./commands/store.js"),
  },
};

/**
 * Commands that do not settle an interrupted apply first (cli/interrupted.ts): `change` does it per subcommand,
 * and the merge driver, run by git in the middle of a merge, must not write specs.
 */
const SKIP_SETTLING = new Set(["change", "merge-driver"]);

const HELP = `keel — the coordination layer for agentic software development

usage: keel <command> [options]

commands:
${Object.entries(COMMANDS)
  .filter(([, c]) => !c.hidden)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

global options:
  --json            machine-readable output (every command)
  -C, --root <dir>  project folder (default: search upwards from the current folder)
  --root <name>     with keel.yaml roots: keep to that spec root
  -h, --help        help for keel or for a command
  -v, --version     print the version

exit codes: 0 ok · 1 findings (errors, or warnings under --strict) · 2 usage error · 3 project unreadable
            · 4 conflict (apply refused, conflict recorded) · 5 refused by policy (audited)
            · 6 refused by the task queue (unknown, held, done or blocked task; stale token)
            · 7 refused by backpressure (a task's gates lack passing evidence on this tree)
docs: docs/cli.md`;

export async function runCommandLine(argv: string[], io: Io, cwd: string): Promise<number> {
  const global: GlobalFlags = { json: false, root: null, scope: null, cwd };
  const rootFlags: string[] = [];
  const rest: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--json") global.json = true;
    else if (a === "-C" || a === "--root") {
      const value = argv[++i];
      if (value === undefined)
        return reportError(
          io,
          usageError(`${a} needs a folder`, "e.g. keel -C path/to/project status"),
          global.json,
        );
      rootFlags.push(value);
    } else if (a.startsWith("--root=")) rootFlags.push(a.slice(7));
    else if (a === "-h" || a === "--help") help = true;
    else if ((a === "-v" || a === "--version") && rest.length === 0) {
      io.out(global.json ? JSON.stringify({ version: VERSION }) : VERSION);
      return 0;
    } else rest.push(a);
  }
  if (rootFlags.length > 0) {
    try {
      const { resolveRootFlags } = await import("../workspace/spec-roots.js");
      Object.assign(global, resolveRootFlags(rootFlags, cwd));
    } catch (e) {
      return reportError(io, e, global.json);
    }
  }
  const name = rest.shift();
  if (name === undefined || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) return printCommandHelp(io, topic);
    io.out(HELP);
    return name === undefined && !help ? 2 : 0;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    return reportError(
      io,
      usageError(`unknown command "${name}"`, "run `keel help` for the list of commands"),
      global.json,
    );
  }
  if (help) return printCommandHelp(io, name);
  // In team mode: the team's records the command reads, pulled first, and what it logged, forwarded after.
  const team = (await import("./team-sync.js")).teamCommand(io, global, name);
  try {
    const command = (await entry.load()).default;
    // An apply a crash interrupted is finished (or rolled back) before the command reads the specs.
    if (!SKIP_SETTLING.has(name)) await (await import("./interrupted.js")).finishInterrupted(io, global);
    await team?.before();
    return await command.run({ io, global, argv: rest });
  } catch (e) {
    return reportError(io, e, global.json);
  } finally {
    await team?.after();
  }
}

async function printCommandHelp(io: Io, name: string): Promise<number> {
  const command = (await (COMMANDS[name] as { load: Loader }).load()).default;
  io.out(
    `keel ${command.name} — ${command.summary}\n\nusage: ${command.usage}\n\nsee docs/cli.md#${command.name}`,
  );
  return 0;
}
