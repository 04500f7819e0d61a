// `keel validate --json` through the real CLI on small temporary projects: duplicate IDs, delta targets,
// overlapping open changes (on a copy of the Acme Invoicing example), unresolved markers, scenarios without
// THEN, archived OpenSpec changes, and OpenSpec files left untouched by the reading commands.
import { cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonOut, keel } from "./support/cli.js";
import { lineOf, tempProjects } from "./support/files.js";
import { commitAll, git, gitInit } from "./support/git.js";

const project = tempProjects("keel-validate-rules-");

const EXAMPLE = join(import.meta.dirname, "..", "examples", "acme-invoicing");

interface Finding {
  rule: string;
  severity: string;
  file: string;
  line: number;
  col: number;
  message: string;
  hint: string;
}

/** Runs `keel validate --json` (plus `extra`) and returns the exit code and the findings. */
function validate(root: string, ...extra: string[]): { code: number | null; findings: Finding[] } {
  const run = keel(root, "validate", "--json", ...extra);
  const out = jsonOut(run);
  return { code: run.code, findings: out.findings as Finding[] };
}

function byRule(findings: Finding[], rule: string): Finding[] {
  return findings.filter((f) => f.rule === rule);
}

/** The 1-based column of `needle` on its only line of `text`. */
function colOf(text: string, needle: string): number {
  const line = text.split("\n")[lineOf(text, needle) - 1] as string;
  return line.indexOf(needle) + 1;
}

const CONFIG = "version: 1\nproject: billing\n";

const INVOICES = `# Invoices Specification

## Purpose
Issues invoices to customers and tracks each invoice until it is paid or voided by the team.

## Requirements

### Requirement: Invoice numbering {#INV-1}
The system SHALL number invoices per calendar year.

#### Scenario: First invoice of the year
- **WHEN** the first invoice of a year is issued
- **THEN** it is numbered 1

### Requirement: Invoice delivery {#INV-2}
The system SHALL email each issued invoice to the customer.

#### Scenario: Issued invoice
- **WHEN** an invoice is issued
- **THEN** it is emailed to the customer
`;

const DELTA = "keel/changes/adjust-invoices/specs/invoices/spec.md";

/** The invoices spec and one open change, adjust-invoices, whose delta of the invoices spec is `delta`. */
function invoicesChange(delta: string): string {
  return project({
    "keel/keel.yaml": CONFIG,
    "keel/specs/invoices/spec.md": INVOICES,
    "keel/changes/adjust-invoices/proposal.md": proposal("Adjust invoices"),
    [DELTA]: delta,
  });
}

function proposal(title: string): string {
  return `# ${title}\n\n## Why\nCustomers asked for several adjustments to invoices, and support cannot make them by hand any more.\n\n## What Changes\n- ${title}.\n`;
}

// @verifies VAL-5
describe("duplicate requirement IDs (xref/duplicate-id)", () => {
  const PAYMENTS = `# Payments Specification

## Purpose
Takes card payments for invoices and records every payment against the invoice it settles.

## Requirements

### Requirement: Card payments {#PAY-3}
The system SHALL accept card payments for open invoices.

#### Scenario: Card payment
- **WHEN** a customer pays an open invoice by card
- **THEN** the payment is recorded

### Requirement: Refunds are idempotent {#PAY-4}
The system SHALL process at most one refund per refund key.

#### Scenario: Duplicate refund
- **WHEN** a second refund request with the same key arrives
- **THEN** the original result is returned
`;

  const REFUNDS = `# Refunds Specification

## Purpose
Returns money to customers for payments that were taken in error or for goods sent back.

## Requirements

### Requirement: Refund approval {#PAY-4}
The system SHALL require a manager's approval for refunds above 500.00.

#### Scenario: Large refund
- **WHEN** a refund of 600.00 is requested
- **THEN** it waits for a manager's approval
`;

  it("reports the same ID in two specs at the second one, naming the file and line of the first", () => {
    const root = project({
      "keel/keel.yaml": CONFIG,
      "keel/specs/payments/spec.md": PAYMENTS,
      "keel/specs/refunds/spec.md": REFUNDS,
    });
    const { code, findings } = validate(root);
    expect(code).toBe(1);
    const dups = byRule(findings, "xref/duplicate-id");
    expect(dups).toHaveLength(1);
    const first = lineOf(PAYMENTS, "{#PAY-4}");
    expect(dups[0]).toMatchObject({
      severity: "error",
      file: "keel/specs/refunds/spec.md",
      line: lineOf(REFUNDS, "{#PAY-4}"),
      col: 1,
    });
    expect(dups[0]?.message).toContain("PAY-4");
    expect(dups[0]?.message).toContain(`keel/specs/payments/spec.md:${first}`);
  });

  it("reports the same ID twice in one spec at the second heading, naming the line of the first", () => {
    const twice = PAYMENTS.replace("{#PAY-3}", "{#PAY-4}");
    const headings = twice.split("\n").flatMap((l, i) => (l.includes("{#PAY-4}") ? [i + 1] : []));
    expect(headings).toHaveLength(2);
    const [first, second] = headings as [number, number];
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/payments/spec.md": twice });
    const { code, findings } = validate(root);
    expect(code).toBe(1);
    const dups = byRule(findings, "xref/duplicate-id");
    expect(dups).toHaveLength(1);
    expect(dups[0]).toMatchObject({
      severity: "error",
      file: "keel/specs/payments/spec.md",
      line: second,
      col: 1,
    });
    expect(dups[0]?.message).toContain("PAY-4");
    expect(dups[0]?.message).toContain(`keel/specs/payments/spec.md:${first}`);
  });

  it("reports nothing when every ID is unique", () => {
    const root = project({
      "keel/keel.yaml": CONFIG,
      "keel/specs/payments/spec.md": PAYMENTS,
      "keel/specs/refunds/spec.md": REFUNDS.replace("{#PAY-4}", "{#REF-1}"),
    });
    expect(byRule(validate(root).findings, "xref/duplicate-id")).toEqual([]);
  });
});

