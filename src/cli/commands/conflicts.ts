// `keel conflicts`: the open conflict records — from `keel change apply` (an overlapping edit) and from the git
// merge driver — each with its base and both versions in --json.
// @req CHG-5
import { type ConflictRecord, type ConflictStatus, listConflicts } from "../../core/changes/conflicts.js";
import { closeSettledMergeConflicts } from "../../core/changes/driver.js";
import { StateDb } from "../../store/state-db.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { paint, printJson } from "../output.js";

const USAGE = "keel conflicts [--all] [--change <id>] [--json]";

const FLAGS = {
  all: { type: "boolean", help: "resolved, applied and superseded conflicts too (default: open ones)" },
  change: { type: "string", value: "id", help: "only this change's conflicts", complete: "change" },
} as const satisfies Flags;
const ALL: ConflictStatus[] = ["open", "resolved", "applied", "superseded"];

const command: Command = {
  name: "conflicts",
  summary: "open conflicts: overlapping edits refused by apply or found by git merge",
  usage: USAGE,
  flags: FLAGS,
  run({ io, global, argv }) {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("conflicts takes no arguments", `usage: ${USAGE}`);
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const state = StateDb.open(project.root);
    let conflicts: ConflictRecord[];
    let closed: string[];
    try {
      const actor = resolveActor(loadConfig(project), { cwd: project.root });
      closed = closeSettledMergeConflicts(project.root, state, actorLabel(actor), actor.kind);
      conflicts = listConflicts(state, {
        status: values.all ? ALL : ["open"],
        ...(values.change ? { change: values.change } : {}),
      });
    } finally {
      state.close();
    }
    if (global.json) {
      printJson(io, { version: 1, conflicts, closed });
      return EXIT.ok;
    }
    if (conflicts.length === 0) io.out(values.all ? "no conflicts recorded" : "no open conflicts");
    for (const c of conflicts) {
      const from = c.change === "git-merge" ? "git merge" : `change ${c.change}`;
      const status = c.status === "open" ? paint(io, "red", "open") : c.status;
      io.out(
        `${paint(io, "bold", c.id)}  ${status}  ${c.capability}: ${c.requirement}  ${paint(io, "dim", `(${from}, ${c.createdAt})`)}` +
          (c.resolvedBy ? `  resolved by ${c.resolvedBy}` : ""),
      );
    }
    if (conflicts.some((c) => c.status === "open" && c.change !== "git-merge")) {
      io.out(
        paint(
          io,
          "dim",
          "resolve: keel change resolve <change> --requirement <ID> --take ours|theirs (or --file merged.md)",
        ),
      );
    }
    if (closed.length > 0)
      io.out(paint(io, "dim", `closed ${closed.length} git-merge conflict(s) whose markers are gone`));
    return EXIT.ok;
  },
};

export default command;
