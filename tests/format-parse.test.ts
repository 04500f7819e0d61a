// Unit tests of the dialect parser on hand-written fixtures: IDs, marker lines, scenarios, EARS, open questions,
// references, delta sections, constitution, front matter and change folders, with their positions.
import { describe, expect, it } from "vitest";
import { parseChange } from "../src/format/change.js";
import { parseConstitution } from "../src/format/constitution.js";
import { parseDeltaSpec } from "../src/format/delta.js";
import { earsPattern } from "../src/format/ears.js";
import { isMarkerLine } from "../src/format/markers.js";
import { parseSpec } from "../src/format/spec.js";
import { derivedRequirementId, slug, splitExplicitId } from "../src/model/ids.js";
import { checkSpans } from "./format-support.js";

const FILE = "keel/specs/payments/spec.md";

function spec(text: string, capability = "payments") {
  const parsed = parseSpec(text, FILE, capability);
  expect(checkSpans(text, parsed.spec)).toEqual([]);
  expect(checkSpans(text, parsed.diagnostics)).toEqual([]);
  return parsed;
}

const PAYMENTS = `---
status: approved
owners: [payments-team]
---
# Payments Specification

## Purpose
Payments reduce what customers owe.

## Requirements

### Requirement: Refunds are idempotent {#PAY-4}
> status: approved · origin: agent · inferred · actor: codex-7 · tool: codex-cli · model: gpt-5 · change: add-refunds · at: 2026-11-20
The system SHALL process at most one refund per refund key. See [[PAY-1]].

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned
- **AND** no money moves

### Requirement: Remboursement élevé (> 1 000 €)!
The system SHALL ask for a second approval.

## Out of Scope
- Chargebacks.

## Open Questions
- [ ] Do partial refunds count against the daily limit?
- [x] Resolved question stays as a record.
`;

// @verifies FMT-1
describe("capability spec structure", () => {
  it("reads front matter, title, purpose, requirements, sections and open questions", () => {
    const { spec: s, diagnostics } = spec(PAYMENTS);
    expect(diagnostics).toEqual([]);
    expect(s.frontMatter?.data).toEqual({ status: "approved", owners: ["payments-team"] });
    expect(s.status).toBe("approved");
    expect(s.title).toBe("Payments Specification");
    expect(s.purpose).toBe("Payments reduce what customers owe.");
    expect(s.purposeSpan?.start.line).toBe(8);
    expect(s.sections.map((x) => x.title)).toEqual([
      "Purpose",
      "Requirements",
      "Out of Scope",
      "Open Questions",
    ]);
    expect(s.requirements.map((r) => r.id)).toEqual(["PAY-4", "payments/remboursement-eleve-1-000"]);
    expect(s.openQuestions.map((q) => [q.text, q.resolved, q.span.start.line])).toEqual([
      ["Do partial refunds count against the daily limit?", false, 29],
      ["Resolved question stays as a record.", true, 30],
    ]);
  });

  // @verifies FMT-11
  it("keeps each requirement's exact source and positions", () => {
    const { spec: s } = spec(PAYMENTS);
    const [pay4, second] = s.requirements;
    expect(pay4?.span.start).toEqual({
      line: 12,
      col: 1,
      offset: PAYMENTS.indexOf("### Requirement: Refunds"),
    });
    expect(pay4?.raw.startsWith("### Requirement: Refunds are idempotent {#PAY-4}\n> status:")).toBe(true);
    expect(pay4?.raw.endsWith("- **AND** no money moves\n\n")).toBe(true);
    expect(pay4?.headingSpan.end.col).toBe("### Requirement: Refunds are idempotent {#PAY-4}".length + 1);
    expect(pay4?.text).toBe("The system SHALL process at most one refund per refund key. See [[PAY-1]].");
    expect(pay4?.textSpan?.start.line).toBe(14);
    expect(second?.raw).toBe(
      "### Requirement: Remboursement élevé (> 1 000 €)!\nThe system SHALL ask for a second approval.\n\n",
    );
    expect(second?.capability).toBe("payments");
  });

  it("reports level-3 headings under Requirements that are not requirements", () => {
    const { spec: s } = spec(
      "## Requirements\n\n### Notes\ntext\n\n### Requirement: A\nThe system SHALL a.\n",
    );
    expect(s.strayHeadings).toEqual([
      { text: "Notes", span: expect.objectContaining({ start: expect.objectContaining({ line: 3 }) }) },
    ]);
    expect(s.requirements.map((r) => r.title)).toEqual(["A"]);
  });

  // @verifies OSC-6
  it("reads an OpenSpec spec unchanged (no front matter, no IDs, no markers)", () => {
    const text =
      "# cli-show Specification\n\n## Purpose\nShow things.\n\n## Requirements\n### Requirement: Show command\nThe CLI SHALL show a change.\n\n#### Scenario: Show a change\n- **WHEN** executing `openspec show add-x`\n- **THEN** print the change\n";
    const { spec: s, diagnostics } = spec(text, "cli-show");
    expect(diagnostics).toEqual([]);
    expect(s.requirements).toHaveLength(1);
    expect(s.requirements[0]).toMatchObject({
      id: "cli-show/show-command",
      explicitId: false,
      markers: null,
    });
    expect(s.requirements[0]?.scenarios[0]?.steps.map((x) => x.keyword)).toEqual(["WHEN", "THEN"]);
  });

  // @verifies FMT-11
  it("reports positions after a byte order mark and CRLF line endings", () => {
    const text = "\uFEFF# T\r\n\r\n## Requirements\r\n\r\n### Requirement: A\r\nThe system SHALL a.\r\n";
    const { spec: s } = spec(text);
    const r = s.requirements[0];
    expect(r?.headingSpan.start).toEqual({ line: 5, col: 1, offset: text.indexOf("###") });
    expect(r?.headingSpan.end.offset).toBe(text.indexOf("\r\nThe"));
    expect(r?.text).toBe("The system SHALL a.");
    expect(s.title).toBe("T");
  });
});

