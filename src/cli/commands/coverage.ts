// `keel coverage`: per capability, the share of approved requirements implemented, tested and verified with
// fresh evidence — as a Markdown table ready for a pull-request comment, or as JSON.
import { coverageAnswer } from "../../core/api/trace-queries.js";
import { coverageMarkdown } from "../../core/trace/coverage-table.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type Command, parseFlags } from "../command.js";
import { printJson } from "../output.js";

const USAGE = "keel coverage [--json]";

const command: Command = {
  name: "coverage",
  summary: "per capability: approved requirements implemented, tested, verified",
  usage: USAGE,
  flags: {},
  async run({ io, global, argv }): Promise<ExitCode> {
    const { positionals } = parseFlags(argv, {}, USAGE);
    if (positionals.length > 0) throw usageError("coverage takes no arguments", `usage: ${USAGE}`);
    const answer = await coverageAnswer(global.root ?? global.cwd, global.root !== null);
    if (global.json) printJson(io, answer);
    else io.out(coverageMarkdown(answer.capabilities, answer.requirements));
    return EXIT.ok;
  },
};

export default command;
