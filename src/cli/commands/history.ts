import {
  type RequirementHistory,
  type RequirementVersion,
  requirementHistory,
} from "../../core/history/index.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { withProgress } from "../progress.js";

const USAGE = "keel history <requirement-id> [--no-diff] [--json]";

const FLAGS = {
  "no-diff": { type: "boolean", help: "leave out each version's diff (default: shown)" },
} as const satisfies Flags;

const command: Command = {
  name: "history",
  summary: "every version of a requirement: who, when, why, diff",
  usage: USAGE,
  flags: FLAGS,
  args: ["requirement"],
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    const id = positionals[0];
    if (id === undefined || positionals.length > 1) {
      throw usageError("history takes exactly one requirement ID", `usage: ${USAGE}`);
    }
    const h = withProgress(io, global.json, "history: commits read", (onProgress) =>
      requirementHistory(global.root ?? global.cwd, id, global.root !== null, { onProgress }),
    );
    if (values["no-diff"]) for (const v of h.versions) v.diff = null;
    if (global.json) printJson(io, { version: 1, ...h });
    else io.out(render(io, h));
    return EXIT.ok;
  },
};

function when(v: RequirementVersion): string {
  if (v.at) return v.at;
  return v.source === "working-tree" ? "uncommitted" : "unknown time";
}

function who(v: RequirementVersion): string {
  const extra = [v.tool, v.model].filter(Boolean).join(", ");
  return `${v.actor ?? "unknown"}${extra ? ` (${extra})` : ""}`;
}

function colourDiff(io: Io, diff: string): string {
  return diff
    .split("\n")
    .map((l) =>
      l.startsWith("@@")
        ? paint(io, "cyan", l)
        : l.startsWith("+")
          ? paint(io, "green", l)
          : l.startsWith("-")
            ? paint(io, "red", l)
            : l,
    )
    .map((l) => `    ${l}`)
    .join("\n");
}

function render(io: Io, h: RequirementHistory): string {
  const out = [
    `${paint(io, "bold", h.id)}  ${h.file}${h.current ? "" : paint(io, "yellow", "  (no longer in the living spec)")}`,
  ];
  if (h.aliases.length > 0) out.push(paint(io, "dim", `  earlier IDs: ${h.aliases.join(", ")}`));
  if (!h.git)
    out.push(paint(io, "dim", "  not a git repository: versions come from the audit log and the files"));
  if (h.versions.length === 0) out.push("", "no versions found");
  for (const v of h.versions) {
    const where = v.commit
      ? `commit ${v.commit.sha.slice(0, 10)}`
      : v.source === "working-tree"
        ? "working tree"
        : `audit event ${v.event?.seq}`;
    out.push(
      "",
      `${paint(io, "bold", `v${v.version}`)}  ${v.kind}  ${when(v)}  ${who(v)}  ${paint(io, "dim", where)}`,
    );
    const facts: string[] = [];
    if (v.change) facts.push(`change ${v.change}`);
    if (v.basis) facts.push(v.basis);
    if (v.status) facts.push(`status ${v.status}`);
    if (v.fingerprint) facts.push(`fingerprint ${v.fingerprint}`);
    if (v.title && v.kind === "renamed") facts.push(`title "${v.title}"`);
    if (facts.length > 0) out.push(`  ${paint(io, "dim", facts.join(" · "))}`);
    if (v.why) out.push(`  why: ${v.why}`);
    if (v.diff) out.push(colourDiff(io, v.diff));
    else if (v.diff === null && v.kind !== "removed" && !v.block)
      out.push(paint(io, "dim", "    (text not recorded)"));
  }
  return out.join("\n");
}

export default command;