describe("requirement IDs", () => {
  // @verifies FMT-3
  it("splits an explicit ID off the heading", () => {
    expect(splitExplicitId("Refunds are idempotent {#PAY-4}")).toEqual({
      title: "Refunds are idempotent",
      id: "PAY-4",
    });
    expect(splitExplicitId("Dotted {#a.b_c-9}  ")).toEqual({ title: "Dotted", id: "a.b_c-9" });
    expect(splitExplicitId("No id")).toEqual({ title: "No id", id: null });
    // Not an ID: must start with a letter, and must end the heading.
    expect(splitExplicitId("Bad {#4PAY}")).toEqual({ title: "Bad {#4PAY}", id: null });
    expect(splitExplicitId("Middle {#PAY-1} text")).toEqual({ title: "Middle {#PAY-1} text", id: null });
  });

  // @verifies FMT-4
  it("derives IDs from the capability and a slug of the title", () => {
    expect(slug("Remboursement élevé (> 1 000 €)!")).toBe("remboursement-eleve-1-000");
    expect(slug("  Ünïcödé -- Tïtle  ")).toBe("unicode-title");
    expect(slug("ﬁle ＡＢＣ")).toBe("file-abc");
    expect(derivedRequirementId("billing/tax", "VAT rates")).toBe("billing/tax/vat-rates");
    expect(derivedRequirementId("x", "!!!")).toBe("x/untitled");
  });

  // @verifies FMT-3
  it("uses the derived ID when the explicit one is malformed", () => {
    const { spec: s, diagnostics } = spec(
      "## Requirements\n### Requirement: Bad {#4PAY}  ##\nThe system SHALL x.\n",
    );
    expect(s.requirements[0]).toMatchObject({
      id: "payments/bad-4pay",
      explicitId: false,
      title: "Bad {#4PAY}",
    });
    expect(
      diagnostics.map((d) => [d.rule, d.message, d.span.start.line, d.span.start.col, d.span.end.col]),
    ).toEqual([
      [
        "format/requirement-id",
        '"{#4PAY}" is not a valid requirement ID, so the requirement gets a derived ID',
        2,
        "### Requirement: Bad ".length + 1,
        "### Requirement: Bad {#4PAY}".length + 1,
      ],
    ]);
    expect(spec("## Requirements\n### Requirement: Set {#} and {x}\nx\n").diagnostics).toEqual([]);
  });

  // @verifies OSC-6
  it("accepts the OpenSpec heading without a space after the hashes", () => {
    const { spec: s } = spec(
      "## Requirements\n###Requirement: Tight\nThe system SHALL x.\n\n####Scenario: S\n- WHEN a\n- THEN b\n",
    );
    expect(s.requirements.map((r) => r.title)).toEqual(["Tight"]);
    expect(s.requirements[0]?.scenarios.map((x) => x.name)).toEqual(["S"]);
  });
});

