// The query layer (src/core/query.ts) on real projects in temporary folders, with the real SQLite index:
// what it answers, that a refresh re-parses only what changed, that deletions and renames are reflected,
// that a corrupt index is rebuilt, and the pure helpers behind search and "did you mean".
import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { lightStem, matchRanges, parseQuery, snippet } from "../src/core/query/fts.js";
import { type QueryOptions, type QuerySession, withQueryIndex } from "../src/core/query/index.js";
import { closest, editDistance } from "../src/core/query/suggest.js";
import { findProjectRoot } from "../src/workspace/root.js";
import { writeFile as write } from "./support/files.js";

const Database = createRequire(import.meta.url)("better-sqlite3") as typeof import("better-sqlite3");

const AUTH = `---
status: approved
owners: [identity-team]
---
# Auth Specification

## Purpose
Lets registered customers sign in with a password and keeps their sessions bounded in time.

## Requirements

### Requirement: Password sign-in {#AUTH-1}
> status: approved · origin: human · explicit · actor: dana · at: 2026-01-10
The system SHALL create a session when a customer submits a correct email and password.

#### Scenario: Correct password
- **GIVEN** a registered customer
- **WHEN** they submit their correct password
- **THEN** a session is created

### Requirement: Session expiry {#AUTH-2}
> status: draft · origin: agent · inferred · tool: codex-cli · model: gpt-5 · change: add-expiry
While a session is idle, the system SHALL end it 30 minutes after its last request, as [[AUTH-1]] describes.

#### Scenario: Idle session
- **GIVEN** a session idle for 31 minutes
- **WHEN** the customer sends a request
- **THEN** the request is rejected as unauthenticated
`;

const CART = `# Cart Specification

## Purpose
Holds the products a customer intends to buy until checkout.

## Requirements

### Requirement: Add a product
The system SHALL add a product to the cart when the customer chooses "Add to cart".

#### Scenario: Product added
- **WHEN** the customer adds a product
- **THEN** the cart lists the product once

### Requirement: Cart totals {#CART-2}
> status: proposed · origin: human
The system SHALL show the cart total, including tax, after every change to the cart.

#### Scenario: Total after adding
- **WHEN** a product priced 10.00 is added to an empty cart
- **THEN** the cart total shows 10.00 plus tax
`;

const PROPOSAL = (why: string) => `## Why
${why}

## What Changes
- **cart**: coupons reduce the cart total.
`;

const COUPON_DELTA = `## MODIFIED Requirements

### Requirement: Cart totals {#CART-2}
The system SHALL show the cart total, including tax and any coupon, after every change to the cart.

#### Scenario: Total with coupon
- **WHEN** a coupon worth 2.00 applies to a cart of 10.00
- **THEN** the cart total shows 8.00 plus tax

## ADDED Requirements

### Requirement: Coupon codes {#CART-3}
The system SHALL accept one coupon code per cart.

#### Scenario: Second coupon refused
- **GIVEN** a cart with a coupon
- **WHEN** the customer enters a second coupon code
- **THEN** the second code is refused
`;

const FILES: Record<string, string> = {
  "keel/keel.yaml": "version: 1\nproject: shop\n",
  "keel/constitution.md":
    "# Constitution\n\n## Principles\n\n### Principle: Tests first {#P-1}\nEvery change ships with tests.\nGate: `npm test`\n",
  "keel/specs/auth/spec.md": AUTH,
  "keel/specs/cart/spec.md": CART,
  "keel/changes/add-coupons/proposal.md": PROPOSAL("Customers ask for coupons."),
  "keel/changes/add-coupons/tasks.md": "## Tasks\n- [x] 1.1 Design\n- [ ] 1.2 Build\n- [ ] 1.3 Test\n",
  "keel/changes/add-coupons/specs/cart/spec.md": COUPON_DELTA,
  "keel/changes/archive/2026-01-01-add-auth/proposal.md": PROPOSAL("Sign-in was missing."),
};

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-query-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function project(files: Record<string, string> = FILES): string {
  const root = join(tmp, `p${++counter}`);
  for (const [rel, text] of Object.entries(files)) write(root, rel, text);
  return root;
}

