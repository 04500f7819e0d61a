// `keel trace`: links between requirements and the code, tests, docs and commits that implement, verify or
// document them. `keel trace [REQ]` shows the judged chain (core/trace/report.ts); `ack` records a review of
// suspect links (core/trace/ack.ts); `scan` prints the raw links and the problems of the scan (core/trace/scan/).
import { traceAnswer } from "../../core/api/trace-queries.js";
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
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

export const USAGE =
  'keel trace [REQ-ID] [--json] | trace ack <REQ-ID|REQ-ID@path>… --reason "…" [--as human:name] | trace scan [--no-commits] [--no-cache] [--json]';

const command: Command = {
  name: "trace",
  summary: "trace links from code, tests, docs and commits to requirements",
  usage: USAGE,
  async run(ctx: CommandContext): Promise<ExitCode> {
    const { values, positionals } = parseFlags(
      ctx.argv,
      {
        "no-commits": { type: "boolean" },
        "no-cache": { type: "boolean" },
        reason: { type: "string" },
        as: { type: "string" },
      },
      USAGE,
    );
    const [sub, ...args] = positionals;
    if (sub === "ack") return ackCommand(ctx, args, values.reason, values.as);
    if (sub === "scan") {
      if (args.length > 0) throw usageError("trace scan takes no arguments", `usage: ${USAGE}`);
      return scanCommand(ctx, { commits: values["no-commits"] !== true, cache: values["no-cache"] !== true });
    }
    if (args.length > 0) throw usageError("trace takes at most one requirement ID", `usage: ${USAGE}`);
    return showCommand(ctx, sub ?? null);
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
  if (refs.length === 0) throw usageError("trace ack needs a requirement ID or a link", `usage: ${USAGE}`);
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
  const scan = resolveLinkRoots(await scanRepository(project.root, options), project.roots, new Set());
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