// @verifies FMT-5
describe("marker lines", () => {
  const req = (marker: string) =>
    spec(`## Requirements\n\n### Requirement: R {#R-1}\n\n${marker}\nThe system SHALL r.\n`);

  it("reads every field, unknown keys included", () => {
    const { spec: s, diagnostics } = req(
      "> status: approved · origin: agent · inferred · tool: codex-cli · ticket: ACME-12 · by: ana · model: m1 · change: c-1 · at: 2026-01-02",
    );
    expect(diagnostics).toEqual([]);
    const m = s.requirements[0]?.markers;
    expect(m?.status).toBe("approved");
    expect(m?.provenance).toEqual({
      origin: "agent",
      basis: "inferred",
      tool: "codex-cli",
      actor: "ana",
      model: "m1",
      change: "c-1",
      at: "2026-01-02",
    });
    expect(m?.extra).toEqual({ ticket: "ACME-12" });
    expect(m?.span.start.line).toBe(5);
    expect(s.requirements[0]?.text).toBe("The system SHALL r.");
  });

  it("accepts | and ; as separators and basis as a key", () => {
    const m = req("> status: draft | origin: human; explicit").spec.requirements[0]?.markers;
    expect(m).toMatchObject({ status: "draft", provenance: { origin: "human", basis: "explicit" } });
    const m2 = req("> basis: inferred;origin: system").spec.requirements[0]?.markers;
    expect(m2?.provenance).toEqual({ basis: "inferred", origin: "system" });
  });

  it("does not take an ordinary quote for a marker line", () => {
    const { spec: s } = req("> Note: this mirrors the bank's rule.");
    expect(s.requirements[0]?.markers).toBeNull();
    expect(s.requirements[0]?.text).toBe("> Note: this mirrors the bank's rule.\nThe system SHALL r.");
    expect(isMarkerLine("> explicit")).toBe(true);
    expect(isMarkerLine(">status: draft")).toBe(true);
    expect(isMarkerLine("    > status: draft")).toBe(false);
    expect(isMarkerLine("status: draft")).toBe(false);
  });

  it("only looks at the first non-blank line after the heading", () => {
    const { spec: s } = spec("## Requirements\n### Requirement: R\nThe system SHALL r.\n> status: draft\n");
    expect(s.requirements[0]?.markers).toBeNull();
    expect(s.requirements[0]?.text).toBe("The system SHALL r.\n> status: draft");
  });

  it("reports an invalid status or origin at the marker line", () => {
    const { spec: s, diagnostics } = req("> status: finished · origin: robot");
    expect(s.requirements[0]?.markers?.status).toBeUndefined();
    expect(diagnostics.map((d) => [d.rule, d.message, d.span.start.line])).toEqual([
      ["format/marker", 'unknown status "finished"', 5],
      ["format/marker", 'unknown origin "robot"', 5],
    ]);
    expect(diagnostics[0]?.hint).toContain("draft, proposed, approved, deprecated");
    expect(diagnostics[0]?.span.start.col).toBe("> status: ".length + 1);
    expect(diagnostics[1]?.span.start.col).toBe("> status: finished · origin: ".length + 1);
  });
});

