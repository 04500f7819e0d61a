// `keel verify [--task T] [--req R] [--changed] [--gate NAME]… [--timeout D]`: runs the selected gates
// (core/verify), records evidence for each, and exits 1 when any failed or timed out.
import { closest } from "../../core/query/suggest.js";
import { taskKeyOf } from "../../core/tasks/lookup.js";
import {
  describeTree,
  type Gate,
  type GateContext,
  type GateRun,
  gateResult,
  killRunningGates,
  loadGateContext,
  passed,
  type Selection,
  selectAll,
  selectChanged,
  selectEverything,
  selectForRequirement,
  selectForTask,
  verify,
} from "../../core/verify/index.js";
import { resolveActor } from "../../workspace/actor.js";
import { parseGateDuration } from "../../workspace/config.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";
import { LIST_TASKS } from "../hints.js";
import { type Io, paint, printJson } from "../output.js";
import { startProgress } from "../progress.js";
import { padCell, widestOf } from "../table.js";

const USAGE =
  "keel verify [--task <id> | --req <id> | --changed] [--gate <name>]… [--timeout <duration>] [--as <kind:name>] [--json]";

const VERIFY_FLAGS = {
  task: { type: "string", value: "id", help: "run the gates of this task", complete: "task" },
  req: {
    type: "string",
    value: "id",
    help: "run the gates that verify this requirement",
    complete: "requirement",
  },
  changed: { type: "boolean", help: "only the gates of what changed since the newest evidence's commit" },
  gate: {
    type: "string",
    multiple: true,
    value: "name",
    help: "only the gate of this name (repeatable); default every selected gate",
  },
  timeout: {
    type: "string",
    value: "duration",
    help: "kill a gate that runs longer (500ms, 90s, 10m); default each gate's own",
  },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

function seconds(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Why a run did not pass: `exit 1`, `timed out after 1s, killed`, `could not start: …`, `killed by SIGKILL`. */
function failureReason(r: GateRun): string {
  return r.timedOut
    ? `timed out after ${seconds(r.gate.timeoutMs)}, killed`
    : r.error !== null
      ? `could not start: ${r.error}`
      : r.exitCode === null
        ? `killed by ${r.signal ?? "a signal"}`
        : `exit ${r.exitCode}`;
}

/** `✓ test (1.2s)`, `✗ lint: exit 1 (0.3s)`, `✗ e2e: timed out after 1s, killed (1.0s)`. */
function runLine(io: Io, r: GateRun): string {
  const took = seconds(r.durationMs);
  if (passed(r)) return `${paint(io, "green", "✓")} ${r.gate.name} (${took})`;
  return `${paint(io, "red", "✗")} ${r.gate.name}: ${failureReason(r)} (${took})`;
}

/**
 * Progress on stderr (cli/progress.ts): gates finished of all, and those running with their time so far; and one
 * line that stays per finished gate (none under --json).
 */
function gateProgress(io: Io, json: boolean, total: number) {
  const line = startProgress(io, json, "verify: gates");
  const running = new Map<string, number>();
  let finished = 0;
  const update = () => {
    const now = performance.now();
    const names = [...running].map(([n, t]) => `${n} ${Math.floor((now - t) / 1000)}s`).join(", ");
    line.update(finished, total, names ? `running ${names}` : undefined);
  };
  // Gates run for seconds in other processes, telling nothing meanwhile: their times are redrawn by the clock.
  const timer = line.live ? setInterval(update, 250) : null;
  timer?.unref();
  return {
    start(gate: Gate) {
      running.set(gate.name, performance.now());
      update();
    },
    finish(run: GateRun) {
      running.delete(run.gate.name);
      finished++;
      line.print(runLine(io, run));
      update();
    },
    end() {
      if (timer) clearInterval(timer);
      line.end();
    },
  };
}

function select(
  ctx: GateContext,
  values: { task?: string; req?: string; changed?: boolean; gate?: string[] },
): { selection: Selection; task: string | null } {
  const chosen = [values.task !== undefined, values.req !== undefined, values.changed === true].filter(
    Boolean,
  );
  if (chosen.length > 1)
    throw usageError("--task, --req and --changed exclude each other", `usage: ${USAGE}`);
  let selection: Selection;
  let task: string | null = null;
  if (values.task !== undefined) {
    task = taskKeyOf(ctx.graph(), values.task, LIST_TASKS);
    selection = selectForTask(ctx, task);
  } else if (values.req !== undefined) {
    const id = values.req;
    if (!ctx.requirements.has(id) && !(id in ctx.config.acceptance)) {
      const near = closest(id, ctx.requirements.keys());
      throw usageError(
        `unknown requirement: ${id}`,
        near.length > 0
          ? `did you mean ${near.join(", ")}?`
          : "list the requirements with `keel list requirements`",
      );
    }
    selection = selectForRequirement(ctx, id);
  } else if (values.changed) selection = selectChanged(ctx);
  else selection = values.gate?.length ? selectEverything(ctx) : selectAll(ctx);
  if (values.gate?.length) {
    const names = new Set(selection.gates.map((g) => g.name));
    for (const name of values.gate) {
      if (!names.has(name)) {
        throw usageError(
          `no gate named ${name} in this selection`,
          names.size > 0 ? `gates: ${[...names].join(", ")}` : "no gate is declared: see docs/cli.md#verify",
        );
      }
    }
    selection = { ...selection, gates: selection.gates.filter((g) => values.gate?.includes(g.name)) };
  }
  return { selection, task };
}

const command: Command = {
  name: "verify",
  summary: "run gates and record evidence",
  usage: USAGE,
  flags: VERIFY_FLAGS,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, VERIFY_FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("verify takes no arguments", `usage: ${USAGE}`);
    let timeoutMs: number | null = null;
    if (values.timeout !== undefined) {
      timeoutMs = parseGateDuration(values.timeout);
      if (timeoutMs === null)
        throw usageError(
          `--timeout "${values.timeout}" is not a duration`,
          "write it with a unit: 500ms, 90s, 10m, 1h",
        );
    }
    const ctx = loadGateContext(global.root ?? global.cwd, { explicitRoot: global.root !== null });
    const actor = resolveActor(ctx.config, { flag: values.as, cwd: global.cwd });
    const { selection, task } = select(ctx, values);
    for (const note of selection.notes) if (!global.json) io.err(`note: ${note}`);

    if (selection.gates.length === 0) {
      if (global.json) {
        printJson(io, {
          version: 1,
          scope: selection.scope,
          passed: true,
          gates: [],
          notes: selection.notes,
        });
      } else {
        io.out(
          selection.scope.kind === "changed"
            ? "no gate to run"
            : "no gates to run: declare them under `gates:` and `acceptance:` in keel/keel.yaml, as `Gate:` lines of the constitution, or as a task's `verify:` (docs/cli.md#verify)",
        );
      }
      return EXIT.ok;
    }

    const progress = gateProgress(io, global.json, selection.gates.length);
    // Gates run in their own process groups, which Ctrl-C does not reach: stop them before leaving.
    const onSignal = (signal: NodeJS.Signals) => {
      progress.end();
      killRunningGates();
      io.err(`keel verify: ${signal}: the running gates were killed; finished ones are recorded`);
      process.exit(signal === "SIGINT" ? 130 : 143);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    let result: Awaited<ReturnType<typeof verify>>;
    try {
      result = await verify(ctx.root, selection, {
        actor,
        task,
        timeoutMs,
        onStart: (g) => progress.start(g),
        onFinish: (r) => progress.finish(r),
      });
    } finally {
      progress.end();
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
    }
    const failed = result.results.filter((r) => !passed(r.run));
    if (!result.tree.git && !global.json)
      io.err("note: not a git repository: the evidence is tied to no commit (see docs/cli.md#verify)");
    if (result.treeAfter)
      io.err(
        `warning: the tree changed while the gates ran (now ${describeTree(result.treeAfter)}); the evidence is recorded for ${describeTree(result.tree)}`,
      );

    if (global.json) {
      printJson(io, {
        version: 1,
        run: result.run,
        scope: selection.scope,
        tree: { commit: result.tree.commit, dirty: result.tree.dirty, digest: result.tree.digest },
        treeChanged: result.treeAfter !== null,
        passed: result.passed,
        gates: result.results.map(({ gate, run, evidence }) => ({
          name: gate.name,
          kind: gate.kind,
          command: gate.command,
          cwd: gate.cwd,
          source: gate.source,
          result: gateResult(run),
          exitCode: run.exitCode,
          timedOut: run.timedOut,
          durationMs: run.durationMs,
          evidence: evidence.id,
          requirements: gate.requirements,
          output: { bytes: run.output.bytes, digest: run.output.digest, tail: run.output.tail },
        })),
        notes: selection.notes,
      });
      return result.passed ? EXIT.ok : EXIT.findings;
    }

    const what =
      selection.scope.kind === "task"
        ? ` for task ${selection.scope.target}`
        : selection.scope.kind === "requirement"
          ? ` for requirement ${selection.scope.target}`
          : selection.scope.kind === "changed"
            ? " for what changed"
            : "";
    io.out(
      `verify${what}: ${result.results.length} gate${result.results.length === 1 ? "" : "s"} on ${describeTree(result.tree)}`,
    );
    const width = widestOf(result.results.map((r) => r.gate.name));
    for (const { gate, run, evidence } of result.results) {
      const mark = passed(run) ? paint(io, "green", "✓") : paint(io, "red", "✗");
      const why = passed(run) ? "" : `  ${failureReason(run)}`;
      io.out(
        `  ${mark} ${padCell(gate.name, width)}  ${seconds(run.durationMs).padStart(7)}  #${evidence.id}${why}`,
      );
    }
    for (const { gate, run } of failed) {
      const lines = run.output.tail.replace(/\n$/, "").split("\n");
      const shown = lines.slice(-20);
      io.out("");
      const head =
        run.output.bytes === 0
          ? "no output"
          : `last ${shown.length} line${shown.length === 1 ? "" : "s"} of ${bytes(run.output.bytes)} of output`;
      io.out(paint(io, "dim", `── ${gate.name} (${gate.command}) · ${head} ──`));
      if (run.output.bytes > 0) for (const l of shown) io.out(l);
    }
    const ids = result.results.map((r) => r.evidence.id);
    const range = ids.length === 1 ? `#${ids[0]}` : `#${Math.min(...ids)}–#${Math.max(...ids)}`;
    io.out("");
    io.out(
      failed.length === 0
        ? `all ${result.results.length} passed · evidence ${range}`
        : `${failed.length} of ${result.results.length} failed · evidence ${range}`,
    );
    return result.passed ? EXIT.ok : EXIT.findings;
  },
};

export default command;
