// The edit API on hand-written specs: each edit's exact result, line endings and BOM kept, and typed errors.
// @verifies FMT-15
import { describe, expect, it } from "vitest";
import {
  addRequirement,
  addScenario,
  applyEdit,
  EditError,
  lineEnding,
  removeRequirement,
  removeScenario,
  replaceRequirementText,
  setProvenance,
  setStatus,
} from "../src/format/edit.js";
import { parseSpec } from "../src/format/spec.js";
import { toCrlf } from "./format-support.js";

const SPEC = { capability: "payments", file: "keel/specs/payments/spec.md" };

const TEXT = `# Payments

## Purpose
Payments reduce what customers owe.

## Requirements

### Requirement: Record a transfer {#PAY-1}
> status: approved · origin: human · explicit · ticket: ACME-12
The system SHALL record a bank transfer.

#### Scenario: Record
- **WHEN** the accountant records a transfer
- **THEN** the payment appears on the invoice

### Requirement: Refunds
The system SHALL refund card payments.

#### Scenario: Full refund
- **WHEN** an admin refunds a payment
- **THEN** the provider receives a refund request

#### Scenario: Too large
- **WHEN** an admin refunds more than was paid
- **THEN** the request fails

### Requirement: Webhooks {#PAY-3}
The system SHALL process each webhook once.

## Out of Scope
- Chargebacks.
`;

function reqs(text: string) {
  return parseSpec(text, SPEC.file, SPEC.capability).spec.requirements;
}

function errorOf(fn: () => unknown): EditError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EditError);
    return e as EditError;
  }
  throw new Error("expected an EditError");
}

describe("replaceRequirementText", () => {
  it("replaces only the normative text", () => {
    const out = replaceRequirementText(
      TEXT,
      SPEC,
      "payments/refunds",
      "The system SHALL refund card payments\nwithin 30 days.",
    );
    expect(out).toBe(
      TEXT.replace(
        "The system SHALL refund card payments.",
        "The system SHALL refund card payments\nwithin 30 days.",
      ),
    );
  });

  it("keeps the marker line and writes CRLF into a CRLF file", () => {
    const crlf = toCrlf(TEXT);
    const out = replaceRequirementText(crlf, SPEC, "PAY-1", "The system SHALL record\na transfer.\n\n");
    expect(out).toBe(
      crlf.replace("The system SHALL record a bank transfer.", "The system SHALL record\r\na transfer."),
    );
    expect(reqs(out)[0]?.markers?.extra).toEqual({ ticket: "ACME-12" });
  });

  it("adds text to a requirement that has none, and removes it again", () => {
    const bare = "## Requirements\n### Requirement: A\n#### Scenario: S\n- **THEN** ok\n";
    const added = replaceRequirementText(bare, SPEC, "payments/a", "The system SHALL a.");
    expect(added).toBe(
      "## Requirements\n### Requirement: A\nThe system SHALL a.\n\n#### Scenario: S\n- **THEN** ok\n",
    );
    const removed = replaceRequirementText(added, SPEC, "payments/a", "  \n");
    expect(removed).toBe("## Requirements\n### Requirement: A\n\n#### Scenario: S\n- **THEN** ok\n");
    expect(replaceRequirementText(bare, SPEC, "payments/a", "")).toBe(bare);
  });

  it("adds text after the marker line, at the end of a file without a final newline", () => {
    const out = replaceRequirementText(
      "## Requirements\n### Requirement: A\n> status: draft",
      SPEC,
      "payments/a",
      "X SHALL y.",
    );
    expect(out).toBe("## Requirements\n### Requirement: A\n> status: draft\nX SHALL y.");
  });

  it("refuses text that would change the file's structure", () => {
    for (const bad of [
      "The system SHALL x.\n### Requirement: Injected",
      "x\n#### Scenario: injected",
      "```\nunclosed",
      "> status: draft",
    ]) {
      const e = errorOf(() => replaceRequirementText(TEXT, SPEC, "payments/refunds", bad));
      expect(e.code).toBe("invalid-content");
      expect(e.message).toMatch(/^edit refused: /);
    }
  });
});

