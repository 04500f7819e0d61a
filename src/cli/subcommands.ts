// A command's subcommands: each one a grammar (cli/command.ts) with the code that runs it, given the arguments
// after its name, so that each parses with its own flags and refuses the others'.
import { type ExitCode, usageError } from "../workspace/errors.js";
import type { CommandContext, Grammar } from "./command.js";

/** A subcommand: its grammar, and what it does with the arguments after its name. */
export interface Subcommand extends Grammar {
  run(ctx: CommandContext, argv: string[]): Promise<ExitCode> | ExitCode;
}

/**
 * Every form's synopsis, one a line (the command's own first, when it runs without a subcommand too): the hint when
 * no subcommand, or an unknown one, is named.
 */
export function synopses(subcommands: Record<string, Grammar>, own?: string): string {
  const usages = Object.values(subcommands).map((s) => s.usage);
  return `usage: ${(own === undefined ? usages : [own, ...usages]).join("\n       ")}`;
}

/** The subcommand of this name, if the command has one (never a property every object inherits). */
export function subcommandNamed<S extends Grammar>(
  subcommands: Record<string, S>,
  name: string | undefined,
): S | undefined {
  return name !== undefined && Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
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
  const sub = subcommandNamed(subcommands, name);
  if (!sub) throw usageError(`unknown ${command} subcommand "${name}"`, synopses(subcommands));
  return sub.run(ctx, rest);
}