// @verifies VAL-7
describe("delta targets exist", () => {
  it("reports MODIFIED, REMOVED and RENAMED of missing requirements at each delta's heading", () => {
    const delta = `## MODIFIED Requirements

### Requirement: Invoice disputes {#INV-11}
The system SHALL let customers dispute an invoice.

#### Scenario: Dispute
- **WHEN** a customer disputes an invoice
- **THEN** the invoice is marked disputed

## REMOVED Requirements

### Requirement: Fax delivery
**Reason**: nobody uses fax.

## RENAMED Requirements
- FROM: \`### Requirement: Aging report\`
- TO: \`### Requirement: Receivables aging report\`
`;
    const root = invoicesChange(delta);
    const { code, findings } = validate(root);
    expect(code).toBe(1);
    const missing = byRule(findings, "xref/delta-target-missing");
    expect(missing.map((f) => [f.severity, f.file, f.line, f.col])).toEqual([
      ["error", DELTA, lineOf(delta, "{#INV-11}"), 1],
      ["error", DELTA, lineOf(delta, "Requirement: Fax delivery"), 1],
      ["error", DELTA, lineOf(delta, "FROM:"), 1],
    ]);
    expect(missing[0]?.message).toMatch(/^MODIFIED requirement "INV-11" does not exist/);
    expect(missing[1]?.message).toMatch(/^REMOVED requirement "Fax delivery" does not exist/);
    expect(missing[2]?.message).toMatch(/^RENAMED requirement "Aging report" does not exist/);
  });

  it("reports ADDED of a requirement that already exists (by ID or by title) at its heading", () => {
    const delta = `## ADDED Requirements

### Requirement: Invoice emailing {#INV-2}
The system SHALL email each issued invoice to the customer's billing address.

#### Scenario: Billing address
- **WHEN** an invoice is issued
- **THEN** it is emailed to the billing address

### Requirement: Invoice numbering
The system SHALL number invoices per calendar year and per legal entity.

#### Scenario: Two entities
- **WHEN** two entities issue their first invoice of a year
- **THEN** each is numbered 1

### Requirement: Invoice reminders {#INV-3}
The system SHALL send a reminder seven days after an invoice falls due.

#### Scenario: Overdue invoice
- **WHEN** an invoice is seven days past due
- **THEN** a reminder is emailed
`;
    const root = invoicesChange(delta);
    const { code, findings } = validate(root);
    expect(code).toBe(1);
    const exists = byRule(findings, "xref/delta-target-exists");
    expect(exists.map((f) => [f.severity, f.file, f.line, f.col])).toEqual([
      ["error", DELTA, lineOf(delta, "Invoice emailing {#INV-2}"), 1],
      ["error", DELTA, lineOf(delta, "### Requirement: Invoice numbering"), 1],
    ]);
    expect(exists[0]?.message).toMatch(/^ADDED requirement "INV-2" already exists/);
    expect(exists[0]?.message).toContain(`keel/specs/invoices/spec.md:${lineOf(INVOICES, "{#INV-2}")}`);
    expect(exists[1]?.message).toMatch(/^ADDED requirement "Invoice numbering" already exists/);
    expect(exists[1]?.message).toContain(`keel/specs/invoices/spec.md:${lineOf(INVOICES, "{#INV-1}")}`);
  });

  it("accepts ADDED of a title that the same change renames away", () => {
    const delta = `## ADDED Requirements

### Requirement: Invoice delivery {#INV-3}
The system SHALL post each issued invoice to customers who opted out of email.

#### Scenario: Opted out
- **WHEN** an invoice is issued to a customer who opted out of email
- **THEN** it is posted

## RENAMED Requirements
- FROM: \`### Requirement: Invoice delivery\`
- TO: \`### Requirement: Invoice emailing\`
`;
    const root = invoicesChange(delta);
    const { findings } = validate(root);
    expect(findings.filter((f) => f.rule.startsWith("xref/"))).toEqual([]);
  });
});

