// `keel daemon start|run|stop|status`: the project's warm process that answers the CLI's read commands
// (cli/daemon/). `start` runs it in the background; `run` in the foreground (what `start` starts).
import { EXIT, type ExitCode, KeelError, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { type DaemonState, daemonState, spawnDaemon, stopDaemon } from "../daemon/lifecycle.js";
import { type Io, printJson } from "../output.js";
import { runSubcommand, type Subcommand } from "../subcommands.js";

/** A daemon subcommand: it takes no arguments and acts on the project's daemon. */
function daemonSub(
  name: string,
  summary: string,
  act: (io: Io, root: string, json: boolean) => Promise<ExitCode>,
): Subcommand {
  const usage = `keel daemon ${name} [--json]`;
  return {
    summary,
    usage,
    flags: {},
    run({ io, global }, argv) {
      const { positionals } = parseFlags(argv, {}, usage);
      if (positionals.length > 0)
        throw usageError(`daemon ${name} takes no arguments (got "${positionals[0]}")`, `usage: ${usage}`);
      return act(io, findProjectRoot(global.root ?? global.cwd, global.root !== null).root, global.json);
    },
  };
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  start: daemonSub("start", "start the daemon in the background (restarts one of another build)", start),
  run: daemonSub("run", "serve in the foreground until SIGINT or SIGTERM (what start starts)", runForeground),
  stop: daemonSub("stop", "stop the running daemon", async (io, root, json) => {
    const stopped = await stopDaemon(root);
    if (json) printJson(io, { stopped });
    else io.out(stopped ? "keel daemon: stopped" : "keel daemon: not running");
    return EXIT.ok;
  }),
  status: daemonSub(
    "status",
    "whether it runs, since when, and what it has answered",
    async (io, root, json) => {
      const state = await daemonState(root);
      if (json) printJson(io, state);
      else io.out(describe(state));
      return EXIT.ok;
    },
  ),
};

const command: Command = {
  name: "daemon",
  summary: "a warm process that answers read commands fast: start, run, stop, status",
  usage: "keel daemon <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run: (ctx) => runSubcommand("daemon", SUBCOMMANDS, ctx),
};

function describe(state: DaemonState): string {
  if (!state.running)
    return state.stale
      ? `keel daemon: not running (a stale record of pid ${state.pid} is ignored)`
      : "keel daemon: not running";
  const head = `keel daemon: running (pid ${state.pid}, since ${state.startedAt})`;
  if (!state.sameBuild) return `${head}, another build (${state.build}): the CLI answers itself`;
  const f = state.figures;
  if (!f) return `${head}, but not answering: the CLI answers itself`;
  const watch = f.events === null ? "watcher off (checks stat every file)" : `${f.folders} folders watched`;
  return `${head}: ${f.served} answers, ${watch}, ${Math.round(f.rss / 1048576)} MB`;
}

async function start(io: Io, root: string, json: boolean): Promise<ExitCode> {
  const state = await daemonState(root);
  if (state.running && state.sameBuild) {
    if (json) printJson(io, { started: false, ...state });
    else io.out(`keel daemon: already running (pid ${state.pid})`);
    return EXIT.ok;
  }
  if (state.running) await stopDaemon(root); // another build: its answers could differ from this one's
  const script = process.argv[1];
  if (!script)
    throw new KeelError("cannot tell which keel to start", EXIT.unreadable, "run keel by its path");
  const record = await spawnDaemon(root, script);
  if (json) printJson(io, { started: true, ...(await daemonState(root)) });
  else io.out(`keel daemon: started (pid ${record.pid})`);
  return EXIT.ok;
}

/** Serves until SIGINT or SIGTERM; the one line on stdout says it is ready (spawnDaemon waits for it). */
async function runForeground(io: Io, root: string): Promise<ExitCode> {
  const { startDaemon } = await import("../daemon/server.js");
  const daemon = await startDaemon(root);
  io.out(`keel daemon: ready, watching ${daemon.watcher.folders} folders`);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await daemon.close();
  return EXIT.ok;
}

export default command;
