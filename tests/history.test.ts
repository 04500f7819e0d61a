// `keel history` and `keel blame` on real git repositories (commits with known authors and dates), archived
// changes, and audit events written through the real store: every version, who, when, why and a diff.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec } from "../src/format/spec.js";
import { appendEvent } from "../src/store/sqlite/audit-log.js";
import { StateDb } from "../src/store/state-db.js";
import {
  commitAll,
  git,
  gitInit,
  json,
  keel,
  repoWithVersions,
  type SpecReq,
  spec,
  type TempRoot,
  tempRoot,
  write,
} from "./provenance-support.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-history-");
});
afterAll(() => tmp.cleanup());

const SPEC = "keel/specs/payments/spec.md";
const ALICE = "Alice Example <alice@example.org>";
const BOB = "Bob Builder <bob@example.org>";
const CAROL = "Carol Chen <carol@example.org>";

const pay1 = (text: string, marker?: string): SpecReq => ({
  id: "PAY-1",
  title: "Refunds are idempotent",
  text,
  ...(marker ? { marker } : {}),
});
const pay2 = (text: string): SpecReq => ({ id: "PAY-2", title: "Receipts", text });

function fingerprintOf(text: string, id: string): string {
  const r = parseSpec(text, SPEC, "payments").spec.requirements.find((x) => x.id === id);
  if (!r) throw new Error(`no ${id}`);
  return r.fingerprint;
}

function blockOf(text: string, id: string): string {
  const r = parseSpec(text, SPEC, "payments").spec.requirements.find((x) => x.id === id);
  if (!r) throw new Error(`no ${id}`);
  return r.raw;
}

