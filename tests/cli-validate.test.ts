// `keel validate` end to end: the real bundle (dist/keel.mjs, built by tests/setup/build.ts) run as a child
// process on projects written to a temporary folder. Exit codes, both output formats, targets, and the index.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, keel, keelWith, type Run } from "./support/cli.js";
import { writeFiles } from "./support/files.js";

function json(run: Run): Record<string, unknown> {
  return JSON.parse(run.stdout) as Record<string, unknown>;
}

/** A stack trace would show up as "    at fn (file:line:col)" lines. */
function expectNoStack(run: Run): void {
  expect(run.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(run.stderr + run.stdout).not.toContain("internal error");
}

let tmp: string;
beforeAll(() => {
  tmp = realpathSync(mkdtempSync(join(tmpdir(), "keel-cli-validate-")));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let counter = 0;
function project(files: Record<string, string>): string {
  const root = join(tmp, `p${++counter}`);
  writeFiles(root, files);
  return root;
}

const AUTH = `---
status: approved
owners: [identity-team]
---
# Auth Specification

## Purpose
Lets registered customers sign in with a password and keeps their sessions bounded in time.

## Requirements

### Requirement: Password sign-in {#AUTH-1}
> status: approved · origin: human · explicit
The system SHALL create a session when a customer submits a correct email and password.

#### Scenario: Correct password
- **GIVEN** a registered customer
- **WHEN** they submit their correct password
- **THEN** a session is created

### Requirement: Session expiry {#AUTH-2}
The system SHALL end a session 30 minutes after its last request, as [[AUTH-1]] describes.

#### Scenario: Idle session
- **GIVEN** a session idle for 31 minutes
- **WHEN** the customer sends a request
- **THEN** the request is rejected as unauthenticated
`;

const CART = `# Cart Specification

## Purpose
Holds the items a customer intends to buy until checkout, across devices and sessions.

## Requirements

### Requirement: Add item {#CART-1}
The system SHALL add an item to the signed-in customer's cart when they choose "Add to cart".

#### Scenario: First item
- **WHEN** a customer with an empty cart adds one item
- **THEN** the cart holds exactly that item
`;

/** A small but complete Keel project that is clean even under --strict. */
const CLEAN: Record<string, string> = {
  "keel/keel.yaml": "version: 1\nproject: shop\n",
  "keel/constitution.md":
    "# Constitution\n\n## Principles\n\n### Principle: Tested behaviour {#P-1}\nEvery requirement is exercised by an automated test.\n\nGate: `npm test`\n",
  "keel/specs/auth/spec.md": AUTH,
  "keel/specs/cart/spec.md": CART,
  "keel/changes/add-coupons/proposal.md":
    "# Add coupons\n\n## Why\nMarketing needs percentage coupons for the spring campaign, and support cannot apply discounts by hand.\n\n## What Changes\n- Carts accept one coupon code that reduces the total by a percentage.\n",
  "keel/changes/add-coupons/tasks.md":
    "## 1. Coupons\n- [ ] 1.1 Store coupon codes\n- [x] 1.2 Apply a coupon to a cart\n",
  "keel/changes/add-coupons/specs/cart/spec.md":
    "## ADDED Requirements\n\n### Requirement: Apply coupon {#CART-2}\nThe system SHALL reduce the cart total by the coupon's percentage when a valid coupon code is applied.\n\n#### Scenario: Ten percent coupon\n- **GIVEN** a cart totalling 100.00\n- **WHEN** the customer applies a valid 10% coupon\n- **THEN** the cart total is 90.00\n",
};

/** The clean project with one vague term: a warning (clarity/vague-term) and nothing else. */
const WARNINGS_ONLY = {
  ...CLEAN,
  "keel/specs/cart/spec.md": CART.replace("when they choose", "fast when they choose"),
};

/** The clean project with a reference to a requirement that does not exist: an error. */
const ERRORS = {
  ...CLEAN,
  "keel/specs/auth/spec.md": AUTH.replace("as [[AUTH-1]] describes", "as [[AUTH-9]] describes"),
};

const FINDING_KEYS = ["col", "file", "hint", "line", "message", "rule", "severity"];

// @verifies VAL-18
describe("exit codes", () => {
  it("exits 0 on a clean project, with or without --strict", () => {
    const root = project(CLEAN);
    for (const args of [["validate"], ["validate", "--strict"]]) {
      const run = keel(root, ...args);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toBe("valid: 0 errors, 0 warnings, 0 info in 2 specs (3 requirements), 1 change\n");
      expect(run.stderr).toBe("");
    }
  });

  // @verifies VAL-6
  it("exits 1 when there are errors", () => {
    const run = keel(project(ERRORS), "validate");
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "xref/unknown-reference: 1 error in 1 file\n  keel/specs/auth/spec.md\n    22:",
    );
    expect(run.stdout).toMatch(/^invalid: 1 error, 0 warnings/m);
    expectNoStack(run);
  });

  it("exits 1 on warnings under --strict, 0 without", () => {
    const root = project(WARNINGS_ONLY);
    const lax = keel(root, "validate");
    expect(lax.code).toBe(0);
    expect(lax.stdout).toContain("clarity/vague-term: 1 warning in 1 file");
    expect(lax.stdout).toMatch(/^valid: 0 errors, 1 warning, 0 info/m);
    const strict = keel(root, "validate", "--strict");
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/^invalid \(strict\): 0 errors, 1 warning, 0 info/m);
  });

  it("takes strictness from keel.yaml when --strict is not given", () => {
    const root = project({ ...WARNINGS_ONLY, "keel/keel.yaml": "version: 1\nvalidate:\n  strict: true\n" });
    const run = keel(root, "validate", "--json");
    expect(run.code).toBe(1);
    expect(json(run)).toMatchObject({ ok: false, strict: true });
  });

  it.each([
    ["an unknown flag", ["validate", "--bogus"], /Unknown option '--bogus'/],
    ["an unknown command", ["frobnicate"], /unknown command "frobnicate"/],
    ["an unknown target", ["validate", "no-such-thing"], /nothing named "no-such-thing"/],
    ["a path outside the project", ["validate", "../.."], /path \.\.\/\.\. is outside the project/],
    ["an absolute path outside the project", ["validate", "/"], /path \/ is outside the project/],
    ["two targets", ["validate", "auth", "cart"], /at most one path or ID/],
    ["an unknown profile", ["validate", "--profile", "spec-kit"], /unknown profile "spec-kit"/],
    ["--root without a folder", ["validate", "--root"], /--root needs a folder/],
  ])("exits 2 on a usage error: %s", (_what, args, message) => {
    const root = project(CLEAN);
    const run = keel(root, ...args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error: /);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toMatch(/\n {2}hint: \S/);
    expectNoStack(run);
    const asJson = keel(root, "--json", ...args);
    expect(asJson.code).toBe(2);
    expect(json(asJson)).toMatchObject({ ok: false, exitCode: 2, error: { code: "usage" } });
  });

  it("exits 3 when no project is found", () => {
    const empty = join(tmp, "empty");
    mkdirSync(empty, { recursive: true });
    const run = keel(tmp, "validate", "--root", empty);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: no Keel, OpenSpec, Spec Kit, Kiro, Task Master or Beads project found in /,
    );
    expect(run.stderr).toContain("hint: run `keel init`");
    expectNoStack(run);
  });

  it("exits 3 on an invalid keel.yaml, naming the line of the unknown key", () => {
    const root = project({
      ...CLEAN,
      "keel/keel.yaml":
        "version: 1\nproject: shop\n\nvalidate:\n  strict: false\n  # comment\n  stirct: true\n",
    });
    const run = keel(root, "validate");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(
      /^error: keel\/keel\.yaml:7:1: `validate\.stirct` is not a known key\n {2}hint: /,
    );
    expectNoStack(run);
    const asJson = json(keel(root, "validate", "--json"));
    expect(asJson).toMatchObject({
      ok: false,
      exitCode: 3,
      error: { code: "project", location: { file: "keel/keel.yaml", line: 7, col: 1 } },
    });
  });

  it("exits 3 on keel.yaml with a YAML syntax error, with its line and column", () => {
    const root = project({
      ...CLEAN,
      "keel/keel.yaml": "version: 1\nproject: shop\nvalidate:\n  vague_terms: [fast, slow\n",
    });
    const run = keel(root, "validate", "--json");
    expect(run.code).toBe(3);
    const error = json(run).error as { message: string; location: { line: number; col: number } };
    expect(error.message).toMatch(/^invalid YAML in keel\/keel\.yaml: /);
    expect(error.location.line).toBeGreaterThanOrEqual(4);
    expect(keel(root, "validate").stderr).toMatch(/^error: keel\/keel\.yaml:\d+:\d+: invalid YAML/);
  });

  it("exits 3 on keel.yaml with a wrong type, pointing at the value", () => {
    const root = project({
      ...CLEAN,
      "keel/keel.yaml": "version: 1\nvalidate:\n  rules:\n    clarity/vague-term: loud\n",
    });
    const run = keel(root, "validate");
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(
      "keel/keel.yaml:4:1: `validate.rules.clarity/vague-term` must be one of error, warning, info, off",
    );
  });
});

