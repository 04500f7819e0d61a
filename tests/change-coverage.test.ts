// A change's tasks that name no `covers` cover, by default, what the change's delta specs ADD or MODIFY (and
// RENAMED requirements by their new name; never what it REMOVES): through the real CLI, `keel analyze` no longer
// lists them as tasks without a requirement, and `keel context` packs those delta requirements (text, scenarios,
// fingerprints) and says the coverage is the change's. A task that writes `covers` keeps exactly those. Checked
// on a small OpenSpec project, on the example project (Keel layout) and on the real OpenSpec corpus.
// @verifies TSK-4, TSK-11, TSK-12
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { OPENSPEC_CORPUS as CORPUS, hasOpenSpecCorpus, REPO } from "./format-support.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const HAVE_CORPUS = hasOpenSpecCorpus("change-coverage");

const project = tempProjects("keel-change-coverage-");

const LIVING = `# Auth

## Purpose
Sign-in and sessions for every user of the workspace, from the login form to the end of a session.

## Requirements

### Requirement: Login
The system SHALL let a user log in with a password.

#### Scenario: Good password
- **WHEN** a user logs in with the right password
- **THEN** a session starts

### Requirement: Logout
The system SHALL let a user log out.

#### Scenario: Logout
- **WHEN** a user logs out
- **THEN** the session ends

### Requirement: Session timeout
The system SHALL end a session after 30 minutes without activity.

#### Scenario: Idle
- **WHEN** a session is idle for 30 minutes
- **THEN** it ends
`;

const DELTA = `## ADDED Requirements

### Requirement: Two-factor login
The system SHALL ask for a one-time code after the password.

#### Scenario: Code asked
- **WHEN** a user with two-factor enabled enters the right password
- **THEN** the system asks for a one-time code

## MODIFIED Requirements

### Requirement: Login
The system SHALL let a user log in with a password and, when enabled, a one-time code.

#### Scenario: Good password and code
- **WHEN** a user logs in with the right password and code
- **THEN** a session starts

## REMOVED Requirements

### Requirement: Logout
**Reason**: sessions end on their own.

## RENAMED Requirements

- FROM: \`### Requirement: Session timeout\`
- TO: \`### Requirement: Idle timeout\`
`;

const TASKS = `## 1. Two-factor

- [ ] 1.1 Store the TOTP secret on the user record
- [ ] 1.2 Ask for the code after the password
  - [ ] 1.2.1 Rate-limit wrong codes

## 2. Cleanup

- [ ] 2.1 Drop the logout endpoint
  - covers: auth/logout
`;

function openspecProject(): string {
  return project({
    "openspec/specs/auth/spec.md": LIVING,
    "openspec/changes/add-2fa/proposal.md":
      "## Why\nPasswords alone are not enough for accountants.\n\n## What Changes\n- Add two-factor login.\n",
    "openspec/changes/add-2fa/specs/auth/spec.md": DELTA,
    "openspec/changes/add-2fa/tasks.md": TASKS,
  });
}

interface Section {
  kind: string;
  ref: string;
  fingerprint?: string;
  text: string;
}

function pack(root: string, key: string) {
  const out = jsonOut(keel(root, "context", key, "--json"));
  const requirements = (out.sections as Section[]).filter((s) => s.kind === "requirement");
  return { out, requirements };
}

