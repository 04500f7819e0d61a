// `keel drift`: where intent and code have come apart (core/trace/drift.ts), as ranked findings, judged against
// the project's drift baseline (core/trace/drift-baseline.ts); `--baseline` writes that baseline.
import { driftAnswer } from "../../core/api/trace-queries.js";
import { BASELINE_FILE, readBaseline, writeBaseline } from "../../core/trace/drift-baseline.js";
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

const USAGE = `keel drift [--fail-on error|warning] [--baseline | --no-baseline] ${LISTING_USAGE} [--json]`;

const FLAGS = {
  ...FAIL_ON_FLAG,
  baseline: {
    type: "boolean",
    help: "write keel/drift-baseline.json: today's findings, so that only new ones fail from now on",
  },
  ...NO_BASELINE_FLAG,
  ...LISTING_FLAGS,
} as const satisfies Flags;

const command: Command = {
  name: "drift",
  summary: "where intent and code have come apart: untraced, suspect, dangling, out of bounds, stale",
  usage: USAGE,
  flags: FLAGS,
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length > 0) throw usageError("drift takes no arguments", `usage: ${USAGE}`);
    if (values.baseline && values["no-baseline"])
      throw usageError("--baseline and --no-baseline cannot be used together", `usage: ${USAGE}`);
    const failOn = parseFailOn(values["fail-on"]);
    const listing = parseListingFlags(values);
    const start = global.root ?? global.cwd;
    if (values.baseline) {
      const { answer, root } = await driftAnswer(start, global.root !== null, failOn);
      // Read first: a baseline that cannot be read is refused before anything replaces it.
      const before = readBaseline(root);
      const entries = writeBaseline(root, answer.findings);
      const written = { file: BASELINE_FILE, findings: answer.findings.length, fingerprints: entries.length };
      if (global.json) printJson(io, { version: 1, ok: true, ...written });
      else {
        const was = before === null ? "" : ` (it held ${before.reduce((n, e) => n + e.count, 0)})`;
        io.out(
          `wrote ${BASELINE_FILE}: ${written.findings} finding${written.findings === 1 ? "" : "s"}${was}; commit it with the project`,
        );
      }
      return EXIT.ok;
    }
    const {
      answer,
      tally: t,
      fresh,
    } = await driftAnswer(start, global.root !== null, failOn, !values["no-baseline"]);
    if (global.json) printJson(io, answer);
    else {
      const lines = listingLines(io, fresh, listing);
      if (lines.length > 0) lines.push("");
      lines.push(...baselineLines(answer.baseline ?? null));
      lines.push(verdictLine(io, t, failOn));
      io.out(lines.join("\n"));
    }
    return t.ok ? EXIT.ok : EXIT.findings;
  },
};

export default command;