// @verifies VAL-17
describe("--json output", () => {
  // @verifies VAL-6, VAL-14
  it("follows the documented schema", () => {
    const run = keel(project(ERRORS), "validate", "--json");
    expect(run.code).toBe(1);
    const report = json(run);
    expect(Object.keys(report).sort()).toEqual([
      "findings",
      "items",
      "ok",
      "profile",
      "strict",
      "summary",
      "version",
    ]);
    expect(report).toMatchObject({ version: 1, ok: false, strict: false, profile: "keel" });
    expect(report.summary).toEqual({
      errors: 1,
      warnings: 0,
      info: 0,
      specs: 2,
      changes: 1,
      requirements: 3,
    });
    expect(report.items).toEqual([
      {
        id: "auth",
        type: "spec",
        file: "keel/specs/auth/spec.md",
        valid: false,
        requirements: 2,
        errors: 1,
        warnings: 0,
        info: 0,
      },
      {
        id: "cart",
        type: "spec",
        file: "keel/specs/cart/spec.md",
        valid: true,
        requirements: 1,
        errors: 0,
        warnings: 0,
        info: 0,
      },
      {
        id: "add-coupons",
        type: "change",
        file: "keel/changes/add-coupons/proposal.md",
        valid: true,
        requirements: 1,
        errors: 0,
        warnings: 0,
        info: 0,
      },
    ]);
    const findings = report.findings as Array<Record<string, unknown>>;
    expect(findings).toHaveLength(1);
    const f = findings[0] as Record<string, unknown>;
    // `target` is optional; every other key is always present.
    expect(
      Object.keys(f)
        .filter((k) => k !== "target")
        .sort(),
    ).toEqual(FINDING_KEYS);
    expect(f).toMatchObject({
      rule: "xref/unknown-reference",
      severity: "error",
      file: "keel/specs/auth/spec.md",
      line: 22,
      message: "reference [[AUTH-9]] names no requirement",
    });
    const line22 = (ERRORS["keel/specs/auth/spec.md"] as string).split("\n")[21] as string;
    expect(f.col).toBe(line22.indexOf("[[AUTH-9]]") + 1);
    expect(typeof f.hint).toBe("string");
    expect((f.hint as string).length).toBeGreaterThan(0);
  });

  it("prints exactly one JSON document and nothing on stderr", () => {
    const run = keel(project(WARNINGS_ONLY), "validate", "--json", "--strict");
    expect(run.stderr).toBe("");
    expect(() => JSON.parse(run.stdout)).not.toThrow();
    expect(json(run)).toMatchObject({ ok: false, strict: true, summary: { errors: 0, warnings: 1 } });
  });

  it("reports --profile openspec and drops the rules OpenSpec does not have", () => {
    const report = json(keel(project(WARNINGS_ONLY), "validate", "--json", "--profile", "openspec"));
    expect(report).toMatchObject({ ok: true, profile: "openspec", summary: { warnings: 0 } });
  });
});

