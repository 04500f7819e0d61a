// How the CLI behaves towards its terminal and its pipes (docs/cli.md, "Terminal"; keel/specs/terminal):
// a reader that stops early, colour by FORCE_COLOR and NO_COLOR, columns by display width, progress on a TTY.
// Every run is a real child process of the built CLI; the big project gives outputs far larger than a pipe holds.
// @verifies TERM-1, TERM-2, TERM-3, TERM-4, TERM-5
import { spawnSync } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import stringWidth from "string-width";
import { beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/dispatch.js";
import { CLI, cliEnv, keel, keelWith } from "./support/cli.js";
import { layoutFixture, tempProjects } from "./support/files.js";
import { commitAll, gitInit } from "./support/git.js";

const project = tempProjects("keel-terminal-");

/** Specs and tasks enough for outputs of hundreds of kilobytes (a pipe holds 64 KiB). */
function bigProject(): string {
  const files: Record<string, string> = { "keel/keel.yaml": "project: big\n" };
  for (let c = 0; c < 200; c++) {
    const reqs: string[] = [];
    const tasks = ["## 1. Work"];
    for (let r = 1; r <= 8; r++) {
      reqs.push(
        `### Requirement: Thing ${r} of ${c} {#C${c}X-${r}}\nThe system SHALL do thing ${r}.\n\n#### Scenario: S\n- **WHEN** x\n- **THEN** y\n`,
      );
      tasks.push(
        `- [ ] 1.${r} Task ${r} of ${c}\n  - covers: C${c}X-${r}${r > 1 ? `\n  - depends: 1.${r - 1}` : ""}`,
      );
    }
    files[`keel/specs/cap${c}/spec.md`] =
      `# Cap ${c}\n\n## Purpose\nThings the system does.\n\n## Requirements\n\n${reqs.join("\n")}`;
    files[`keel/specs/cap${c}/tasks.md`] = `${tasks.join("\n")}\n`;
  }
  const root = project(files);
  gitInit(root);
  commitAll(root, "the big project");
  return root;
}

/** Servers run until stopped: they have no output to cut short. */
const SKIPPED: Record<string, string> = {
  serve: "an HTTP server: runs until stopped",
  mcp: "an MCP server on stdin/stdout: runs until its client closes stdin",
  "merge-driver": "run by git in a merge, with file arguments; writes files, prints nothing",
};

/** Each command's largest outputs on the big project (`import` runs in a Spec Kit project). */
const LARGEST: Record<string, string[][]> = {
  init: [["init"]],
  validate: [["validate"], ["--json", "validate"]],
  list: [
    ["list", "requirements"],
    ["--json", "list", "requirements"],
  ],
  show: [["--json", "show", "cap0"]],
  search: [["--json", "search", "thing", "--limit", "1000"]],
  status: [["--json", "status"]],
  import: [["--json", "import", "speckit", "--dry-run"]],
  export: [["--json", "export", "speckit", "--dry-run"]],
  change: [["--json", "change", "list", "--all"]],
  conflicts: [["--json", "conflicts", "--all"]],
  history: [["--json", "history", "C0X-1"]],
  blame: [["--json", "blame", "cap0"]],
  tasks: [
    ["tasks", "list"],
    ["--json", "tasks", "list"],
    ["tasks", "graph", "--format", "mermaid"],
    ["tasks", "graph", "--format", "dot"],
    ["--json", "tasks", "ready"],
  ],
  context: [["--json", "context", "cap0/1.1"]],
  trace: [
    ["--json", "trace"],
    ["--json", "trace", "scan"],
  ],
  analyze: [["--json", "analyze"]],
  audit: [
    ["--json", "audit", "log"],
    ["audit", "export"],
  ],
  verify: [["--json", "verify"]],
  boundaries: [["--json", "boundaries", "check", "--task", "cap0/1.1"]],
  check: [["--json", "check"]],
  drift: [["--json", "drift"]],
  coverage: [["--json", "coverage"]],
  run: [["--json", "run", "status"]],
  metrics: [["--json", "metrics"]],
  agents: [["--json", "agents", "list"]],
  daemon: [["--json", "daemon", "status"]],
  token: [["--json", "token", "list"]],
  store: [["--json", "store", "status"]],
  completion: [["completion", "zsh"]],
  __complete: [["__complete", "--", "tasks", "show", ""]],
};

/** The piped run: `keel <args> | head -c 1`, with pipefail so the status is keel's. */
function intoHead(cwd: string, args: string[], extra: NodeJS.ProcessEnv = {}) {
  const quoted = [CLI, ...args].map((a) => `'${a}'`).join(" ");
  const r = spawnSync(
    "bash",
    ["-c", `set -o pipefail; '${process.execPath}' ${quoted} | head -c 1 >/dev/null`],
    {
      cwd,
      encoding: "utf8",
      env: cliEnv(extra),
    },
  );
  return { code: r.status, stderr: r.stderr };
}

/** Output larger than this cannot have been taken whole by the pipe and head before head closed it. */
const SURELY_CUT = 256 * 1024;

let big: string;
let speckit: string;
beforeAll(() => {
  big = bigProject();
  speckit = layoutFixture(project, "speckit");
});

describe("a reader that closes the pipe early", () => {
  it("names every command of the command table: run here, or skipped for a reason", () => {
    for (const name of Object.keys(COMMANDS)) expect(LARGEST[name] ?? SKIPPED[name], name).toBeDefined();
  });

  it("ends every command quietly: nothing on stderr, status 141 once the output was cut", () => {
    let cut = 0;
    for (const [name, runs] of Object.entries(LARGEST)) {
      const cwd = name === "import" ? speckit : big;
      for (const args of runs) {
        const whole = keel(cwd, ...args);
        expect(whole.stderr, `keel ${args.join(" ")} writes nothing to stderr on its own`).toBe("");
        const piped = intoHead(cwd, args);
        const label = `keel ${args.join(" ")} | head -c 1`;
        expect(piped.stderr, label).toBe("");
        if (whole.stdout.length > SURELY_CUT) {
          expect(piped.code, label).toBe(141);
          cut++;
        } else expect([141, whole.code], label).toContain(piped.code);
      }
    }
    // The project is big enough for the test to mean something.
    expect(cut).toBeGreaterThanOrEqual(5);
  }, 300_000);

  it("ends quietly with 141 when the daemon answered, too", () => {
    const root = bigProject();
    expect(keel(root, "daemon", "start").code).toBe(0);
    try {
      const piped = intoHead(root, ["--json", "list", "requirements"]);
      expect(piped).toEqual({ code: 141, stderr: "" });
      const status = keel(root, "--json", "daemon", "status");
      expect(JSON.parse(status.stdout).running).toBe(true);
    } finally {
      keel(root, "daemon", "stop");
    }
  }, 120_000);
});

describe("colour", () => {
  let root: string;
  beforeAll(() => {
    root = project({
      "keel/keel.yaml": "project: colours\n",
      "keel/specs/a/spec.md":
        "# A\n\n## Purpose\nThe colours of the output, checked.\n\n## Requirements\n\n### Requirement: One {#A-1}\nThe system SHALL work.\n\n#### Scenario: S\n- **WHEN** x\n- **THEN** y\n",
    });
  });
  // cliEnv sets NO_COLOR=1 by default; each case says what it wants.
  const coloured = (env: NodeJS.ProcessEnv) => keelWith(env, root, "validate").stdout.includes("\x1b[");

  it("FORCE_COLOR=1 colours piped output (as in CI)", () => {
    expect(coloured({ NO_COLOR: undefined, FORCE_COLOR: "1" })).toBe(true);
    expect(coloured({ NO_COLOR: undefined, FORCE_COLOR: "" })).toBe(true);
  });

  it("NO_COLOR=1 and FORCE_COLOR=0 give none; FORCE_COLOR wins over NO_COLOR", () => {
    expect(coloured({ NO_COLOR: "1" })).toBe(false);
    expect(coloured({ NO_COLOR: undefined, FORCE_COLOR: "0" })).toBe(false);
    expect(coloured({ NO_COLOR: undefined, FORCE_COLOR: "false" })).toBe(false);
    expect(coloured({ NO_COLOR: undefined })).toBe(false); // a pipe is no terminal
    expect(coloured({ NO_COLOR: "1", FORCE_COLOR: "1" })).toBe(true);
  });

  it("the daemon's answers follow the same choice", () => {
    expect(keel(root, "daemon", "start").code).toBe(0);
    try {
      expect(coloured({ NO_COLOR: undefined, FORCE_COLOR: "1" })).toBe(true);
      expect(coloured({ NO_COLOR: "1" })).toBe(false);
      expect(JSON.parse(keel(root, "--json", "daemon", "status").stdout).figures.served).toBeGreaterThan(0);
    } finally {
      keel(root, "daemon", "stop");
    }
  }, 60_000);
});

describe("columns", () => {
  it("line up after CJK and emoji titles, by display width", () => {
    const titles = ["Plain title", "払い戻しは冪等である", "🚀 Launch 🚀", "Ünïcödé wïdth"];
    const reqs = titles.map(
      (t, i) =>
        `### Requirement: ${t} {#W-${i + 1}}\nThe system SHALL work.\n\n#### Scenario: S\n- **WHEN** x\n- **THEN** y\n`,
    );
    const root = project({
      "keel/keel.yaml": "project: widths\n",
      "keel/specs/wide/spec.md": `# Wide\n\n## Purpose\nTitles of every width.\n\n## Requirements\n\n${reqs.join("\n")}`,
    });
    const r = keel(root, "show", "wide");
    expect(r.code).toBe(0);
    const rows = r.stdout.split("\n").filter((l) => /^ {2}W-\d/.test(l));
    expect(rows).toHaveLength(titles.length);
    // The line number after the title starts at one display column on every row.
    const columns = new Set(rows.map((l) => stringWidth(l.slice(0, l.search(/:\d+$/)))));
    expect(columns.size).toBe(1);
    for (const [i, t] of titles.entries()) expect(rows[i]).toContain(t);
  });
});

describe("progress", () => {
  const spec = (c: number) =>
    `# Cap ${c}\n\n## Purpose\nThings the system does.\n\n## Requirements\n\n### Requirement: Thing {#P${c}X-1}\nThe system SHALL do it.\n\n#### Scenario: S\n- **WHEN** x\n- **THEN** y\n`;
  let root: string;
  beforeAll(() => {
    const files: Record<string, string> = { "keel/keel.yaml": "project: progress\n" };
    for (let c = 0; c < 150; c++) files[`keel/specs/cap${c}/spec.md`] = spec(c);
    root = project(files);
  });
  // Shown at once, so that a fast machine shows it too; each run parses every file again (no cache).
  const env = { KEEL_PROGRESS_AFTER_MS: "0", KEEL_NO_DAEMON: "1" };
  /** The CLI on a pseudo-terminal (stdout and stderr both), as python's pty module gives one; its output merged. */
  const underTerminal = (...args: string[]) =>
    spawnSync("python3", ["-c", "import pty,sys; pty.spawn(sys.argv[1:])", process.execPath, CLI, ...args], {
      cwd: root,
      encoding: "utf8",
      env: cliEnv(env),
    });
  const cold = () => rmSync(join(root, ".keel"), { recursive: true, force: true });

  it("is drawn on a terminal, and cleared before the answer", () => {
    cold();
    const r = underTerminal("validate");
    expect(r.status).toBe(0);
    const clear = "\r\u001b[K";
    expect(r.stdout).toContain(`${clear}validate: files parsed`);
    expect(r.stdout).toMatch(/validate: files parsed \d+\/150/);
    // Cleared before the answer: after the last clear comes the answer alone.
    const after = r.stdout.slice(r.stdout.lastIndexOf(clear) + clear.length);
    expect(after).not.toContain("files parsed");
    expect(after).toMatch(/^openspec\/purpose-too-short: 150 warnings in 150 files\r?\n/);
    expect(after).toContain("valid: 0 errors, 150 warnings");
  });

  it("is not shown when stderr is piped, nor under --json", () => {
    cold();
    const piped = keelWith(env, root, "validate");
    expect(piped.code).toBe(0);
    expect(piped.stderr).toBe("");
    cold();
    const r = underTerminal("--json", "validate");
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain("files parsed");
  });
});