// @verifies FMT-2
describe("scenarios and steps", () => {
  const text = `## Requirements

### Requirement: Sessions
The system SHALL keep sessions.

#### Scenario: Steps with and without bold
- **WHEN** a user signs in
- then a session exists
* __And__: the cookie is secure
+ **BUT** no token is logged
1. GIVEN numbered
- Whenever is not a keyword
- a plain item

#### Scenario: Continuation lines
- **GIVEN** a step whose text
  continues on a second line
- **THEN** it is one step
##### Detail
extra text

#### Scenario: Empty
`;

  it("reads names, keywords (bold optional, case-insensitive) and step texts", () => {
    const { spec: s } = spec(text);
    const [a, b, c] = s.requirements[0]?.scenarios ?? [];
    expect(a?.name).toBe("Steps with and without bold");
    expect(a?.steps.map((x) => [x.keyword, x.text])).toEqual([
      ["WHEN", "a user signs in"],
      ["THEN", "a session exists"],
      ["AND", "the cookie is secure"],
      ["BUT", "no token is logged"],
      ["GIVEN", "numbered"],
      [null, "Whenever is not a keyword"],
      [null, "a plain item"],
    ]);
    expect(b?.steps.map((x) => x.text)).toEqual([
      "a step whose text continues on a second line",
      "it is one step ##### Detail extra text",
    ]);
    expect(b?.steps[0]?.span.start.line).toBe(16);
    expect(b?.steps[0]?.span.end.line).toBe(17);
    expect(c?.steps).toEqual([]);
    expect(c?.raw).toBe("#### Scenario: Empty\n");
    expect(a?.headingSpan.start.line).toBe(6);
    expect(a?.raw.startsWith("#### Scenario: Steps with and without bold\n- **WHEN**")).toBe(true);
  });

  it("ends the normative text at the first sub-heading", () => {
    const { spec: s } = spec(text);
    expect(s.requirements[0]?.text).toBe("The system SHALL keep sessions.");
  });

  it("ignores list items inside fenced code in a scenario", () => {
    const { spec: s } = spec(
      "## Requirements\n### Requirement: R\nThe system SHALL r.\n#### Scenario: S\n```\n- WHEN in code\n```\n- THEN outside\n",
    );
    expect(s.requirements[0]?.scenarios[0]?.steps.map((x) => x.keyword)).toEqual(["THEN"]);
  });
});

// @verifies FMT-6
describe("EARS patterns", () => {
  it.each([
    ["The system shall record every refund.", "ubiquitous"],
    ["The invoice service SHALL number invoices without gaps.", "ubiquitous"],
    ["When a refund is requested, the system shall record it.", "event"],
    ["While the provider is offline, the system shall queue payments.", "state"],
    ["If the card is declined, then the system shall show the reason.", "unwanted"],
    ["If a card is declined then the system shall retry once.", "unwanted"],
    ["Where the tenant enables SSO, the system shall redirect to the IdP.", "optional"],
    ["While offline, when a payment arrives, the system shall queue it.", "complex"],
    ["Where SSO is enabled, if the IdP is down, then the system shall allow password login.", "complex"],
    ["The system MUST refuse an empty key.", "ubiquitous"],
    // Kiro's criteria close the clause with THEN or an upper-case THE instead of a comma.
    ["WHEN a user adds an item THEN the system SHALL store it.", "event"],
    ["WHEN the list loads THE SYSTEM SHALL show expiry dates.", "event"],
    ["WHILE the device is offline THE app SHALL queue edits.", "state"],
    ["WHEN an item expires AND alerts are on THEN the system SHALL notify the member.", "event"],
    ["When the user logs in the system shall log it.", "ubiquitous"],
    ["Payments reduce what customers owe.", null],
    ["", null],
  ] as const)("%s → %s", (sentence, pattern) => {
    expect(earsPattern(sentence)).toBe(pattern);
  });

  it("classifies the first normative sentence", () => {
    expect(
      earsPattern("Context first. When a user logs in, the system SHALL log it. The system SHALL x."),
    ).toBe("event");
    expect(earsPattern("When the\nbatch ends,\nthe system SHALL mail a report.")).toBe("event");
  });

  it("is stored on the requirement", () => {
    const { spec: s } = spec(
      "## Requirements\n### Requirement: E\nWhen a refund is requested, the system SHALL record it.\n",
    );
    expect(s.requirements[0]?.ears).toBe("event");
  });
});