// @verifies VAL-16
describe("human output", () => {
  // @verifies VAL-9
  it("--format compact reads like a compiler: file:line:col: severity: message [rule], then a hint line", () => {
    const root = project({
      ...ERRORS,
      "keel/specs/cart/spec.md": CART.replace("when they choose", "fast when they choose"),
    });
    const run = keel(root, "validate", "--format", "compact");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(
      /^keel\/specs\/auth\/spec\.md:22:\d+: error: reference \[\[AUTH-9\]\] names no requirement \[xref\/unknown-reference\]$/,
    );
    expect(lines[1]).toMatch(/^ {2}hint: \S.+$/);
    expect(lines[2]).toMatch(
      /^keel\/specs\/cart\/spec\.md:9:\d+: warning: vague term "fast" .+ \[clarity\/vague-term\]$/,
    );
    expect(lines[3]).toMatch(/^ {2}hint: \S.+$/);
    expect(lines[4]).toBe("");
    expect(lines[5]).toBe("invalid: 1 error, 1 warning, 0 info in 2 specs (3 requirements), 1 change");
    // Columns are 1-based positions of the offending text.
    const col = Number(/^keel\/specs\/cart\/spec\.md:9:(\d+):/m.exec(run.stdout)?.[1]);
    const line9 = CART.replace("when they choose", "fast when they choose").split("\n")[8] as string;
    expect(line9.slice(col - 1, col - 1 + 4)).toBe("fast");
  });

  it("uses no colour codes when stdout is not a terminal", () => {
    const run = keel(project(ERRORS), "validate");
    expect(run.stdout).not.toContain("\u001b[");
  });
});

