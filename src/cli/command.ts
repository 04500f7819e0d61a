// The contract every command module implements. Commands are loaded lazily so a trivial command stays cheap.
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { ExitCode } from "../workspace/errors.js";
import { usageError } from "../workspace/errors.js";
import type { Io } from "./output.js";

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

export interface Command {
  name: string;
  summary: string;
  usage: string;
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
