import { type ImportReport, importLayout } from "../../core/convert/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { IMPORTABLE, type ImportableLayout } from "../../workspace/root.js";
import { type Command, parseFlags } from "../command.js";
import { DRY_RUN_FLAG } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";
import { withProgress } from "../progress.js";

const USAGE = `keel import <${IMPORTABLE.join("|")}> [--dry-run] [--json]`;

// @req LAY-12
const command: Command = {
  name: "import",
  summary: "write a Keel layout from a Spec Kit, Kiro, Task Master or Beads project",
  usage: USAGE,
  flags: DRY_RUN_FLAG,
  args: [IMPORTABLE],
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, DRY_RUN_FLAG, USAGE);
    const [layout, ...extra] = positionals;
    if (layout === undefined) throw usageError("import needs the layout to read", `usage: ${USAGE}`);
    if (!(IMPORTABLE as readonly string[]).includes(layout)) {
      throw usageError(`"${layout}" is not a layout keel import reads`, `usage: ${USAGE}`);
    }
    if (extra.length > 0) throw usageError(`import takes one layout (got "${extra[0]}")`, `usage: ${USAGE}`);
    const report = withProgress(io, global.json, "import: specs converted", (onProgress) =>
      importLayout(global.root ?? global.cwd, layout as ImportableLayout, {
        explicitRoot: global.root !== null,
        dryRun: values["dry-run"] === true,
        onProgress,
      }),
    );
    if (global.json) printJson(io, report);
    else printHuman(io, report);
    return EXIT.ok;
  },
};

function printHuman(io: Io, r: ImportReport): void {
  const verb = r.dryRun ? "would write" : "wrote";
  const lines = [`keel import ${r.layout} in ${r.root}${r.dryRun ? " (dry run: nothing written)" : ""}`];
  for (const f of r.files) {
    const from = f.from ? paint(io, "dim", ` ← ${f.from}`) : "";
    lines.push(
      `  ${paint(io, "green", verb)}  ${f.file}${f.kind === "config" ? "" : ` (${countOf(f.kind, f.count)})`}${from}`,
    );
  }
  for (const k of r.kept) lines.push(`  ${paint(io, "dim", "kept")}  ${k.file}: ${k.reason}`);
  const c = r.counts;
  lines.push(
    `${c.specs} specs · ${c.requirements} requirements · ${c.principles} principles · ${c.tasks} tasks in ${c.taskFiles} files`,
    r.dryRun
      ? "nothing was written (--dry-run)"
      : `the source files are left as they are; keel/keel.yaml lists ${r.layout} under imported:, so Keel now reads keel/'s copy instead (take it off the list to read them again)`,
  );
  io.out(lines.join("\n"));
}

function countOf(kind: string, n: number): string {
  const word = kind === "spec" ? "requirement" : kind === "constitution" ? "principle" : "task";
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export default command;
