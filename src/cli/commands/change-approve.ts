// `keel change approve <id>`: dispatched by `keel change` (commands/change.ts).
// @req CHG-7
import { approveChange } from "../../core/approve.js";
import { resolveActor } from "../../workspace/actor.js";
import { EXIT, type ExitCode, usageError } from "../../workspace/errors.js";
import { type CommandContext, parseFlags } from "../command.js";
import { paint, printJson } from "../output.js";
import { APPROVE_USAGE, openChange, REASONED_FLAGS } from "./change.js";

export async function approve(ctx: CommandContext, argv: string[]): Promise<ExitCode> {
  const { values, positionals } = parseFlags(argv, REASONED_FLAGS, APPROVE_USAGE);
  const id = positionals[0];
  if (id === undefined || positionals.length > 1) {
    throw usageError("approve takes exactly one change ID", `usage: ${APPROVE_USAGE}`);
  }
  const { io, global } = ctx;
  const { project, config } = await openChange(ctx, id);
  const actor = resolveActor(config, {
    flag: values.as,
    tool: values.tool,
    model: values.model,
    cwd: project.root,
  });
  const result = approveChange(project, config, actor, id, values.reason ?? null);
  if (global.json) printJson(io, { version: 1, ok: true, ...result });
  else {
    const n = result.approvals.length;
    io.out(
      `${paint(io, "green", "approved")} ${result.change} by ${result.approvals[n - 1]?.by} ` +
        `(${n} approval${n === 1 ? "" : "s"}; was ${result.previousStatus})  ${paint(io, "dim", `rule ${result.rule} · audit event ${result.event}`)}`,
    );
  }
  return EXIT.ok;
}
