// Bad input, end to end through the real CLI (dist/keel.mjs): each case gets a clear error at its position,
// the documented exit code, no stack trace, and no write to the project (the tree outside .keel/, the index,
// is byte-identical before and after).
// @verifies VAL-19
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { writeFiles } from "./support/files.js";

const CLI = join(import.meta.dirname, "..", "dist", "keel.mjs");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function keel(cwd: string, ...args: string[]): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  delete env.KEEL_DEBUG;
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every path outside `.keel/` with its type, mode and content hash (links by target, never followed). */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (r === ".keel") continue;
      const abs = join(dir, name);
      const st = lstatSync(abs);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link ${readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${mode}`;
        walk(abs, r);
      } else {
        let digest: string;
        try {
          digest = createHash("sha256").update(readFileSync(abs)).digest("hex");
        } catch (e) {
          digest = `unreadable ${(e as NodeJS.ErrnoException).code}`;
        }
        out[r] = `file ${mode} ${st.size} ${digest}`;
      }
    }
  };
  walk(root, "");
  return out;
}

/** No "    at fn (file:line:col)" lines: errors are reported, never thrown at the user. */
function expectNoStack(run: Run): void {
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr + run.stdout).not.toContain("internal error");
}

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-bad-input-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const AUTH = `# Auth Specification

## Purpose
Lets registered customers sign in with a password and keeps their sessions bounded in time.

## Requirements

### Requirement: Password sign-in {#AUTH-1}
The system SHALL create a session when a customer submits a correct email and password.

#### Scenario: Correct password
- **WHEN** a registered customer submits their correct password
- **THEN** a session is created
`;

let counter = 0;
/** A clean one-spec project, plus `files` (text or bytes). */
function project(files: Record<string, string | Buffer> = {}): string {
  const root = join(tmp, `p${++counter}`);
  const all: Record<string, string | Buffer> = {
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/auth/spec.md": AUTH,
    ...files,
  };
  writeFiles(root, all);
  return root;
}

/**
 * Runs `keel validate` (JSON, then human, in the compiler-style `--format compact` whose lines name each finding's
 * file, line and column) and checks the invariants every bad input shares: the expected exit
 * code, no stack trace, and an untouched tree. Returns the JSON findings and the human output.
 */
function validate(
  root: string,
  expectedCode: number,
  ...args: string[]
): { findings: Finding[]; human: Run; json: Run } {
  const before = snapshot(root);
  const json = keel(root, "validate", "--json", ...args);
  const human = keel(root, "validate", "--format", "compact", ...args);
  for (const run of [json, human]) {
    expect(run.code, run.stdout + run.stderr).toBe(expectedCode);
    expectNoStack(run);
  }
  expect(snapshot(root)).toEqual(before);
  const parsed = JSON.parse(json.stdout) as { findings?: Finding[] };
  return { findings: parsed.findings ?? [], human, json };
}

/** The human line for a finding: `file:line:col: severity: message [rule]`. */
function humanLine(f: Pick<Finding, "file" | "line" | "col" | "severity" | "rule">): RegExp {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  return new RegExp(`^${esc(f.file)}:${f.line}:${f.col}: ${f.severity}: .+ \\[${esc(f.rule)}\\]$`, "m");
}

/** Whether chmod 000 stops this process from reading a file (it does not for root, e.g. in CI containers). */
function chmodPreventsReading(): boolean {
  const probe = join(tmp, "chmod-probe");
  writeFileSync(probe, "x");
  chmodSync(probe, 0);
  try {
    readFileSync(probe);
    return false;
  } catch {
    return true;
  } finally {
    chmodSync(probe, 0o644);
    rmSync(probe);
  }
}

describe("unreadable files", () => {
  it("reports a spec that cannot be read, at the file", () => {
    const root = project();
    const spec = join(root, "keel/specs/auth/spec.md");
    if (chmodPreventsReading()) {
      chmodSync(spec, 0);
      try {
        const { findings } = validate(root, 1);
        expect(findings).toEqual([
          expect.objectContaining({
            rule: "input/unreadable",
            file: "keel/specs/auth/spec.md",
            line: 1,
            col: 1,
          }),
        ]);
        expect(findings[0]?.message).toContain("EACCES");
      } finally {
        chmodSync(spec, 0o644);
      }
    } else {
      // Running as root: chmod 000 does not stop reads, so make the path unreadable another way — a folder
      // where the spec file belongs. It must be reported, not silently skipped.
      rmSync(spec);
      mkdirSync(spec);
      writeFileSync(join(spec, "notes.txt"), "not a spec\n");
      const { findings, human } = validate(root, 1);
      expect(findings).toEqual([
        expect.objectContaining({
          rule: "input/unreadable",
          file: "keel/specs/auth/spec.md",
          line: 1,
          col: 1,
        }),
      ]);
      expect(findings[0]?.message).toBe("cannot read file: it is a folder");
      expect(human.stdout).toMatch(humanLine(findings[0] as Finding));
    }
  });

  it("reports a spec that is a dangling symbolic link", () => {
    const root = project({ "keel/specs/billing/.keep": "" });
    symlinkSync("gone.md", join(root, "keel/specs/billing/spec.md"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "input/unreadable",
        file: "keel/specs/billing/spec.md",
        line: 1,
        col: 1,
        message: "broken symbolic link (ENOENT)",
      }),
    ]);
  });

  it("reports a constitution that is a folder", () => {
    const root = project();
    mkdirSync(join(root, "keel/constitution.md"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/unreadable", file: "keel/constitution.md" }),
    ]);
  });

  it("stops with exit 3 when keel.yaml cannot be read", () => {
    const root = project();
    const config = join(root, "keel/keel.yaml");
    rmSync(config);
    mkdirSync(config); // unreadable as a file whoever runs the test
    const before = snapshot(root);
    const run = keel(root, "validate");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: keel\/keel\.yaml:1:1: cannot read keel\/keel\.yaml \(EISDIR\)\n {2}hint: /,
    );
    expectNoStack(run);
    expect(snapshot(root)).toEqual(before);
  });
});

describe("invalid YAML front matter", () => {
  it("is reported at the line and column of the YAML error", () => {
    const spec = `---\ntitle: Auth\nstatus: draft: bad\n---\n${AUTH}`;
    const root = project({ "keel/specs/auth/spec.md": spec });
    const { findings, human } = validate(root, 1);
    const fm = findings.filter((f) => f.rule === "format/front-matter");
    expect(fm).toHaveLength(1);
    // Line 3 of the file is `status: draft: bad`; the YAML parser stops at the second colon's value, column 9.
    expect(fm[0]).toMatchObject({ file: "keel/specs/auth/spec.md", line: 3, col: 9, severity: "error" });
    expect(fm[0]?.message).toMatch(/^invalid YAML front matter: /);
    expect(human.stdout).toMatch(humanLine(fm[0] as Finding));
  });

  it("reports a duplicate key at the line of the second one", () => {
    const spec = `---\ntitle: Auth\nowners: [id-team]\ntitle: Again\n---\n${AUTH}`;
    const root = project({ "keel/specs/auth/spec.md": spec });
    const { findings } = validate(root, 1);
    const fm = findings.filter((f) => f.rule === "format/front-matter");
    expect(fm.map((f) => [f.line, f.col])).toEqual([[4, 1]]);
  });

  it("still validates the rest of the spec", () => {
    const spec = `---\nstatus: [draft\n---\n${AUTH.replace("SHALL create", "creates")}`;
    const root = project({ "keel/specs/auth/spec.md": spec });
    const { findings } = validate(root, 1);
    expect(findings.map((f) => f.rule)).toContain("format/front-matter");
    expect(findings.map((f) => f.rule)).toContain("openspec/requirement-no-shall");
  });
});

describe("invalid UTF-8", () => {
  it("is reported at its line and column (in characters)", () => {
    const lines = AUTH.split("\n");
    // Line 9 is the requirement text; put a lone 0xFF byte after "café " at its start.
    const before = Buffer.from(`${lines.slice(0, 8).join("\n")}\ncafé `, "utf8");
    const after = Buffer.from(`${lines[8]}\n${lines.slice(9).join("\n")}`, "utf8");
    const root = project({ "keel/specs/auth/spec.md": Buffer.concat([before, Buffer.from([0xff]), after]) });
    const { findings, human } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "input/invalid-utf8",
        file: "keel/specs/auth/spec.md",
        line: 9,
        col: 6,
      }),
    ]);
    expect(findings[0]?.message).toBe(`invalid UTF-8 at byte ${before.length}`);
    expect(human.stdout).toMatch(humanLine(findings[0] as Finding));
  });

  it("in keel.yaml stops with exit 3 and the position", () => {
    const root = project({ "keel/keel.yaml": Buffer.from("version: 1\nproject: caf\xe9\n", "latin1") });
    const run = keel(root, "validate", "--json");
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: false,
      error: { message: "invalid UTF-8 at byte 23", location: { file: "keel/keel.yaml", line: 2, col: 13 } },
    });
    expectNoStack(keel(root, "validate"));
  });
});

describe("a 50 MB spec", () => {
  it("is refused with a size message", () => {
    const block = "### Requirement: Filler\nThe system SHALL hold this line.\n\n";
    const size = 50 * 1024 * 1024;
    const text = `# Big\n\n## Purpose\nA spec far larger than any written by hand.\n\n## Requirements\n\n${block.repeat(Math.ceil(size / block.length))}`;
    const root = project({ "keel/specs/big/spec.md": Buffer.from(text).subarray(0, size) });
    const { findings, json } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "input/too-large",
        file: "keel/specs/big/spec.md",
        line: 1,
        col: 1,
        message: "file is 50.0 MB; the limit is 8 MB",
      }),
    ]);
    // The rest of the project is still validated.
    expect(JSON.parse(json.stdout).items).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: "auth", valid: true })]),
    );
  });
});

