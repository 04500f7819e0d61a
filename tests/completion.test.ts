// `keel completion bash|zsh|fish`, exercised in the real shells through their completion machinery: bash calls the
// function `complete -p keel` names with the COMP_* variables it would set; zsh is driven through a pseudo-terminal
// (zpty), typing a TAB, with compadd reporting what the completion system offered; fish answers `complete -C`.
// Expected names come from the project itself (`keel list`, `keel tasks list`), not from the completion code.
// @verifies CLI-5
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, jsonOut, keel } from "./support/cli.js";
import { writeFiles } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";

const has = (shell: string) => spawnSync("sh", ["-c", `command -v ${shell}`]).status === 0;
const HAS = { bash: has("bash"), zsh: has("zsh"), fish: has("fish") };
for (const [shell, ok] of Object.entries(HAS)) {
  if (!ok)
    console.warn(`${shell} completion tests skipped: ${shell} is not installed (apt-get install ${shell})`);
}

let root: string;
let bin: string;
let requirements: string[];
let tasks: string[];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "keel-completion-"));
  writeFiles(root, {
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
    "notes-for-review.md": "a file to complete\n",
  });
  expect(keel(root, "change", "new", "add-refunds", "--why", "refunds").code).toBe(0);
  bin = join(root, ".bin");
  writeFiles(bin, { keel: `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n` });
  chmodSync(join(bin, "keel"), 0o755);
  requirements = jsonOut(keel(root, "--json", "list", "requirements")).requirements.map(
    (r: { id: string }) => r.id,
  );
  tasks = jsonOut(keel(root, "--json", "tasks", "list")).tasks.map((t: { key: string }) => t.key);
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

function shellEnv(): NodeJS.ProcessEnv {
  return cliEnv({ PATH: `${bin}:${process.env.PATH}`, HOME: root, XDG_CONFIG_HOME: join(root, ".config") });
}

function script(shell: string): string {
  const r = keel(root, "completion", shell);
  expect(r.code, r.stderr).toBe(0);
  const file = join(root, `keel.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

function lines(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/\r$/, ""))
    .filter((l) => l !== "");
}

/** What bash's completion offers for `line` (cursor at its end). */
function bash(line: string): string[] {
  const file = script("bash");
  // COMP_WORDS as bash splits them: at blanks, and around each of COMP_WORDBREAKS' `=` and `:`.
  const driver = `
source ${JSON.stringify(file)}
fn=$(complete -p keel | sed -n 's/.*-F \\([^ ]*\\) keel$/\\1/p')
COMP_LINE=$1; COMP_POINT=\${#COMP_LINE}
read -r -a COMP_WORDS <<< "$(printf '%s' "$COMP_LINE" | sed 's/\\([=:]\\)/ \\1 /g')"
[[ $COMP_LINE == *[[:blank:]] ]] && COMP_WORDS+=("")
COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))
"$fn" keel "\${COMP_WORDS[COMP_CWORD]}" "\${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync("bash", ["-c", driver, "driver", line], {
    cwd: root,
    env: shellEnv(),
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return lines(r.stdout);
}

