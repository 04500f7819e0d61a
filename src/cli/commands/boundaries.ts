// `keel boundaries check --task T [--base REV]`: files changed since the base that the task's boundaries do not
// allow (core/boundaries.ts). Exit 1 when there is any.
import { checkBoundaries } from "../../core/boundaries.js";
import { type LoadedTask, taskKeyOf } from "../../core/tasks/index.js";
import { loadGateContext } from "../../core/verify/index.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { paint, printJson } from "../output.js";
import { runSubcommand, type Subcommand } from "../subcommands.js";
import { padCell, widestOf } from "../table.js";

const CHECK_USAGE = "keel boundaries check --task <id> [--base <rev>] [--json]";

const CHECK_FLAGS = {
  task: {
    type: "string",
    value: "id",
    help: "the task whose boundaries to check (required)",
    complete: "task",
  },
  base: {
    type: "string",
    value: "rev",
    help: "compare with this revision (default: the merge-base with the main branch)",
  },
} as const satisfies Flags;

const check: Subcommand = {
  summary: "files changed since the base that the task's boundaries do not allow",
  usage: CHECK_USAGE,
  flags: CHECK_FLAGS,
  run({ io, global }, argv): ExitCode {
    const { values, positionals } = parseFlags(argv, CHECK_FLAGS, CHECK_USAGE);
    if (positionals.length > 0)
      throw usageError(
        `boundaries check takes no arguments (got "${positionals[0]}")`,
        `usage: ${CHECK_USAGE}`,
      );
    if (values.task === undefined)
      throw usageError("boundaries check needs --task <id>", `usage: ${CHECK_USAGE}`);
    const ctx = loadGateContext(global.root ?? global.cwd, { explicitRoot: global.root !== null });
    const graph = ctx.graph();
    const key = taskKeyOf(graph, values.task, LIST_TASKS);
    const task = graph.nodes.get(key)?.task as LoadedTask;
    const report = checkBoundaries(ctx.root, task, values.base ?? null);
    if (global.json) {
      printJson(io, { version: 1, ...report });
      return report.violations.length > 0 ? EXIT.findings : EXIT.ok;
    }
    if (!report.checked) {
      io.out(
        `task ${key} declares no boundaries: nothing to check (add \`boundaries: <globs>\` to it in ${task.file})`,
      );
      return EXIT.ok;
    }
    const base = report.base.commit
      ? `${report.base.commit.slice(0, 12)} (${report.base.how})`
      : report.base.how;
    io.out(`task ${key} may touch: ${report.boundaries.join(", ")}`);
    const n = report.files.length;
    io.out(
      `changed since ${base}: ${n} file${n === 1 ? "" : "s"}, ${report.violations.length} outside the boundaries`,
    );
    if (report.violations.length === 0) return EXIT.ok;
    const width = widestOf(report.violations.map((v) => v.path));
    for (const v of report.violations)
      io.out(`  ${paint(io, "red", "✗")} ${padCell(v.path, width)}  ${v.status}`);
    return EXIT.findings;
  },
};

const SUBCOMMANDS: Record<string, Subcommand> = { check };

const command: Command = {
  name: "boundaries",
  summary: "changes outside a task's globs: check",
  usage: "keel boundaries <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run: (ctx) => runSubcommand("boundaries", SUBCOMMANDS, ctx),
};

export default command;