// @verifies FMT-7
describe("references", () => {
  it("finds [[ID]] outside code, with positions", () => {
    const text = [
      "## Requirements",
      "### Requirement: R",
      "The system SHALL follow [[PAY-1]] and [[payments/refunds]].",
      "Not `[[IN-CODE]]` here.",
      "```",
      "[[IN-FENCE]]",
      "```",
      "<!--",
      "[[IN-COMMENT]]",
      "-->",
      "[[9BAD]] [[ok.id_2]]",
    ].join("\n");
    const { spec: s } = spec(text);
    expect(s.references.map((r) => r.id)).toEqual(["PAY-1", "payments/refunds", "ok.id_2"]);
    expect(s.references[0]?.span.start).toEqual({ line: 3, col: 25, offset: text.indexOf("[[PAY-1]]") });
    expect(s.references[0]?.span.end.col).toBe(25 + "[[PAY-1]]".length);
  });
});

// @verifies FMT-2
describe("fenced code, comments and front matter are opaque", () => {
  it("does not read headings inside fences or HTML comments", () => {
    const text = [
      "## Requirements",
      "### Requirement: Real",
      "The system SHALL r.",
      "",
      "````markdown",
      "### Requirement: In a fence",
      "```",
      "### Requirement: Still in the fence",
      "````",
      "<!-- a comment",
      "### Requirement: In a comment",
      "-->",
      "~~~",
      "## Requirements",
      "~~~",
    ].join("\n");
    const { spec: s } = spec(text);
    expect(s.requirements.map((r) => r.title)).toEqual(["Real"]);
    expect(s.requirements[0]?.raw).toBe(text.slice(text.indexOf("### Requirement: Real")));
  });

  it("treats an unclosed fence as running to the end of the file", () => {
    const { spec: s } = spec("## Requirements\n### Requirement: A\n```\n### Requirement: B\n");
    expect(s.requirements.map((r) => r.title)).toEqual(["A"]);
  });
});

// @verifies FMT-1
describe("front matter", () => {
  it("reports invalid YAML with the position of the error in the file", () => {
    const text = "---\ntitle: ok\nstatus: [unclosed\n---\n## Purpose\nx\n";
    const { spec: s, diagnostics } = spec(text);
    expect(s.frontMatter?.data).toEqual({});
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics[0]?.rule).toBe("format/front-matter");
    expect(diagnostics[0]?.message).toMatch(/^invalid YAML front matter/);
    expect(diagnostics[0]?.span.start.line).toBeGreaterThanOrEqual(3);
    expect(diagnostics[0]?.span.start.line).toBeLessThanOrEqual(4);
  });

  it("reports a duplicate key on its own line", () => {
    const text = "\uFEFF---\nstatus: draft\nstatus: approved\n---\n";
    const { diagnostics } = spec(text);
    expect(diagnostics.map((d) => d.span.start.line)).toEqual([3]);
  });

  it("reports front matter that is not a mapping, and an unknown spec status", () => {
    expect(spec("---\n- a\n- b\n---\n").diagnostics[0]?.message).toMatch(/must be a YAML mapping/);
    const bad = spec("---\nstatus: finished\n---\n");
    expect(bad.spec.status).toBeNull();
    expect(bad.diagnostics[0]?.message).toBe('unknown spec status "finished"');
  });

  it("keeps unknown keys and reads an empty block", () => {
    expect(spec("---\nx-custom: 1\n---\n").spec.frontMatter?.data).toEqual({ "x-custom": 1 });
    expect(spec("---\n---\n# T\n").spec.frontMatter?.data).toEqual({});
    expect(spec("---\nnot closed\n# T\n").spec.frontMatter).toBeNull();
  });

  it("does not expand YAML alias bombs", () => {
    const lines = ["---", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let k = 1; k < 12; k++)
      lines.push(
        `a${k}: &a${k} [${Array(10)
          .fill(`*a${k - 1}`)
          .join(", ")}]`,
      );
    lines.push("---", "");
    const { diagnostics } = spec(lines.join("\n"));
    expect(diagnostics.map((d) => d.rule)).toEqual(["format/front-matter"]);
  });
});

