// `keel context <task-id>`: the context pack, through the real CLI on a real project — contents and order,
// determinism, trimming to the budget, token counts checked against the tokenizer, and refusals.
// @verifies TSK-12
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { countTokens } from "gpt-tokenizer/encoding/cl100k_base";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keel, type Run } from "./support/cli.js";
import { writeFiles } from "./support/files.js";

const KEY = "add-refunds/1.2";
const SECRET = "TOP-SECRET-OUTSIDE-THE-PROJECT";

/** The contract: long enough that a mid-sized budget has to cut it. */
const CONTRACT = [
  "openapi: 3.1.0",
  "paths:",
  ...Array.from(
    { length: 120 },
    (_, i) => `  /refunds/v${i}:\n    post:\n      summary: Create refund variant ${i}`,
  ),
].join("\n");

const FILES: Record<string, string> = {
  "keel/keel.yaml": "version: 1\n",
  "keel/constitution.md": `# Constitution

## Principles

### Principle: Tests first {#P-1}
Every behaviour change lands with a test that fails without it.
Gate: \`npm test\`

### Principle: No secrets in specs {#P-2}
Specs never hold credentials.
`,
  "keel/specs/payments/spec.md": `# Payments

## Purpose
Money moves.

## Requirements

### Requirement: Charges are recorded {#PAY-1}
> status: approved
The system SHALL record every charge.

#### Scenario: A charge
- **WHEN** a charge succeeds
- **THEN** it is recorded

### Requirement: Receipts are sent {#PAY-2}
> status: approved
The system SHALL send a receipt for every charge.

#### Scenario: A receipt
- **WHEN** a charge is recorded
- **THEN** a receipt is sent

### Requirement: Refunds are idempotent {#PAY-4}
> status: approved
The system SHALL process at most one refund per refund key, as [[PAY-2]] requires, see [[PAY-9]].
The wire format is the [refund contract](../../../docs/contracts/refunds.yaml); the
[old contract](../../../docs/contracts/missing.yaml) is gone, and [this](../../../../secret.txt) is not ours.

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned
`,
  "keel/specs/payments/tasks.md": "## 1. Payments\n\n- [ ] 1.1 Record charges\n- [ ] 1.2 Send receipts\n",
  "keel/changes/add-refunds/proposal.md":
    "## Why\nRefunds are asked for.\n\n## What Changes\n- Add refunds.\n",
  "keel/changes/add-refunds/design.md":
    "# Design\nA unique index on refund_key makes the second insert fail.\n",
  "keel/changes/add-refunds/specs/payments/spec.md": `## ADDED Requirements

### Requirement: Refund receipts {#PAY-5}
> status: proposed
The system SHALL send a receipt for every refund.

#### Scenario: A refund receipt
- **WHEN** a refund is processed
- **THEN** a receipt is sent
`,
  "keel/changes/add-refunds/tasks.md": `## 1. Refunds

- [ ] 1 Refunds end to end
  - covers: PAY-1
  - [x] 1.1 Add the refund key column
  - [ ] 1.2 Write the refund handler
    - covers: PAY-4, PAY-5
    - depends-on: 1.1
    - related: 1.3
    - boundaries: src/refunds/**, migrations/*.sql
    - verify: \`npm test -- refunds\`
    - priority: P1
    - The wire format is in \`docs/contracts/refunds.yaml\`; \`docs/link.txt\` has more.
  - [ ] 1.3 Document refunds
`,
  "docs/contracts/refunds.yaml": `${CONTRACT}\n`,
};

interface Section {
  kind: string;
  ref: string;
  fingerprint?: string;
  tokens: number;
  truncated: boolean;
  text: string;
}
interface Omitted {
  kind: string;
  ref: string;
  reason: string;
  tokens: number | null;
  truncated?: boolean;
}
interface Pack {
  version: number;
  task: string;
  budget: number;
  tokenizer: string;
  sections: Section[];
  omitted: Omitted[];
  footer: string;
  totals: { tokens: number; sections: number; omitted: number; omittedTokens: number; overBudget: boolean };
}

const count = (text: string) => countTokens(text, { disallowedSpecial: new Set() });
const pack = (r: Run): Pack => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Pack;
};
const ids = (p: Pack) => p.sections.map((s) => `${s.kind} ${s.ref}`);

