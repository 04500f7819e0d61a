import { basename, dirname, join, relative, resolve } from "node:path";
import { listEvidence } from "../../core/verify/evidence.js";
import {
  BREAKDOWNS,
  type Breakdown,
  computeMetrics,
  formatDuration,
  formatNumber,
  formatRate,
  formatUsd,
  type MetricSet,
  type MetricsReport,
  readMetricRecords,
} from "../../run/metrics.js";
import { metricsSvg } from "../../run/metrics-svg.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { EXIT, type ExitCode, projectError, usageError } from "../../workspace/errors.js";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { table } from "../table.js";
import { parseSince } from "./audit.js";

const USAGE =
  "keel metrics [--since <date|30m|12h|7d|2w>] [--by capability|agent|day] [--svg <file>] [--json]";

const METRICS_FLAGS = {
  since: {
    type: "string",
    value: "date|30m|12h|7d|2w",
    help: "only tasks first attempted since this date or this long ago; default all",
  },
  by: {
    type: "string",
    value: "capability|agent|day",
    help: "one breakdown only; default all three",
    complete: BREAKDOWNS,
  },
  svg: {
    type: "string",
    value: "file",
    help: "also write the metrics as an SVG chart to this file, inside the project",
    complete: "file",
  },
} as const satisfies Flags;

const command: Command = {
  name: "metrics",
  summary: "the work loop's track record: first-pass rate, rework, time to done, cost",
  usage: USAGE,
  flags: METRICS_FLAGS,
  run({ io, global, argv }): ExitCode {
    const { values, positionals } = parseFlags(argv, METRICS_FLAGS, USAGE);
    if (positionals.length > 0)
      throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
    const since = values.since === undefined ? null : parseSince(values.since);
    const by = values.by === undefined ? BREAKDOWNS : [breakdownOf(values.by)];
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const svgPath = values.svg === undefined ? null : svgTarget(project.root, global.cwd, values.svg);
    const report = computeMetrics({
      ...readMetricRecords(project.root, since),
      evidence: listEvidence(project.root),
      since,
      by,
    });
    if (svgPath !== null) writeSvg(svgPath, values.svg as string, metricsSvg(report));
    if (global.json) printJson(io, { version: 1, by, svg: values.svg ?? null, ...report });
    else {
      io.out(render(io, report, by));
      if (values.svg !== undefined) io.out(paint(io, "dim", `chart written to ${values.svg}`));
    }
    return EXIT.ok;
  },
};

function breakdownOf(value: string): Breakdown {
  if ((BREAKDOWNS as readonly string[]).includes(value)) return value as Breakdown;
  throw usageError(`--by must be one of ${BREAKDOWNS.join(", ")}, not "${value}"`, `usage: ${USAGE}`);
}

/** The attempts and the events metrics reads; none when the project has no store (never created here). */
/** `--svg`'s file, which must lie inside the project once symbolic links are followed (as far as they exist). */
function svgTarget(root: string, cwd: string, file: string): string {
  const abs = resolve(cwd, file);
  const rootReal = realpathOrNull(root) ?? root;
  if (!isWithin(rootReal, realOfNearest(abs))) {
    throw usageError(
      `--svg ${file} is outside the project`,
      `give a file inside ${relative(cwd, root) || "."}, e.g. --svg keel-metrics.svg`,
    );
  }
  return abs;
}

/** The real path of `abs`, resolving its nearest existing ancestor (the file itself may not exist yet). */
function realOfNearest(abs: string): string {
  const real = realpathOrNull(abs);
  if (real !== null) return real;
  const parent = dirname(abs);
  return parent === abs ? abs : join(realOfNearest(parent), basename(abs));
}

