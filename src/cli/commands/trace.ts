// `keel trace`: links between requirements and the code, tests, docs and commits that implement, verify or
// document them. `scan` prints the raw links and the problems of the scan (core/trace/scan/).
import { scanRepository } from "../../core/trace/scan/index.js";
import type { RawLink, ScanResult } from "../../core/trace/types.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";

export const USAGE = "keel trace scan [--no-commits] [--no-cache] [--json]";

const command: Command = {
  name: "trace",
  summary: "trace links from code, tests, docs and commits to requirements",
  usage: USAGE,
  async run(ctx: CommandContext): Promise<ExitCode> {
    const { values, positionals } = parseFlags(
      ctx.argv,
      { "no-commits": { type: "boolean" }, "no-cache": { type: "boolean" } },
      USAGE,
    );
    const [sub, ...args] = positionals;
    if (sub === undefined) throw usageError("trace needs a subcommand", `usage: ${USAGE}`);
    if (sub === "scan") {
      if (args.length > 0) throw usageError("trace scan takes no arguments", `usage: ${USAGE}`);
      return scanCommand(ctx, { commits: values["no-commits"] !== true, cache: values["no-cache"] !== true });
    }
    throw usageError(`unknown trace subcommand: ${sub}`, `usage: ${USAGE}`);
  },
};

async function scanCommand(
  { io, global }: CommandContext,
  options: { commits: boolean; cache: boolean },
): Promise<ExitCode> {
  const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
  const result = await scanRepository(project.root, options);
  if (global.json) printJson(io, { version: 1, ...result });
  else printScan(io, result);
  return EXIT.ok;
}

function where(l: RawLink): string {
  return l.line === 0 ? l.file : `${l.file}:${l.line}:${l.col}`;
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