// @verifies VAL-1
describe("targets", () => {
  let root: string;
  beforeAll(() => {
    root = project({
      ...ERRORS,
      "keel/specs/cart/spec.md": CART.replace("when they choose", "fast when they choose"),
    });
  });
  const ids = (run: Run) => (json(run).items as Array<{ id: string }>).map((i) => i.id);
  const files = (run: Run) => (json(run).findings as Array<{ file: string }>).map((f) => f.file);

  it("validates one spec given by path", () => {
    const run = keel(root, "validate", "keel/specs/cart", "--json");
    expect(run.code).toBe(0);
    expect(ids(run)).toEqual(["cart"]);
    expect(files(run)).toEqual(["keel/specs/cart/spec.md"]);
  });

  it("validates one spec given by the path of its file, from a subfolder", () => {
    const run = keel(join(root, "keel", "specs"), "validate", "./auth/spec.md", "--json");
    expect(run.code).toBe(1);
    expect(ids(run)).toEqual(["auth"]);
    expect(files(run)).toEqual(["keel/specs/auth/spec.md"]);
  });

  it("validates one spec given by capability ID", () => {
    const run = keel(root, "validate", "auth", "--json");
    expect(run.code).toBe(1);
    expect(ids(run)).toEqual(["auth"]);
  });

  it("validates the spec that owns a requirement ID", () => {
    const run = keel(root, "validate", "CART-1", "--json");
    expect(ids(run)).toEqual(["cart"]);
    expect(files(run)).toEqual(["keel/specs/cart/spec.md"]);
  });

  it("resolves a requirement ID on a warm run, when the result is replayed from the index", () => {
    const fresh = project(CLEAN);
    // With no racy window the second run trusts every stamp and replays the stored result.
    const trusting = (...args: string[]) => {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        cwd: fresh,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1", KEEL_RACY_WINDOW_MS: "0" },
      });
      return { code: r.status, stdout: r.stdout, stderr: r.stderr };
    };
    expect(trusting("validate", "--json").code).toBe(0);
    const warm = trusting("validate", "CART-1", "--json");
    expect(warm.code).toBe(0);
    expect(ids(warm)).toEqual(["cart"]);
  });

  it("validates one change given by ID", () => {
    const run = keel(root, "validate", "add-coupons", "--json");
    expect(run.code).toBe(0);
    expect(ids(run)).toEqual(["add-coupons"]);
    expect(json(run).summary).toMatchObject({ specs: 0, changes: 1 });
  });

  it("validates everything under a folder", () => {
    const run = keel(root, "validate", "keel/specs", "--json");
    expect(ids(run)).toEqual(["auth", "cart"]);
  });
});

