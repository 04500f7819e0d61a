import { resolve } from "node:path";
import { type AuditReport, openAuditStore, verifyProjectAudit } from "../../core/audit/anchor.js";
import { forwardOwnLog } from "../../core/audit/forward.js";
import { type TeamAuditReport, verifyTeamAudit } from "../../core/audit/team.js";
import { coordinationStore } from "../../store/select.js";
import { type AuditEvent, type EventFilter, exportJsonl, listEvents } from "../../store/sqlite/audit-log.js";
import type { StateDb } from "../../store/state-db.js";
import { mayUseTeamStore } from "../../store/team-url.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, projectError, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { runSubcommand, type Subcommand } from "../subcommands.js";

const LOG_USAGE =
  "keel audit log [--since <date|30m|12h|7d|2w>] [--actor <kind:name|name>] [--target <id>] [--action <a>] [--json]";

const LOG_FLAGS = {
  since: {
    type: "string",
    value: "date|30m|12h|7d|2w",
    help: "events since a date or time, or a duration back from now (default: all)",
  },
  actor: { type: "string", value: "kind:name|name", help: "events by this actor (default: anyone)" },
  target: { type: "string", value: "id", help: "events on this task, change or requirement (default: any)" },
  action: { type: "string", value: "a", help: "events of this action, e.g. task.claim (default: any)" },
} as const satisfies Flags;

const VERIFY_USAGE = "keel audit verify [--json]";

const EXPORT_USAGE = "keel audit export [--output <file>] [--json]";

const EXPORT_FLAGS = {
  output: {
    type: "string",
    short: "o",
    value: "file",
    help: "write the log as JSONL to this file (default: stdout)",
    complete: "file",
  },
} as const satisfies Flags;

const SUBCOMMANDS: Record<string, Subcommand> = {
  log: { summary: "the audit log's events, filtered", usage: LOG_USAGE, flags: LOG_FLAGS, run: log },
  verify: { summary: "check the hash chain and its anchors", usage: VERIFY_USAGE, flags: {}, run: verify },
  export: { summary: "the whole log as JSONL", usage: EXPORT_USAGE, flags: EXPORT_FLAGS, run: exportLog },
};

// @req CHG-8, TRU-5
const command: Command = {
  name: "audit",
  summary: "the hash-chained audit log: log, verify, export",
  usage: "keel audit <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run: (ctx) => runSubcommand("audit", SUBCOMMANDS, ctx),
};

/** The project's root and its store for the audit log (core/audit/anchor.ts says when it is null). */
function openState(
  ctx: CommandContext,
  tolerant = false,
): { root: string; state: StateDb | null; unreadable: string | null } {
  const root = findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null).root;
  return { root, ...openAuditStore(root, tolerant) };
}

const DURATION = /^(\d+)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** `--since`: an ISO date or time, or a duration back from now (`30m`, `12h`, `7d`, `2w`). */
export function parseSince(value: string, now = Date.now()): string {
  const d = DURATION.exec(value.trim());
  if (d) return new Date(now - Number(d[1]) * UNIT_MS[d[2] as keyof typeof UNIT_MS]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const t = Date.parse(value.trim());
    if (!Number.isNaN(t)) return new Date(t).toISOString();
  }
  throw usageError(
    `--since must be a date, a time or a duration, not "${value}"`,
    "e.g. --since 2026-11-01, --since 2026-11-01T09:00Z, --since 12h, --since 7d",
  );
}

/**
 * The project's audit log: in team mode the team store's chain (this checkout's own events forwarded into it first,
 * so the answer holds what was just done here), else the checkout's own log.
 */
async function readLog(ctx: CommandContext, filter: EventFilter): Promise<AuditEvent[]> {
  const project = findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null);
  if (mayUseTeamStore(project.root)) {
    const store = await coordinationStore(project.root, loadConfig(project));
    if (store.kind === "postgres") {
      await forwardOwnLog(project.root, store);
      return store.listEvents(filter);
    }
  }
  const { state } = openState(ctx);
  try {
    return state ? listEvents(state, filter) : [];
  } finally {
    state?.close();
  }
}