let base: string;
let root: string;
let full: Pack;
let fullText: string;

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), "keel-context-"));
  root = join(base, "project");
  writeFiles(root, FILES);
  // A file outside the project, named by a relative link and reached through a symbolic link inside it.
  writeFileSync(join(base, "secret.txt"), `${SECRET}\n`);
  symlinkSync(join(base, "secret.txt"), join(root, "docs", "link.txt"));
  for (const text of ["Schema is in; the handler is next.", "Handler half done: see the TODO in refunds.ts."])
    expect(keel(root, "tasks", "note", KEY, text, "--as", "agent:a1").code).toBe(0);
  fullText = keel(root, "context", KEY).stdout;
  full = pack(keel(root, "context", KEY, "--json"));
});

afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe("keel context", () => {
  it("packs the task, its requirements, boundaries, verification, notes, constitution and references, in order", () => {
    expect(full).toMatchObject({ version: 1, task: KEY, budget: 8000, tokenizer: "cl100k_base" });
    expect(ids(full)).toEqual([
      `task ${KEY}`,
      "requirement PAY-4",
      "requirement PAY-5",
      "requirement PAY-1",
      `boundaries ${KEY}`,
      `verification ${KEY}`,
      `dependencies ${KEY}`,
      `notes ${KEY}`,
      "principle P-1",
      "principle P-2",
      "design keel/changes/add-refunds/design.md",
      "design keel/changes/add-refunds/proposal.md",
      "file docs/contracts/refunds.yaml",
      "reference PAY-2",
      "related add-refunds/1.3",
    ]);
    expect(full.totals).toMatchObject({ sections: 15, overBudget: false });
    expect(full.sections.every((s) => !s.truncated)).toBe(true);

    const text = (kind: string, ref?: string) =>
      full.sections.find((s) => s.kind === kind && (ref === undefined || s.ref === ref))?.text ?? "";
    expect(text("task")).toContain("## Task add-refunds/1.2: Write the refund handler");
    expect(text("task")).toContain("- status: open · priority: P1 · phase: 1. Refunds");
    expect(text("task")).toContain("- source: keel/changes/add-refunds/tasks.md:6");
    expect(text("task")).toContain("- parents: add-refunds/1 Refunds end to end");
    // Fingerprints are the model's: the same as `keel show` reports.
    const shown = JSON.parse(keel(root, "show", "PAY-4", "--json").stdout).item;
    expect(full.sections[1]?.fingerprint).toBe(shown.fingerprint);
    expect(text("requirement", "PAY-4")).toContain(
      `- status: approved · fingerprint: ${shown.fingerprint} · keel/specs/payments/spec.md:${shown.line}`,
    );
    expect(text("requirement", "PAY-4")).toContain("#### Scenario: Duplicate refund request");
    expect(text("requirement", "PAY-5")).toContain("ADDED by change add-refunds");
    expect(text("requirement", "PAY-5")).toContain("keel/changes/add-refunds/specs/payments/spec.md:3");
    expect(text("requirement", "PAY-1")).toContain("covered via add-refunds/1");
    expect(text("boundaries")).toContain("- `src/refunds/**`\n- `migrations/*.sql`");
    expect(text("verification")).toContain("- `npm test -- refunds`");
    expect(text("dependencies")).toContain("- [x] add-refunds/1.1: Add the refund key column (done;");
    // Notes left through `keel tasks note`, newest first.
    const notes = text("notes");
    expect(notes.indexOf("Handler half done")).toBeGreaterThan(0);
    expect(notes.indexOf("Handler half done")).toBeLessThan(notes.indexOf("Schema is in"));
    expect(text("principle", "P-1")).toContain("### P-1: Tests first (gate: `npm test`)");
    expect(text("design", "keel/changes/add-refunds/design.md")).toContain("A unique index on refund_key");
    // Referenced from the task (backticks) and from PAY-4 (a relative link): included once, fenced.
    expect(text("file")).toContain("### docs/contracts/refunds.yaml (referenced by the task, PAY-4)");
    expect(text("file")).toContain("summary: Create refund variant 119\n```");
    expect(text("reference", "PAY-2")).toContain("The system SHALL send a receipt for every charge.");
    expect(text("related")).toContain("add-refunds/1.3: Document refunds (open;");

    // What could not be included is named, and nothing outside the project was read.
    expect(full.omitted).toEqual([
      { kind: "file", ref: "docs/link.txt", reason: "outside-project", tokens: null },
      { kind: "file", ref: "docs/contracts/missing.yaml", reason: "missing", tokens: null },
      { kind: "file", ref: "../secret.txt", reason: "outside-project", tokens: null },
      { kind: "reference", ref: "PAY-9", reason: "unknown-requirement", tokens: null },
    ]);
    expect(fullText).not.toContain(SECRET);
    expect(fullText).toContain("file docs/contracts/missing.yaml (referenced but not found)");
    expect(fullText).toContain("file ../secret.txt (outside the project, not read)");
  });

  it("prints the same bytes every time, and the Markdown is the JSON's sections and footer", () => {
    expect(keel(root, "context", KEY).stdout).toBe(fullText);
    expect(fullText).toBe(`${[...full.sections.map((s) => s.text), full.footer].join("\n\n")}\n`);
    expect(fullText.startsWith("# Context pack: add-refunds/1.2\n")).toBe(true);
  });

  it("reports token counts that are the tokenizer's count of what it prints", () => {
    expect(full.totals.tokens).toBe(count(fullText));
    for (const s of full.sections) expect(s.tokens).toBe(count(s.text));
    // Sections and footer add up to the total within one token per section boundary (docs/cli.md#context).
    const parts = full.sections.reduce((n, s) => n + s.tokens, 0) + count(full.footer);
    expect(Math.abs(parts - full.totals.tokens)).toBeLessThanOrEqual(full.sections.length + 1);
  });

  it("trims the least relevant material first, cuts the last kept item at a line, and says what it left out", () => {
    const byRef = new Map(full.sections.map((s) => [`${s.kind} ${s.ref}`, s]));
    const fileAt = ids(full).indexOf("file docs/contracts/refunds.yaml");
    const before = full.sections.slice(0, fileAt).reduce((n, s) => n + s.tokens + 1, 0);
    const contract = byRef.get("file docs/contracts/refunds.yaml") as Section;
    // Everything up to the contract, half the contract, and room for the footer.
    const budget = before + Math.floor(contract.tokens / 2) + 150;
    const text = keel(root, "context", KEY, "--budget", String(budget));
    const p = pack(keel(root, "context", KEY, "--budget", String(budget), "--json"));
    expect(text.stdout).toBe(`${[...p.sections.map((s) => s.text), p.footer].join("\n\n")}\n`);
    expect(count(text.stdout)).toBe(p.totals.tokens);
    expect(p.totals.tokens).toBeLessThanOrEqual(budget);
    expect(p.totals.overBudget).toBe(false);

    // A prefix of the full pack: whole sections, then the contract cut at a line boundary with a marker.
    expect(ids(p)).toEqual(ids(full).slice(0, fileAt + 1));
    expect(p.sections.slice(0, fileAt).map((s) => s.text)).toEqual(
      full.sections.slice(0, fileAt).map((s) => s.text),
    );
    const cut = p.sections[fileAt] as Section;
    expect(cut.truncated).toBe(true);
    expect(cut.text).toMatch(/\n```\n… \[\d+ more lines left out to fit the token budget\]$/);
    expect(contract.text.startsWith(cut.text.slice(0, cut.text.lastIndexOf("\n```\n")))).toBe(true);

    // The omitted list: the cut contract, then the left-out sections least relevant last, with their cost.
    const budgetOmitted = p.omitted.filter((o) => o.reason === "budget");
    expect(budgetOmitted).toEqual([
      {
        kind: "file",
        ref: "docs/contracts/refunds.yaml",
        reason: "budget",
        tokens: contract.tokens - cut.tokens,
        truncated: true,
      },
      { kind: "reference", ref: "PAY-2", reason: "budget", tokens: byRef.get("reference PAY-2")?.tokens },
      {
        kind: "related",
        ref: "add-refunds/1.3",
        reason: "budget",
        tokens: byRef.get("related add-refunds/1.3")?.tokens,
      },
    ]);
    const dropped = (budgetOmitted[1]?.tokens ?? 0) + (budgetOmitted[2]?.tokens ?? 0);
    expect(p.footer).toContain(
      `Left out, over the budget (${dropped} tokens): reference PAY-2; related add-refunds/1.3`,
    );
    expect(p.footer).toContain(
      `Cut short, over the budget (${contract.tokens - cut.tokens} tokens): file docs/contracts/refunds.yaml`,
    );
    expect(text.stdout).toContain(p.footer);
  });

  it("keeps the task and every covered requirement's ID and fingerprint under any budget", () => {
    const check = (r: Run, budget: number): Pack => {
      const p = pack(r);
      expect(ids(p)).toEqual(ids(full).slice(0, 4));
      expect(p.sections[0]?.text).toBe(full.sections[0]?.text);
      for (const [i, id] of ["PAY-4", "PAY-5", "PAY-1"].entries()) {
        const s = p.sections[i + 1] as Section;
        expect(s.fingerprint).toBe(full.sections[i + 1]?.fingerprint);
        expect(s.text).toContain(`### ${id}: `);
        expect(s.text).toContain(`fingerprint: ${s.fingerprint}`);
      }
      // Everything else is in the omitted list, in order: cut requirements and left-out sections alike.
      expect(p.omitted.filter((o) => o.reason === "budget").map((o) => `${o.kind} ${o.ref}`)).toEqual(
        ids(full).filter((id) => !p.sections.some((s) => `${s.kind} ${s.ref}` === id && !s.truncated)),
      );
      expect(p.budget).toBe(budget);
      return p;
    };
    // Below what even that needs: printed anyway, flagged, with a warning.
    const tiny = keel(root, "context", KEY, "--budget", "10", "--json");
    const least = check(tiny, 10);
    expect(least.totals.overBudget).toBe(true);
    expect(least.sections.slice(1).every((s) => s.truncated)).toBe(true);
    expect(tiny.stderr).toContain(`needs ${least.totals.tokens} tokens, over the budget of 10`);
    expect(least.footer).toContain("Over budget:");
    // A little more: the requirements' texts come back first, cut at a line, and the budget holds.
    const budget = least.totals.tokens + 40;
    const some = check(keel(root, "context", KEY, "--budget", String(budget), "--json"), budget);
    expect(some.totals.overBudget).toBe(false);
    expect(some.totals.tokens).toBeLessThanOrEqual(budget);
    const first = some.sections.findIndex((s) => s.truncated);
    expect(first).toBeGreaterThan(0);
    expect((some.sections[first] as Section).text.length).toBeGreaterThan(
      (least.sections[first] as Section).text.length,
    );
    // Only that one is cut at a line: the ones after it are down to their ID and fingerprint.
    for (let i = first + 1; i < 4; i++) expect(some.sections[i]?.text).toBe(least.sections[i]?.text);
  });

  it("refuses an unknown or ambiguous task and a bad budget with exit code 2, and creates no state", () => {
    const unknown = keel(root, "context", "add-refunds/1.9");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown task: add-refunds/1.9");
    expect(unknown.stderr).toMatch(/did you mean add-refunds\/1\.[0-9]/);

    const ambiguous = JSON.parse(keel(root, "context", "1.2", "--json").stdout);
    expect(ambiguous).toMatchObject({ ok: false, exitCode: 2 });
    expect(ambiguous.error.message).toBe("task id 1.2 is ambiguous: payments/1.2, add-refunds/1.2");

    for (const bad of ["0", "-5", "1.5", "lots"]) {
      const r = keel(root, "context", KEY, `--budget=${bad}`);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toContain("--budget must be a positive whole number of tokens");
    }

    // A project where no claim or note was ever made: the pack is built without creating the state database.
    const fresh = join(base, "fresh");
    mkdirSync(join(fresh, "keel", "specs", "shop"), { recursive: true });
    writeFileSync(join(fresh, "keel", "keel.yaml"), "version: 1\n");
    writeFileSync(join(fresh, "keel", "specs", "shop", "tasks.md"), "- [ ] 1 Build the shop\n");
    const r = keel(fresh, "context", "shop/1");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("- none: the task covers no requirement");
    expect(existsSync(join(fresh, ".keel"))).toBe(false);
  });
});
