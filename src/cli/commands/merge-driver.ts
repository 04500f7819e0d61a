// `keel merge-driver %O %A %B %P` (hidden): the git merge driver for spec files. See core/changes/driver.ts.
// @req CHG-10
import { resolve } from "node:path";
import { runMergeDriver } from "../../core/changes/driver.js";
import { EXIT, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { printJson } from "../output.js";

const USAGE = "keel merge-driver <base %O> <ours %A> <theirs %B> <path %P>   (run by git; see keel init)";

const command: Command = {
  name: "merge-driver",
  summary: "git merge driver for spec files (run by git)",
  usage: USAGE,
  flags: {},
  args: ["file"],
  run({ io, global, argv }) {
    const { positionals } = parseFlags(argv, {}, USAGE);
    if (positionals.length !== 4)
      throw usageError("merge-driver takes 4 arguments: %O %A %B %P", `usage: ${USAGE}`);
    const [base, ours, theirs, path] = positionals as [string, string, string, string];
    const cwd = global.root !== null ? resolve(global.cwd, global.root) : global.cwd;
    const r = runMergeDriver({
      base: resolve(global.cwd, base),
      ours: resolve(global.cwd, ours),
      theirs: resolve(global.cwd, theirs),
      path,
      cwd,
    });
    if (global.json) printJson(io, { version: 1, path, ...r });
    else {
      for (const w of r.warnings) io.err(`keel merge-driver: warning: ${w}`);
      if (r.fallback) io.err(`keel merge-driver: ${path}: merged line by line (${r.fallback})`);
      for (const c of r.conflicts) {
        io.err(
          `keel merge-driver: ${path}: conflict in requirement ${c.requirement} (${c.parts.join(", ")})${c.record ? `; recorded as ${c.record}` : ""}`,
        );
      }
      if (r.otherConflicts > 0)
        io.err(`keel merge-driver: ${path}: ${r.otherConflicts} conflict(s) outside requirements`);
    }
    return r.clean ? EXIT.ok : EXIT.findings;
  },
};

export default command;
