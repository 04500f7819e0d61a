import { type SpecBlame, specBlame } from "../../core/history/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { padCell, widestOf } from "../table.js";

const USAGE = "keel blame <capability | spec file> [--json]";

const command: Command = {
  name: "blame",
  summary: "who introduced each requirement of a spec as it reads now",
  usage: USAGE,
  flags: {},
  args: ["capability"],
  run({ io, global, argv }) {
    const { positionals } = parseFlags(argv, {}, USAGE);
    const target = positionals[0];
    if (target === undefined || positionals.length > 1) {
      throw usageError("blame takes exactly one spec (a capability or a spec file)", `usage: ${USAGE}`);
    }
    const b = specBlame(global.root ?? global.cwd, target, global.root !== null);
    if (global.json) printJson(io, { version: 1, ...b });
    else io.out(render(io, b));
    return EXIT.ok;
  },
};

function render(io: Io, b: SpecBlame): string {
  const out = [`${paint(io, "bold", b.capability)}  ${b.file}`];
  if (b.requirements.length === 0) out.push("", "no requirements");
  const idWidth = widestOf(b.requirements.map((r) => r.id));
  for (const r of b.requirements) {
    const where = r.introduced.commit
      ? r.introduced.commit.sha.slice(0, 10)
      : r.introduced.source === "working-tree"
        ? "uncommitted"
        : `event ${r.introduced.event?.seq ?? "?"}`;
    const tail = [
      r.change ? `change ${r.change}` : null,
      r.at ?? null,
      `v${r.introduced.version}/${r.versions}`,
    ].filter(Boolean);
    out.push(
      `${paint(io, "dim", where.padEnd(11))} ${padCell(r.id, idWidth)}  ${padCell(r.actor ?? "unknown", 20)}  ${paint(io, "dim", tail.join(" · "))}  ${paint(io, "dim", `:${r.line}`)}`,
    );
    if (r.why) out.push(`${" ".repeat(12)}${paint(io, "dim", `why: ${r.why}`)}`);
  }
  return out.join("\n");
}

export default command;
