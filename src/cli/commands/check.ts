// `keel check`: the single CI command — validation, drift and the latest gate status (core/check.ts).
import { runCheck } from "../../core/check/index.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import {
  baselineLines,
  LISTING_FLAGS,
  LISTING_USAGE,
  listingLines,
  NO_BASELINE_FLAG,
  parseListingFlags,
} from "../finding-report.js";
import { parseFailOn, verdictLine } from "../findings.js";
import { FAIL_ON_FLAG } from "../flags.js";
import { printJson } from "../output.js";

const USAGE = `keel check [--fail-on error|warning] [--no-baseline] ${LISTING_USAGE} [--json]`;

const FLAGS = {
  ...FAIL_ON_FLAG,
  ...NO_BASELINE_FLAG,
  ...LISTING_FLAGS,
} as const satisfies Flags;

const command: Command = {
  name: "check",
  summary: "for CI: validate, drift and the latest gate status in one verdict",
  usage: USAGE,
  flags: FLAGS,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("check takes no arguments", `usage: ${USAGE}`);
    const failOn = parseFailOn(values["fail-on"]);
    const listing = parseListingFlags(values);
    const report = await runCheck(
      global.root ?? global.cwd,
      global.root !== null,
      failOn,
      !values["no-baseline"],
    );
    if (global.json) printJson(io, report);
    else {
      const s = report.summary;
      const lines = listingLines(
        io,
        report.findings.filter((f) => !f.baselined),
        listing,
      );
      if (lines.length > 0) lines.push("");
      lines.push(...baselineLines(report.baseline));
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