function query<T>(
  root: string,
  fn: (q: QuerySession) => Promise<T>,
  options: QueryOptions = { check: "full" },
) {
  return withQueryIndex(findProjectRoot(root, true), options, async (q) => ({
    value: await fn(q),
    stats: q.stats,
  }));
}

/**
 * Moves the index's own clock an hour ahead, as if it had been written an hour after the files: then their
 * mtimes fall outside the racy window and are trusted, which is what happens in real use once the files
 * settle. Without this, every file written by a test is "too recent to trust" and is hashed again each run.
 */
function ageIndex(root: string): void {
  const db = new Database(join(root, ".keel", "index.db"));
  try {
    db.prepare("UPDATE q_sources SET indexed_at = indexed_at + 3600000").run();
    const tree = db.prepare("SELECT value FROM q_state WHERE key = 'tree'").pluck().get() as string;
    const parsed = JSON.parse(tree) as { at: number };
    parsed.at += 3_600_000;
    db.prepare("UPDATE q_state SET value = ? WHERE key = 'tree'").run(JSON.stringify(parsed));
  } finally {
    db.close();
  }
}

describe("answers", () => {
  // @verifies QRY-1
  it("lists specs, requirements and changes with their counts, filters and provenance", async () => {
    const root = project();
    const { value } = await query(root, async (q) => ({
      specs: await q.listSpecs({}),
      reqs: await q.listRequirements({}),
      approved: await q.listRequirements({ status: "approved" }),
      unset: await q.listRequirements({ status: "none" }),
      cart: await q.listRequirements({ capability: "cart" }),
      open: await q.listChanges({ archived: false }),
      all: await q.listChanges({ archived: true }),
      touchingAuth: await q.listChanges({ archived: false, capability: "auth" }),
    }));
    expect(value.specs.map((s) => [s.capability, s.requirements, s.status])).toEqual([
      ["auth", 2, "approved"],
      ["cart", 2, null],
    ]);
    expect(value.reqs.map((r) => r.id)).toEqual(["AUTH-1", "AUTH-2", "cart/add-a-product", "CART-2"]);
    expect(value.reqs[1]).toMatchObject({
      status: "draft",
      origin: "agent",
      file: "keel/specs/auth/spec.md",
      line: 21,
      col: 1,
    });
    expect(value.reqs[1]?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(value.approved.map((r) => r.id)).toEqual(["AUTH-1"]);
    expect(value.unset.map((r) => r.id)).toEqual(["cart/add-a-product"]);
    expect(value.cart.map((r) => r.id)).toEqual(["cart/add-a-product", "CART-2"]);
    expect(value.open).toEqual([
      {
        id: "add-coupons",
        status: "draft",
        archived: false,
        layout: "keel",
        dir: "keel/changes/add-coupons",
        tasks: { done: 1, total: 3 },
        deltas: { added: 1, modified: 1, removed: 0, renamed: 0 },
      },
    ]);
    expect(value.all.map((c) => [c.id, c.archived, c.status])).toEqual([
      ["add-coupons", false, "draft"],
      ["2026-01-01-add-auth", true, "applied"],
    ]);
    expect(value.touchingAuth).toEqual([]);
  });

  // @verifies QRY-2
  it("shows a requirement by explicit or derived ID, a spec by capability, a change by ID", async () => {
    const root = project();
    const { value } = await query(root, async (q) => ({
      explicit: await q.show("AUTH-2"),
      derived: await q.show("cart/add-a-product"),
      spec: await q.show("auth"),
      change: await q.show("add-coupons"),
      unknown: await q.show("AUTH-9"),
      suggestions: q.suggest("auth-9"),
    }));
    expect(value.explicit?.kind).toBe("requirement");
    const req = value.explicit?.item as unknown as Record<string, unknown>;
    expect(req).toMatchObject({
      id: "AUTH-2",
      explicitId: true,
      title: "Session expiry",
      status: "draft",
      provenance: {
        origin: "agent",
        basis: "inferred",
        tool: "codex-cli",
        model: "gpt-5",
        change: "add-expiry",
      },
      ears: "state",
      file: "keel/specs/auth/spec.md",
      line: 21,
      markerLine: 22,
      textLine: 23,
      references: ["AUTH-1"],
      scenarios: [
        {
          name: "Idle session",
          line: 25,
          steps: [
            { keyword: "GIVEN", text: "a session idle for 31 minutes", line: 26 },
            { keyword: "WHEN", text: "the customer sends a request", line: 27 },
            { keyword: "THEN", text: "the request is rejected as unauthenticated", line: 28 },
          ],
        },
      ],
    });
    expect(req.text).toContain("SHALL end it 30 minutes");
    // The model minus its raw source and spans.
    expect(JSON.stringify(req)).not.toMatch(/"(raw|span|headingSpan|textSpan)"/);
    expect(value.derived).toMatchObject({
      kind: "requirement",
      item: { explicitId: false, title: "Add a product" },
    });
    expect(value.spec).toMatchObject({
      kind: "spec",
      item: { capability: "auth", status: "approved", frontMatter: { owners: ["identity-team"] } },
    });
    expect(
      (value.spec?.item as { requirements: Array<{ id: string }> } | undefined)?.requirements.map(
        (r) => r.id,
      ),
    ).toEqual(["AUTH-1", "AUTH-2"]);
    expect(value.change).toMatchObject({
      kind: "change",
      item: { id: "add-coupons", tasks: { done: 1, total: 3 }, why: "Customers ask for coupons." },
    });
    expect(value.unknown).toBeNull();
    expect(value.suggestions.slice(0, 2).sort()).toEqual(["AUTH-1", "AUTH-2"]);
  });

  // @verifies QRY-3
  it("ranks a title hit above hits in the text and scenarios, stems words, and searches purposes", async () => {
    const root = project();
    const { value } = await query(root, async (q) => ({
      session: await q.search("session", 10),
      sessions: await q.search("sessions", 10),
      phrase: await q.search('"cart total"', 10),
      prefix: await q.search("coup*", 10),
      either: await q.search("password OR checkout", 10),
      byId: await q.search("CART-2", 10),
      limited: await q.search("cart", 1),
    }));
    // "Session expiry" has it in its title; AUTH-1 only in its text and scenario, the auth spec in its purpose.
    expect(value.session.results.map((h) => h.id)).toEqual(["AUTH-2", "auth", "AUTH-1"]);
    expect(value.session.results.map((h) => h.score)).toEqual(
      [...value.session.results.map((h) => h.score)].sort((a, b) => b - a),
    );
    expect(value.session.results[0]?.titleHighlights).toEqual([[0, 7]]);
    // Porter stemming: "sessions" finds what "session" finds.
    expect(value.sessions.results.map((h) => h.id)).toEqual(value.session.results.map((h) => h.id));
    const purpose = value.session.results.find((h) => h.kind === "spec");
    expect(purpose).toMatchObject({ id: "auth", field: "purpose", file: "keel/specs/auth/spec.md", line: 8 });
    expect(value.phrase.results.map((h) => h.id)).toEqual(["CART-2"]);
    expect(value.phrase.match).toBe('"cart total"');
    // Live specs only: the change's delta spec is not indexed as a requirement.
    expect(value.prefix.results).toEqual([]);
    expect(value.either.results.map((h) => h.id).sort()).toEqual(["AUTH-1", "auth", "cart"]);
    expect(value.byId.results[0]?.id).toBe("CART-2");
    expect(value.limited.results).toHaveLength(1);
    expect(value.limited.total).toBeGreaterThan(1);
    const hit = value.phrase.results[0];
    expect(hit?.highlights.map(([a, b]) => hit.snippet.slice(a, b))).toEqual(["cart", "total", "cart"]);
  });

  it("refuses a search with no words in it", async () => {
    const root = project();
    await expect(query(root, (q) => q.search("  -- ", 5))).rejects.toMatchObject({ exitCode: 2 });
  });
});

// @verifies IDX-2
describe("the index is incremental", () => {
  it("parses every file once, then nothing, then only the file that changed", async () => {
    const root = project();
    const cold = await query(root, (q) => q.listRequirements({}));
    // The constitution, two specs, the open change's three files and the archived change's proposal.
    expect(cold.stats).toMatchObject({ rebuilt: true, parsed: 7, removed: 0 });
    const warm = await query(root, (q) => q.listRequirements({}));
    expect(warm.stats).toMatchObject({ rebuilt: false, parsed: 0, removed: 0 });
    expect(warm.value).toEqual(cold.value);

    write(root, "keel/specs/cart/spec.md", CART.replace("including tax", "including sales tax"));
    const edited = await query(root, async (q) => ({
      hits: await q.search("sales", 5),
      reqs: await q.listRequirements({}),
    }));
    expect(edited.stats).toMatchObject({ parsed: 1, removed: 0, rebuilt: false });
    expect(edited.value.hits.results.map((h) => h.id)).toEqual(["CART-2"]);
    const before = cold.value.find((r) => r.id === "CART-2");
    const after = edited.value.reqs.find((r) => r.id === "CART-2");
    expect(after?.fingerprint).not.toBe(before?.fingerprint);
    // The other spec's rows are untouched.
    expect(edited.value.reqs.filter((r) => r.capability === "auth")).toEqual(
      cold.value.filter((r) => r.capability === "auth"),
    );
  });

  it("re-reads a file whose size and mtime changed but not its content, without parsing it", async () => {
    const root = project();
    await query(root, (q) => q.listSpecs({}));
    const cart = join(root, "keel/specs/cart/spec.md");
    writeFileSync(cart, readFileSync(cart));
    const again = await query(root, (q) => q.listSpecs({}));
    expect(again.stats).toMatchObject({ parsed: 0, walked: true });
  });

  // @verifies IDX-3
  it("reflects a deleted spec, a renamed capability folder, and a new change", async () => {
    const root = project();
    await query(root, (q) => q.listSpecs({}));
    rmSync(join(root, "keel/specs/auth"), { recursive: true });
    renameSync(join(root, "keel/specs/cart"), join(root, "keel/specs/basket"));
    write(root, "keel/changes/add-wishlist/proposal.md", PROPOSAL("Customers want to save products."));
    const { value, stats } = await query(root, async (q) => ({
      specs: await q.listSpecs({}),
      reqs: await q.listRequirements({}),
      auth: await q.show("AUTH-1"),
      hits: await q.search("password", 5),
      changes: await q.listChanges({ archived: false }),
    }));
    expect(stats).toMatchObject({ removed: 2, parsed: 2, walked: true });
    expect(value.specs.map((s) => [s.capability, s.file])).toEqual([["basket", "keel/specs/basket/spec.md"]]);
    expect(value.reqs.map((r) => r.id)).toEqual(["basket/add-a-product", "CART-2"]);
    expect(value.reqs[1]?.file).toBe("keel/specs/basket/spec.md");
    expect(value.auth).toBeNull();
    expect(value.hits.results).toEqual([]);
    expect(value.changes.map((c) => c.id)).toEqual(["add-coupons", "add-wishlist"]);
  });

  // @verifies QRY-6
  it("answers show and search from the files behind the answer, and refreshes when one of them changed", async () => {
    const root = project();
    await query(root, (q) => q.listSpecs({}));
    ageIndex(root);
    const answer: QueryOptions = { check: "answer" };
    const fast = await query(root, (q) => q.show("CART-2"), answer);
    expect(fast.stats).toMatchObject({ check: "answer", checked: 1, walked: false, parsed: 0 });
    const search = await query(root, (q) => q.search("cart", 5), answer);
    expect(search.stats).toMatchObject({ check: "answer", checked: 1, walked: false });

    write(root, "keel/specs/cart/spec.md", CART.replace("Cart totals {#CART-2}", "Basket totals {#CART-2}"));
    const slow = await query(root, (q) => q.show("CART-2"), answer);
    expect(slow.stats).toMatchObject({ check: "full", walked: true, parsed: 1 });
    expect(slow.value?.item).toMatchObject({ title: "Basket totals" });

    // An ID the index does not know is looked for again after a full check before it is called unknown.
    ageIndex(root);
    write(
      root,
      "keel/specs/auth/spec.md",
      AUTH.replace("Session expiry {#AUTH-2}", "Session expiry {#AUTH-7}"),
    );
    const moved = await query(root, (q) => q.show("AUTH-7"), answer);
    expect(moved.stats).toMatchObject({ check: "full", parsed: 1 });
    expect(moved.value?.item).toMatchObject({ id: "AUTH-7" });
    // A search with no hit is confirmed the same way.
    ageIndex(root);
    write(root, "keel/specs/auth/spec.md", AUTH.replace("password.", "passphrase."));
    const fresh = await query(root, (q) => q.search("passphrase", 5), answer);
    expect(fresh.value.results.map((h) => h.id)).toEqual(["AUTH-1"]);
    expect(fresh.stats.parsed).toBe(1);
  });
});

// @verifies IDX-4
describe("a damaged index", () => {
  it("is rebuilt when the file is not a database at all", async () => {
    const root = project();
    const first = await query(root, (q) => q.listRequirements({}));
    writeFileSync(join(root, ".keel", "index.db"), "not a database\n".repeat(500));
    rmSync(join(root, ".keel", "index.db-wal"), { force: true });
    const again = await query(root, (q) => q.listRequirements({}));
    expect(again.stats.rebuilt).toBe(true);
    expect(again.value).toEqual(first.value);
  });

  it("is rebuilt when the query tables' pages are overwritten (the file still opens)", async () => {
    const root = project();
    const first = await query(root, (q) => q.search("cart", 10));
    const path = join(root, ".keel", "index.db");
    const db = new Database(path, { readonly: true });
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db
      .prepare("SELECT pageno FROM dbstat WHERE name IN ('q_requirements', 'q_fts_data', 'q_specs')")
      .pluck()
      .all() as number[];
    db.close();
    expect(pages.length).toBeGreaterThan(0);
    const bytes = readFileSync(path);
    for (const page of pages) bytes.fill(0xa5, (page - 1) * pageSize, page * pageSize);
    writeFileSync(path, bytes);
    const again = await query(root, (q) => q.search("cart", 10));
    expect(again.stats.rebuilt).toBe(true);
    expect(again.value.results).toEqual(first.value.results);
  });
});

// @verifies QRY-3
describe("search helpers", () => {
  it("turns any input into a safe FTS5 expression", () => {
    expect(parseQuery("refund idempotent")?.match).toBe('"refund" AND "idempotent"');
    expect(parseQuery('"refund key" PAY-4 retr*')?.match).toBe('"refund key" AND "pay 4" AND "retr"*');
    expect(parseQuery("card OR transfer fee")?.match).toBe('("card" OR "transfer") AND "fee"');
    expect(parseQuery('NEAR( AND ) "unclosed')?.match).toBe('"near" AND "and" AND "unclosed"');
    expect(parseQuery("OR")).toBeNull();
    expect(parseQuery("Café")?.terms).toEqual([{ words: ["cafe"], prefix: false }]);
  });

  it("highlights stemmed and prefixed matches and cuts long text around the first one", () => {
    const terms = parseQuery("refund retr*")?.terms ?? [];
    const text = `${"word ".repeat(60)}Refunded amounts are retried. ${"tail ".repeat(60)}`;
    const s = snippet(text, terms, 80);
    expect(s.text.startsWith("…")).toBe(true);
    expect(s.text.endsWith("…")).toBe(true);
    expect(s.highlights.map(([a, b]) => s.text.slice(a, b))).toEqual(["Refunded", "retried"]);
    expect(matchRanges("refunds, REFUND; refunding", terms)).toEqual([
      [0, 7],
      [9, 15],
      [17, 26],
    ]);
    expect(lightStem("retries")).toBe(lightStem("retry"));
  });

  it("suggests the closest names for an unknown one", () => {
    expect(editDistance("PAY-4", "PAY-4", 2)).toBe(0);
    expect(editDistance("pya-4", "pay-4", 2)).toBe(1);
    expect(editDistance("abcdef", "uvwxyz", 2)).toBe(3);
    const names = ["PAY-4", "PAY-40", "AUTH-1", "payments", "payments/refunds-are-idempotent"];
    expect(closest("pay-4", names)).toEqual(["PAY-4", "PAY-40"]);
    expect(closest("PAY4", names)[0]).toBe("PAY-4");
    expect(closest("refunds", names)).toEqual(["payments/refunds-are-idempotent"]);
    expect(closest("zzzzzz", names)).toEqual([]);
  });
});
