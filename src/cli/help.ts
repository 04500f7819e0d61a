// `keel <command> [<subcommand>] --help`: rendered from the grammar the command's parser uses (cli/command.ts),
// so the options it lists are exactly the ones the command accepts.
// @req CLI-2
import type { Command, Flag, Flags, Grammar } from "./command.js";

const GLOBALS = "global options: --json, -C/--root <dir>, --root <spec root>, -h/--help (see `keel help`)";

/** `--why <text>` or `-n, --limit <n>`, as the flag is written. */
export function flagSynopsis(name: string, flag: Flag): string {
  const long = `--${name}${flag.type === "string" ? ` <${flag.value ?? "value"}>` : ""}`;
  return flag.short ? `-${flag.short}, ${long}` : long;
}

function optionLines(flags: Flags): string[] {
  const rows = Object.entries(flags).map(([name, flag]) => [
    flagSynopsis(name, flag),
    flag.multiple && !flag.help.endsWith("(repeatable)") ? `${flag.help} (repeatable)` : flag.help,
  ]);
  if (rows.length === 0) return [];
  const width = Math.max(...rows.map(([synopsis]) => (synopsis as string).length));
  return [
    "",
    "options:",
    ...rows.map(([synopsis, help]) => `  ${(synopsis as string).padEnd(width)}  ${help}`),
  ];
}

function formHelp(title: string, form: Grammar): string[] {
  return [`${title} — ${form.summary}`, "", `usage: ${form.usage}`, ...optionLines(form.flags)];
}

/** The help of `command`, or of its subcommand `sub` when it has one by that name. */
export function commandHelp(command: Command, sub: string | undefined): string {
  const footer = ["", GLOBALS, `docs: docs/cli.md#${command.name}`];
  const subs = command.subcommands ?? {};
  const form = sub === undefined ? undefined : subs[sub];
  if (form) return [...formHelp(`keel ${command.name} ${sub}`, form), ...footer].join("\n");
  const lines = formHelp(`keel ${command.name}`, command);
  const names = Object.keys(subs);
  if (names.length > 0) {
    const width = Math.max(...names.map((n) => n.length));
    lines.push("", "subcommands:", ...names.map((n) => `  ${n.padEnd(width)}  ${subs[n]?.summary}`));
    lines.push("", `\`keel ${command.name} <subcommand> --help\` shows a subcommand's usage and options`);
  }
  return [...lines, ...footer].join("\n");
}