describe("addScenario", () => {
  it("appends a scenario at the end of the requirement block", () => {
    const out = addScenario(TEXT, SPEC, "PAY-1", {
      name: "Wrong currency",
      steps: [
        { keyword: "WHEN", text: "the transfer is in USD" },
        { keyword: "THEN", text: "the request fails" },
      ],
    });
    expect(out).toBe(
      TEXT.replace(
        "- **THEN** the payment appears on the invoice\n\n",
        "- **THEN** the payment appears on the invoice\n\n#### Scenario: Wrong currency\n- **WHEN** the transfer is in USD\n- **THEN** the request fails\n\n",
      ),
    );
    expect(reqs(out)[0]?.scenarios.map((s) => s.name)).toEqual(["Record", "Wrong currency"]);
  });

  it("keeps CRLF: every line of the added scenario ends with CRLF", () => {
    const crlf = `\uFEFF${toCrlf(TEXT)}`;
    const out = addScenario(crlf, SPEC, "PAY-3", {
      name: "Replay",
      steps: [{ keyword: "THEN", text: "nothing happens" }],
    });
    expect(out.startsWith("\uFEFF")).toBe(true);
    expect(out.replace(/\r\n/g, "")).not.toContain("\n");
    expect(out).toContain(
      "The system SHALL process each webhook once.\r\n\r\n#### Scenario: Replay\r\n- **THEN** nothing happens\r\n\r\n## Out of Scope",
    );
  });

  it("separates the scenario with a blank line at the end of a file without a final newline", () => {
    const out = addScenario("## Requirements\n### Requirement: A\nThe system SHALL a.", SPEC, "payments/a", {
      name: "S",
      steps: [{ keyword: "GIVEN", text: "g" }],
    });
    expect(out).toBe(
      "## Requirements\n### Requirement: A\nThe system SHALL a.\n\n#### Scenario: S\n- **GIVEN** g",
    );
  });

  it("refuses a multi-line name or step and an unclosed fence in the requirement", () => {
    expect(errorOf(() => addScenario(TEXT, SPEC, "PAY-1", { name: "a\nb", steps: [] })).code).toBe(
      "invalid-value",
    );
    expect(
      errorOf(() =>
        addScenario(TEXT, SPEC, "PAY-1", { name: "a", steps: [{ keyword: "THEN", text: "x\ny" }] }),
      ).code,
    ).toBe("invalid-value");
    const fenced = "## Requirements\n### Requirement: A\nThe system SHALL a.\n```\ncode";
    expect(errorOf(() => addScenario(fenced, SPEC, "payments/a", { name: "S", steps: [] })).code).toBe(
      "invalid-content",
    );
  });
});

describe("removeScenario", () => {
  it("removes a scenario by name and by index", () => {
    const byName = removeScenario(TEXT, SPEC, "payments/refunds", "Full refund");
    expect(byName).toBe(
      TEXT.replace(
        "#### Scenario: Full refund\n- **WHEN** an admin refunds a payment\n- **THEN** the provider receives a refund request\n\n",
        "",
      ),
    );
    expect(removeScenario(TEXT, SPEC, "payments/refunds", 0)).toBe(byName);
    const last = removeScenario(TEXT, SPEC, "payments/refunds", 1);
    expect(last).toBe(
      TEXT.replace(
        "#### Scenario: Too large\n- **WHEN** an admin refunds more than was paid\n- **THEN** the request fails\n\n",
        "",
      ),
    );
  });

  it("reports a missing scenario with the names there are", () => {
    const e = errorOf(() => removeScenario(TEXT, SPEC, "payments/refunds", "Partial refund"));
    expect(e.code).toBe("scenario-not-found");
    expect(e.message).toBe(
      'requirement payments/refunds has no scenario "Partial refund" in keel/specs/payments/spec.md; its scenarios are: "Full refund", "Too large"',
    );
    expect(errorOf(() => removeScenario(TEXT, SPEC, "payments/refunds", 2)).code).toBe("scenario-not-found");
    expect(errorOf(() => removeScenario(TEXT, SPEC, "payments/refunds", -1)).code).toBe("scenario-not-found");
    expect(errorOf(() => removeScenario(TEXT, SPEC, "PAY-3", 0)).message).toContain(
      "its scenarios are: none",
    );
  });
});

