// The contract every command module implements. Commands are loaded lazily so a trivial command stays cheap.
// A command declares its grammar (subcommands, flags with their help, what each argument names) beside its code:
// the parser, `--help` and shell completion all read that one declaration, so they cannot disagree.
// @req CLI-1
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { ExitCode } from "../workspace/errors.js";
import { usageError } from "../workspace/errors.js";
import type { Io } from "./output.js";

/** What an argument or a flag's value names, for shell completion; a list is the values it takes. */
export type Completion =
  /** Free text: nothing to offer. */
  | "text"
  /** A spec root's name (keel.yaml `roots:`) or a folder. */
  | "root"
  | "task"
  | "requirement"
  | "change"
  | "capability"
  | "agent"
  | "file"
  | "dir"
  | readonly string[];

type OptionConfig = NonNullable<ParseArgsConfig["options"]>[string];

export interface Flag extends OptionConfig {
  /** One line for `--help`. */
  help: string;
  /** The value's name in help (`--why <text>`); string flags only. */
  value?: string;
  complete?: Completion;
}

export type Flags = Record<string, Flag>;

/** A parser's options: a command's flags, or an ad-hoc set. */
export type Options = NonNullable<ParseArgsConfig["options"]>;

export interface GlobalFlags {
  json: boolean;
  root: string | null;
  /** `--root NAME` naming one of keel.yaml's `roots:`: the spec root read commands keep to (spec-roots.ts). */
  scope: string | null;
  cwd: string;
}

export interface CommandContext {
  io: Io;
  global: GlobalFlags;
  /** Arguments after the command name (global flags already removed). */
  argv: string[];
}

/** One form of a command: the command itself, or one of its subcommands. */
export interface Grammar {
  summary: string;
  /** The synopsis, from `keel`: `keel change new <name> [--why <text>] …`. */
  usage: string;
  flags: Flags;
  /** What each positional argument names, in order; the last one repeats. */
  args?: readonly Completion[];
}

export interface Command extends Grammar {
  name: string;
  /** Subcommands by name; the command's own flags then apply to none of them. */
  subcommands?: Record<string, Grammar>;
  run(ctx: CommandContext): Promise<ExitCode> | ExitCode;
}

/** Parses a command's own flags; an unknown flag or missing value is a usage error (exit 2). */
export function parseFlags<T extends Options>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw usageError((e as Error).message.split("\n")[0] as string, `usage: ${usage}`);
  }
}