function zsh(line: string): string[] {
  const dir = join(root, ".zfunc");
  writeFiles(dir, { _keel: keel(root, "completion", "zsh").stdout });
  const capture = join(root, "capture.zsh");
  // The inner shell is interactive, on a pty; its compadd reports each match the completion system adds. The markers
  // are printed joined from two halves so that the echo of the typed command never matches them.
  writeFileSync(
    capture,
    `zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; fpath=(${dir} \\$fpath); autoload -Uz compinit; compinit -u -d ${root}/.zcompdump"
zpty -w z "bindkey '^I' complete-word"
zpty -w z 'compadd() { if (( \${@[(I)-[ODA]]} )); then builtin compadd "$@"; return; fi; local -a hits; builtin compadd -A hits "$@"; print -rl -- "<""hit>"\${^hits}; builtin compadd "$@"; }'
zpty -w z '_keel_done() { print -r -- "<""done>"; exit }; comppostfuncs=(_keel_done)'
zpty -w z "$1"$'\\t'
local out
while zpty -r z out; do
  [[ $out == *'<done>'* ]] && break
  [[ $out == *'<hit>'* ]] && print -r -- "\${\${out##*<hit>}%%$'\\r'}"
done
zpty -d z
`,
  );
  const r = spawnSync("zsh", ["-f", capture, line], {
    cwd: root,
    env: shellEnv(),
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return lines(r.stdout);
}

function fish(line: string): string[] {
  const file = script("fish");
  const r = spawnSync("fish", ["--no-config", "-c", `source ${file}; complete -C${JSON.stringify(line)}`], {
    cwd: root,
    env: shellEnv(),
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return lines(r.stdout).map((l) => l.split("\t")[0] as string);
}

const SHELLS = { bash, zsh, fish } as const;

describe.each(Object.keys(SHELLS) as (keyof typeof SHELLS)[])("%s completion", (shell) => {
  const complete = SHELLS[shell];
  it.skipIf(!HAS[shell])("completes commands, subcommands and flags from the grammar", () => {
    expect(complete("keel cha")).toEqual(["change"]);
    expect(complete("keel change ap").sort()).toEqual(["apply", "approve"]);
    expect(complete("keel change new --ca")).toEqual(["--capability"]);
    expect(complete("keel change resolve --take ").sort()).toEqual(["ours", "theirs"]);
    expect(complete("keel completion ").sort()).toEqual(["bash", "fish", "zsh"]);
  });

  it.skipIf(!HAS[shell])(
    "completes task keys, requirement IDs and change IDs from the project's index",
    () => {
      expect(requirements.length).toBeGreaterThan(1);
      expect(complete("keel change new --modify PAY").sort()).toEqual(
        requirements.filter((r) => r.startsWith("PAY")).sort(),
      );
      expect(complete("keel tasks show pay").sort()).toEqual(tasks.filter((t) => t.startsWith("pay")).sort());
      expect(complete("keel change apply add-")).toEqual(["add-refunds"]);
    },
  );

  it.skipIf(!HAS[shell])("offers no flags after --, and file names where a flag takes a file", () => {
    expect(complete("keel change new -- --ca")).toEqual([]);
    expect(complete("keel change resolve --file notes-")).toEqual(["notes-for-review.md"]);
  });
});

describe("spec roots", () => {
  it.skipIf(!HAS.fish)(
    "--root completes the project's spec roots, and -C a folder where it declares none",
    () => {
      writeFiles(root, {
        "services/payments/keel/specs/billing/spec.md": PAYMENTS_SPEC.replaceAll("PAY-", "BIL-"),
        "apps/web/keel/specs/web/spec.md": PAYMENTS_SPEC.replaceAll("PAY-", "WEB-"),
        "keel/keel.yaml": "version: 1\nroots:\n  payments: services/payments\n  web: apps/web\n",
      });
      try {
        expect(fish("keel --root ").sort()).toEqual(["payments", "web"]);
        expect(fish("keel list --root pay")).toEqual(["payments"]);
      } finally {
        for (const made of ["keel/keel.yaml", "services", "apps"])
          rmSync(join(root, made), { recursive: true });
      }
      expect(fish("keel -C notes")).toEqual([]);
      expect(fish("keel -C .bi")).toEqual([".bin/"]);
    },
  );
});

describe("bash word breaks", () => {
  it.skipIf(!HAS.bash)("a value after = completes within bash's own word", () => {
    expect(bash("keel change resolve --take=th")).toEqual(["theirs"]);
  });
});

describe("keel completion", () => {
  it("refuses an unknown shell with a usage error", () => {
    const r = keel(root, "completion", "tcsh");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no completion for "tcsh"');
  });
});
