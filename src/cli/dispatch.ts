// The command line, run in this process: global flags, then a lazily loaded command. The `keel` binary runs it
// (cli/main.ts) unless the project's daemon answers, and the daemon runs it for its clients (cli/daemon/).

import { parseArgs } from "node:util";
import { VERSION } from "../model/version.js";
import { usageError } from "../workspace/errors.js";
import type { Command, GlobalFlags } from "./command.js";
import { type Io, reportError } from "./output.js";
import { SUMMARIES, TOP_HELP } from "./summaries.js";

type Loader = () => Promise<{ default: Command }>;

/** Each command's module, loaded only to run it; `keel help` needs none (cli/summaries.ts). */
const LOADERS: Record<string, Loader> = {
  init: () => import("./commands/init.js"),
  validate: () => import("./commands/validate.js"),
  list: () => import("./commands/list.js"),
  show: () => import("./commands/show.js"),
  search: () => import("./commands/search.js"),
  status: () => import("./commands/status.js"),
  import: () => import("./commands/import.js"),
  export: () => import("./commands/export.js"),
  change: () => import("./commands/change.js"),
  conflicts: () => import("./commands/conflicts.js"),
  "merge-driver": () => import("./commands/merge-driver.js"),
  history: () => import("./commands/history.js"),
  blame: () => import("./commands/blame.js"),
  tasks: () => import("./commands/tasks.js"),
  context: () => import("./commands/context.js"),
  trace: () => import("./commands/trace.js"),
  analyze: () => import("./commands/analyze.js"),
  audit: () => import("./commands/audit.js"),
  verify: () => import("./commands/verify.js"),
  boundaries: () => import("./commands/boundaries.js"),
  check: () => import("./commands/check.js"),
  drift: () => import("./commands/drift.js"),
  coverage: () => import("./commands/coverage.js"),
  run: () => import("./commands/run.js"),
  metrics: () => import("./commands/metrics.js"),
  mcp: () => import("./commands/mcp.js"),
  agents: () => import("./commands/agents.js"),
  daemon: () => import("./commands/daemon.js"),
  serve: () => import("./commands/serve.js"),
  token: () => import("./commands/token.js"),
  store: () => import("./commands/store.js"),
  completion: () => import("./commands/completion.js"),
  __complete: () => import("./commands/complete.js"),
};

export const COMMANDS: Record<string, { summary: string; load: Loader; hidden?: boolean }> =
  Object.fromEntries(
    Object.entries(SUMMARIES).map(([name, s]) => [name, { ...s, load: LOADERS[name] as Loader }]),
  );

/** Commands that neither read nor write the project's state: no settling, no team sync. */
const STATELESS = new Set(["completion", "__complete"]);

/**
 * Commands that do not settle an interrupted apply first (cli/interrupted.ts): `change` does it per subcommand,
 * and the merge driver, run by git in the middle of a merge, must not write specs.
 */
const SKIP_SETTLING = new Set(["change", "merge-driver"]);

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
    io.out(TOP_HELP);
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