function history(root: string, id: string) {
  const r = keel(root, ["history", id, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return json(r);
}

describe("keel history", () => {
  let root: string;
  beforeAll(() => {
    root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key."),
        pay2("The system SHALL send receipts."),
      ]),
    );
    commitAll(root, "payments: first spec", "2026-01-01T10:00:00+00:00", ALICE);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key."),
        pay2("The system SHALL email receipts."),
      ]),
    );
    commitAll(root, "receipts by email", "2026-01-02T10:00:00+00:00", BOB);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund at most once per refund key."),
        pay2("The system SHALL email receipts."),
      ]),
    );
    commitAll(root, "refunds: say which key", "2026-01-03T10:00:00+00:00", ALICE);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund at most once per refund key.", "status: approved"),
        pay2("The system SHALL email receipts."),
      ]),
    );
    commitAll(root, "approve refunds", "2026-01-04T10:00:00+00:00", BOB);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key.", "status: approved"),
        pay2("The system SHALL email receipts."),
      ]),
    );
    commitAll(root, "back to the short wording", "2026-01-05T10:00:00+00:00", CAROL);
  });

  it("lists every version of the requirement from git, oldest first, skipping commits that left it alone", () => {
    const h = history(root, "PAY-1");
    expect(h).toMatchObject({
      version: 1,
      id: "PAY-1",
      capability: "payments",
      file: SPEC,
      current: true,
      git: true,
    });
    expect(h.versions.map((v: { kind: string; why: string }) => [v.kind, v.why])).toEqual([
      ["added", "payments: first spec"],
      ["modified", "refunds: say which key"],
      ["metadata", "approve refunds"],
      ["modified", "back to the short wording"],
    ]);
    const [v1, v2, v3, v4] = h.versions;
    expect(v1).toMatchObject({
      version: 1,
      source: "git",
      actor: ALICE,
      actorSource: "git",
      at: "2026-01-01T10:00:00+00:00",
      status: null,
    });
    expect(v2.actor).toBe(ALICE);
    expect(v3).toMatchObject({ actor: BOB, status: "approved", fingerprint: v2.fingerprint });
    expect(v4).toMatchObject({ actor: CAROL, at: "2026-01-05T10:00:00+00:00", fingerprint: v1.fingerprint });
    expect(v1.commit.subject).toBe("payments: first spec");
    expect(v1.commit.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it("gives a line diff from the previous version, and the block itself", () => {
    const [v1, v2, v3] = history(root, "PAY-1").versions;
    expect(v1.diff.split("\n")[0]).toBe("@@ -0,0 +1,6 @@");
    expect(v1.diff).toContain("+### Requirement: Refunds are idempotent {#PAY-1}");
    expect(v2.diff).toContain("-The system SHALL refund once per key.");
    expect(v2.diff).toContain("+The system SHALL refund at most once per refund key.");
    expect(v2.diff).toContain(" ### Requirement: Refunds are idempotent {#PAY-1}");
    expect(v3.diff).toContain("+> status: approved");
    expect(v3.block).toBe(
      "### Requirement: Refunds are idempotent {#PAY-1}\n> status: approved\nThe system SHALL refund at most once per refund key.\n\n#### Scenario: Refunds are idempotent works\n- **WHEN** it is asked\n- **THEN** it happens\n",
    );
  });

  it("ends with the fingerprint `keel show` reports for the living requirement", () => {
    const h = history(root, "PAY-1");
    const shown = json(keel(root, ["show", "PAY-1", "--json"]));
    expect(h.versions.at(-1).fingerprint).toBe(shown.item.fingerprint);
    const p2 = history(root, "PAY-2");
    expect(p2.versions).toHaveLength(2);
    expect(p2.versions[1]).toMatchObject({ kind: "modified", actor: BOB, why: "receipts by email" });
  });

  it("prints versions for people, and --no-diff leaves the diffs out", () => {
    const r = keel(root, ["history", "PAY-1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^v2 {2}modified {2}2026-01-03T10:00:00\+00:00 {2}Alice Example <alice@example\.org> {2}commit [0-9a-f]{10}$/m,
    );
    expect(r.stdout).toContain("  why: refunds: say which key");
    expect(r.stdout).toContain("    +The system SHALL refund at most once per refund key.");
    const quiet = json(keel(root, ["history", "PAY-1", "--no-diff", "--json"]));
    expect(quiet.versions.every((v: { diff: unknown }) => v.diff === null)).toBe(true);
  });

  it("adds the working tree's version when it differs from the last commit", () => {
    // Edit a clone so the shared repository stays as the other tests expect it.
    const copy = tmp.project({});
    git(copy, ["clone", "-q", root, "clone"]);
    const clone = join(copy, "clone");
    const text = spec("Payments", [
      pay1("The system SHALL refund once per key, within 30 days.", "status: approved"),
      pay2("The system SHALL email receipts."),
    ]);
    writeFileSync(join(clone, SPEC), text);
    const h = history(clone, "PAY-1");
    expect(h.versions).toHaveLength(5);
    expect(h.versions[4]).toMatchObject({ kind: "modified", source: "working-tree", commit: null, at: null });
    expect(h.versions[4].diff).toContain("+The system SHALL refund once per key, within 30 days.");
    const printed = keel(clone, ["history", "PAY-1"]);
    expect(printed.stdout).toMatch(/^v5 {2}modified {2}uncommitted {2}unknown {2}working tree$/m);
  });
});

describe("keel history: changes and the audit log", () => {
  it("attributes a version to the change its marker names: actor, tool, model, basis, why", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    write(root, SPEC, spec("Payments", [pay1("The system SHALL refund once per key.")]));
    commitAll(root, "first", "2026-01-01T10:00:00+00:00");
    const marker =
      "status: approved · origin: agent · inferred · actor: codex-7 · tool: codex-cli · model: gpt-5 · change: tighten-refunds · at: 2026-02-01T10:00:00.000Z";
    write(
      root,
      SPEC,
      spec("Payments", [pay1("The system SHALL refund at most once per refund key.", marker)]),
    );
    const archive = "keel/changes/archive/2026-02-01-tighten-refunds";
    write(
      root,
      `${archive}/change.yaml`,
      "id: tighten-refunds\nstatus: applied\nauthor: agent:codex-7\ntool: codex-cli\nmodel: gpt-5\ncreated: 2026-01-30T09:00:00.000Z\nwhy: Refund storms cost us money\napprovals:\n  - { by: human:alice, at: 2026-01-31T09:00:00.000Z }\n",
    );
    write(root, `${archive}/proposal.md`, "## Why\nRefund storms.\n\n## What Changes\n- tighten\n");
    write(
      root,
      `${archive}/specs/payments/spec.md`,
      "## MODIFIED Requirements\n\n### Requirement: Refunds are idempotent {#PAY-1}\n> inferred\nThe system SHALL refund at most once per refund key.\n",
    );
    commitAll(root, "apply tighten-refunds", "2026-02-02T10:00:00+00:00", BOB);
    const [v1, v2] = history(root, "PAY-1").versions;
    expect(v1).toMatchObject({ actor: "Alice Example <alice@example.org>", change: null });
    expect(v2).toMatchObject({
      kind: "modified",
      source: "git",
      actor: "agent:codex-7",
      actorSource: "marker",
      origin: "agent",
      tool: "codex-cli",
      model: "gpt-5",
      basis: "inferred",
      change: "tighten-refunds",
      at: "2026-02-01T10:00:00.000Z",
      why: "Refund storms cost us money",
    });
    // The committer is kept too.
    expect(v2.commit.author).toBe("Bob Builder");
    // Without the change on disk, the why falls back to the commit message.
    const bare = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(bare);
    write(
      bare,
      SPEC,
      spec("Payments", [pay1("The system SHALL refund at most once per refund key.", marker)]),
    );
    commitAll(bare, "imported", "2026-02-02T10:00:00+00:00");
    expect(history(bare, "PAY-1").versions[0]).toMatchObject({ actor: "agent:codex-7", why: "imported" });
  });

  it("weaves in uncommitted applies from the audit log, with the text the event recorded", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    const t1 = spec("Payments", [pay1("The system SHALL refund once per key.")]);
    const t2 = spec("Payments", [
      pay1("The system SHALL refund once per refund key.", "origin: agent · actor: codex-7"),
    ]);
    const t3 = spec("Payments", [
      pay1("The system SHALL refund once per refund key, in 30 days.", "origin: human · actor: bob"),
    ]);
    write(root, SPEC, t1);
    commitAll(root, "first", "2026-01-01T10:00:00+00:00");
    write(root, SPEC, t3);
    const state = StateDb.open(root);
    try {
      state.exclusive(() => {
        appendEvent(
          state,
          root,
          {
            actor: "agent:codex-7",
            actorKind: "agent",
            action: "requirement.modify",
            target: "PAY-1",
            before: fingerprintOf(t1, "PAY-1"),
            after: fingerprintOf(t2, "PAY-1"),
            reason: "say which key",
            data: { change: "c-a", capability: "payments", block: blockOf(t2, "PAY-1"), tool: "codex-cli" },
          },
          new Date("2026-01-02T10:00:00+00:00"),
        );
        appendEvent(
          state,
          root,
          {
            actor: "human:bob",
            actorKind: "human",
            action: "change.apply",
            target: "c-b",
            reason: "time limit",
            data: {
              change: "c-b",
              requirements: [
                { id: "PAY-1", before: fingerprintOf(t2, "PAY-1"), after: fingerprintOf(t3, "PAY-1") },
              ],
            },
          },
          new Date("2026-01-03T10:00:00+00:00"),
        );
        // A refusal moves nothing and is not a version.
        appendEvent(state, root, {
          actor: "agent:x",
          actorKind: "agent",
          action: "change.apply.refused",
          target: "PAY-1",
          data: { rule: "policy.default" },
        });
      });
    } finally {
      state.close();
    }
    const h = history(root, "PAY-1");
    expect(h.versions.map((v: { source: string }) => v.source)).toEqual(["git", "audit", "working-tree"]);
    const [, v2, v3] = h.versions;
    expect(v2).toMatchObject({
      kind: "modified",
      actor: "agent:codex-7",
      change: "c-a",
      at: "2026-01-02T10:00:00.000Z",
      tool: "codex-cli",
      why: "say which key",
      fingerprint: fingerprintOf(t2, "PAY-1"),
      event: { seq: 1, action: "requirement.modify" },
    });
    expect(v2.diff).toContain("+The system SHALL refund once per refund key.");
    expect(v3).toMatchObject({
      actor: "human:bob",
      actorSource: "audit",
      change: "c-b",
      at: "2026-01-03T10:00:00.000Z",
      why: "time limit",
      event: { seq: 2 },
    });
    expect(v3.diff).toContain("+The system SHALL refund once per refund key, in 30 days.");
    expect(v3.diff).toContain("-The system SHALL refund once per refund key.");
  });

  it("keeps the history of a removed requirement, ending with its removal", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    write(
      root,
      SPEC,
      spec("Payments", [pay1("The system SHALL refund once."), pay2("The system SHALL send receipts.")]),
    );
    commitAll(root, "first", "2026-01-01T10:00:00+00:00");
    write(root, SPEC, spec("Payments", [pay1("The system SHALL refund once.")]));
    write(
      root,
      "keel/changes/archive/2026-01-02-drop-receipts/specs/payments/spec.md",
      "## REMOVED Requirements\n\n### Requirement: Receipts {#PAY-2}\n",
    );
    commitAll(root, "drop receipts", "2026-01-02T10:00:00+00:00", CAROL);
    const h = history(root, "PAY-2");
    expect(h.current).toBe(false);
    expect(h.versions.map((v: { kind: string }) => v.kind)).toEqual(["added", "removed"]);
    expect(h.versions[1]).toMatchObject({
      actor: CAROL,
      why: "drop receipts",
      block: null,
      fingerprint: null,
    });
    expect(h.versions[1].diff).toContain("-The system SHALL send receipts.");
    expect(keel(root, ["history", "PAY-2"]).stdout).toContain("(no longer in the living spec)");
  });

  it("follows a derived ID through a RENAMED entry of a change", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    const block = (title: string) =>
      `# Payments\n\n## Purpose\nP.\n\n## Requirements\n\n### Requirement: ${title}\nThe system SHALL refund once.\n\n#### Scenario: s\n- **WHEN** a\n- **THEN** b\n`;
    write(root, SPEC, block("Refund once"));
    commitAll(root, "first", "2026-01-01T10:00:00+00:00");
    write(root, SPEC, block("Refunds are idempotent"));
    write(
      root,
      "keel/changes/archive/2026-01-02-rename/specs/payments/spec.md",
      "## RENAMED Requirements\n\n- FROM: `### Requirement: Refund once`\n- TO: `### Requirement: Refunds are idempotent`\n",
    );
    commitAll(root, "rename", "2026-01-02T10:00:00+00:00");
    const h = history(root, "payments/refunds-are-idempotent");
    expect(h.aliases).toEqual(["payments/refund-once"]);
    expect(h.versions.map((v: { kind: string; id: string }) => [v.kind, v.id])).toEqual([
      ["added", "payments/refund-once"],
      ["renamed", "payments/refunds-are-idempotent"],
    ]);
  });

  it("works outside git from the files alone, and refuses an unknown ID with exit 2", () => {
    const root = tmp.project({
      "keel/keel.yaml": "version: 1\n",
      [SPEC]: spec("Payments", [pay1("The system SHALL refund once.")]),
    });
    const h = history(root, "PAY-1");
    expect(h.git).toBe(false);
    expect(h.versions).toHaveLength(1);
    expect(h.versions[0]).toMatchObject({ kind: "added", source: "working-tree" });
    const missing = keel(root, ["history", "PAY-99"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no requirement "PAY-99"');
    expect(keel(root, ["history"]).code).toBe(2);
    expect(keel(root, ["history", "a", "b"]).code).toBe(2);
  });
});

