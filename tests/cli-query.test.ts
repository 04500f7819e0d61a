// `keel list`, `keel show`, `keel search` and `keel status` end to end: the real bundle (dist/keel.mjs, built
// by tests/setup/build.ts) run as child processes on projects written to a temporary folder. Output in both
// formats, exit codes, and the query index: incremental, rebuilt when corrupt, safe under concurrent refreshes.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, keel, keelAsync, type Run } from "./support/cli.js";
import { writeFile as write } from "./support/files.js";

const Database = createRequire(import.meta.url)("better-sqlite3") as typeof import("better-sqlite3");

// biome-ignore lint/suspicious/noExplicitAny: parsed CLI output, checked field by field
function json(run: Run): any {
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-cli-query-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function project(files: Record<string, string>): string {
  const root = join(tmp, `p${++counter}`);
  for (const [rel, text] of Object.entries(files)) write(root, rel, text);
  return root;
}

const PAYMENTS = `---
status: approved
---
# Payments Specification

## Purpose
Records payments against invoices and refunds them when asked.

## Requirements

### Requirement: Refunds are idempotent {#PAY-4}
> status: approved · origin: agent · inferred · actor: codex-7 · tool: codex-cli · model: gpt-5 · change: add-refunds · at: 2026-11-20
When a refund request arrives, the system SHALL process at most one refund per refund key. See [[PAY-1]].

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned
- **AND** no money moves

### Requirement: Record a bank transfer {#PAY-1}
> status: approved · origin: human · explicit
The system SHALL record a bank transfer against exactly one invoice.

#### Scenario: Transfer recorded
- **WHEN** an accountant records a transfer for invoice 7
- **THEN** invoice 7 shows the transfer

### Requirement: Card payments
The system SHALL take card payments through the provider's hosted checkout page, and mention refunds in the receipt.

#### Scenario: Card payment completes
- **WHEN** the provider confirms a card payment
- **THEN** the invoice is marked paid
`;

const INVOICES = `# Invoices Specification

## Purpose
Creates and numbers invoices.

## Requirements

### Requirement: Invoice numbers are sequential {#INV-1}
> status: draft · origin: human
The system SHALL number invoices sequentially per workspace, without gaps.

#### Scenario: Next number
- **GIVEN** the last invoice is number 41
- **WHEN** a new invoice is created
- **THEN** it is number 42
`;

const delta = (title: string) => `## MODIFIED Requirements

### Requirement: Record a bank transfer {#PAY-1}
The system SHALL record a bank transfer against one or more invoices (${title}).

#### Scenario: Transfer recorded
- **WHEN** an accountant records a transfer for invoice 7
- **THEN** invoice 7 shows the transfer
`;

const SHOP: Record<string, string> = {
  "keel/keel.yaml": "version: 1\nproject: acme-shop\n",
  "keel/constitution.md":
    "# Constitution\n\n## Principles\n\n### Principle: Money is exact {#P-1}\nAmounts are integers in cents.\nGate: `npm test`\n\n### Principle: Small changes {#P-2}\nOne concern per change.\n",
  "keel/specs/payments/spec.md": PAYMENTS,
  "keel/specs/invoices/spec.md": INVOICES,
  "keel/changes/split-transfers/proposal.md":
    "## Why\nOne transfer pays several invoices.\n\n## What Changes\n- **payments**: split transfers.\n",
  "keel/changes/split-transfers/tasks.md": "- [x] 1.1 Model\n- [x] 1.2 API\n- [ ] 1.3 UI\n",
  "keel/changes/split-transfers/specs/payments/spec.md": delta("split"),
  "keel/changes/transfer-fees/proposal.md":
    "## Why\nBanks charge fees.\n\n## What Changes\n- **payments**: record fees.\n",
  "keel/changes/transfer-fees/tasks.md": "- [ ] 1.1 Fees\n",
  "keel/changes/transfer-fees/specs/payments/spec.md": delta("fees"),
  "keel/changes/archive/2026-02-01-add-invoices/proposal.md":
    "## Why\nInvoices.\n\n## What Changes\n- **invoices**: new.\n",
};

// @verifies QRY-1, QRY-5
describe("keel list", () => {
  it("lists specs and open changes by default, as tables", () => {
    const root = project(SHOP);
    const run = keel(root, "list");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.split("\n");
    expect(lines[0]).toMatch(/^CAPABILITY\s+REQS\s+STATUS\s+FILE$/);
    expect(lines[1]).toMatch(/^invoices\s+1\s+-\s+keel\/specs\/invoices\/spec\.md$/);
    expect(lines[2]).toMatch(/^payments\s+3\s+approved\s+keel\/specs\/payments\/spec\.md$/);
    expect(run.stdout).toMatch(
      /^split-transfers\s+draft\s+2\/3\s+\+0 ~1 -0 →0\s+keel\/changes\/split-transfers$/m,
    );
    expect(run.stdout).toMatch(/^transfer-fees\s+draft\s+0\/1\s/m);
    expect(run.stdout).not.toContain("add-invoices");
  });

  it("gives JSON with the documented fields, and filters", () => {
    const root = project(SHOP);
    const all = json(keel(root, "list", "--json"));
    expect(all.version).toBe(1);
    expect(all.specs[1]).toEqual({
      capability: "payments",
      title: "Payments Specification",
      status: "approved",
      requirements: 3,
      file: "keel/specs/payments/spec.md",
      layout: "keel",
      problem: null,
    });
    expect(all.changes.map((c: { id: string }) => c.id)).toEqual(["split-transfers", "transfer-fees"]);
    expect(all.requirements).toBeUndefined();
    expect(all.index).toMatchObject({ check: "full", rebuilt: true, persistent: true });

    const reqs = json(keel(root, "list", "requirements", "--json"));
    expect(reqs.specs).toBeUndefined();
    expect(reqs.requirements[0]).toEqual({
      id: "INV-1",
      title: "Invoice numbers are sequential",
      status: "draft",
      origin: "human",
      fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/),
      capability: "invoices",
      file: "keel/specs/invoices/spec.md",
      line: 8,
      col: 1,
    });
    const approved = json(keel(root, "list", "requirements", "--status", "approved", "--json"));
    expect(approved.requirements.map((r: { id: string }) => r.id)).toEqual(["PAY-4", "PAY-1"]);
    const unset = json(keel(root, "list", "requirements", "--status", "none", "--json"));
    expect(unset.requirements.map((r: { id: string }) => r.id)).toEqual(["payments/card-payments"]);
    const inv = json(keel(root, "list", "requirements", "--capability", "invoices", "--json"));
    expect(inv.requirements.map((r: { id: string }) => r.id)).toEqual(["INV-1"]);
    const archived = json(keel(root, "list", "changes", "--archived", "--json"));
    expect(archived.changes.map((c: { id: string; archived: boolean }) => [c.id, c.archived])).toEqual([
      ["split-transfers", false],
      ["transfer-fees", false],
      ["2026-02-01-add-invoices", true],
    ]);
    const touching = json(keel(root, "list", "changes", "--capability", "invoices", "--json"));
    expect(touching.changes).toEqual([]);
  });

  it("prints the requirements table with ID, status, origin, fingerprint and location", () => {
    const root = project(SHOP);
    const run = keel(root, "list", "requirements");
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^ID\s+STATUS\s+ORIGIN\s+FINGERPRINT\s+LOCATION\s+TITLE$/);
    expect(run.stdout).toMatch(
      /^PAY-4\s+approved\s+agent\s+[0-9a-f]{16}\s+keel\/specs\/payments\/spec\.md:11\s+Refunds are idempotent$/m,
    );
    expect(run.stdout).toMatch(/^payments\/card-payments\s+-\s+-\s+/m);
  });

  it("rejects an unknown kind, status or flag with exit code 2", () => {
    const root = project(SHOP);
    for (const args of [
      ["list", "things"],
      ["list", "requirements", "--status", "shipped"],
      ["list", "specs", "--archived"],
      ["list", "--frobnicate"],
    ]) {
      const run = keel(root, ...args);
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr).toMatch(/^error: /);
      expect(run.stdout).toBe("");
    }
  });
});