// @verifies VAL-2
describe("a file with headings only", () => {
  it("gets the structural errors, each at its heading", () => {
    const root = project({
      "keel/specs/empty/spec.md":
        "# Empty\n## Purpose\n## Requirements\n### Requirement: Nothing\n#### Scenario: Nothing either\n",
    });
    const { findings, human } = validate(root, 1);
    const at = findings.map((f) => [f.rule, f.line, f.col]);
    expect(at).toEqual([
      ["openspec/spec-missing-purpose", 2, 1],
      ["openspec/requirement-missing-text", 4, 1],
      ["openspec/requirement-no-scenario", 4, 1],
    ]);
    for (const f of findings) expect(human.stdout).toMatch(humanLine(f));
  });

  it("handles a spec made of one heading line without a newline", () => {
    const root = project({ "keel/specs/title/spec.md": "# Title only" });
    const { findings } = validate(root, 1);
    expect(findings.map((f) => f.rule)).toEqual(
      expect.arrayContaining(["openspec/spec-missing-purpose", "openspec/spec-missing-requirements"]),
    );
    for (const f of findings) expect(f).toMatchObject({ file: "keel/specs/title/spec.md", line: 1, col: 1 });
  });
});

describe("binary files in specs/", () => {
  it("reports a spec.md with NUL bytes at the first NUL", () => {
    const root = project({ "keel/specs/bin/spec.md": Buffer.from("# Binary\nab\u0000cd\n", "utf8") });
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/binary", file: "keel/specs/bin/spec.md", line: 2, col: 3 }),
    ]);
  });

  it("reports a PNG saved as spec.md", () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");
    const root = project({ "keel/specs/logo/spec.md": png });
    const { findings } = validate(root, 1);
    // The PNG signature holds two line feeds before its first NUL byte.
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/binary", file: "keel/specs/logo/spec.md", line: 3, col: 1 }),
    ]);
  });

  it("ignores a PNG next to a spec, silently", () => {
    const png = Buffer.from("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489", "hex");
    const root = project({ "keel/specs/auth/diagram.png": png, "keel/specs/logo.png": png });
    const { findings, human } = validate(root, 0, "--strict");
    expect(findings).toEqual([]);
    expect(human.stdout).toBe("valid: 0 errors, 0 warnings, 0 info in 1 spec (1 requirements), 0 changes\n");
    expect(human.stderr).toBe("");
  });
});