describe("keel blame", () => {
  it("attributes each requirement to the version that introduced its current content", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    gitInit(root);
    write(
      root,
      SPEC,
      spec("Payments", [pay1("The system SHALL refund once."), pay2("The system SHALL send receipts.")]),
    );
    const c1 = commitAll(root, "first", "2026-01-01T10:00:00+00:00", ALICE);
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key."),
        pay2("The system SHALL send receipts."),
      ]),
    );
    const c2 = commitAll(root, "which key", "2026-01-02T10:00:00+00:00", BOB);
    // A marker-only edit does not change what the requirement says: blame stays with c2.
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key.", "status: approved"),
        pay2("The system SHALL send receipts."),
      ]),
    );
    commitAll(root, "approve", "2026-01-03T10:00:00+00:00", CAROL);
    const b = json(keel(root, ["blame", "payments", "--json"]));
    expect(b).toMatchObject({ version: 1, capability: "payments", file: SPEC, git: true });
    const [r1, r2] = b.requirements;
    expect(r1).toMatchObject({
      id: "PAY-1",
      actor: BOB,
      at: "2026-01-02T10:00:00+00:00",
      why: "which key",
      versions: 3,
      introduced: { version: 2, source: "git", commit: { sha: c2 } },
    });
    expect(r2).toMatchObject({
      id: "PAY-2",
      actor: ALICE,
      versions: 1,
      introduced: { version: 1, commit: { sha: c1 } },
    });
    // By file path too; and an uncommitted edit is blamed on the working tree.
    write(
      root,
      SPEC,
      spec("Payments", [
        pay1("The system SHALL refund once per key.", "status: approved"),
        pay2("The system SHALL email receipts."),
      ]),
    );
    const again = json(keel(root, ["blame", SPEC, "--json"]));
    expect(again.requirements[1]).toMatchObject({
      id: "PAY-2",
      introduced: { source: "working-tree", commit: null },
    });
    const text = keel(root, ["blame", "payments"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`^${c2.slice(0, 10)} +PAY-1 +Bob Builder <bob@example\\.org>`, "m"),
    );
    expect(text.stdout).toMatch(/^uncommitted +PAY-2 /m);
    expect(keel(root, ["blame", "nope"]).code).toBe(2);
  });
});

describe("a requirement with 1,000 versions", () => {
  it("lists all 1,000 versions, and blame dates each requirement from them", () => {
    const root = join(tmp.project({}), "repo");
    repoWithVersions(root, 1000, 20);
    const start = performance.now();
    const h = history(root, "PAY-1");
    const ms = performance.now() - start;
    expect(h.versions).toHaveLength(1000);
    expect(h.versions[0].kind).toBe("added");
    expect(h.versions[999]).toMatchObject({ kind: "modified", why: "payments: version 1000" });
    expect(h.versions[999].diff).toContain("+The system SHALL refund at most 1000 times per key.");
    // Requirements that never changed have one version, however many commits touched their file.
    expect(history(root, "PAY-7").versions).toHaveLength(1);
    console.log(`keel history over 1,000 versions: ${ms.toFixed(0)} ms (child process, JSON output)`);
    const b = json(keel(root, ["blame", "payments", "--json"]));
    expect(b.requirements[0]).toMatchObject({ id: "PAY-1", versions: 1000, introduced: { version: 1000 } });
    expect(b.requirements[5]).toMatchObject({ id: "PAY-6", versions: 1, introduced: { version: 1 } });
  });
});