// @verifies QRY-2, QRY-5
describe("keel show", () => {
  it("shows a requirement with status, provenance, fingerprint, EARS, location, text and scenarios", () => {
    const root = project(SHOP);
    const run = keel(root, "show", "PAY-4");
    expect(run.code).toBe(0);
    const out = run.stdout;
    expect(out.split("\n")[0]).toBe("PAY-4  Refunds are idempotent");
    expect(out).toMatch(/^ {2}status\s+approved$/m);
    expect(out).toMatch(
      /^ {2}provenance\s+origin agent · inferred · actor codex-7 · tool codex-cli · model gpt-5 · change add-refunds · at 2026-11-20$/m,
    );
    expect(out).toMatch(/^ {2}fingerprint\s+[0-9a-f]{16}$/m);
    expect(out).toMatch(/^ {2}EARS\s+event$/m);
    expect(out).toMatch(/^ {2}location\s+keel\/specs\/payments\/spec\.md:11:1$/m);
    expect(out).toContain("the system SHALL process at most one refund per refund key. See [[PAY-1]].");
    expect(out).toContain("Scenario: Duplicate refund request\n  GIVEN a refund with key K was processed\n");
    expect(out).toContain("  AND no money moves");
  });

  // @verifies FMT-5, FMT-6
  it("gives the requirement as JSON without raw text or spans, with file and line", () => {
    const root = project(SHOP);
    const out = json(keel(root, "show", "PAY-4", "--json"));
    expect(out).toMatchObject({ version: 1, kind: "requirement", duplicates: [] });
    expect(out.item).toMatchObject({
      id: "PAY-4",
      explicitId: true,
      title: "Refunds are idempotent",
      capability: "payments",
      file: "keel/specs/payments/spec.md",
      line: 11,
      col: 1,
      status: "approved",
      provenance: {
        origin: "agent",
        basis: "inferred",
        actor: "codex-7",
        tool: "codex-cli",
        model: "gpt-5",
        change: "add-refunds",
        at: "2026-11-20",
      },
      ears: "event",
      references: ["PAY-1"],
    });
    expect(out.item.scenarios[0].steps.map((s: { keyword: string }) => s.keyword)).toEqual([
      "GIVEN",
      "WHEN",
      "THEN",
      "AND",
    ]);
    expect(JSON.stringify(out.item)).not.toMatch(/"(raw|span|headingSpan|textSpan)"/);
  });

  it("shows a derived ID, a spec and a change", () => {
    const root = project(SHOP);
    const derived = json(keel(root, "show", "payments/card-payments", "--json"));
    expect(derived.item).toMatchObject({ title: "Card payments", explicitId: false, status: null });
    const spec = keel(root, "show", "payments");
    expect(spec.code).toBe(0);
    expect(spec.stdout).toContain("Requirements (3)");
    expect(spec.stdout).toMatch(/^ {2}PAY-4\s+approved\s+Refunds are idempotent/m);
    expect(json(keel(root, "show", "payments", "--json"))).toMatchObject({
      kind: "spec",
      item: {
        capability: "payments",
        status: "approved",
        purpose: expect.stringContaining("Records payments"),
      },
    });
    const change = keel(root, "show", "split-transfers");
    expect(change.code).toBe(0);
    expect(change.stdout).toMatch(/^ {2}tasks\s+2\/3 done$/m);
    expect(change.stdout).toMatch(/^ {2}MODIFIED\s+PAY-1\s+Record a bank transfer$/m);
  });

  it("exits 2 on an unknown ID and suggests the closest ones", () => {
    const root = project(SHOP);
    const run = keel(root, "show", "PAY4");
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain('error: no requirement, spec or change "PAY4"');
    expect(run.stderr).toMatch(/hint: did you mean "PAY-4"/);
    const asJson = keel(root, "show", "pay-1", "--json");
    expect(asJson.code).toBe(2);
    const err = JSON.parse(asJson.stdout);
    expect(err).toMatchObject({ ok: false, exitCode: 2, error: { code: "usage" } });
    expect(err.error.hint).toContain('"PAY-1"');
    expect(keel(root, "show").code).toBe(2);
    expect(keel(root, "show", "a", "b").code).toBe(2);
  });

  // @verifies OSC-1, OSC-2
  it("reads an OpenSpec project natively, by derived ID", () => {
    const root = project({
      "openspec/specs/payments/spec.md": PAYMENTS.replace(/ \{#PAY-\d\}/g, ""),
    });
    const out = json(keel(root, "show", "payments/refunds-are-idempotent", "--json"));
    expect(out.item).toMatchObject({
      id: "payments/refunds-are-idempotent",
      file: "openspec/specs/payments/spec.md",
    });
  });
});

// @verifies QRY-3, QRY-5
describe("keel search", () => {
  it("ranks title hits first and highlights matches in snippets", () => {
    const root = project(SHOP);
    const run = keel(root, "search", "refund");
    expect(run.code).toBe(0);
    const lines = run.stdout.split("\n");
    // Title hit first; the card requirement only mentions refunds in its text; the spec's purpose too.
    expect(lines[0]).toBe("1. PAY-4  **Refunds** are idempotent  keel/specs/payments/spec.md:11");
    expect(lines[1]).toContain("at most one **refund** per **refund** key");
    expect(run.stdout).toContain("payments/card-payments  Card payments");
    expect(run.stdout).toContain("payments (purpose)");
    expect(run.stdout.trimEnd()).toMatch(/\n\n3 matches$/);
  });

  it("gives ranked JSON with score, snippet and highlight offsets, limited by --limit", () => {
    const root = project(SHOP);
    const out = json(keel(root, "search", "refund", "--json", "--limit", "2"));
    expect(out).toMatchObject({ version: 1, query: "refund", match: '"refund"', total: 3 });
    expect(out.results).toHaveLength(2);
    const [first, second] = out.results;
    expect(first).toMatchObject({
      kind: "requirement",
      id: "PAY-4",
      file: "keel/specs/payments/spec.md",
      line: 11,
      status: "approved",
      field: "text",
    });
    expect(first.score).toBeGreaterThan(second.score);
    for (const [a, b] of first.highlights) expect(first.snippet.slice(a, b).toLowerCase()).toBe("refund");
    expect(out.index.check).toBeDefined();
  });

  // @verifies QRY-6
  it("finds a match written into another file since the last search, while earlier hits are unchanged", () => {
    // With no racy window every stamp is trusted at once, so only a real check of every file can see the edit.
    const trusting = (cwd: string, ...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        cwd,
        encoding: "utf8",
        env: cliEnv({ KEEL_RACY_WINDOW_MS: "0" }),
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    const root = project(SHOP);
    const before = json(trusting(root, "search", "refund", "--json"));
    expect(before.results.map((r: { id: string }) => r.id)).not.toContain("INV-1");
    write(
      root,
      "keel/specs/invoices/spec.md",
      INVOICES.replace("without gaps.", "without gaps, and a refund keeps its number."),
    );
    const after = json(trusting(root, "search", "refund", "--json"));
    expect(after.results.map((r: { id: string }) => r.id)).toContain("INV-1");
    expect(after.index.parsed).toBe(1);
  });

  it("finds nothing without failing, and rejects bad input with exit code 2", () => {
    const root = project(SHOP);
    const none = keel(root, "search", "zeppelin");
    expect(none.code).toBe(0);
    expect(none.stdout.trim()).toBe("no matches");
    expect(keel(root, "search").code).toBe(2);
    expect(keel(root, "search", "--", "--").code).toBe(2);
    expect(keel(root, "search", "refund", "--limit", "0").code).toBe(2);
    expect(keel(root, "search", "refund", "--limit", "many").code).toBe(2);
  });
});

// @verifies QRY-4, QRY-5
describe("keel status", () => {
  it("summarises specs, requirements, changes, validation and the index", () => {
    const root = project(SHOP);
    const out = json(keel(root, "status", "--json"));
    const validation = JSON.parse(keel(root, "validate", "--json").stdout);
    expect(out).toMatchObject({
      version: 1,
      project: { name: "acme-shop", layouts: ["keel"] },
      specs: {
        count: 2,
        requirements: 4,
        byStatus: { approved: 2, draft: 1, none: 1 },
        byOrigin: { human: 2, agent: 1, none: 1 },
      },
      constitution: { file: "keel/constitution.md", principles: 2, gates: 1 },
      changes: { open: 2, archived: 1 },
      validation: {
        ok: validation.ok,
        errors: validation.summary.errors,
        warnings: validation.summary.warnings,
        info: validation.summary.info,
      },
      index: { check: "full", persistent: true },
    });
    // Both open changes modify PAY-1: one overlap reported on each.
    expect(out.changes.overlaps).toBe(2);
    expect(out.changes.items).toEqual([
      expect.objectContaining({ id: "split-transfers", tasks: { done: 2, total: 3 }, overlaps: 1 }),
      expect.objectContaining({ id: "transfer-fees", tasks: { done: 0, total: 1 }, overlaps: 1 }),
    ]);
  });

  it("fits on one screen in human form", () => {
    const root = project(SHOP);
    const run = keel(root, "status");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines[0]).toBe("acme-shop  (Keel layout)");
    expect(run.stdout).toMatch(/^specs\s+2 specs · 4 requirements$/m);
    expect(run.stdout).toMatch(/^ {2}by status\s+approved 2 · draft 1 · none 1$/m);
    expect(run.stdout).toMatch(/^changes\s+2 open · 1 archived · 2 overlaps$/m);
    expect(run.stdout).toMatch(/^ {2}split-transfers\s+draft\s+tasks 2\/3\s+\+0 ~1 -0 →0\s+1 overlap$/m);
    expect(run.stdout).toMatch(/^validation\s+/m);
    expect(run.stdout).toMatch(/^index\s+/m);
  });
});

describe("the query index", () => {
  // @verifies IDX-2, IDX-3, QRY-6
  it("re-parses only the edited file, and reflects deletions and renames", () => {
    const root = project(SHOP);
    const cold = json(keel(root, "list", "requirements", "--json"));
    expect(cold.index).toMatchObject({ rebuilt: true, walked: true });
    expect(json(keel(root, "list", "requirements", "--json")).index).toMatchObject({
      rebuilt: false,
      parsed: 0,
    });

    write(root, "keel/specs/invoices/spec.md", INVOICES.replace("without gaps", "without gaps or reuse"));
    const edited = json(keel(root, "list", "requirements", "--json"));
    expect(edited.index).toMatchObject({ parsed: 1, removed: 0, rebuilt: false });
    expect(json(keel(root, "search", "reuse", "--json")).results.map((h: { id: string }) => h.id)).toEqual([
      "INV-1",
    ]);

    renameSync(join(root, "keel/specs/invoices"), join(root, "keel/specs/billing"));
    const renamed = json(keel(root, "show", "INV-1", "--json"));
    expect(renamed.item).toMatchObject({ capability: "billing", file: "keel/specs/billing/spec.md" });
    expect(renamed.index).toMatchObject({ parsed: 1, removed: 1 });

    rmSync(join(root, "keel/specs/billing"), { recursive: true });
    expect(keel(root, "show", "INV-1").code).toBe(2);
    expect(json(keel(root, "search", "reuse", "--json")).results).toEqual([]);
    expect(json(keel(root, "list", "--json")).specs.map((s: { capability: string }) => s.capability)).toEqual(
      ["payments"],
    );
  });

  // @verifies IDX-4
  it("is rebuilt silently when corrupt, and costs nothing to delete", () => {
    const root = project(SHOP);
    const first = json(keel(root, "list", "requirements", "--json"));
    writeFileSync(join(root, ".keel", "index.db"), "garbage, not SQLite\n".repeat(1000));
    const again = keel(root, "list", "requirements", "--json");
    expect(again.code).toBe(0);
    const out = json(again);
    expect(out.index.rebuilt).toBe(true);
    expect(out.requirements).toEqual(first.requirements);
    rmSync(join(root, ".keel"), { recursive: true });
    expect(json(keel(root, "list", "requirements", "--json")).requirements).toEqual(first.requirements);
  });

  // @verifies IDX-5
  it("stays consistent when several processes refresh it at once", async () => {
    const files: Record<string, string> = { "keel/keel.yaml": "version: 1\n" };
    const caps = 120;
    for (let c = 0; c < caps; c++) {
      files[`keel/specs/cap-${c}/spec.md`] = PAYMENTS.replaceAll("PAY-", `C${c}-`).replace(
        "Payments Specification",
        `Capability ${c}`,
      );
    }
    const root = project(files);
    const expectReqs = caps * 3;
    const check = (runs: Run[]) => {
      for (const r of runs) {
        expect(r.stderr).toBe("");
        expect(r.code).toBe(0);
      }
      const outputs = runs.map((r) => JSON.parse(r.stdout));
      for (const o of outputs) expect(o.requirements).toHaveLength(expectReqs);
      // No process fell back to a private in-memory index: all of them used, and refreshed, the shared file.
      for (const o of outputs) expect(o.index.persistent).toBe(true);
      for (const o of outputs) expect(o.requirements).toEqual(outputs[0].requirements);
      const db = new Database(join(root, ".keel", "index.db"), { readonly: true });
      try {
        expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
        expect(db.prepare("SELECT count(*) FROM q_requirements").pluck().get()).toBe(expectReqs);
        expect(db.prepare("SELECT count(*) FROM q_specs").pluck().get()).toBe(caps);
        // Every requirement once in the full-text index: "idempotent" is in one title per capability.
        expect(db.prepare("SELECT count(*) FROM q_fts WHERE q_fts MATCH 'idempotent'").pluck().get()).toBe(
          caps,
        );
      } finally {
        db.close();
      }
      return outputs;
    };
    const cold = check(
      await Promise.all([1, 2, 3, 4].map(() => keelAsync(root, ["list", "requirements", "--json"]))),
    );
    // Every process found the index missing and took its turn; exactly one of them built it.
    expect(cold.filter((o) => o.index.rebuilt)).toHaveLength(1);

    for (let c = 0; c < caps; c += 3) {
      const rel = `keel/specs/cap-${c}/spec.md`;
      write(
        root,
        rel,
        readFileSync(join(root, rel), "utf8").replace("exactly one invoice", "exactly one open invoice"),
      );
    }
    const warm = check(
      await Promise.all([1, 2, 3, 4].map(() => keelAsync(root, ["list", "requirements", "--json"]))),
    );
    expect(warm.reduce((n, o) => n + o.index.parsed, 0)).toBe(caps / 3);
  });
});