// @verifies FMT-10
describe("delta specs", () => {
  const text = `# Delta

## ADDED Requirements

### Requirement: Dispute an invoice {#INV-9}
The system SHALL let a customer dispute an invoice.

#### Scenario: Dispute
- **WHEN** the customer disputes INV-1
- **THEN** INV-1 is disputed

## MODIFIED Requirements

### Requirement: Invoice numbering
The system SHALL number invoices per year.

## REMOVED Requirements

### Requirement: Fax delivery
**Reason**: nobody uses fax.

- \`### Requirement: Paper copies\`
- ### Requirement: Telex {#INV-3}

## RENAMED Requirements
- FROM: \`### Requirement: Aging report\`
- TO: \`### Requirement: Receivables aging report\`
- FROM: \`### Requirement: Lonely\`
- FROM: \`### Requirement: Old name\`
- TO: \`### Requirement: New name\`
- TO: \`### Requirement: Orphan target\`

### Requirement: Outside any section
`;
  const parsed = parseDeltaSpec(text, "keel/changes/c/specs/invoices/spec.md", "invoices");

  it("reads ADDED and MODIFIED blocks", () => {
    const [added, modified] = parsed.delta.sections;
    expect(added?.op).toBe("ADDED");
    expect(added?.requirements.map((r) => [r.id, r.scenarios.length])).toEqual([["INV-9", 1]]);
    expect(modified?.op).toBe("MODIFIED");
    expect(modified?.requirements.map((r) => r.id)).toEqual(["invoices/invoice-numbering"]);
  });

  it("reads REMOVED as heading blocks and as bullets", () => {
    const removed = parsed.delta.sections[2];
    expect(removed?.op).toBe("REMOVED");
    expect(removed?.removed.map((x) => [x.title, x.id])).toEqual([
      ["Fax delivery", null],
      ["Paper copies", null],
      ["Telex", "INV-3"],
    ]);
  });

  it("pairs RENAMED FROM/TO lines and reports unpaired ones", () => {
    const renamed = parsed.delta.sections[3];
    expect(renamed?.renames.map((r) => [r.from, r.to])).toEqual([
      ["Aging report", "Receivables aging report"],
      ["Old name", "New name"],
    ]);
    expect(renamed?.renames[0]?.span.start.line).toBe(
      text.split("\n").indexOf("- FROM: `### Requirement: Aging report`") + 1,
    );
    const unpaired = parsed.diagnostics.filter((d) => d.rule === "format/rename-unpaired");
    expect(unpaired.map((d) => d.message)).toEqual([
      'RENAMED FROM "Lonely" has no matching TO',
      'RENAMED TO "Orphan target" has no matching FROM',
    ]);
  });

  it("reports requirement headings outside delta sections, and spans are consistent", () => {
    // The last heading sits inside `## RENAMED Requirements`, so it is not an orphan, and RENAMED reads no blocks.
    expect(parsed.delta.orphans).toEqual([]);
    const orphan = parseDeltaSpec("# D\n### Requirement: Lost\ntext\n## ADDED Requirements\n", "d.md", "c");
    expect(orphan.delta.orphans.map((o) => [o.title, o.span.start.line])).toEqual([["Lost", 2]]);
    expect(checkSpans(text, parsed.delta)).toEqual([]);
    expect(checkSpans(text, parsed.diagnostics)).toEqual([]);
  });

  it("accepts lower-case section titles", () => {
    const d = parseDeltaSpec("## added requirements\n### Requirement: X\nThe system SHALL x.\n", "d.md", "c");
    expect(d.delta.sections.map((x) => [x.op, x.requirements.length])).toEqual([["ADDED", 1]]);
  });
});

