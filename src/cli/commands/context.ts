// `keel context <task-id> [--budget N]`: the context pack an agent needs to do one task, within a token budget.
// Markdown by default (to paste into an agent), the sections with their token counts under --json. `--steering`
// names a Kiro steering file (manual or auto inclusion) to add to the pack's guidance. Flagged text reaches the
// pack delivered (core/context/sanitize.ts); the pack's "Untrusted content" section, and `sanitized` under
// --json, say what was done.
// @req TSK-12, TRU-2
import { buildContextPack, DEFAULT_BUDGET } from "../../core/context/index.js";
import { taskLookupError } from "../../core/tasks/lookup.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type Flags, parseFlags } from "../command.js";
import { LIST_TASKS } from "../hints.js";
import { printJson } from "../output.js";

const USAGE = "keel context <task-id> [--budget <tokens>] [--steering <name>]... [--json]";

const FLAGS = {
  budget: {
    type: "string",
    value: "tokens",
    help: `the pack's budget in tokens (default ${DEFAULT_BUDGET})`,
  },
  steering: {
    type: "string",
    multiple: true,
    value: "name",
    help: "a Kiro steering file to add to the pack's guidance (repeatable)",
  },
} as const satisfies Flags;

const command: Command = {
  name: "context",
  summary: "the context pack for one task",
  usage: USAGE,
  flags: FLAGS,
  args: ["task"],
  async run({ io, global, argv }): Promise<ExitCode> {
    const { values, positionals } = parseFlags(argv, FLAGS, USAGE);
    if (positionals.length !== 1)
      throw usageError(
        positionals.length === 0 ? "context needs a task id" : "context takes one task id",
        `usage: ${USAGE}`,
      );
    const raw = values.budget ?? String(DEFAULT_BUDGET);
    if (!/^[1-9][0-9]{0,8}$/.test(raw))
      throw usageError(
        `--budget must be a positive whole number of tokens, got "${raw}"`,
        `e.g. --budget ${DEFAULT_BUDGET} (at most 999999999)`,
      );
    const budget = Number(raw);
    const project = findProjectRoot(global.root ?? global.cwd, global.root !== null);
    const ref = positionals[0] as string;
    const result = await buildContextPack(project.root, ref, budget, { steering: values.steering ?? [] });
    if ("lookup" in result)
      throw taskLookupError(ref, result.lookup, LIST_TASKS, (key) => `\`keel context ${key}\``);
    const pack = result.pack;
    if (pack.totals.overBudget)
      io.err(
        `warning: the pack for ${pack.task} needs ${pack.totals.tokens} tokens, over the budget of ${budget}: the task and its covered requirements are never left out`,
      );
    if (global.json) {
      const { text: _text, ...json } = pack;
      printJson(io, { version: 1, ...json });
      return EXIT.ok;
    }
    io.out(pack.text);
    return EXIT.ok;
  },
};

export default command;
