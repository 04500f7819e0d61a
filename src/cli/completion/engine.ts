// What to offer at the cursor of a `keel` command line: commands, subcommands, flags, a flag's values, or an
// argument's values — all read from the grammar the commands' parsers use (cli/command.ts). The shell scripts
// (scripts.ts) pass the words typed so far; the answer's first line says what kind of answer follows.
// @req CLI-5
import type { Command, Completion, Flag, Flags, Grammar } from "../command.js";
import type { commandTable } from "../dispatch.js";

/** A candidate and the line that explains it (shells that show descriptions show it). */
export interface Candidate {
  value: string;
  help: string;
}

export type Answer =
  | { kind: "values"; candidates: Candidate[] }
  /** Let the shell complete file or folder names. */
  | { kind: "file" | "dir" };

/** Values the project's index knows (task keys, requirement and change IDs, capabilities, agents). */
export type ValueSource = (
  kind: Exclude<Completion, readonly string[] | "file" | "dir" | "text">,
) => Promise<string[]>;

type Table = ReturnType<typeof commandTable>;

const GLOBAL_FLAGS: Flags = {
  json: { type: "boolean", help: "machine-readable output" },
  root: {
    type: "string",
    short: "C",
    value: "dir",
    help: "project folder, or a spec root's name",
    complete: "root",
  },
  help: { type: "boolean", short: "h", help: "help for keel or for a command" },
};

interface Position {
  command: Command | null;
  form: Grammar | null;
  /** The subcommand's name, once typed. */
  sub: string | null;
  /** Positional arguments of the form typed so far. */
  args: number;
  /** The flag whose value the cursor is at. */
  valueOf: Flag | null;
  /** `--` was typed: only arguments from here. */
  ended: boolean;
}

function flagNamed(word: string, flags: Flags): Flag | undefined {
  if (word.startsWith("--")) return flags[word.slice(2)];
  if (/^-[A-Za-z]$/.test(word)) return Object.values(flags).find((f) => f.short === word.slice(1));
  return undefined;
}

/** Walks the complete words (all but the one at the cursor) the way the dispatcher and the parsers read them. */
async function locate(words: string[], table: Table): Promise<Position> {
  const at: Position = { command: null, form: null, sub: null, args: 0, valueOf: null, ended: false };
  for (const word of words) {
    if (at.valueOf) {
      at.valueOf = null;
      continue;
    }
    if (word === "--" && !at.ended) {
      at.ended = true;
      continue;
    }
    if (word.startsWith("-") && word.length > 1 && !at.ended) {
      const flag = flagNamed(word, { ...GLOBAL_FLAGS, ...(at.form?.flags ?? {}) });
      if (flag?.type === "string" && !word.includes("=")) at.valueOf = flag;
      continue;
    }
    if (at.command === null) {
      const entry = table.find((c) => c.name === word);
      if (!entry) return at;
      at.command = (await entry.load()).default;
      at.form = at.command;
    } else if (at.sub === null && at.args === 0 && at.command.subcommands?.[word]) {
      at.sub = word;
      at.form = at.command.subcommands[word] as Grammar;
    } else at.args++;
  }
  return at;
}

function matching(candidates: Candidate[], typed: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(typed));
}

async function valuesOf(
  complete: Completion | undefined,
  typed: string,
  source: ValueSource,
): Promise<Answer> {
  if (complete === undefined || complete === "text") return { kind: "values", candidates: [] };
  if (complete === "file" || complete === "dir") return { kind: complete };
  const values = typeof complete === "string" ? await source(complete).catch(() => []) : [...complete];
  // `-C`/`--root` names a spec root where the project declares some, else a folder.
  if (complete === "root" && values.length === 0) return { kind: "dir" };
  return {
    kind: "values",
    candidates: matching(
      [...new Set(values)].sort().map((value) => ({ value, help: "" })),
      typed,
    ),
  };
}

function flagCandidates(flags: Flags, typed: string): Candidate[] {
  const all = Object.entries({ ...flags, ...GLOBAL_FLAGS }).map(([name, f]) => ({
    value: `--${name}`,
    help: f.help,
  }));
  return matching(all, typed);
}

/** The answer for the word at the cursor, `typed`, after the complete `words` (the command line after `keel`). */
export async function complete(
  words: string[],
  typed: string,
  table: Table,
  source: ValueSource,
): Promise<Answer> {
  const at = await locate(words, table);
  if (at.valueOf) return valuesOf(at.valueOf.complete, typed, source);
  const inline = /^(--[^=]+)=(.*)$/.exec(typed);
  if (inline && !at.ended) {
    const flag = flagNamed(inline[1] as string, { ...GLOBAL_FLAGS, ...(at.form?.flags ?? {}) });
    const answer = await valuesOf(flag?.complete, inline[2] as string, source);
    if (answer.kind !== "values") return answer;
    const prefix = `${inline[1]}=`;
    return { kind: "values", candidates: answer.candidates.map((c) => ({ ...c, value: prefix + c.value })) };
  }
  if (typed.startsWith("-") && !at.ended)
    return { kind: "values", candidates: flagCandidates(at.form?.flags ?? {}, typed) };
  if (at.command === null) {
    const commands = table.filter((c) => !c.hidden).map((c) => ({ value: c.name, help: c.summary }));
    return { kind: "values", candidates: matching(commands, typed) };
  }
  const form = at.form as Grammar;
  const subs = at.sub === null && at.args === 0 ? Object.entries(at.command.subcommands ?? {}) : [];
  const args = form.args ?? [];
  const arg = args.length === 0 ? undefined : args[Math.min(at.args, args.length - 1)];
  // A command that runs both bare and with subcommands (`keel trace <ID>`, `keel trace scan`) offers both.
  const answer = await valuesOf(arg, typed, source);
  if (subs.length === 0 || answer.kind !== "values") return answer;
  const subCandidates = matching(
    subs.map(([value, g]) => ({ value, help: g.summary })),
    typed,
  );
  return { kind: "values", candidates: [...subCandidates, ...answer.candidates] };
}

/** The answer as the scripts read it: a first line `:values`, `:file` or `:dir`, then `value<TAB>help` lines. */
export function answerText(answer: Answer): string {
  if (answer.kind !== "values") return `:${answer.kind}\n`;
  return (
    [":values", ...answer.candidates.map((c) => (c.help ? `${c.value}\t${c.help}` : c.value))].join("\n") +
    "\n"
  );
}