// @verifies VAL-8
describe("overlapping changes (xref/change-overlap) on the Acme Invoicing example", () => {
  it("warns on each of the two changes that modify INV-5, naming the requirement and the other change", () => {
    const root = project({});
    cpSync(EXAMPLE, root, { recursive: true });
    const changes = ["add-partial-payments", "add-invoice-disputes"] as const;
    const heading = "### Requirement: Invoice status lifecycle {#INV-5}";
    const { code, findings } = validate(root);
    expect(code).toBe(0);
    const overlaps = byRule(findings, "xref/change-overlap");
    expect(overlaps).toHaveLength(2);
    for (const [i, change] of changes.entries()) {
      const other = changes[1 - i] as string;
      const file = `keel/changes/${change}/specs/invoices/spec.md`;
      const text = readFileSync(join(root, file), "utf8");
      const f = overlaps.find((x) => x.file === file);
      expect(f, `no overlap warning in ${file}`).toMatchObject({
        severity: "warning",
        line: lineOf(text, heading),
        col: 1,
      });
      expect(f?.message).toContain("INV-5");
      expect(f?.message).toContain(`"${change}"`);
      expect(f?.message).toContain(`"${other}"`);
    }
    expect(validate(root, "--strict").code).toBe(1);
  });
});

// @verifies VAL-10
describe("unresolved markers (clarity/unresolved-marker)", () => {
  it("warns at the line and column of TBD, TODO and the bracketed NEEDS CLARIFICATION marker", () => {
    const spec = INVOICES.replace("per calendar year.", "per calendar year, with a prefix that is TBD.")
      .replace("- **THEN** it is numbered 1", "- **THEN** it is numbered 1 (TODO: confirm with finance)")
      .replace(
        "- **THEN** it is emailed to the customer",
        "- **THEN** it is emailed to [NEEDS CLARIFICATION: which contact?] the customer",
      );
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": spec });
    const { code, findings } = validate(root);
    expect(code).toBe(0);
    const markers = byRule(findings, "clarity/unresolved-marker");
    const where = (needle: string) => ({
      severity: "warning",
      file: "keel/specs/invoices/spec.md",
      line: lineOf(spec, needle),
      col: colOf(spec, needle),
    });
    expect(markers).toHaveLength(3);
    expect(markers[0]).toMatchObject(where("TBD"));
    expect(markers[0]?.message).toContain("TBD");
    expect(markers[1]).toMatchObject(where("TODO"));
    expect(markers[1]?.message).toContain("TODO");
    expect(markers[2]).toMatchObject(where("[NEEDS CLARIFICATION"));
    expect(markers[2]?.message).toContain("[NEEDS CLARIFICATION: which contact?]");
  });
});

// @verifies VAL-11
describe("scenarios need an observable outcome (clarity/scenario-no-then)", () => {
  it("warns at the heading of a scenario with a GIVEN and a WHEN step and no THEN", () => {
    const spec = INVOICES.replace(
      "#### Scenario: Issued invoice\n- **WHEN** an invoice is issued\n- **THEN** it is emailed to the customer\n",
      "#### Scenario: Issued invoice\n- **GIVEN** a customer with an email address\n- **WHEN** an invoice is issued\n",
    );
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": spec });
    const { code, findings } = validate(root);
    expect(code).toBe(0);
    const noThen = byRule(findings, "clarity/scenario-no-then");
    expect(noThen).toHaveLength(1);
    expect(noThen[0]).toMatchObject({
      severity: "warning",
      file: "keel/specs/invoices/spec.md",
      line: lineOf(spec, "#### Scenario: Issued invoice"),
      col: 1,
    });
    expect(noThen[0]?.message).toContain('"Issued invoice"');
    expect(noThen[0]?.message).toContain("no THEN step");
    expect(validate(root, "--strict").code).toBe(1);
  });
});