async function log(ctx: CommandContext, argv: string[]) {
  const { values, positionals } = parseFlags(argv, LOG_FLAGS, LOG_USAGE);
  if (positionals.length > 0)
    throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${LOG_USAGE}`);
  const filter: EventFilter = {};
  if (values.since !== undefined) filter.since = parseSince(values.since);
  if (values.actor !== undefined) filter.actor = values.actor;
  if (values.target !== undefined) filter.target = values.target;
  if (values.action !== undefined) filter.action = values.action;
  const events = await readLog(ctx, filter);
  if (ctx.global.json) printJson(ctx.io, { version: 1, events });
  else ctx.io.out(events.length === 0 ? "no events" : events.map((e) => renderEvent(ctx.io, e)).join("\n"));
  return EXIT.ok;
}

function renderEvent(io: Io, e: AuditEvent): string {
  const fp = e.before || e.after ? `  ${e.before ?? "∅"} → ${e.after ?? "∅"}` : "";
  const rule = typeof e.data?.rule === "string" ? `  [${e.data.rule}]` : "";
  const action = e.action.endsWith(".refused") ? paint(io, "red", e.action) : paint(io, "bold", e.action);
  const head = `${paint(io, "dim", `#${e.seq}`)} ${e.at}  ${e.actor}  ${action}  ${e.target}${fp}${rule}`;
  return e.reason ? `${head}\n    ${paint(io, "dim", e.reason)}` : head;
}

async function verify(ctx: CommandContext, argv: string[]) {
  const { positionals } = parseFlags(argv, {}, VERIFY_USAGE);
  if (positionals.length > 0)
    throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${VERIFY_USAGE}`);
  const project = findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null);
  const report = verifyProjectAudit(project.root);
  // In team mode the claims' events are in the team store's chain, verified beside this checkout's own log.
  const team = mayUseTeamStore(project.root)
    ? await verifyTeamAudit(project.root, loadConfig(project))
    : null;
  const ok = report.ok && (team?.ok ?? true);
  if (ctx.global.json) printJson(ctx.io, { version: 1, ...report, ok, ...(team ? { team } : {}) });
  else ctx.io.out([...(team ? [renderTeam(ctx.io, team)] : []), renderReport(ctx.io, report)].join("\n"));
  return ok ? EXIT.ok : EXIT.findings;
}

function renderTeam(io: Io, t: TeamAuditReport): string {
  if (t.ok) return `team audit log intact: ${t.events} event${t.events === 1 ? "" : "s"} (${t.where})`;
  return `${paint(io, "red", "team audit log broken")} at event ${t.firstBad?.seq}: ${t.firstBad?.problem} (${t.where})`;
}

// @req TRU-5
function renderReport(io: Io, r: AuditReport): string {
  const plural = (n: number) => `${n} event${n === 1 ? "" : "s"}`;
  const own = r.segments.find((s) => s.own);
  const lines: string[] = [];
  if (r.ok) {
    lines.push(`audit log intact: ${plural(r.events)}${own ? `, matching ${own.segment}` : ""}`);
  } else if (r.store.state !== "present") {
    const first = r.problems[0];
    lines.push(`${paint(io, "red", "audit log broken")}: ${first?.problem}`);
    lines.push("  restore .keel/state.db from a backup, or rebuild it from the segment: keel store repair");
  } else if (r.firstBad) {
    lines.push(`${paint(io, "red", "audit log broken")} at event ${r.firstBad.seq}: ${r.firstBad.problem}`);
    lines.push(`  ${plural(r.events)} in the log; events before ${r.firstBad.seq} are intact`);
  }
  const shown = new Set([
    r.firstBad?.problem,
    r.store.state !== "present" ? r.problems[0]?.problem : undefined,
  ]);
  for (const p of r.problems)
    if (!shown.has(p.problem)) lines.push(`  ${paint(io, "red", "also")}: ${p.problem}`);
  for (const s of r.segments.filter((x) => !x.own && x.ok)) {
    lines.push(`${s.segment}: ${plural(s.events)} intact (another clone's or worktree's store)`);
  }
  for (const n of r.notes) lines.push(`  ${paint(io, "dim", `note: ${n}`)}`);
  return lines.join("\n");
}

async function exportLog(ctx: CommandContext, argv: string[]) {
  const { values, positionals } = parseFlags(argv, EXPORT_FLAGS, EXPORT_USAGE);
  if (positionals.length > 0)
    throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${EXPORT_USAGE}`);
  const text = exportJsonl(await readLog(ctx, {}));
  const count = text === "" ? 0 : text.split("\n").length - 1;
  if (values.output === undefined) {
    if (text !== "") process.stdout.write(text);
    return EXIT.ok;
  }
  const path = resolve(ctx.global.cwd, values.output);
  try {
    writeFileAtomic(path, text);
  } catch (e) {
    throw projectError(
      `cannot write ${values.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      "choose a writable path for --output",
    );
  }
  if (ctx.global.json) printJson(ctx.io, { version: 1, output: values.output, events: count });
  else ctx.io.out(`wrote ${count} event${count === 1 ? "" : "s"} to ${values.output}`);
  return EXIT.ok;
}

export default command;