describe("addRequirement", () => {
  it("appends at the end of ## Requirements, with an explicit ID, a marker line and scenarios", () => {
    const out = addRequirement(TEXT, SPEC, {
      title: "Partial payments",
      id: "PAY-9",
      text: "The system SHALL accept partial payments.",
      status: "draft",
      provenance: { origin: "agent", basis: "inferred", tool: "codex-cli" },
      extra: { ticket: "ACME-13" },
      scenarios: [
        {
          name: "Half",
          steps: [
            { keyword: "WHEN", text: "half is paid" },
            { keyword: "THEN", text: "half is open" },
          ],
        },
      ],
    });
    expect(out).toBe(
      TEXT.replace(
        "## Out of Scope",
        [
          "### Requirement: Partial payments {#PAY-9}",
          "> status: draft · origin: agent · inferred · tool: codex-cli · ticket: ACME-13",
          "The system SHALL accept partial payments.",
          "",
          "#### Scenario: Half",
          "- **WHEN** half is paid",
          "- **THEN** half is open",
          "",
          "## Out of Scope",
        ].join("\n"),
      ),
    );
    const added = reqs(out)[3];
    expect(added).toMatchObject({
      id: "PAY-9",
      title: "Partial payments",
      markers: { status: "draft", extra: { ticket: "ACME-13" } },
    });
  });

  it("uses the derived ID without an explicit one and refuses duplicates", () => {
    const out = addRequirement(TEXT, SPEC, {
      title: "Credit notes",
      text: "The system SHALL issue credit notes.",
    });
    expect(reqs(out).map((r) => r.id)).toEqual([
      "PAY-1",
      "payments/refunds",
      "PAY-3",
      "payments/credit-notes",
    ]);
    expect(errorOf(() => addRequirement(out, SPEC, { title: "Credit  notes!", text: "x" })).code).toBe(
      "duplicate-id",
    );
    expect(
      errorOf(() => addRequirement(TEXT, SPEC, { title: "Other", id: "PAY-3", text: "x" })).message,
    ).toBe('keel/specs/payments/spec.md already has a requirement with ID PAY-3 ("Webhooks", line 27)');
  });

  it("refuses bad IDs, titles and marker values", () => {
    expect(errorOf(() => addRequirement(TEXT, SPEC, { title: "X", id: "4PAY", text: "" })).code).toBe(
      "invalid-id",
    );
    expect(errorOf(() => addRequirement(TEXT, SPEC, { title: "X {#PAY-7}", text: "" })).code).toBe(
      "invalid-title",
    );
    expect(errorOf(() => addRequirement(TEXT, SPEC, { title: "a\nb", text: "" })).code).toBe("invalid-title");
    expect(errorOf(() => addRequirement(TEXT, SPEC, { title: " ", text: "" })).code).toBe("invalid-title");
    expect(
      errorOf(() => addRequirement(TEXT, SPEC, { title: "X", text: "", provenance: { actor: "a · b" } }))
        .code,
    ).toBe("invalid-value");
    expect(
      errorOf(() => addRequirement(TEXT, SPEC, { title: "X", text: "", status: "done" as "draft" })).code,
    ).toBe("invalid-value");
    expect(
      errorOf(() => addRequirement(TEXT, SPEC, { title: "X", text: "", extra: { status: "x" } })).code,
    ).toBe("invalid-value");
    expect(
      errorOf(() => addRequirement(TEXT, SPEC, { title: "X", text: "", extra: { ticket: "A" } })).code,
    ).toBe("invalid-value");
  });

  it("creates ## Requirements after ## Purpose when it is missing", () => {
    const text = "# P\n\n## Purpose\nWhy.\n\n## Out of Scope\n- x\n";
    const out = addRequirement(text, SPEC, { title: "A", text: "The system SHALL a." });
    expect(out).toBe(
      "# P\n\n## Purpose\nWhy.\n\n## Requirements\n\n### Requirement: A\nThe system SHALL a.\n\n## Out of Scope\n- x\n",
    );
  });

  it("creates ## Requirements at the end without ## Purpose, keeping CRLF, BOM and the missing final newline", () => {
    const out = addRequirement("\uFEFF# P\r\nIntro.", SPEC, { title: "A", text: "The system SHALL a." });
    expect(out).toBe(
      "\uFEFF# P\r\nIntro.\r\n\r\n## Requirements\r\n\r\n### Requirement: A\r\nThe system SHALL a.",
    );
    expect(addRequirement("", SPEC, { title: "A", text: "T SHALL a." })).toBe(
      "## Requirements\n\n### Requirement: A\nT SHALL a.\n",
    );
  });

  it("adds to the last ## Requirements section when there are several", () => {
    const text = "## Requirements\n### Requirement: A\nx\n\n## Requirements\n### Requirement: B\ny\n";
    const out = addRequirement(text, SPEC, { title: "C", text: "z" });
    expect(out).toBe(`${text}\n### Requirement: C\nz\n`);
  });
});

