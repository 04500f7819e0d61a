// The command line, run in this process: global flags, then a lazily loaded command. The `keel` binary runs it
// (cli/main.ts) unless the project's daemon answers, and the daemon runs it for its clients (cli/daemon/).

import { parseArgs } from "node:util";
import { VERSION } from "../model/version.js";
import { usageError } from "../workspace/errors.js";
import type { Command, GlobalFlags } from "./command.js";
import { type Io, reportError } from "./output.js";

type Loader = () => Promise<{ default: Command }>;

/** Summaries live here (not in the modules) so `keel help` loads no command code. */
export const COMMANDS: Record<string, { summary: string; load: Loader; hidden?: boolean }> = {
  init: {
    summary: "create keel/ in this repository (idempotent; never overwrites a file)",
    load: () => import("./commands/init.js"),
  },
  validate: {
    summary: "check specs and changes; exit 1 on errors (or warnings with --strict)",
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
    summary: "open conflicts: overlapping edits refused by apply or found by git merge",
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
  tasks: {
    summary:
      "the task graph and its queue: list, show, ready, next, graph; claim, heartbeat, release, done, block, note",
    load: () => import("./commands/tasks.js"),
  },
  context: { summary: "the context pack for one task", load: () => import("./commands/context.js") },
  trace: {
    summary: "trace links from code, tests, docs and commits to requirements; ack, scan",
    load: () => import("./commands/trace.js"),
  },
  analyze: {
    summary:
      "cross-artifact report: coverage gaps, unwired gates, missing files, inconsistent terms, unread headings",
    load: () => import("./commands/analyze.js"),
  },
  audit: {
    summary: "the hash-chained audit log: log, verify, export",
    load: () => import("./commands/audit.js"),
  },
  verify: { summary: "run gates and record evidence", load: () => import("./commands/verify.js") },
  boundaries: {
    summary: "changes outside a task's globs: check",
    load: () => import("./commands/boundaries.js"),
  },
  check: {
    summary: "for CI: validate, drift and the latest gate status in one verdict",
    load: () => import("./commands/check.js"),
  },
  drift: {
    summary: "where intent and code have come apart: untraced, suspect, dangling, out of bounds, stale",
    load: () => import("./commands/drift.js"),
  },
  coverage: {
    summary: "per capability: approved requirements implemented, tested, verified",
    load: () => import("./commands/coverage.js"),
  },
  run: {
    summary: "the work loop: coding agents work the ready tasks in worktrees, gated; status, review",
    load: () => import("./commands/run.js"),
  },
  metrics: {
    summary: "the work loop's track record: first-pass rate, rework, time to done, cost",
    load: () => import("./commands/metrics.js"),
  },
  mcp: { summary: "serve Keel to agents over MCP (stdio)", load: () => import("./commands/mcp.js") },
  agents: {
    summary: "set up coding agents: add, remove, list (AGENTS.md block, phase commands, MCP config)",
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
    summary:
      "the state store: status, migrate and copy (team mode), repair (rebuild from keel/audit/), reset",
    load: () => import("./commands/store.js"),
  },
  completion: {
    summary: "print the shell completion script: bash, zsh or fish",
    load: () => import("./commands/completion.js"),
  },
  __complete: {
    summary: "the completion candidates at the cursor (run by the completion scripts)",
    load: () => import("./commands/complete.js"),
    hidden: true,
  },
};

/** Commands that neither read nor write the project's state: no settling, no team sync. */
const STATELESS = new Set(["completion", "__complete"]);

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

/** The flags every command takes, wherever they stand before `--`. */
const GLOBAL_OPTIONS = {
  json: { type: "boolean" },
  root: { type: "string", short: "C" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

interface CommandLine {
  global: GlobalFlags;
  help: boolean;
  version: boolean;
  /** The command, its arguments and its own flags, in order; `--` and all after it kept as given. */
  rest: string[];
  /** `-C`/`--root` was given without a folder. */
  rootMissing: string | null;
  /** Each `-C`/`--root` value, in order: a project folder, or the name of one of its spec roots. */
  rootFlags: string[];
}

// @req CLI-4
/**
 * Takes the global flags out of `argv`. parseArgs's tokens say where each stands, so a value that looks like a flag
 * but follows `--` stays an argument, and everything else keeps its place for the command's own parser.
 */
function splitGlobalFlags(argv: string[], cwd: string): CommandLine {
  const line: CommandLine = {
    global: { json: false, root: null, scope: null, cwd },
    help: false,
    version: false,
    rest: [],
    rootMissing: null,
    rootFlags: [],
  };
  const { tokens } = parseArgs({
    args: argv,
    options: GLOBAL_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const taken = new Set<number>();
  let command = false;
  for (const t of tokens) {
    if (t.kind === "option-terminator") break;
    if (t.kind === "positional") {
      command = true;
      continue;
    }
    if (!(t.name in GLOBAL_OPTIONS)) continue;
    // `--version` after the command name is the command's business.
    if (t.name === "version" && command) continue;
    taken.add(t.index);
    if (t.name === "root") {
      if (t.value === undefined) line.rootMissing = t.rawName;
      else {
        line.rootFlags.push(t.value);
        if (!t.inlineValue) taken.add(t.index + 1);
      }
    } else if (t.name === "json") line.global.json = true;
    else if (t.name === "help") line.help = true;
    else line.version = true;
  }
  line.rest = argv.filter((_, i) => !taken.has(i));
  return line;
}

export async function runCommandLine(argv: string[], io: Io, cwd: string): Promise<number> {
  const { global, help, version, rest, rootMissing, rootFlags } = splitGlobalFlags(argv, cwd);
  if (rootMissing !== null) {
    return reportError(
      io,
      usageError(`${rootMissing} needs a folder`, "e.g. keel -C path/to/project status"),
      global.json,
    );
  }
  if (rootFlags.length > 0) {
    try {
      const { resolveRootFlags } = await import("../workspace/spec-roots.js");
      Object.assign(global, resolveRootFlags(rootFlags, cwd));
    } catch (e) {
      return reportError(io, e, global.json);
    }
  }
  if (version) {
    io.out(global.json ? JSON.stringify({ version: VERSION }) : VERSION);
    return 0;
  }
  const name = rest.shift();
  if (name === undefined || name === "help") {
    const topic = name === "help" ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) return printCommandHelp(io, topic, rest[1]);
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
  if (help) return printCommandHelp(io, name, rest[0]);
  // In team mode: the team's records the command reads, pulled first, and what it logged, forwarded after.
  const team = STATELESS.has(name) ? null : (await import("./team-sync.js")).teamCommand(io, global, name);
  try {
    const command = (await entry.load()).default;
    // An apply a crash interrupted is finished (or rolled back) before the command reads the specs.
    if (!SKIP_SETTLING.has(name) && !STATELESS.has(name))
      await (await import("./interrupted.js")).finishInterrupted(io, global);
    await team?.before();
    return await command.run({ io, global, argv: rest });
  } catch (e) {
    return reportError(io, e, global.json);
  } finally {
    await team?.after();
  }
}

/** `keel <command> [<subcommand>] --help`, from the command's declared grammar. */
async function printCommandHelp(io: Io, name: string, sub: string | undefined): Promise<number> {
  const [command, { commandHelp }] = await Promise.all([
    (COMMANDS[name] as { load: Loader }).load(),
    import("./help.js"),
  ]);
  io.out(commandHelp(command.default, sub));
  return 0;
}

/** Every command's name, summary and module, for help and completion. */
export function commandTable(): ReadonlyArray<{
  name: string;
  summary: string;
  hidden: boolean;
  load: Loader;
}> {
  return Object.entries(COMMANDS).map(([name, c]) => ({
    name,
    summary: c.summary,
    hidden: c.hidden ?? false,
    load: c.load,
  }));
}