function writeSvg(path: string, shown: string, svg: string): void {
  try {
    writeFileAtomic(path, svg);
  } catch (e) {
    throw projectError(
      `cannot write ${shown}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      "choose a writable file inside the project for --svg",
    );
  }
}

// --- text ----------------------------------------------------------------------------------------------------------

function render(io: Io, r: MetricsReport, by: readonly Breakdown[]): string {
  if (r.empty) {
    return r.since
      ? `no task first attempted since ${r.since}: nothing to measure`
      : "no runs yet: nothing to measure (`keel run` records the attempts metrics reads)";
  }
  const span = r.from && r.to ? `, ${r.from.slice(0, 10)} to ${r.to.slice(0, 10)}` : "";
  const blocks = [
    `${paint(io, "bold", "keel metrics")}: ${r.overall.tasks} tasks, ${r.overall.attempts} attempts, ${r.runs} runs${span}`,
    table(io, null, summaryRows(r.overall), "  "),
  ];
  const breakdowns: Record<Breakdown, Row[]> = {
    agent: r.byAgent.map((a) => ({ ...a, name: a.agent })),
    capability: r.byCapability.map((c) => ({ ...c, name: c.capability })),
    day: r.byDay.map((d) => ({ ...d, name: d.day, extra: String(d.landedOn) })),
  };
  for (const name of by)
    if (breakdowns[name].length > 0)
      blocks.push(`${paint(io, "bold", `by ${name}`)}\n${breakdownTable(io, name, breakdowns[name])}`);
  if (r.gates.length > 0) {
    const rows = r.gates.map((g) => [
      g.gate,
      `${formatRate(g.passRate)}`,
      `${g.passed}/${g.runs} runs passed`,
    ]);
    blocks.push(`${paint(io, "bold", "gates")}\n${table(io, null, rows, "  ")}`);
  }
  return blocks.join("\n\n");
}

function summaryRows(o: MetricSet): string[][] {
  const plural = (k: number, word: string) => `${k} ${word}${k === 1 ? "" : "s"}`;
  const a = o.attemptsPerTask;
  const t = o.timeToDoneMs;
  const rw = o.rework;
  return [
    [
      "first-pass gate rate",
      `${formatRate(o.firstPass.rate)} (${o.firstPass.tasks} of ${plural(o.tasks, "task")})`,
    ],
    [
      "attempts per task",
      a ? `mean ${formatNumber(a.mean)} · p50 ${a.p50} · max ${a.max} (${o.landed} landed)` : "none landed",
    ],
    ["time to done", t ? `p50 ${formatDuration(t.p50)} · p90 ${formatDuration(t.p90)}` : "none landed"],
    [
      "rework",
      `${plural(rw.tasks, "task")}: ${rw.rejected} rejected in review, ${rw.sentBack} sent back by the merge queue, ${rw.reopened} re-opened, ${rw.reverted} reverted`,
    ],
    ["blocked", plural(o.blocked, "task")],
    ["boundary violations", String(o.boundaryViolations)],
    ["stalls", String(o.stalls)],
    [
      "cost",
      o.cost.tasks === 0
        ? "not reported by the agents"
        : `${formatUsd(o.cost.usd)} over ${o.cost.tasks} of ${plural(o.tasks, "task")} (${formatUsd(o.cost.perTaskUsd)} a task), ${o.cost.inputTokens} input / ${o.cost.outputTokens} output tokens`,
    ],
  ];
}

/** A breakdown's row: its set, its name (agent, capability or day) and, for a day, the landings that day. */
type Row = MetricSet & { name: string; extra?: string };

function breakdownTable(io: Io, name: Breakdown, rows: Row[]): string {
  const day = name === "day";
  const header = [
    name,
    "tasks",
    "first-pass",
    "landed",
    ...(day ? ["landed that day"] : []),
    "attempts/task",
    "done p50",
    "rework",
    "stalls",
    "boundary",
    "cost/task",
  ];
  const cells = rows.map((r) => [
    r.name,
    String(r.tasks),
    formatRate(r.firstPass.rate),
    String(r.landed),
    ...(day ? [r.extra ?? ""] : []),
    r.attemptsPerTask ? formatNumber(r.attemptsPerTask.mean) : "–",
    formatDuration(r.timeToDoneMs?.p50),
    String(r.rework.tasks),
    String(r.stalls),
    String(r.boundaryViolations),
    formatUsd(r.cost.perTaskUsd),
  ]);
  return table(io, header, cells, "  ");
}

export default command;
