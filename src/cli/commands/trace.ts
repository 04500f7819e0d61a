// `keel trace`: links between requirements and the code, tests, docs and commits that implement, verify or
// document them. `keel trace [REQ]` shows the judged chain (core/trace/report.ts); `ack` records a review of
// suspect links (core/trace/ack.ts); `scan` prints the raw links and the problems of the scan (core/trace/scan/).
import { traceAnswer } from "../../core/api/trace-queries.js";
import { openChangesPhrase, proposedPhrase } from "../../core/changes/proposed.js";
import { ackLinks, selectSuspect } from "../../core/trace/ack.js";
import { resolveLinkRoots } from "../../core/trace/owners.js";
import { traceProject } from "../../core/trace/project.js";
import { scanRepository } from "../../core/trace/scan/index.js";
import type { JudgedLink } from "../../core/trace/state.js";
import type { RawLink, ScanResult } from "../../core/trace/types.js";
import { resolveActor } from "../../workspace/actor.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { inScope, type SpecRoot, scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";
import { withProgress } from "../progress.js";
import { type Subcommand, subcommandNamed, synopses } from "../subcommands.js";

const SHOW_USAGE = "keel trace [REQ-ID] [--json]";
const ACK_USAGE = "keel trace ack <REQ-ID|REQ-ID@path>... --reason <text> [--as <kind:name>] [--json]";
const SCAN_USAGE = "keel trace scan [--no-commits] [--no-cache] [--json]";

