// Three-way merge of requirements and of whole specs (src/core/changes/merge.ts), and the block edits the
// apply builds on (src/core/changes/blocks.ts). Pure functions: no files.
import { describe, expect, it } from "vitest";
import {
  insertBlock,
  joinParts,
  parseBlock,
  removeBlock,
  renameBlock,
  replaceBlock,
  splitBlock,
} from "../src/core/changes/blocks.js";
import { merge3, mergeRequirement, mergeSpec } from "../src/core/changes/merge.js";
import { parseSpec } from "../src/format/spec.js";

const BASE = `### Requirement: Refunds are idempotent {#PAY-4}
> status: approved · origin: human · actor: alice
The system SHALL process at most one refund per refund key. Refunds are logged.

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned

#### Scenario: Unknown key
- **WHEN** a request names an unknown key
- **THEN** it is refused
`;

const edit = (from: string, to: string, text = BASE) => {
  if (!text.includes(from)) throw new Error(`fixture lacks ${from}`);
  return text.replace(from, to);
};

// @verifies CHG-4, CHG-5
describe("mergeRequirement", () => {
  it("takes the only side that changed", () => {
    const ours = edit("per refund key", "for each refund key");
    expect(mergeRequirement(BASE, ours, BASE, "pay")).toEqual({ ok: true, block: ours, how: "ours" });
    expect(mergeRequirement(BASE, BASE, ours, "pay")).toEqual({ ok: true, block: ours, how: "theirs" });
    expect(mergeRequirement(BASE, ours, ours, "pay")).toMatchObject({ ok: true, block: ours });
  });

  it("merges edits of different sentences of the normative text", () => {
    const ours = edit("per refund key.", "for each refund key.");
    const theirs = edit("Refunds are logged.", "Refunds are logged with their amount.");
    const r = mergeRequirement(BASE, ours, theirs, "pay");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.block).toContain(
      "at most one refund for each refund key. Refunds are logged with their amount.",
    );
    expect(r.how).toBe("merged");
  });

  it("merges a text edit with a scenario edit, and keeps a scenario only one side added", () => {
    const ours = edit("per refund key", "for each key");
    const theirs =
      edit("- **THEN** it is refused", "- **THEN** it is refused\n- **AND** the refusal is logged") +
      "\n#### Scenario: Expired key\n- **WHEN** a key older than a year arrives\n- **THEN** it is refused\n";
    const r = mergeRequirement(BASE, ours, theirs, "pay");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const req = parseBlock(r.block, "pay")?.req;
    expect(req?.text).toContain("for each key");
    expect(req?.scenarios.map((s) => s.name)).toEqual([
      "Duplicate refund request",
      "Unknown key",
      "Expired key",
    ]);
    expect(req?.scenarios[1]?.steps.map((s) => s.keyword)).toEqual(["WHEN", "THEN", "AND"]);
  });

  it("reports the same sentence changed on both sides as a conflict on the normative text", () => {
    const ours = edit("at most one refund", "exactly one refund");
    const theirs = edit("at most one refund", "no more than one refund");
    expect(mergeRequirement(BASE, ours, theirs, "pay")).toEqual({ ok: false, parts: ["normative text"] });
  });

  it("reports the same scenario step changed on both sides, naming the scenario", () => {
    const ours = edit("the original refund result is returned", "the first result is returned");
    const theirs = edit("the original refund result is returned", "the original result is returned again");
    expect(mergeRequirement(BASE, ours, theirs, "pay")).toEqual({
      ok: false,
      parts: ['scenario "Duplicate refund request"'],
    });
  });

  it("merges different steps of one scenario", () => {
    const ours = edit(
      "- **GIVEN** a refund with key K was processed",
      "- **GIVEN** a refund with key K was paid",
    );
    const theirs = edit(
      "- **THEN** the original refund result is returned",
      "- **THEN** the first result is returned",
    );
    const r = mergeRequirement(BASE, ours, theirs, "pay");
    expect(r.ok && r.block).toContain(
      "was paid\n- **WHEN** a second request with key K arrives\n- **THEN** the first result",
    );
  });

  it("treats a scenario removed on one side and changed on the other as a conflict", () => {
    const ours = `${BASE.slice(0, BASE.indexOf("#### Scenario: Unknown key")).trimEnd()}\n`;
    const theirs = edit("it is refused", "it is refused with 404");
    const r = mergeRequirement(BASE, ours, theirs, "pay");
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.parts[0]).toContain('scenario "Unknown key"');
    // Removed on one side, untouched on the other: removed.
    const ok = mergeRequirement(BASE, ours, edit("per refund key", "per key"), "pay");
    expect(ok.ok && parseBlock(ok.block, "pay")?.req.scenarios.length).toBe(1);
  });

  it("handles absent versions: removed vs changed is a conflict, removed vs unchanged is a removal", () => {
    const changed = edit("per refund key", "per key");
    expect(mergeRequirement(BASE, "", changed, "pay")).toEqual({
      ok: false,
      parts: ["removed on our side, changed on theirs"],
    });
    expect(mergeRequirement(BASE, changed, "", "pay")).toEqual({
      ok: false,
      parts: ["changed on our side, removed on theirs"],
    });
    expect(mergeRequirement(BASE, BASE, "", "pay")).toEqual({ ok: true, block: "", how: "theirs" });
    expect(mergeRequirement("", changed, BASE, "pay")).toEqual({
      ok: false,
      parts: ["added on both sides with different content"],
    });
  });

  it("does not conflict on the marker line (provenance is re-stamped on apply)", () => {
    const ours = edit("actor: alice", "actor: bob");
    const theirs = edit("actor: alice", "actor: carol · change: x").replace("per refund key", "per key");
    const r = mergeRequirement(BASE, ours, theirs, "pay");
    expect(r.ok && r.block).toContain("per key");
  });
});

