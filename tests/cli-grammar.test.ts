// The CLI's grammar, help and parsers agree: for every command and subcommand, `--help` (the built CLI) lists exactly
// the flags the form declares, its usage names them and only them, and the real parser accepts each one. `--` ends
// option parsing, for global flags too. This test is the check CLI-3 asks for.
// @req CLI-3
// @verifies CLI-1, CLI-2, CLI-3, CLI-4
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Command, Grammar } from "../src/cli/command.js";
import { commandTable, runCommandLine } from "../src/cli/dispatch.js";
import type { Io } from "../src/cli/output.js";
import { jsonOut, keel } from "./support/cli.js";
import { writeFiles } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";

interface Form {
  path: string[];
  grammar: Grammar;
}

let root: string;
let forms: Form[];
let commands: Command[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "keel-grammar-"));
  writeFiles(root, {
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
  });
  commands = await Promise.all(commandTable().map(async (c) => (await c.load()).default));
  forms = commands.flatMap((c) => [
    { path: [c.name], grammar: c },
    ...Object.entries(c.subcommands ?? {}).map(([sub, grammar]) => ({ path: [c.name, sub], grammar })),
  ]);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Flag names in a synopsis: `--why`, `-n, --limit` → why, limit. */
function flagsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => m[1] as string);
}

/** Runs the command line in this process, as the binary would, capturing its output. */
async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const io: Io = { out: (s) => (out += `${s}\n`), err: (s) => (err += `${s}\n`), color: false };
  const code = await runCommandLine(argv, io, root);
  return { code, out, err };
}

describe("every command's help is its parser's grammar", () => {
  it("every command declares a grammar with a summary and a usage naming it", () => {
    expect(commands.length).toBe(commandTable().length);
    for (const { path, grammar } of forms) {
      expect(grammar.summary, path.join(" ")).not.toBe("");
      expect(grammar.usage.startsWith(`keel ${path.join(" ")}`), `${path.join(" ")}: ${grammar.usage}`).toBe(
        true,
      );
      for (const [name, flag] of Object.entries(grammar.flags)) {
        expect(flag.help, `${path.join(" ")} --${name}`).not.toBe("");
      }
    }
  });

  it("the usage of every form names exactly its flags (and the global --json)", () => {
    for (const { path, grammar } of forms) {
      if (grammar.usage.includes("<subcommand>")) continue;
      const named = new Set(flagsIn(grammar.usage));
      for (const global of ["json", "root", "help"]) named.delete(global);
      expect([...named].sort(), `usage of keel ${path.join(" ")}`).toEqual(Object.keys(grammar.flags).sort());
    }
  });

  it("`--help` of every form lists exactly the declared flags", async () => {
    for (const { path, grammar } of forms) {
      const r = await run([...path, "--help"]);
      expect(r.code, path.join(" ")).toBe(0);
      expect(r.out).toContain(`usage: ${grammar.usage}`);
      const options = r.out.split("\noptions:\n")[1]?.split("\n\n")[0] ?? "";
      const listed = options === "" ? [] : options.split("\n").map((l) => flagsIn(l)[0]);
      expect(listed.sort(), `keel ${path.join(" ")} --help`).toEqual(Object.keys(grammar.flags).sort());
    }
  });

  it("the real parser of every form accepts each flag its help lists, and refuses one it does not", async () => {
    for (const { path, grammar } of forms) {
      for (const [name, flag] of Object.entries(grammar.flags)) {
        const value = flag.type === "string" ? [`--${name}=x`] : [`--${name}`];
        // The unknown flag after it stops the parser before the command does anything.
        const r = await run([...path, ...value, "--zz-not-a-flag"]);
        expect(r.code, `${path.join(" ")} --${name}: ${r.err}`).toBe(2);
        expect(r.err, `${path.join(" ")} --${name}`).toContain("--zz-not-a-flag");
      }
    }
  });

  it("`keel help` shows each command's own summary (kept in the command table so help loads no command)", () => {
    for (const [i, c] of commandTable().entries()) expect(c.summary, c.name).toBe(commands[i]?.summary);
  });

  it("a command's summary in `keel help` names each of its subcommands", () => {
    const help = keel(root, "help").stdout;
    for (const c of commands) {
      const line = help.split("\n").find((l) => l.startsWith(`  ${c.name} `)) ?? "";
      if (commandTable().find((t) => t.name === c.name)?.hidden) continue;
      for (const sub of Object.keys(c.subcommands ?? {})) expect(line, `keel help: ${c.name}`).toContain(sub);
    }
  });

  it("`keel help change new` and `keel change new -h` print the subcommand's help", () => {
    const a = keel(root, "help", "change", "new");
    const b = keel(root, "change", "new", "-h");
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).toMatch(/^keel change new — /);
    expect(a.stdout).toContain("--why <text>");
    expect(keel(root, "change", "--help").stdout).toMatch(/subcommands:\n(.*\n)*\s+approve\s/);
  });
});

describe("-- ends option parsing", () => {
  it("a global flag after -- is an argument, not the flag", () => {
    const noted = keel(root, "tasks", "note", "payments/1.1", "--", "--json");
    expect(noted.code, noted.stderr).toBe(0);
    expect(noted.stdout).toBe("noted on payments/1.1\n");
    const json = jsonOut(keel(root, "--json", "tasks", "note", "payments/1.1", "--", "-C", "elsewhere"));
    expect(json.ok ?? true).toBe(true);
  });

  it("a command's own flag after -- is an argument too", () => {
    const r = keel(root, "show", "--", "--strict");
    expect(r.stderr).toContain('no requirement, spec or change "--strict"');
    expect(r.stderr).not.toMatch(/Unknown option/);
  });
});