describe("removeRequirement", () => {
  it("removes the whole block, heading to next heading", () => {
    const out = removeRequirement(TEXT, SPEC, "payments/refunds");
    const start = TEXT.indexOf("### Requirement: Refunds");
    const end = TEXT.indexOf("### Requirement: Webhooks");
    expect(out).toBe(TEXT.slice(0, start) + TEXT.slice(end));
    expect(reqs(out).map((r) => r.id)).toEqual(["PAY-1", "PAY-3"]);
  });

  it("reports a missing or ambiguous requirement", () => {
    const missing = errorOf(() => removeRequirement(TEXT, SPEC, "PAY-404"));
    expect(missing.code).toBe("requirement-not-found");
    expect(missing.message).toBe(
      "no requirement with ID PAY-404 in keel/specs/payments/spec.md; its requirements are: PAY-1, payments/refunds, PAY-3",
    );
    const twice = "## Requirements\n### Requirement: Same\nx\n### Requirement: Same\ny\n";
    const ambiguous = errorOf(() => removeRequirement(twice, SPEC, "payments/same"));
    expect(ambiguous.code).toBe("ambiguous-requirement");
    expect(ambiguous.message).toContain("(lines 2, 4)");
    expect(errorOf(() => removeRequirement("# Empty\n", SPEC, "x")).message).toContain(
      "it has no requirements",
    );
  });
});

describe("setStatus", () => {
  it("inserts a marker line right after the heading when there is none", () => {
    const out = setStatus(TEXT, SPEC, "payments/refunds", "approved");
    expect(out).toBe(
      TEXT.replace("### Requirement: Refunds\n", "### Requirement: Refunds\n> status: approved\n"),
    );
  });

  it("updates the status in place, keeping every other field as written", () => {
    const out = setStatus(TEXT, SPEC, "PAY-1", "deprecated");
    expect(out).toBe(TEXT.replace("> status: approved · origin", "> status: deprecated · origin"));
    expect(setStatus(TEXT, SPEC, "PAY-1", "approved")).toBe(TEXT);
  });

  it("puts a new status first, with the line's own separator", () => {
    const text = "## Requirements\n### Requirement: A\n>origin: human | ticket: T-1  \nx\n";
    expect(setStatus(text, SPEC, "payments/a", "draft")).toBe(
      "## Requirements\n### Requirement: A\n>status: draft | origin: human | ticket: T-1  \nx\n",
    );
  });

  it("removes the status, and the line when nothing is left", () => {
    const text = "## Requirements\n### Requirement: A\n> status: draft\nx\n";
    expect(setStatus(text, SPEC, "payments/a", null)).toBe("## Requirements\n### Requirement: A\nx\n");
    expect(setStatus(TEXT, SPEC, "PAY-1", null)).toBe(
      TEXT.replace("> status: approved · origin", "> origin"),
    );
    expect(setStatus(TEXT, SPEC, "payments/refunds", null)).toBe(TEXT);
  });

  it("moves a known field to the front rather than leave an unknown one first", () => {
    const text = "## Requirements\n### Requirement: A\n> status: draft · ticket: T-1 · origin: human\nx\n";
    expect(setStatus(text, SPEC, "payments/a", null)).toBe(
      "## Requirements\n### Requirement: A\n> origin: human · ticket: T-1\nx\n",
    );
    const only = "## Requirements\n### Requirement: A\n> status: draft · ticket: T-1\nx\n";
    expect(errorOf(() => setStatus(only, SPEC, "payments/a", null)).code).toBe("invalid-value");
  });

  it("fixes an invalid status and refuses an unknown one", () => {
    const text = "## Requirements\n### Requirement: A\n> status: finished\nx\n";
    expect(setStatus(text, SPEC, "payments/a", "approved")).toBe(text.replace("finished", "approved"));
    expect(errorOf(() => setStatus(text, SPEC, "payments/a", "done" as "draft")).code).toBe("invalid-value");
  });
});