describe("merge3", () => {
  it("merges adjacent changes and conflicts only on overlapping ones", () => {
    expect(merge3(["a", "b", "c"], ["A", "b", "c"], ["a", "B", "c"])).toEqual([{ ok: ["A", "B", "c"] }]);
    expect(merge3(["a", "b"], ["a", "x", "b"], ["a", "y", "b"])).toEqual([
      { ok: ["a"] },
      { conflict: { o: [], a: ["x"], b: ["y"] } },
      { ok: ["b"] },
    ]);
    expect(merge3(["a", "b"], ["a", "x", "b"], ["a", "x", "b"])).toEqual([{ ok: ["a", "x", "b"] }]);
    expect(merge3(["a"], ["b"], ["c"])).toEqual([{ conflict: { o: ["a"], a: ["b"], b: ["c"] } }]);
  });
});

const req = (n: number, text = `The system SHALL handle case ${n}.`) =>
  `### Requirement: Case ${n} {#C-${n}}\n${text}\n\n#### Scenario: Case ${n} happens\n- **WHEN** case ${n} happens\n- **THEN** it is handled\n`;
const spec = (reqs: string[], purpose = "Cases the system handles, one requirement each.") =>
  `# Cases\n\n## Purpose\n${purpose}\n\n## Requirements\n\n${reqs.join("\n")}\n## Out of Scope\n- Nothing else.\n`;

