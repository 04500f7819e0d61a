// `keel boundaries check --task T [--base REV]`: files changed since the base that the task's boundaries do not
// allow (core/boundaries.ts). Exit 1 when there is any.
import { checkBoundaries } from "../../core/boundaries.js";
import { type LoadedTask, taskKeyOf } from "../../core/tasks/index.js";
import { loadGateContext } from "../../core/verify/index.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { paint, printJson } from "../output.js";
import { padCell, widestOf } from "../table.js";

const USAGE = "keel boundaries check --task <id> [--base <rev>] [--json]";

const command: Command = {
  name: "boundaries",
  summary: "changes outside a task's globs",
  usage: USAGE,
  run({ io, global, argv }): ExitCode {
    const { values, positionals } = parseFlags(
      argv,
      { task: { type: "string" }, base: { type: "string" } },
      USAGE,
    );
    if (positionals[0] !== "check" || positionals.length !== 1)
      throw usageError(
        positionals.length === 0
          ? "boundaries needs a subcommand: check"
          : `unknown boundaries subcommand: ${positionals.join(" ")}`,
        `usage: ${USAGE}`,
      );
    if (values.task === undefined) throw usageError("boundaries check needs --task <id>", `usage: ${USAGE}`);
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

export default command;