const ACK_FLAGS = {
  reason: { type: "string", value: "text", help: "why the links still hold after the requirement changed" },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

const SCAN_FLAGS = {
  "no-commits": { type: "boolean", help: "skip commit messages (only files are scanned)" },
  "no-cache": { type: "boolean", help: "rescan every file, ignoring the scan cache" },
} as const satisfies Flags;

const SUBCOMMANDS: Record<string, Subcommand> = {
  ack: {
    summary: "record a review of suspect links: they still hold after the requirement changed",
    usage: ACK_USAGE,
    flags: ACK_FLAGS,
    args: ["requirement"],
    run(ctx, argv) {
      const { values, positionals } = parseFlags(argv, ACK_FLAGS, ACK_USAGE);
      return ackCommand(ctx, positionals, values.reason, values.as);
    },
  },
  scan: {
    summary: "the raw links of every file and commit, and the problems of the scan",
    usage: SCAN_USAGE,
    flags: SCAN_FLAGS,
    run(ctx, argv) {
      const { values, positionals } = parseFlags(argv, SCAN_FLAGS, SCAN_USAGE);
      if (positionals.length > 0) throw usageError("trace scan takes no arguments", `usage: ${SCAN_USAGE}`);
      return scanCommand(ctx, { commits: values["no-commits"] !== true, cache: values["no-cache"] !== true });
    },
  },
};

const command: Command = {
  name: "trace",
  summary: "trace links from code, tests, docs and commits to requirements; ack, scan",
  usage: SHOW_USAGE,
  flags: {},
  args: ["requirement"],
  subcommands: SUBCOMMANDS,
  async run(ctx: CommandContext): Promise<ExitCode> {
    const sub = subcommandNamed(SUBCOMMANDS, ctx.argv[0]);
    if (sub) return sub.run(ctx, ctx.argv.slice(1));
    const { positionals } = parseFlags(ctx.argv, {}, SHOW_USAGE);
    if (positionals.length > 1)
      throw usageError("trace takes at most one requirement ID", synopses(SUBCOMMANDS, SHOW_USAGE));
    return showCommand(ctx, positionals[0] ?? null);
  },
};

async function showCommand({ io, global }: CommandContext, id: string | null): Promise<ExitCode> {
  const answer = await traceAnswer(global.root ?? global.cwd, global.root !== null, id, global.scope);
  if (answer === null)
    throw usageError(`no requirement ${id}`, "list the requirement IDs with `keel list requirements`");
  if (global.json) {
    printJson(io, answer);
    return EXIT.ok;
  }
  const { requirements, dangling } = answer;
  const colour = { ok: "green", suspect: "yellow", stale: "yellow", dangling: "red" } as const;
  const row = (label: string, l: JudgedLink) =>
    `  ${label.padEnd(9)} ${paint(io, colour[l.state], l.state.padEnd(8))} ${where(l)}  ${paint(io, "dim", l.reason)}`;
  const lines: string[] = [];
  for (const r of requirements) {
    lines.push(
      `${paint(io, "bold", r.id)}  ${r.title}  ${paint(io, "dim", `[${r.status ?? "no status"} · ${r.fingerprint}] ${r.file}:${r.line}`)}`,
    );
    if (r.proposed) lines.push(`  ${paint(io, "yellow", proposedPhrase(r.proposed))}`);
    if (r.openChanges)
      lines.push(`  ${paint(io, "yellow", "open changes:")} ${openChangesPhrase(r.openChanges)}`);
    for (const t of r.tasks) lines.push(`  ${"task".padEnd(9)} [${t.done ? "x" : " "}] ${t.key}  ${t.title}`);
    for (const l of r.implementations) lines.push(row("code", l));
    for (const l of r.tests) lines.push(row("test", l));
    for (const l of r.docs) lines.push(row("doc", l));
    for (const l of r.commits) lines.push(row("commit", l));
    lines.push(`  ${"evidence".padEnd(9)} ${r.evidenceStatus}: ${r.evidenceNote}`);
  }
  if (id === null && dangling.length > 0) {
    lines.push(paint(io, "bold", "dangling links"));
    for (const l of dangling) lines.push(row(l.kind, l));
  }
  io.out(lines.join("\n"));
  return EXIT.ok;
}

async function ackCommand(
  { io, global }: CommandContext,
  refs: string[],
  reason: string | undefined,
  as: string | undefined,
): Promise<ExitCode> {
  if (refs.length === 0)
    throw usageError("trace ack needs a requirement ID or a link", `usage: ${ACK_USAGE}`);
  if (reason === undefined || reason.trim() === "")
    throw usageError(
      "trace ack needs --reason",
      "say why the links still hold after the requirement changed",
    );
  const { project, report } = await traceProject(global.root ?? global.cwd, global.root !== null);
  const links = refs.flatMap((ref) => selectSuspect(report, ref));
  const actor = resolveActor(project.config, { flag: as, cwd: global.cwd });
  const acks = ackLinks(project.project.root, links, actor, reason);
  if (global.json) printJson(io, { version: 1, acks });
  else for (const a of acks) io.out(`acknowledged ${a.link} at ${a.fingerprint}`);
  return EXIT.ok;
}

async function scanCommand(
  { io, global }: CommandContext,
  options: { commits: boolean; cache: boolean },
): Promise<ExitCode> {
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  // Each link with the root owning its file, as written (no project is loaded to resolve the IDs).
  const root = scopedRoot(project, global.scope);
  const scanned = await withProgress(io, global.json, "trace scan: files scanned", (onProgress) =>
    scanRepository(project.root, { ...options, onProgress }),
  );
  const scan = resolveLinkRoots(scanned, project.roots, new Set());
  const result = root === null ? scan : inRoot(scan, root);
  if (global.json) printJson(io, { version: 1, ...result });
  else printScan(io, result);
  return EXIT.ok;
}

/** The scan kept to one root's links; `files` stays the count of the repository's files read. */
function inRoot(scan: ScanResult, root: SpecRoot): ScanResult {
  const links = scan.links.filter((l) => l.root === root.name);
  const problems = scan.problems.filter((p) => inScope(root, p.file));
  return { ...scan, links, problems, filesWithLinks: new Set(links.map((l) => l.file)).size };
}

/** The link's place, and with spec roots the root owning it. */
function where(l: RawLink): string {
  const place = l.line === 0 ? l.file : `${l.file}:${l.line}:${l.col}`;
  return l.root === undefined ? place : `${place} (${l.root ?? "top level"})`;
}

function printScan(io: Io, r: ScanResult): void {
  const lines = r.links.map((l) => {
    const target = l.targetType === "task" ? `task ${l.target}` : l.target;
    const how = l.trailer ? `${l.trailer}:` : l.source;
    return `${where(l)}  ${l.kind.padEnd(10)} ${paint(io, "bold", target)}  ${paint(io, "dim", how)}`;
  });
  const commits = new Set(r.links.filter((l) => l.line === 0).map((l) => l.file)).size;
  const n = (count: number, word: string) => `${count} ${word}${count === 1 ? "" : "s"}`;
  lines.push(
    `${n(r.links.length, "link")} in ${r.filesWithLinks} of ${n(r.files, "file")}${commits > 0 ? ` and ${n(commits, "commit")}` : ""}`,
  );
  io.out(lines.join("\n"));
  for (const p of r.problems) io.err(`${p.severity}: ${p.file}:${p.line}:${p.col}: ${p.message} [${p.rule}]`);
}

export default command;