// @verifies CHG-10
describe("mergeSpec", () => {
  const base = spec([req(1), req(2), req(3)]);

  it("merges edits of different requirements, adjacent ones included", () => {
    const ours = spec([req(1, "The system SHALL handle case one."), req(2), req(3)]);
    const theirs = spec([req(1), req(2, "The system SHALL handle case two."), req(3)]);
    const m = mergeSpec(base, ours, theirs, "cases");
    expect(m.conflicts).toEqual([]);
    expect(m.otherConflicts).toBe(0);
    expect(m.text).toBe(
      spec([
        req(1, "The system SHALL handle case one."),
        req(2, "The system SHALL handle case two."),
        req(3),
      ]),
    );
  });

  it("keeps requirements both sides added at the same place, and a removal on one side", () => {
    const ours = spec([req(1), req(2), req(3), req(4)]);
    const theirs = spec([req(2), req(3), req(5)]);
    const m = mergeSpec(base, ours, theirs, "cases");
    expect(m.conflicts).toEqual([]);
    expect(parseSpec(m.text, "s.md", "cases").spec.requirements.map((r) => r.id)).toEqual([
      "C-2",
      "C-3",
      "C-4",
      "C-5",
    ]);
  });

  it("confines a conflict to the requirement block, and merges the rest", () => {
    const ours = spec(
      [req(1, "The system SHALL handle case 1 quickly."), req(2, "The system SHALL handle case two.")],
      "Ours.",
    );
    const theirs = spec([req(1, "The system SHALL handle case 1 slowly."), req(2), req(3)]);
    const m = mergeSpec(spec([req(1), req(2), req(3)]), ours, theirs, "cases");
    expect(m.conflicts.map((c) => c.id)).toEqual(["C-1"]);
    expect(m.conflicts[0]?.base).toBe(`${req(1)}\n`);
    const lines = m.text.split("\n");
    const open = lines.indexOf("<<<<<<< ours");
    const close = lines.indexOf(">>>>>>> theirs");
    expect(open).toBeGreaterThan(0);
    expect(lines[open + 1]).toBe("### Requirement: Case 1 {#C-1}");
    expect(lines.slice(open, close + 1).filter((l) => l.startsWith("### Requirement:"))).toHaveLength(2);
    expect(lines.slice(open, close + 1).every((l) => !l.includes("C-2"))).toBe(true);
    expect(m.text).toContain("Ours.");
    expect(m.text).toContain("handle case two.");
    expect(m.text).not.toContain("Case 3 {#C-3}");
  });

  it("keeps CRLF line endings of our side", () => {
    const crlf = (t: string) => t.replace(/\n/g, "\r\n");
    const m = mergeSpec(
      crlf(base),
      crlf(spec([req(1, "The system SHALL handle case one."), req(2), req(3)])),
      crlf(spec([req(1), req(2), req(3, "The system SHALL handle case three.")])),
      "cases",
    );
    expect(m.text).toBe(
      crlf(
        spec([
          req(1, "The system SHALL handle case one."),
          req(2),
          req(3, "The system SHALL handle case three."),
        ]),
      ),
    );
  });
});

describe("block edits", () => {
  const text = spec([req(1), req(2), req(3)]);
  const ref = { capability: "cases", file: "spec.md" };

  it("splits a block into parts that join back byte for byte", () => {
    for (const raw of [
      BASE,
      req(1),
      "### Requirement: Bare\n",
      "### Requirement: X\r\n> status: draft\r\nText SHALL.\r\n\r\n",
    ]) {
      const parts = splitBlock(raw, "pay");
      expect(parts && joinParts(parts)).toBe(raw.replace(/\r\n/g, "\n") + (raw.endsWith("\n") ? "" : "\n"));
    }
  });

  it("replaces, inserts, renames and removes one block, leaving every other byte alone", () => {
    const replaced = replaceBlock(text, ref, "C-2", req(2, "The system SHALL handle case two."));
    expect(replaced).toBe(spec([req(1), req(2, "The system SHALL handle case two."), req(3)]));
    const inserted = insertBlock(text, ref, req(4));
    expect(inserted).toBe(spec([req(1), req(2), req(3), req(4)]));
    const renamed = renameBlock(text, ref, "C-2", "Second case");
    expect(renamed.text).toBe(
      text.replace("### Requirement: Case 2 {#C-2}", "### Requirement: Second case {#C-2}"),
    );
    expect(removeBlock(text, ref, "C-2")).toBe(spec([req(1), req(3)]));
  });

  it("refuses a block that would break the spec's structure", () => {
    expect(() => replaceBlock(text, ref, "C-2", `${req(2)}\n## Sneaky section\n`)).toThrow(/edit refused/);
    expect(() => replaceBlock(text, ref, "C-2", req(1))).toThrow(/ID C-1, expected C-2/);
    expect(() => insertBlock(text, ref, "not a requirement")).toThrow(/edit refused/);
  });
});
