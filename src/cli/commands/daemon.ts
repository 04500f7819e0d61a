// `keel daemon start|run|stop|status`: the project's warm process that answers the CLI's read commands
// (cli/daemon/). `start` runs it in the background; `run` in the foreground (what `start` starts).
import { EXIT, type ExitCode, KeelError, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { type DaemonState, daemonState, spawnDaemon, stopDaemon } from "../daemon/lifecycle.js";
import { type Io, printJson } from "../output.js";

const USAGE = "keel daemon start|run|stop|status [--json]";

const command: Command = {
  name: "daemon",
  summary: "a warm process that answers read commands fast: start, run, stop, status",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { positionals } = parseFlags(argv, {}, USAGE);
    const [sub, ...extra] = positionals;
    if (extra.length > 0 || sub === undefined)
      throw usageError("daemon needs one subcommand", `usage: ${USAGE}`);
    const root = findProjectRoot(global.root ?? global.cwd, global.root !== null).root;
    switch (sub) {
      case "start":
        return start(io, root, global.json);
      case "run":
        return runForeground(io, root);
      case "stop": {
        const stopped = await stopDaemon(root);
        if (global.json) printJson(io, { stopped });
        else io.out(stopped ? "keel daemon: stopped" : "keel daemon: not running");
        return EXIT.ok;
      }
      case "status": {
        const state = await daemonState(root);
        if (global.json) printJson(io, state);
        else io.out(describe(state));
        return EXIT.ok;
      }
      default:
        throw usageError(`unknown daemon subcommand: ${sub}`, `usage: ${USAGE}`);
    }
  },
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
