import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  type AuditEvent,
  type EventFilter,
  exportJsonl,
  listEvents,
  type VerifyResult,
  verifyChain,
} from "../../core/audit.js";
import { STATE_DIR } from "../../store/index-db.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { EXIT, projectError, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE = `keel audit log [--since <date|30m|12h|7d|2w>] [--actor <kind:name|name>] [--target <id>] [--action <a>] [--json]
       keel audit verify [--json]
       keel audit export [--output <file>] [--json]`;

// @req CHG-8
const command: Command = {
  name: "audit",
  summary: "read, verify and export the hash-chained audit log",
  usage: USAGE,
  run(ctx) {
    const [sub, ...rest] = ctx.argv;
    if (sub === "log") return log(ctx, rest);
    if (sub === "verify") return verify(ctx, rest);
    if (sub === "export") return exportLog(ctx, rest);
    throw usageError(
      sub === undefined ? "audit needs a subcommand" : `unknown audit subcommand "${sub}"`,
      `usage: ${USAGE}`,
    );
  },
};

/** The project's state store, or null when no state-changing command has run yet (nothing is created). */
function openState(ctx: CommandContext): { root: string; state: StateDb | null } {
  const project = findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null);
  const root = project.root;
  const has =
    existsSync(join(root, STATE_DIR, STATE_FILE)) || existsSync(join(root, STATE_DIR, "audit-head"));
  try {
    return { root, state: has ? StateDb.open(root) : null };
  } catch (e) {
    throw projectError(
      `cannot open ${STATE_DIR}/${STATE_FILE}: ${(e as Error).message}`,
      "check the file's permissions; the audit log lives there",
    );
  }
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

function log(ctx: CommandContext, argv: string[]) {
  const { values, positionals } = parseFlags(
    argv,
    {
      since: { type: "string" },
      actor: { type: "string" },
      target: { type: "string" },
      action: { type: "string" },
    },
    USAGE,
  );
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
  const filter: EventFilter = {};
  if (values.since !== undefined) filter.since = parseSince(values.since);
  if (values.actor !== undefined) filter.actor = values.actor;
  if (values.target !== undefined) filter.target = values.target;
  if (values.action !== undefined) filter.action = values.action;
  const { state } = openState(ctx);
  let events: AuditEvent[] = [];
  try {
    events = state ? listEvents(state, filter) : [];
  } finally {
    state?.close();
  }
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

function verify(ctx: CommandContext, argv: string[]) {
  const { positionals } = parseFlags(argv, {}, USAGE);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
  const { root, state } = openState(ctx);
  let result: VerifyResult;
  try {
    result = state ? verifyChain(state, root) : { ok: true, events: 0, firstBad: null };
  } finally {
    state?.close();
  }
  if (ctx.global.json) printJson(ctx.io, { version: 1, ...result });
  else if (result.ok) ctx.io.out(`audit log intact: ${result.events} event${result.events === 1 ? "" : "s"}`);
  else
    ctx.io.out(
      `${paint(ctx.io, "red", "audit log broken")} at event ${result.firstBad?.seq}: ${result.firstBad?.problem}\n` +
        `  ${result.events} event${result.events === 1 ? "" : "s"} in the log; events before ${result.firstBad?.seq} are intact`,
    );
  return result.ok ? EXIT.ok : EXIT.findings;
}

function exportLog(ctx: CommandContext, argv: string[]) {
  const { values, positionals } = parseFlags(argv, { output: { type: "string", short: "o" } }, USAGE);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
  const { state } = openState(ctx);
  let text = "";
  try {
    text = state ? exportJsonl(state) : "";
  } finally {
    state?.close();
  }
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