describe("the index", () => {
  // @verifies IDX-1, IDX-4, IDX-6
  it("gives the identical JSON on a warm run, and again after the index is deleted", () => {
    const root = project(ERRORS);
    const cold = keel(root, "validate", "--json");
    expect(existsSync(join(root, ".keel", "index.db"))).toBe(true);
    const warm = keel(root, "validate", "--json");
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.code).toBe(cold.code);
    rmSync(join(root, ".keel"), { recursive: true });
    expect(keel(root, "validate", "--json").stdout).toBe(cold.stdout);
  });

  // @verifies IDX-6
  it("keeps each rendered answer apart, and each is what a run without the index prints", () => {
    const root = project(ERRORS);
    const settled = { KEEL_RACY_WINDOW_MS: "0" };
    const variants = [
      ["validate", "--json"],
      ["validate"],
      ["validate", "--strict", "--json"],
      ["validate", "--profile", "openspec"],
      ["validate", "AUTH-1", "--json"],
    ];
    // Each twice: the second answer is the kept one.
    const warm = variants.map((argv) => {
      keelWith(settled, root, ...argv);
      return keelWith(settled, root, ...argv);
    });
    expect(new Set(warm.map((r) => r.stdout)).size).toBe(variants.length);
    variants.forEach((argv, i) => {
      rmSync(join(root, ".keel"), { recursive: true, force: true });
      const fresh = keelWith(settled, root, ...argv);
      expect({ argv, ...warm[i] }).toEqual({ argv, ...fresh });
    });
  });

  // @verifies IDX-4
  it("rebuilds a corrupt index without fuss", () => {
    const root = project(ERRORS);
    const cold = keel(root, "validate", "--json");
    writeFileSync(
      join(root, ".keel", "index.db"),
      "this is not a database, just some bytes to trip SQLite up\n".repeat(100),
    );
    const again = keel(root, "validate", "--json");
    expect(again.stderr).toBe("");
    expect(again.stdout).toBe(cold.stdout);
  });

  // @verifies IDX-2
  it("reflects an edit to one file on the next run", () => {
    const root = project(CLEAN);
    expect(keel(root, "validate").code).toBe(0);
    const cart = join(root, "keel/specs/cart/spec.md");
    writeFileSync(cart, CART.replace("when they choose", "fast when they choose"));
    const run = keel(root, "validate", "--json");
    expect(json(run).findings).toEqual([
      expect.objectContaining({ rule: "clarity/vague-term", file: "keel/specs/cart/spec.md" }),
    ]);
    writeFileSync(cart, CART);
    expect(json(keel(root, "validate", "--json")).findings).toEqual([]);
  });

  // @verifies IDX-3
  it("reflects a deleted spec and a new spec", () => {
    const root = project(CLEAN);
    keel(root, "validate");
    rmSync(join(root, "keel/specs/cart"), { recursive: true });
    mkdirSync(join(root, "keel/specs/checkout"));
    writeFileSync(
      join(root, "keel/specs/checkout/spec.md"),
      CART.replaceAll("CART-1", "CHK-1").replace("# Cart", "# Checkout"),
    );
    const report = json(keel(root, "validate", "--json"));
    expect((report.items as Array<{ id: string }>).map((i) => i.id)).toEqual([
      "auth",
      "checkout",
      "add-coupons",
    ]);
  });

  /** Replaces the first `from` with `to` (same length), keeping the file's size and restoring its mtime. */
  function sameSizeEdit(file: string, from: string, to: string): void {
    expect(to.length).toBe(from.length);
    const before = statSync(file);
    const text = readFileSync(file, "utf8");
    expect(text).toContain(from);
    writeFileSync(file, text.replace(from, to));
    utimesSync(file, before.atime, before.mtime);
    const after = statSync(file);
    expect(after.size).toBe(before.size);
    expect(after.mtimeMs).toBe(before.mtimeMs);
  }

  it("catches an edit that keeps size and mtime, made right after the index was written", () => {
    const root = project(CLEAN);
    // Whole seconds, so that restoring the mtime restores it exactly; a few seconds ahead, so the file counts
    // as modified around the index write (the engine's racy window) however long the first run takes.
    const recent = Math.floor(Date.now() / 1000) + 5;
    utimesSync(join(root, "keel/specs/cart/spec.md"), recent, recent);
    const cold = keel(root, "validate", "--json");
    expect(json(cold).findings).toEqual([]);
    sameSizeEdit(join(root, "keel/specs/cart/spec.md"), "SHALL add", "TODO! add");
    const warm = json(keel(root, "validate", "--json"));
    expect((warm.findings as Array<{ rule: string }>).map((f) => f.rule)).toContain(
      "clarity/unresolved-marker",
    );
  });

  it("catches an edit that keeps size and mtime of a file last modified long before the index was written", () => {
    const root = project(CLEAN);
    // Every file an hour old, in whole seconds so that restoring the mtime restores it exactly.
    const old = Math.floor(Date.now() / 1000) - 3600;
    for (const rel of Object.keys(CLEAN)) utimesSync(join(root, rel), old, old);
    const cold = keel(root, "validate", "--json");
    expect(json(cold).findings).toEqual([]);
    sameSizeEdit(join(root, "keel/specs/cart/spec.md"), "SHALL add", "TODO! add");
    const warm = json(keel(root, "validate", "--json"));
    // Only the file's ctime (which utimes cannot set) and its content show the edit.
    expect((warm.findings as Array<{ rule: string }>).map((f) => f.rule)).toContain(
      "clarity/unresolved-marker",
    );
  });
});