/** The requirement blocks of the given `## <OP> Requirements` sections of a delta spec: title → its text. */
function deltaBlocks(text: string, ops: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const section of text.split(/^(?=## )/m)) {
    const op = /^## (\w+) Requirements/.exec(section)?.[1];
    if (!op || !ops.includes(op)) continue;
    for (const block of section.split(/^(?=### Requirement:)/m).slice(1))
      out.set(((/^### Requirement:\s*(.+?)\s*$/m.exec(block) as RegExpExecArray)[1] as string).trim(), block);
  }
  return out;
}

/** Titles RENAMED to, from `- TO: \`### Requirement: X\`` lines. */
function renamedTo(text: string): string[] {
  return [...text.matchAll(/^\s*-?\s*TO:\s*`?###\s*Requirement:\s*(.+?)`?\s*$/gm)].map((m) => m[1] as string);
}

/** The title of a packed requirement, from its `### <id>: <title>` line. */
function packedTitle(s: Section): string {
  return /^### [^\n]*?: (.+)$/m.exec(s.text)?.[1] as string;
}

// @verifies LAY-9, LAY-2
describe("a change's tasks without covers cover the change's deltas", () => {
  const root = openspecProject();

  it("keel analyze lists none of them as without a requirement; a written covers is kept", () => {
    const out = jsonOut(keel(root, "analyze", "--json"));
    const findings = out.findings as Finding[];
    expect(findings.filter((f) => f.rule === "analyze/task-without-requirement")).toEqual([]);
    expect(out.summary.tasks).toBe((TASKS.match(/^\s*- \[ \]/gm) ?? []).length);
    // The ADDED requirement has tasks (by default), so it is no gap either.
    expect(findings.filter((f) => f.rule === "analyze/requirement-without-task")).toEqual([]);
  });

  it("keel context packs the ADDED and MODIFIED requirements and the RENAMED one, never the REMOVED", () => {
    const { out, requirements } = pack(root, "add-2fa/1.1");
    expect(out.coveredByDefault).toBe("add-2fa");
    const blocks = deltaBlocks(DELTA, ["ADDED", "MODIFIED"]);
    const expected = [...blocks.keys(), ...renamedTo(DELTA)];
    expect(expected).toEqual(["Two-factor login", "Login", "Idle timeout"]);
    expect(requirements.map(packedTitle)).toEqual(expected);
    expect(requirements.map((s) => s.ref)).toEqual([
      "auth/two-factor-login",
      "auth/login",
      "auth/idle-timeout",
    ]);
    // The delta's own text and scenarios, not the living ones.
    for (const [i, title] of [...blocks.keys()].entries()) {
      const block = blocks.get(title) as string;
      const text = (requirements[i] as Section).text;
      expect(text).toContain((/^The system SHALL.*$/m.exec(block) as RegExpExecArray)[0]);
      for (const step of block.match(/^- \*\*(?:WHEN|THEN)\*\*.*$/gm) ?? []) expect(text).toContain(step);
    }
    expect(requirements.some((s) => s.text.includes("log out"))).toBe(false);
    // Fingerprints: the modified Login is not the living one; the renamed requirement keeps the living text.
    const living = new Map<string, string>(
      (
        jsonOut(keel(root, "list", "requirements", "--json")).requirements as Array<{
          id: string;
          fingerprint: string;
        }>
      ).map((r) => [r.id, r.fingerprint]),
    );
    const fp = new Map(requirements.map((s) => [s.ref, s.fingerprint]));
    expect(fp.get("auth/login")).toMatch(/^[0-9a-f]{16}$/);
    expect(fp.get("auth/login")).not.toBe(living.get("auth/login"));
    expect(fp.get("auth/idle-timeout")).toBe(living.get("auth/session-timeout"));
    expect(requirements[2]?.text).toContain("RENAMED by change add-2fa from auth/session-timeout");
  });

  it("says so in the Markdown pack, for subtasks too", () => {
    for (const key of ["add-2fa/1.1", "add-2fa/1.2.1"]) {
      const r = keel(root, "context", key);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain(
        "- by default: the task names no `covers`, so it covers what change add-2fa adds, modifies or renames",
      );
      expect(r.stdout).not.toContain("covers no requirement");
    }
  });

  it("a task that writes covers keeps exactly those", () => {
    const { out, requirements } = pack(root, "add-2fa/2.1");
    expect(out.coveredByDefault).toBeNull();
    expect(requirements.map((s) => s.ref)).toEqual(["auth/logout"]);
    expect(keel(root, "context", "add-2fa/2.1").stdout).not.toContain("by default");
  });

  it("a change that adds or modifies nothing: its tasks still cover no requirement, and say why", () => {
    const bare = project({
      "openspec/specs/auth/spec.md": LIVING,
      "openspec/changes/tidy/proposal.md":
        "## Why\nTidy the code base before the next feature.\n\n## What Changes\n- Tidy.\n",
      "openspec/changes/tidy/tasks.md": "- [ ] 1.1 Rename the session module\n",
    });
    const findings = jsonOut(keel(bare, "analyze", "--json")).findings as Finding[];
    expect(
      findings.filter((f) => f.rule === "analyze/task-without-requirement").map((f) => f.target),
    ).toEqual(["tidy/1.1"]);
    expect(keel(bare, "context", "tidy/1.1").stdout).toContain(
      "- none: the task names no `covers`, and change tidy adds, modifies or renames no requirement",
    );
  });
});

describe("the example project (Keel layout)", () => {
  it("the disputes tasks cover what their change adds and modifies, not the requirement it removes", () => {
    const root = project({});
    cpSync(join(REPO, "examples", "acme-invoicing"), root, { recursive: true });
    const dir = "keel/changes/add-invoice-disputes";
    const deltas = readdirSync(join(root, dir, "specs"))
      .sort()
      .map((c) => readFileSync(join(root, dir, "specs", c, "spec.md"), "utf8"));
    const ids = (ops: string[]) =>
      deltas.flatMap((d) =>
        [...deltaBlocks(d, ops).keys()].map((t) => /\{#([^}]+)\}/.exec(t)?.[1] as string),
      );
    const covered = ids(["ADDED", "MODIFIED"]);
    expect(covered.length).toBeGreaterThan(0);

    const findings = jsonOut(keel(root, "analyze", "--json")).findings as Finding[];
    expect(findings.filter((f) => f.file === `${dir}/tasks.md`)).toEqual([]);
    const withoutTask = findings
      .filter((f) => f.rule === "analyze/requirement-without-task")
      .map((f) => f.target);
    for (const id of covered) expect(withoutTask).not.toContain(id);

    const { out, requirements } = pack(root, "add-invoice-disputes/2.1");
    expect(out.coveredByDefault).toBe("add-invoice-disputes");
    expect(requirements.map((s) => s.ref)).toEqual(covered);
    for (const id of ids(["REMOVED"])) expect(requirements.map((s) => s.ref)).not.toContain(id);
  });
});

describe.skipIf(!HAVE_CORPUS)("the OpenSpec corpus", () => {
  const root = project({});
  if (HAVE_CORPUS) {
    cpSync(join(CORPUS, "openspec", "specs"), join(root, "openspec", "specs"), { recursive: true });
    for (const change of readdirSync(join(CORPUS, "openspec", "changes"), { withFileTypes: true }))
      if (change.isDirectory() && change.name !== "archive")
        cpSync(
          join(CORPUS, "openspec", "changes", change.name),
          join(root, "openspec", "changes", change.name),
          {
            recursive: true,
          },
        );
  }
  const changesDir = join(root, "openspec", "changes");
  const changes = () => readdirSync(changesDir).filter((c) => existsSync(join(changesDir, c, "tasks.md")));
  const deltaTexts = (change: string): string[] =>
    existsSync(join(changesDir, change, "specs"))
      ? readdirSync(join(changesDir, change, "specs"), { recursive: true, encoding: "utf8" })
          .filter((f) => f.endsWith("spec.md"))
          .map((f) => readFileSync(join(changesDir, change, "specs", f), "utf8"))
      : [];

  it("no task of a change with delta requirements is without a requirement (every one was before)", () => {
    const out = jsonOut(keel(root, "analyze", "--json"));
    const checkboxes = (c: string) =>
      (readFileSync(join(changesDir, c, "tasks.md"), "utf8").match(/^\s*[-*] \[[ xX]\]/gm) ?? []).length;
    expect(out.summary.tasks).toBe(changes().reduce((n, c) => n + checkboxes(c), 0));
    const withDeltas = new Set(
      changes().filter((c) =>
        deltaTexts(c).some((t) => deltaBlocks(t, ["ADDED", "MODIFIED"]).size > 0 || renamedTo(t).length > 0),
      ),
    );
    expect(withDeltas.size).toBeGreaterThan(10);
    const flagged = (out.findings as Finding[]).filter((f) => f.rule === "analyze/task-without-requirement");
    for (const f of flagged) expect(withDeltas).not.toContain(f.file.split("/")[2]);
  });

  it("a task's pack holds exactly its change's ADDED, MODIFIED and RENAMED requirements", () => {
    const change = changes().find((c) => c === "add-global-install-scope") ?? (changes()[0] as string);
    const texts = deltaTexts(change);
    const titles = new Set(
      texts.flatMap((t) => [...deltaBlocks(t, ["ADDED", "MODIFIED"]).keys(), ...renamedTo(t)]),
    );
    expect(titles.size).toBeGreaterThan(0);
    const first = /^\s*[-*] \[[ xX]\] (\d+(?:\.\d+)*)/m.exec(
      readFileSync(join(changesDir, change, "tasks.md"), "utf8"),
    );
    const { out, requirements } = pack(root, `${change}/${first?.[1]}`);
    expect(out.coveredByDefault).toBe(change);
    expect(new Set(requirements.map(packedTitle))).toEqual(titles);
    expect(requirements.every((s) => /^[0-9a-f]{16}$/.test(s.fingerprint ?? ""))).toBe(true);
  });
});

// @verifies LAY-9
describe("keel validate agrees with analyze on a change's default covers", () => {
  it("does not call an approved requirement uncovered when an open change's tasks cover it by default", () => {
    const spec = [
      "# Auth",
      "",
      "## Purpose",
      "Sign-in for every user of the workspace.",
      "",
      "## Requirements",
      "",
      "### Requirement: Login {#AUTH-1}",
      "> status: approved · origin: human · explicit",
      "The system SHALL let a user log in with a password.",
      "",
      "#### Scenario: Good password",
      "- **WHEN** a user logs in with the right password",
      "- **THEN** a session starts",
      "",
      "### Requirement: Logout {#AUTH-2}",
      "> status: approved · origin: human · explicit",
      "The system SHALL let a user log out.",
      "",
      "#### Scenario: Logout",
      "- **WHEN** a user logs out",
      "- **THEN** the session ends",
      "",
    ].join("\n");
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/auth/spec.md": spec,
      // The capability's own plan covers AUTH-2 only; AUTH-1 is the open change's work.
      "keel/specs/auth/tasks.md": "- [ ] 1 Logout button\n  - covers: AUTH-2\n",
      "keel/changes/add-2fa/proposal.md":
        "## Why\nPasswords alone are weak.\n\n## What Changes\n- Two-factor login.\n",
      "keel/changes/add-2fa/specs/auth/spec.md": [
        "## MODIFIED Requirements",
        "",
        "### Requirement: Login {#AUTH-1}",
        "The system SHALL let a user log in with a password and a one-time code.",
        "",
        "#### Scenario: Good password and code",
        "- **WHEN** a user logs in with the right password and code",
        "- **THEN** a session starts",
        "",
      ].join("\n"),
      "keel/changes/add-2fa/tasks.md": "- [ ] 1.1 Ask for the code after the password\n",
    });
    const uncovered = (JSON.parse(keel(root, "validate", "--json").stdout).findings as Finding[])
      .filter((f) => f.rule === "tasks/uncovered-requirement")
      .map((f) => f.message);
    expect(uncovered.filter((m) => m.includes("AUTH-1"))).toEqual([]);
    const gaps = jsonOut(keel(root, "analyze", "--json")).findings as Finding[];
    expect(
      gaps.filter((f) => f.rule === "analyze/requirement-without-task" && f.message.includes("AUTH-1")),
    ).toEqual([]);
  });
});
