// What the presets share: the short instruction that goes with a prompt given on stdin, the prompt as a command
// line argument (which the kernel caps), and tolerant readers of the JSON the tools print. A tool's output is
// whatever that version prints, possibly cut short by a stopped run: nothing here throws.
// @req RUN-7
import type { AgentPrompt, AgentUsage } from "./types.js";

/**
 * The prompt argument of a tool that reads the task from stdin as well: its piped input is the prompt proper.
 * The agent must not commit: Keel's worker checks the boundaries and gates first, then commits with trailers.
 */
export const STDIN_INSTRUCTION =
  "Do the task described in the Keel prompt given on standard input. Do not commit: Keel commits your work.";

/**
 * Linux caps one argument at 128 KiB (MAX_ARG_STRLEN). A larger prompt goes through its file instead, so a big
 * context pack never fails the launch with E2BIG.
 */
export const MAX_PROMPT_ARGUMENT = 100_000;

/** The prompt as the last argument of a tool that takes it there: the text itself, or a pointer to its file. */
export function promptArgument(req: AgentPrompt): string {
  if (Buffer.byteLength(req.prompt, "utf8") <= MAX_PROMPT_ARGUMENT) return req.prompt;
  return `Read the file ${req.promptFile} and do the task it describes. Do not commit: Keel commits your work.`;
}

/** `[flag, value]` when there is a value, else nothing: for `--model` and the like. */
export function option(flag: string, value: string | null): string[] {
  return value === null ? [] : [flag, value];
}

type Json = Record<string, unknown>;

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The objects of a JSON Lines stream, skipping lines that are not JSON objects (banners, warnings). */
export function jsonLines(stdout: string): Json[] {
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("{"))
    .map(parse)
    .filter(isObject);
}

/** The one JSON object a tool prints at the end (`--output-format json`): the whole output, or its last line. */
export function finalObject(stdout: string): Json | null {
  const whole = parse(stdout.trim());
  if (isObject(whole)) return whole;
  return jsonLines(stdout).at(-1) ?? null;
}

/** A count or an amount: a finite, non-negative number, else null. */
export function amount(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : null;
}

/** The sum of the amounts present; null when none is. */
export function sum(values: unknown[]): number | null {
  const present = values.map(amount).filter((v): v is number => v !== null);
  return present.length === 0 ? null : amount(present.reduce((a, b) => a + b, 0));
}

/** The object at a path of keys, or an empty one: for reading nested fields that may be missing. */
export function at(value: unknown, ...keys: string[]): Json {
  let current: unknown = value;
  for (const key of keys) current = isObject(current) ? current[key] : undefined;
  return isObject(current) ? current : {};
}

/** The usage, or null when the output reported none of it. */
export function reported(usage: AgentUsage): AgentUsage | null {
  return usage.costUsd === null && usage.inputTokens === null && usage.outputTokens === null ? null : usage;
}