// @verifies FMT-8
describe("constitution", () => {
  const text = `# Constitution

## Principles

### Principle: Honest tests {#P-7}
A test exercises real behaviour and can fail.

Gate: \`npm test\`

### Principle: Strict types
The code compiles under strict mode.

\`\`\`
Gate: \`not a gate\`
\`\`\`
`;
  const { constitution, diagnostics } = parseConstitution(text, "keel/constitution.md");

  it("reads principles with IDs, text and gates", () => {
    expect(diagnostics).toEqual([]);
    expect(constitution.principles.map((p) => [p.id, p.title, p.gate])).toEqual([
      ["P-7", "Honest tests", "npm test"],
      ["principle/strict-types", "Strict types", null],
    ]);
    expect(constitution.principles[0]?.text).toBe("A test exercises real behaviour and can fail.");
    expect(constitution.principles[0]?.span.start.line).toBe(5);
    expect(checkSpans(text, constitution)).toEqual([]);
  });
});

// @verifies FMT-9
describe("change folders", () => {
  it("reads proposal sections, task counts, metadata and deltas", () => {
    const { change, diagnostics } = parseChange({
      id: "add-x",
      dir: "keel/changes/add-x",
      archived: false,
      layout: "keel",
      proposal: {
        file: "p.md",
        text: "# P\n\n## Why\nBecause.\n\n## What Changes\n- A thing\n\n## Impact\nNone.\n",
      },
      tasks: { file: "t.md", text: "## 1\n- [x] one\n- [ ] two\n* [X] three\n```\n- [ ] in code\n```\n" },
      meta: { file: "change.yaml", text: "status: review\nauthor: ana\n" },
      deltas: [
        {
          file: "d.md",
          capability: "x",
          text: "## ADDED Requirements\n### Requirement: X\nThe system SHALL x.\n",
        },
      ],
    });
    expect(diagnostics).toEqual([]);
    expect(change.why).toBe("Because.");
    expect(change.whatChanges).toBe("- A thing");
    expect(change.proposalSections.map((s) => s.title)).toEqual(["Why", "What Changes", "Impact"]);
    expect(change.tasks).toEqual({ total: 3, done: 2 });
    expect(change.status).toBe("review");
    expect(change.meta).toEqual({ status: "review", author: "ana" });
    expect(change.deltas[0]?.sections[0]?.requirements[0]?.id).toBe("x/x");
  });

  it("reports invalid metadata YAML at its position", () => {
    const meta = "author: ana\nstatus: review\nstatus: draft\n";
    const { change, diagnostics } = parseChange({
      id: "c",
      dir: "c",
      archived: true,
      layout: "openspec",
      proposal: null,
      tasks: null,
      meta: { file: ".openspec.yaml", text: meta },
      deltas: [],
    });
    expect(change.meta).toBeNull();
    expect(change.status).toBe("applied");
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]?.rule).toBe("format/change-meta");
    expect(diagnostics[0]?.span.start).toEqual({ line: 3, col: 1, offset: meta.lastIndexOf("status") });
    expect(checkSpans(meta, diagnostics)).toEqual([]);
  });

  it("reports a YAML alias bomb in metadata instead of throwing", () => {
    const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let k = 1; k < 12; k++)
      lines.push(
        `a${k}: &a${k} [${Array(10)
          .fill(`*a${k - 1}`)
          .join(", ")}]`,
      );
    const { change, diagnostics } = parseChange({
      id: "c",
      dir: "c",
      archived: false,
      layout: "keel",
      proposal: null,
      tasks: null,
      meta: { file: "change.yaml", text: lines.join("\n") },
      deltas: [],
    });
    expect(change.meta).toBeNull();
    expect(diagnostics.map((d) => d.rule)).toEqual(["format/change-meta"]);
  });
});
