// `keel check`: the single CI command — validation, drift and the latest gate status (core/check.ts).
import { runCheck } from "../../core/check.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { findingLines, parseFailOn, verdictLine } from "../findings.js";
import { printJson } from "../output.js";

const USAGE = "keel check [--fail-on error|warning] [--json]";

const command: Command = {
  name: "check",
  summary: "for CI: validate, drift and the latest gate status in one verdict",
  usage: USAGE,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, { "fail-on": { type: "string" } }, USAGE);
    if (positionals.length > 0) throw usageError("check takes no arguments", `usage: ${USAGE}`);
    const failOn = parseFailOn(values["fail-on"]);
    const report = await runCheck(global.root ?? global.cwd, global.root !== null, failOn);
    if (global.json) printJson(io, report);
    else {
      const s = report.summary;
      const lines = findingLines(io, report.findings);
      if (lines.length > 0) lines.push("");
      lines.push(
        `validate: ${s.validate.errors} errors, ${s.validate.warnings} warnings · drift: ${s.drift.errors} errors, ` +
          `${s.drift.warnings} warnings · gates: ${s.gates.passed} passed, ${s.gates.failed} failed, ${s.gates.missing} not run`,
      );
      lines.push(verdictLine(io, s.total, failOn));
      io.out(lines.join("\n"));
    }
    return report.ok ? EXIT.ok : EXIT.findings;
  },
};

export default command;
