// `keel drift`: where intent and code have come apart (core/trace/drift.ts), as ranked findings.
import { driftAnswer } from "../../core/api/trace-queries.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { findingLines, parseFailOn, verdictLine } from "../findings.js";
import { printJson } from "../output.js";

const USAGE = "keel drift [--fail-on error|warning] [--json]";

const command: Command = {
  name: "drift",
  summary: "where intent and code have come apart: untraced, suspect, dangling, out of bounds, stale",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, { "fail-on": { type: "string" } }, USAGE);
    if (positionals.length > 0) throw usageError("drift takes no arguments", `usage: ${USAGE}`);
    const failOn = parseFailOn(values["fail-on"]);
    const { answer, tally: t } = await driftAnswer(global.root ?? global.cwd, global.root !== null, failOn);
    const findings = answer.findings;
    if (global.json) printJson(io, answer);
    else {
      const lines = findingLines(io, findings);
      if (lines.length > 0) lines.push("");
      lines.push(verdictLine(io, t, failOn));
      io.out(lines.join("\n"));
    }
    return t.ok ? EXIT.ok : EXIT.findings;
  },
};

export default command;
