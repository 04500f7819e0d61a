// Running a command's subcommands from their declared grammars: the first argument names the subcommand, which
// parses the rest with its own flags, so a flag that belongs to another subcommand is refused.
import { type ExitCode, usageError } from "../workspace/errors.js";
import type { CommandContext, Grammar } from "./command.js";

/** A subcommand: its grammar, and what it does with the arguments after its name. */
export interface Subcommand extends Grammar {
  run(ctx: CommandContext, argv: string[]): Promise<ExitCode> | ExitCode;
}

/** Every subcommand's synopsis, one a line, as the hint of a usage error. */
export function synopses(subcommands: Record<string, Grammar>): string {
  return `usage: ${Object.values(subcommands)
    .map((s) => s.usage)
    .join("\n       ")}`;
}

/** Runs the subcommand `ctx.argv` names first; none, or an unknown one, is a usage error (exit 2). */
export function runSubcommand(
  command: string,
  subcommands: Record<string, Subcommand>,
  ctx: CommandContext,
): Promise<ExitCode> | ExitCode {
  const [name, ...rest] = ctx.argv;
  // A flag first (`keel boundaries --task 1.1`) is a missing subcommand, not an unknown one.
  if (name === undefined || name.startsWith("-")) {
    throw usageError(`${command} needs a subcommand`, synopses(subcommands));
  }
  const sub = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
  if (!sub) throw usageError(`unknown ${command} subcommand "${name}"`, synopses(subcommands));
  return sub.run(ctx, rest);
}
