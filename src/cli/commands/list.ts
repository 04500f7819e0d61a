import { type ListKind, listAnswer } from "../../core/api/queries.js";
import type { ChangeListItem, RequirementListItem, SpecListItem } from "../../core/query/index.js";
import { REQUIREMENT_STATUSES } from "../../model/types.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { scopedRoot } from "../../workspace/spec-roots.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { table } from "../table.js";

const USAGE =
  "keel list [specs|changes|requirements] [--capability <cap>] [--status <status>] [--archived] [--json]";

const KINDS: readonly ListKind[] = ["specs", "changes", "requirements"];
const SPEC_STATUSES: readonly string[] = [...REQUIREMENT_STATUSES, "none"];
const CHANGE_STATUSES: readonly string[] = ["draft", "review", "approved", "applied", "rejected"];

const FLAGS = {
  capability: {
    type: "string",
    value: "cap",
    help: "only this capability's specs, changes or requirements",
    complete: "capability",
  },
  status: {
    type: "string",
    value: "status",
    help: "only those with this status (a requirement's, or a change's)",
    complete: [...new Set([...SPEC_STATUSES, ...CHANGE_STATUSES])],
  },
  archived: { type: "boolean", help: "archived changes too (default: open ones only)" },
} as const satisfies Flags;

// @req QRY-1, QRY-5
const command: Command = {
  name: "list",
  summary: "list specs, changes or requirements",
  usage: USAGE,
  flags: FLAGS,
  args: [KINDS],
  async run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 1) throw usageError("list takes at most one kind", `usage: ${USAGE}`);
    const kind = positionals[0];
    if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) {
      throw usageError(`cannot list "${kind}"`, "list one of: specs, changes, requirements");
    }
    const kinds: ListKind[] = kind ? [kind as ListKind] : ["specs", "changes"];
    const status = values.status;
    if (status !== undefined) {
      const allowed = [...new Set(kinds.flatMap((k) => (k === "changes" ? CHANGE_STATUSES : SPEC_STATUSES)))];
      if (!allowed.includes(status)) {
        throw usageError(`unknown status "${status}"`, `use one of: ${allowed.join(", ")}`);
      }
    }
    if (values.archived && !kinds.includes("changes")) {
      throw usageError("--archived applies to changes", "e.g. keel list changes --archived");
    }
    const capability = values.capability;
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const out = await listAnswer(project, {
      kinds,
      capability,
      status,
      archived: values.archived,
      root: scopedRoot(project, global.scope),
    });
    if (global.json) printJson(io, out);
    else {
      const blocks: string[] = [];
      if (out.specs) blocks.push(specTable(io, out.specs));
      if (out.changes) blocks.push(changeTable(io, out.changes, values.archived ?? false));
      if (out.requirements) blocks.push(requirementTable(io, out.requirements));
      io.out(blocks.join("\n\n"));
    }
    return EXIT.ok;
  },
};

export function deltaSummary(d: ChangeListItem["deltas"]): string {
  return `+${d.added} ~${d.modified} -${d.removed} →${d.renamed}`;
}

function specTable(io: Io, specs: SpecListItem[]): string {
  if (specs.length === 0) return "no specs";
  const reqs = specs.reduce((n, s) => n + s.requirements, 0);
  return `${table(
    io,
    ["CAPABILITY", "REQS", "STATUS", "FILE"],
    specs.map((s) => [
      s.capability,
      String(s.requirements),
      s.problem ? "unreadable" : (s.status ?? "-"),
      s.file,
    ]),
  )}\n${paint(io, "dim", `${specs.length} spec${specs.length === 1 ? "" : "s"}, ${reqs} requirements`)}`;
}

function changeTable(io: Io, changes: ChangeListItem[], archived: boolean): string {
  if (changes.length === 0) return archived ? "no changes" : "no open changes";
  return `${table(
    io,
    ["CHANGE", "STATUS", "TASKS", "DELTAS", "DIR"],
    changes.map((c) => [
      c.id,
      c.archived ? `${c.status} (archived)` : c.status,
      `${c.tasks.done}/${c.tasks.total}`,
      deltaSummary(c.deltas),
      c.dir,
    ]),
  )}\n${paint(io, "dim", `${changes.length} change${changes.length === 1 ? "" : "s"} (deltas: +added ~modified -removed →renamed)`)}`;
}

function requirementTable(io: Io, reqs: RequirementListItem[]): string {
  if (reqs.length === 0) return "no requirements";
  return `${table(
    io,
    ["ID", "STATUS", "ORIGIN", "FINGERPRINT", "LOCATION", "TITLE"],
    reqs.map((r) => [r.id, r.status ?? "-", r.origin ?? "-", r.fingerprint, `${r.file}:${r.line}`, r.title]),
  )}\n${paint(io, "dim", `${reqs.length} requirement${reqs.length === 1 ? "" : "s"}`)}`;
}

export default command;
