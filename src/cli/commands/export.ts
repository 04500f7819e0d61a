import { resolve } from "node:path";
import {
  EXPORT_TARGETS,
  type ExportReport,
  type ExportTarget,
  exportLayout,
} from "../../core/convert/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { DRY_RUN_FLAG } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";

const USAGE = `keel export <${EXPORT_TARGETS.join("|")}> [--out <dir>] [--dry-run] [--json]`;

const FLAGS = {
  out: {
    type: "string",
    value: "dir",
    help: "the folder to write into (default: the project's root)",
    complete: "dir",
  },
  ...DRY_RUN_FLAG,
} as const satisfies Flags;

// @req LAY-12
const command: Command = {
  name: "export",
  summary: "write the specs in Spec Kit's or OpenSpec's layout",
  usage: USAGE,
  flags: FLAGS,
  args: [EXPORT_TARGETS],
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    const [target, ...extra] = positionals;
    if (target === undefined) throw usageError("export needs the layout to write", `usage: ${USAGE}`);
    if (!(EXPORT_TARGETS as readonly string[]).includes(target)) {
      throw usageError(`"${target}" is not a layout keel export writes`, `usage: ${USAGE}`);
    }
    if (extra.length > 0) throw usageError(`export takes one layout (got "${extra[0]}")`, `usage: ${USAGE}`);
    const report = exportLayout(global.root ?? global.cwd, target as ExportTarget, {
      explicitRoot: global.root !== null,
      out: values.out === undefined ? null : resolve(global.cwd, values.out),
      dryRun: values["dry-run"] === true,
    });
    if (global.json) printJson(io, report);
    else printHuman(io, report);
    return EXIT.ok;
  },
};

function printHuman(io: Io, r: ExportReport): void {
  const verb = r.dryRun ? "would write" : "wrote";
  const lines = [`keel export ${r.target} into ${r.out}${r.dryRun ? " (dry run: nothing written)" : ""}`];
  for (const f of r.files)
    lines.push(`  ${paint(io, "green", verb)}  ${f.file}${paint(io, "dim", ` ← ${f.from ?? ""}`)}`);
  for (const k of r.kept) lines.push(`  ${paint(io, "dim", "skipped")}  ${k.file}: ${k.reason}`);
  if (r.losses.length > 0) {
    lines.push(`${r.target} cannot hold:`);
    for (const l of r.losses) lines.push(`  ${paint(io, "yellow", "lost")}  ${l.file}: ${l.message}`);
  }
  lines.push(
    `${r.counts.specs} specs · ${r.counts.requirements} requirements · ${r.counts.principles} principles`,
  );
  io.out(lines.join("\n"));
}

export default command;