describe("setProvenance", () => {
  it("updates, adds and removes fields; unknown fields and the by alias are kept", () => {
    const text =
      "## Requirements\n### Requirement: A\n> status: draft · by: ana · ticket: T-1 · explicit\nx\n";
    const out = setProvenance(text, SPEC, "payments/a", {
      actor: "bob",
      basis: "inferred",
      origin: "agent",
      tool: null,
    });
    expect(out).toBe(
      "## Requirements\n### Requirement: A\n> status: draft · by: bob · ticket: T-1 · inferred · origin: agent\nx\n",
    );
    const m = reqs(out)[0]?.markers;
    expect(m?.provenance).toEqual({ actor: "bob", basis: "inferred", origin: "agent" });
    expect(m?.extra).toEqual({ ticket: "T-1" });
  });

  it("keeps the line untouched when nothing changes", () => {
    expect(setProvenance(TEXT, SPEC, "PAY-1", { origin: "human", basis: "explicit" })).toBe(TEXT);
    expect(setProvenance(TEXT, SPEC, "PAY-1", {})).toBe(TEXT);
    expect(setProvenance(TEXT, SPEC, "PAY-3", { actor: null })).toBe(TEXT);
  });

  it("creates a marker line in canonical order", () => {
    const out = setProvenance(TEXT, SPEC, "PAY-3", {
      at: "2026-11-20",
      origin: "system",
      change: "add-x",
      basis: "explicit",
    });
    expect(out).toBe(
      TEXT.replace("{#PAY-3}\n", "{#PAY-3}\n> origin: system · explicit · change: add-x · at: 2026-11-20\n"),
    );
  });

  it("keeps basis: as a key when it was written as one", () => {
    const text = "## Requirements\n### Requirement: A\n> basis: explicit\nx\n";
    expect(setProvenance(text, SPEC, "payments/a", { basis: "inferred" })).toBe(
      text.replace("explicit", "inferred"),
    );
  });

  it("refuses unknown origins and values that would break the line", () => {
    expect(errorOf(() => setProvenance(TEXT, SPEC, "PAY-1", { origin: "robot" as "human" })).code).toBe(
      "invalid-value",
    );
    expect(errorOf(() => setProvenance(TEXT, SPEC, "PAY-1", { basis: "guess" as "explicit" })).code).toBe(
      "invalid-value",
    );
    for (const bad of ["", " ", "a; b", "a\nb", "a | b"]) {
      expect(errorOf(() => setProvenance(TEXT, SPEC, "PAY-1", { actor: bad })).code).toBe("invalid-value");
    }
  });
});

describe("applyEdit and lineEnding", () => {
  it("dispatches every operation", () => {
    expect(applyEdit(TEXT, SPEC, { op: "set-status", id: "PAY-3", status: "draft" })).toBe(
      setStatus(TEXT, SPEC, "PAY-3", "draft"),
    );
    expect(applyEdit(TEXT, SPEC, { op: "remove-requirement", id: "PAY-3" })).toBe(
      removeRequirement(TEXT, SPEC, "PAY-3"),
    );
    expect(applyEdit(TEXT, SPEC, { op: "replace-text", id: "PAY-3", text: "T SHALL t." })).toContain(
      "T SHALL t.",
    );
    expect(applyEdit(TEXT, SPEC, { op: "remove-scenario", id: "PAY-1", scenario: 0 })).not.toContain(
      "Scenario: Record",
    );
    expect(
      applyEdit(TEXT, SPEC, { op: "add-scenario", id: "PAY-1", scenario: { name: "Z", steps: [] } }),
    ).toContain("Scenario: Z");
    expect(
      applyEdit(TEXT, SPEC, { op: "add-requirement", requirement: { title: "Z", text: "z" } }),
    ).toContain("Requirement: Z");
    expect(
      applyEdit(TEXT, SPEC, { op: "set-provenance", id: "PAY-3", provenance: { origin: "human" } }),
    ).toContain("> origin: human");
  });

  it("detects the file's line ending", () => {
    expect(lineEnding("a\r\nb\nc")).toBe("\r\n");
    expect(lineEnding("a\nb\r\n")).toBe("\n");
    expect(lineEnding("one line")).toBe("\n");
    expect(lineEnding("\r\n")).toBe("\r\n");
    expect(lineEnding("\nx\r\n")).toBe("\n");
  });
});
