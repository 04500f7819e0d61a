// Requirement-like headings the layout's rules do not read (a living spec of `## ADDED Requirements` blocks, a
// `### Requirement:` outside `## Requirements`, a stray heading under it, a delta's requirement outside every
// delta section): `keel analyze` reports each at its line and fails, never "ok … over 0 requirements", and
// `keel status` counts them and names the first. Through the real CLI; expected lines found in the fixture
// text, and checked against `keel validate`, which explains each.
// @verifies TSK-11, QRY-4
import { cpSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { OPENSPEC_CORPUS as CORPUS, hasOpenSpecCorpus } from "./format-support.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const HAVE_CORPUS = hasOpenSpecCorpus("unread-headings");

const project = tempProjects("keel-unread-");
const RULE = "analyze/unread-heading";

/** 1-based numbers of the lines of `text` matching `re`, outside fenced code. */
function linesMatching(text: string, re: RegExp): number[] {
  const out: number[] = [];
  let fenced = false;
  text.split("\n").forEach((l, i) => {
    if (/^\s{0,3}(```|~~~)/.test(l)) fenced = !fenced;
    else if (!fenced && re.test(l)) out.push(i + 1);
  });
  return out;
}

const ADDED_ONLY = `# Auth

## Purpose
Sign-in and sessions for every user of the workspace, from the login form to the end of a session.

## ADDED Requirements

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
`;

// @verifies LAY-10, LAY-2
describe("a living spec that holds only `## ADDED Requirements` blocks", () => {
  const file = "openspec/specs/auth/spec.md";
  const root = project({ [file]: ADDED_ONLY });
  const expected = linesMatching(ADDED_ONLY, /^### Requirement:/);

  it("keel analyze reports each heading at its line, as an error, and fails", () => {
    const run = keel(root, "analyze", "--json");
    expect(run.code).toBe(1);
    const out = jsonOut(run);
    expect(out.summary.requirements).toBe(0);
    expect(out.summary.categories["unread-headings"]).toBe(expected.length);
    const unread = (out.findings as Finding[]).filter((f) => f.rule === RULE);
    expect(unread.map((f) => [f.file, f.line, f.severity])).toEqual(expected.map((l) => [file, l, "error"]));
    expect(unread[0]?.message).toBe(
      '"### Requirement: Login" could not be read: `## ADDED Requirements` is a change\'s delta header, not read in a living spec; requirements are read under `## Requirements`',
    );
    expect(unread[0]?.hint).toContain("keel validate");
  });

  it("keel analyze's text never says ok over 0 requirements", () => {
    const run = keel(root, "analyze");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.at(-1)).toMatch(/^failed \(--fail-on error\): 2 errors, /);
    expect(run.stdout).not.toMatch(/^ok\b/m);
    expect(lines.at(-2)).toContain(`unread headings: ${expected.length}`);
    for (const l of expected) expect(run.stdout).toContain(`${file}:${l}:1: error: "### Requirement:`);
  });

  it("keel status counts them and names the first, which keel validate explains", () => {
    const status = jsonOut(keel(root, "status", "--json"));
    expect(status.specs.requirements).toBe(0);
    expect(status.specs.unread).toEqual({
      headings: expected.length,
      first: expected.map((l) => `${file}:${l}`),
    });
    const validate = jsonOut(keel(root, "validate", "--json")).findings as Finding[];
    for (const l of expected) expect(validate.some((f) => f.file === file && f.line === l)).toBe(true);
  });
});

const KEEL_SPEC = `### Requirement: Early bird {#PAY-9}
The system SHALL do it early.

# Payments

## Purpose
Money moves between customers and the workspace, and every movement is recorded.

## Requirements

### Requirement: Charges are recorded {#PAY-1}
> status: approved
The system SHALL record every charge.

#### Scenario: A charge
- **WHEN** a charge succeeds
- **THEN** it is recorded

### Notes on charges
Charges are in cents.

\`\`\`markdown
### Requirement: An example in a fence {#PAY-8}
\`\`\`

## Notes

### Requirement: Refunds {#PAY-2}
The system SHALL refund.
`;

const KEEL_DELTA = `### Requirement: Lost {#PAY-7}
The system SHALL be lost.

## ADDED Requirements

### Requirement: Payouts {#PAY-3}
The system SHALL pay out.

#### Scenario: Payout
- **WHEN** a payout is due
- **THEN** it is paid

### Implementation notes
Use the bank API.

## RENAMED Requirements

### Requirement: Not a rename {#PAY-6}
`;

describe("every kind of unread heading, in a Keel project's spec and change", () => {
  const spec = "keel/specs/payments/spec.md";
  const delta = "keel/changes/add-payouts/specs/payments/spec.md";
  const root = project({
    "keel/keel.yaml": "version: 1\n",
    [spec]: KEEL_SPEC,
    "keel/changes/add-payouts/proposal.md": "## Why\nPayouts.\n\n## What Changes\n- Add payouts.\n",
    [delta]: KEEL_DELTA,
  });
  const at = (file: string, text: string, needle: string) => [
    file,
    linesMatching(text, new RegExp(`^${needle}`)),
  ];
  const expected = [
    at(delta, KEEL_DELTA, "### Requirement: Lost"),
    at(delta, KEEL_DELTA, "### Implementation notes"),
    at(delta, KEEL_DELTA, "### Requirement: Not a rename"),
    at(spec, KEEL_SPEC, "### Requirement: Early bird"),
    at(spec, KEEL_SPEC, "### Notes on charges"),
    at(spec, KEEL_SPEC, "### Requirement: Refunds"),
  ].map(([file, lines]) => {
    expect(lines).toHaveLength(1);
    return `${file}:${(lines as number[])[0]}`;
  });

  it("analyze reports each, in path order, and not the heading inside a code fence nor the read ones", () => {
    const out = jsonOut(keel(root, "analyze", "--json"));
    const unread = (out.findings as Finding[]).filter((f) => f.rule === RULE);
    expect(unread.map((f) => `${f.file}:${f.line}`)).toEqual(expected);
    // Read: PAY-1 in the spec (the one requirement counted), PAY-3 in the delta.
    expect(out.summary.requirements).toBe(1);
    const why = new Map(unread.map((f) => [`${f.file}:${f.line}`, f.message]));
    expect(why.get(expected[0] as string)).toContain("outside every delta section");
    expect(why.get(expected[1] as string)).toContain(
      "under `## ADDED Requirements`, only `### Requirement:` headings",
    );
    expect(why.get(expected[2] as string)).toContain("`## RENAMED Requirements` reads FROM/TO lines");
    expect(why.get(expected[3] as string)).toContain("in no `##` section");
    expect(why.get(expected[4] as string)).toContain(
      "under `## Requirements`, only `### Requirement:` headings",
    );
    expect(why.get(expected[5] as string)).toContain("it is under `## Notes`");
  });

  it("status counts all of them and names the first three in path order", () => {
    const status = jsonOut(keel(root, "status", "--json"));
    expect(status.specs.unread).toEqual({ headings: expected.length, first: expected.slice(0, 3) });
  });
});

describe("projects with nothing unread", () => {
  it("a well-formed spec: analyze is ok and status says 0", () => {
    const root = project({
      "openspec/specs/auth/spec.md": ADDED_ONLY.replace("## ADDED Requirements", "## Requirements"),
    });
    const run = keel(root, "analyze");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("unread headings: 0");
    expect(jsonOut(keel(root, "status", "--json")).specs.unread).toEqual({ headings: 0, first: [] });
  });

  it.skipIf(!HAVE_CORPUS)(
    "the OpenSpec corpus: none, as keel validate finds none outside the sections",
    () => {
      const root = project({});
      cpSync(join(CORPUS, "openspec"), join(root, "openspec"), { recursive: true });
      const validate = jsonOut(keel(root, "validate", "--json")).findings as Finding[];
      const outside = validate.filter((f) =>
        [
          "openspec/requirement-outside-requirements",
          "openspec/delta-requirement-outside-section",
          "openspec/delta-non-requirement-header",
          "openspec/spec-delta-header",
        ].includes(f.rule),
      );
      expect(outside).toEqual([]);
      const out = jsonOut(keel(root, "analyze", "--json"));
      expect(out.summary.categories["unread-headings"]).toBe(0);
      expect(jsonOut(keel(root, "status", "--json")).specs.unread.headings).toBe(0);
    },
  );
});