describe("symbolic link loops", () => {
  it("reports a folder link to its own parent once, and reads nothing twice", () => {
    const root = project();
    symlinkSync("..", join(root, "keel/specs/auth/loop"));
    const { findings, json } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/symlink-loop", file: "keel/specs/auth/loop", line: 1, col: 1 }),
    ]);
    expect(JSON.parse(json.stdout).items.map((i: { id: string }) => i.id)).toEqual(["auth"]);
  });

  it("reports a link to the project root from the changes folder", () => {
    const root = project({ "keel/changes/.keep": "" });
    symlinkSync("../..", join(root, "keel/changes/back"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/symlink-loop", file: "keel/changes/back" }),
    ]);
  });

  it("reports a link that points at itself", () => {
    const root = project();
    symlinkSync("self", join(root, "keel/specs/self"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({
        rule: "input/symlink-loop",
        file: "keel/specs/self",
        message: "symbolic link loop",
      }),
    ]);
  });
});

describe("paths that escape the project", () => {
  let outside: string;
  beforeAll(() => {
    // A spec outside the project that would fail validation if it were read.
    outside = join(tmp, "outside");
    mkdirSync(join(outside, "specs/ext"), { recursive: true });
    writeFileSync(join(outside, "specs/ext/spec.md"), AUTH.replace("SHALL create", "creates [[NOWHERE-1]]"));
    writeFileSync(join(outside, "constitution.md"), Buffer.from([0x23, 0x20, 0xff, 0x0a]));
    writeFileSync(join(outside, "keel.yaml"), "version: 1\nvalidate:\n  strict: true\n");
  });

  it("reports a folder link that leaves the project and does not follow it", () => {
    const root = project();
    symlinkSync(join(outside, "specs/ext"), join(root, "keel/specs/ext"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/outside-project", file: "keel/specs/ext", line: 1, col: 1 }),
    ]);
  });

  it("reports a spec.md link that leaves the project", () => {
    const root = project({ "keel/specs/pay/.keep": "" });
    symlinkSync(join(outside, "specs/ext/spec.md"), join(root, "keel/specs/pay/spec.md"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/outside-project", file: "keel/specs/pay/spec.md" }),
    ]);
  });

  it("reports a specs/ folder that is a link out of the project", () => {
    const root = project();
    rmSync(join(root, "keel/specs"), { recursive: true });
    symlinkSync(join(outside, "specs"), join(root, "keel/specs"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/outside-project", file: "keel/specs" }),
    ]);
  });

  it("reports a constitution that is a link out of the project", () => {
    const root = project();
    symlinkSync(join(outside, "constitution.md"), join(root, "keel/constitution.md"));
    const { findings } = validate(root, 1);
    expect(findings).toEqual([
      expect.objectContaining({ rule: "input/outside-project", file: "keel/constitution.md" }),
    ]);
  });

  it("refuses a keel.yaml that is a link out of the project (exit 3)", () => {
    const root = project();
    rmSync(join(root, "keel/keel.yaml"));
    symlinkSync(join(outside, "keel.yaml"), join(root, "keel/keel.yaml"));
    const run = keel(root, "validate");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: keel\/keel\.yaml:1:1: keel\/keel\.yaml is a symbolic link out of the project/,
    );
    expectNoStack(run);
  });

  it.each([["../.."], [".."], ["/"], ["keel/../.."]])("refuses the path argument %s (exit 2)", (arg) => {
    const root = project();
    const before = snapshot(root);
    const run = keel(root, "validate", arg);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: path .+ is outside the project\n {2}hint: /);
    expectNoStack(run);
    expect(snapshot(root)).toEqual(before);
  });

  it("refuses a path argument that is a link out of the project (exit 2)", () => {
    const root = project();
    symlinkSync(outside, join(root, "elsewhere"));
    const run = keel(root, "validate", "elsewhere/specs");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: path elsewhere\/specs is outside the project/);
  });
});