// @verifies VAL-12
describe("compound requirements (clarity/compound-requirement)", () => {
  it("warns at the heading of a requirement that states two obligations, hinting to split it", () => {
    const spec = INVOICES.replace(
      "The system SHALL email each issued invoice to the customer.",
      "The system SHALL email each issued invoice to the customer and MUST keep a copy for ten years.",
    );
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": spec });
    const compound = byRule(validate(root).findings, "clarity/compound-requirement");
    expect(compound.map((f) => [f.severity, f.file, f.line, f.col])).toEqual([
      ["warning", "keel/specs/invoices/spec.md", lineOf(spec, "{#INV-2}"), 1],
    ]);
    expect(compound[0]?.message).toContain("2 obligations");
    expect(compound[0]?.hint).toMatch(/^split it/);
    // One obligation per requirement: nothing to report.
    const single = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": INVOICES });
    expect(byRule(validate(single).findings, "clarity/compound-requirement")).toEqual([]);
  });
});

// @verifies VAL-13
describe("open questions in approved specs (clarity/open-question)", () => {
  const withQuestions = (status: string) =>
    `---\nstatus: ${status}\n---\n${INVOICES}\n## Open Questions\n- [ ] Which currency?\n- [x] Which email sender? Resolved: billing@.\n`;

  it("warns at each unchecked item of an approved spec, not at a resolved one", () => {
    const spec = withQuestions("approved");
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": spec });
    const open = byRule(validate(root).findings, "clarity/open-question");
    expect(open.map((f) => [f.severity, f.file, f.line])).toEqual([
      ["warning", "keel/specs/invoices/spec.md", lineOf(spec, "Which currency?")],
    ]);
    expect(open[0]?.message).toContain("Which currency?");
  });

  it("reports nothing for the same item in a draft spec", () => {
    const root = project({ "keel/keel.yaml": CONFIG, "keel/specs/invoices/spec.md": withQuestions("draft") });
    expect(byRule(validate(root).findings, "clarity/open-question")).toEqual([]);
  });
});

const OPENSPEC_INVOICES = INVOICES.replace(/ \{#INV-\d\}/g, "");

const OPENSPEC_MODIFY_NUMBERING = `## MODIFIED Requirements

### Requirement: Invoice numbering
The system SHALL number invoices per calendar year and per legal entity.

#### Scenario: First invoice of the year
- **WHEN** the first invoice of a year is issued
- **THEN** it is numbered 1
`;

/** An OpenSpec project whose change `open-one` and change folder `otherDir` both modify "Invoice numbering". */
function openspecProject(otherDir: string): string {
  return project({
    "openspec/project.md": "# Project\n\nInvoicing for small businesses.\n",
    "openspec/specs/invoices/spec.md": OPENSPEC_INVOICES,
    "openspec/changes/open-one/proposal.md": proposal("Number invoices per entity"),
    "openspec/changes/open-one/specs/invoices/spec.md": OPENSPEC_MODIFY_NUMBERING,
    [`openspec/changes/${otherDir}/proposal.md`]: proposal("Number invoices per year"),
    [`openspec/changes/${otherDir}/specs/invoices/spec.md`]: OPENSPEC_MODIFY_NUMBERING,
  });
}

// @verifies OSC-5
describe("archived OpenSpec changes", () => {
  it("reports no overlap between an archived change and an open one that modify the same requirement", () => {
    const root = openspecProject("archive/2026-01-15-old-one");
    const { code, findings } = validate(root);
    expect(code).toBe(0);
    expect(byRule(findings, "xref/change-overlap")).toEqual([]);
  });

  it("does report the overlap when the same change is still open (control)", () => {
    const root = openspecProject("old-one");
    const overlaps = byRule(validate(root).findings, "xref/change-overlap");
    expect(overlaps.map((f) => f.file).sort()).toEqual([
      "openspec/changes/old-one/specs/invoices/spec.md",
      "openspec/changes/open-one/specs/invoices/spec.md",
    ]);
  });
});

// @verifies OSC-7
describe("OpenSpec files stay untouched", () => {
  it("validate, list requirements, search and status write nothing under openspec/", () => {
    const root = openspecProject("archive/2026-01-15-old-one");
    gitInit(root);
    commitAll(root, "OpenSpec project");
    expect(git(root, "status", "--porcelain")).toBe("");
    for (const args of [["validate"], ["list", "requirements"], ["search", "archive"], ["status"]]) {
      const run = keel(root, ...args);
      expect(run.code, `keel ${args.join(" ")}: ${run.stderr}`).toBe(0);
    }
    const paths = git(root, "status", "--porcelain", "--untracked-files=all")
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => l.slice(3));
    expect(paths.filter((p) => p.startsWith("openspec/"))).toEqual([]);
    // Keel's own state goes to .keel/ and nowhere else.
    expect(paths.filter((p) => !p.startsWith(".keel/"))).toEqual([]);
  });
});
