// `keel change …` end to end: real projects in temporary git repositories, the real CLI bundle, the real
// state database. Each case checks what was written (and, for refusals, that nothing was).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { parseSpec } from "../src/format/spec.js";
import {
  block,
  chainOk,
  cleanup,
  commit,
  events,
  json,
  keel,
  PAYMENTS,
  project,
  read,
  snapshot,
  write,
} from "./changes-support.js";

afterAll(cleanup);

const SPEC = "keel/specs/payments/spec.md";
const living = (root: string) => parseSpec(read(root, SPEC), SPEC, "payments").spec;
const req = (root: string, id: string) => living(root).requirements.find((r) => r.id === id);
const deltaPath = (id: string, cap = "payments") => `keel/changes/${id}/specs/${cap}/spec.md`;
// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, navigated freely by the assertions
type Loose = Record<string, any>;
const meta = (root: string, dir: string) => parseYaml(read(root, `${dir}/change.yaml`)) as Loose;
/** `keel change new <id> --modify <req>` then an edit of the copied block in the delta. */
function modify(root: string, id: string, reqId: string, from: string, to: string, as = "human:bob"): void {
  const r = keel(root, ["change", "new", id, "--modify", reqId, "--as", as]);
  expect(r.code, r.stderr).toBe(0);
  const text = read(root, deltaPath(id));
  expect(text).toContain(from);
  write(root, deltaPath(id), text.replace(from, to));
}

// @verifies CHG-1, CHG-2
describe("keel change new", () => {
  it("scaffolds proposal, tasks, change.yaml and a delta spec, and records the base of --modify targets", () => {
    const root = project();
    const r = keel(root, [
      "change",
      "new",
      "Tighten refunds",
      "--why",
      "Refunds must be auditable.",
      "--modify",
      "PAY-4",
      "--capability",
      "ledger",
      "--as",
      "agent:codex-7",
      "--tool",
      "codex-cli",
      "--model",
      "gpt-5",
      "--json",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out.change).toBe("tighten-refunds");
    expect(out.base).toEqual({ payments: ["PAY-4"] });
    const dir = "keel/changes/tighten-refunds";
    expect(read(root, `${dir}/proposal.md`)).toMatch(
      /^## Why\nRefunds must be auditable\.\n\n## What Changes\n/,
    );
    expect(read(root, `${dir}/tasks.md`)).toContain("- [ ] 1.1");
    const m = meta(root, dir);
    expect(m).toMatchObject({
      id: "tighten-refunds",
      status: "draft",
      author: "agent:codex-7",
      tool: "codex-cli",
      model: "gpt-5",
    });
    expect(m.base.payments["PAY-4"].fingerprint).toBe(req(root, "PAY-4")?.fingerprint);
    expect(m.base.payments["PAY-4"].block).toBe(`${block(PAYMENTS, "### Requirement: Refunds").trimEnd()}\n`);
    const delta = read(root, deltaPath("tighten-refunds"));
    for (const op of ["ADDED", "MODIFIED", "REMOVED", "RENAMED"])
      expect(delta).toContain(`## ${op} Requirements`);
    expect(delta).toContain("### Requirement: Refunds are idempotent {#PAY-4}");
    expect(read(root, deltaPath("tighten-refunds", "ledger"))).not.toContain("### Requirement:");
    expect(events(root).map((e) => [e.action, e.target, e.actor])).toEqual([
      ["change.new", "tighten-refunds", "agent:codex-7"],
    ]);
  });

  it("refuses an unknown --modify target and an existing change, writing nothing", () => {
    const root = project();
    const before = snapshot(root);
    const r = keel(root, ["change", "new", "x", "--modify", "PAY-404"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--modify PAY-404: no living requirement has that ID");
    expect(snapshot(root)).toEqual(before);
    expect(keel(root, ["change", "new", "x"]).code).toBe(0);
    const again = keel(root, ["change", "new", "x", "--json"]);
    expect(again.code).toBe(2);
    expect(json<{ error: { message: string } }>(again).error.message).toContain('change "x" already exists');
    expect(keel(root, ["change", "new", "!!!"]).code).toBe(2);
  });
});

describe("keel change apply", () => {
  // @verifies CHG-3, CHG-6, CHG-8
  it("(a) applies a change whose target is unchanged since its base: only that block changes, provenance is stamped, the change is archived", () => {
    const root = project();
    modify(
      root,
      "tighten",
      "PAY-4",
      "Refunds are logged.",
      "Refunds are logged with their key.",
      "agent:codex-7",
    );
    const before = read(root, SPEC);
    const r = keel(root, ["change", "apply", "tighten", "--as", "human:carol", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ archive: string; requirements: Array<{ how: string; base: { moved: boolean } }> }>(r);
    expect(out.requirements[0]).toMatchObject({
      how: "replaced",
      base: { source: "recorded", moved: false },
    });
    const after = read(root, SPEC);
    const oldBlock = block(before, "### Requirement: Refunds");
    const newBlock = block(after, "### Requirement: Refunds");
    expect(after.slice(0, after.indexOf(newBlock))).toBe(before.slice(0, before.indexOf(oldBlock)));
    expect(after.slice(after.indexOf(newBlock) + newBlock.length)).toBe(
      before.slice(before.indexOf(oldBlock) + oldBlock.length),
    );
    const today = new Date().toISOString().slice(0, 10);
    expect(newBlock.split("\n")[1]).toBe(
      `> status: approved · origin: agent · explicit · actor: codex-7 · change: tighten · at: ${today}`,
    );
    expect(req(root, "PAY-4")?.text).toContain("Refunds are logged with their key.");
    expect(out.archive).toBe(`keel/changes/archive/${today}-tighten`);
    expect(existsSync(join(root, "keel/changes/tighten"))).toBe(false);
    const m = meta(root, out.archive);
    expect(m.status).toBe("applied");
    expect(m.applied.by).toBe("human:carol");
    expect(m.applied.before.payments["PAY-4"]).toBe(oldBlock);
    const ev = events(root);
    expect(ev.map((e) => e.action)).toEqual(["change.new", "requirement.modified", "change.apply"]);
    expect(ev[1]).toMatchObject({ target: "PAY-4", before: req(root, "PAY-4") ? expect.any(String) : null });
    expect(ev[1]?.after).toBe(req(root, "PAY-4")?.fingerprint);
    expect(ev[1]?.before).not.toBe(ev[1]?.after);
    expect(chainOk(root)).toBe(true);
  });

  it("(b) applies when other requirements moved since the base, keeping their edits", () => {
    const root = project();
    modify(root, "tighten", "PAY-4", "per refund key", "for each refund key");
    modify(root, "auth", "PAY-5", "each charge", "every charge");
    expect(keel(root, ["change", "apply", "auth"]).code).toBe(0);
    const r = keel(root, ["change", "apply", "tighten", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ requirements: Array<{ how: string }> }>(r).requirements[0]?.how).toBe("replaced");
    expect(req(root, "PAY-4")?.text).toContain("for each refund key");
    expect(req(root, "PAY-5")?.text).toContain("every charge");
  });

  // @verifies CHG-4
  it("(c) merges disjoint edits of one requirement made on both sides", () => {
    const root = project();
    modify(root, "one", "PAY-4", "per refund key.", "for each refund key.");
    modify(root, "two", "PAY-4", "Refunds are logged.", "Refunds are logged and audited.");
    expect(keel(root, ["change", "apply", "one"]).code).toBe(0);
    const r = keel(root, ["change", "apply", "two", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ requirements: Array<{ how: string }> }>(r).requirements[0]?.how).toBe("merged");
    expect(req(root, "PAY-4")?.text).toBe(
      "The system SHALL process at most one refund for each refund key. Refunds are logged and audited.",
    );
    expect(req(root, "PAY-4")?.markers?.provenance.change).toBe("two");
  });

  // @verifies CHG-5
  it("(c) refuses overlapping edits with exit 4, writes nothing but a conflict record, and applies a human's resolution", () => {
    const root = project();
    modify(root, "one", "PAY-4", "at most one refund", "exactly one refund");
    modify(root, "two", "PAY-4", "at most one refund", "no more than one refund");
    expect(keel(root, ["change", "apply", "one"]).code).toBe(0);
    const before = snapshot(root);
    const r = keel(root, ["change", "apply", "two", "--json"]);
    expect(r.code).toBe(4);
    const out = json<{ ok: boolean; kind: string; conflicts: Array<Record<string, string>> }>(r);
    expect(out).toMatchObject({ ok: false, kind: "conflict" });
    expect(snapshot(root)).toEqual(before);
    const human = keel(root, ["change", "apply", "two"]);
    expect(human.code).toBe(4);
    expect(human.stderr).toContain("PAY-4 — normative text");

    const listed = json<{ conflicts: Array<Record<string, string>> }>(
      keel(root, ["conflicts", "--json"]),
    ).conflicts;
    expect(listed).toHaveLength(1);
    const c = listed[0] as Record<string, string>;
    expect(c).toMatchObject({ change: "two", capability: "payments", requirement: "PAY-4", status: "open" });
    expect(c.base).toContain("at most one refund");
    expect(c.ours).toContain("exactly one refund");
    expect(c.theirs).toContain("no more than one refund");
    expect(events(root).filter((e) => e.action === "change.apply.conflict")).toHaveLength(2);

    const merged = `${String(c.theirs).replace("no more than one refund", "one refund, and only one,").trimEnd()}\n`;
    write(root, "merged.md", merged);
    expect(
      keel(root, [
        "change",
        "resolve",
        "two",
        "--requirement",
        "PAY-4",
        "--file",
        "merged.md",
        "--as",
        "human:carol",
      ]).code,
    ).toBe(0);
    expect(json<{ conflicts: unknown[] }>(keel(root, ["conflicts", "--json"])).conflicts).toEqual([]);
    const applied = keel(root, ["change", "apply", "two", "--json"]);
    expect(applied.code, applied.stderr).toBe(0);
    expect(json<{ requirements: Array<{ how: string }> }>(applied).requirements[0]?.how).toBe("resolved");
    expect(req(root, "PAY-4")?.text).toContain("process one refund, and only one, per refund key");
    const all = json<{ conflicts: Array<{ status: string; resolvedBy: string }> }>(
      keel(root, ["conflicts", "--all", "--json"]),
    );
    expect(all.conflicts).toMatchObject([{ status: "applied", resolvedBy: "human:carol" }]);
  });

  it("does not use a resolution made against a living requirement that has moved since", () => {
    const root = project();
    modify(root, "one", "PAY-4", "at most one refund", "exactly one refund");
    modify(root, "two", "PAY-4", "at most one refund", "no more than one refund");
    modify(root, "three", "PAY-4", "at most one refund", "at most one single refund");
    expect(keel(root, ["change", "apply", "one"]).code).toBe(0);
    expect(keel(root, ["change", "apply", "two"]).code).toBe(4);
    expect(keel(root, ["change", "resolve", "two", "--requirement", "PAY-4", "--take", "theirs"]).code).toBe(
      0,
    );
    // The living requirement moves after the resolution: it no longer applies.
    write(root, SPEC, read(root, SPEC).replace("exactly one refund", "exactly one refund, ever,"));
    const r = keel(root, ["change", "apply", "two", "--json"]);
    expect(r.code).toBe(4);
    expect(read(root, SPEC)).toContain("exactly one refund, ever,");
    // Resolving with ours keeps the living block untouched.
    expect(keel(root, ["change", "resolve", "two", "--requirement", "PAY-4", "--take", "ours"]).code).toBe(0);
    const kept = read(root, SPEC);
    expect(keel(root, ["change", "apply", "two"]).code).toBe(0);
    expect(read(root, SPEC)).toBe(kept);
  });

  // @verifies OSC-4
  it("applies ADDED, MODIFIED, REMOVED and RENAMED in one change (OpenSpec's order), and creates a new capability", () => {
    const root = project();
    expect(keel(root, ["change", "new", "big", "--modify", "PAY-5", "--remove", "PAY-4"]).code).toBe(0);
    let delta = read(root, deltaPath("big"));
    delta = delta
      .replace("each charge before capture", "each charge before capture, once")
      .replace(
        "## ADDED Requirements\n",
        "## ADDED Requirements\n\n### Requirement: Refunds are reversible {#PAY-7}\n> origin: agent · inferred\nThe system SHALL reverse a refund on request.\n\n#### Scenario: Reversal\n- **WHEN** a reversal is requested\n- **THEN** the refund is reversed\n",
      )
      .replace(
        "## RENAMED Requirements\n",
        "## RENAMED Requirements\n- FROM: `### Requirement: Receipts are sent`\n- TO: `### Requirement: Receipts are emailed`\n",
      );
    write(root, deltaPath("big"), delta);
    write(
      root,
      deltaPath("big", "ledger"),
      "## ADDED Requirements\n\n### Requirement: Entries balance {#LED-1}\nThe system SHALL keep debits equal to credits.\n\n#### Scenario: Posting\n- **WHEN** an entry is posted\n- **THEN** debits equal credits\n",
    );
    const r = keel(root, ["change", "apply", "big", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const ids = living(root).requirements.map((x) => x.id);
    expect(ids).toEqual(["PAY-5", "payments/receipts-are-emailed", "PAY-7"]);
    expect(req(root, "PAY-5")?.text).toContain("before capture, once");
    expect(req(root, "PAY-7")?.markers?.provenance).toMatchObject({ basis: "inferred", change: "big" });
    expect(read(root, SPEC)).toContain("## Out of Scope\n- Chargebacks.\n");
    const ledger = parseSpec(read(root, "keel/specs/ledger/spec.md"), "l", "ledger").spec;
    expect(ledger.requirements.map((x) => x.id)).toEqual(["LED-1"]);
    expect(ledger.purpose).toContain("Created by applying change `big`");
    const acts = events(root).map((e) => `${e.action} ${e.target}`);
    expect(acts).toEqual(
      expect.arrayContaining([
        "requirement.removed PAY-4",
        "requirement.renamed payments/receipts-are-emailed",
        "requirement.modified PAY-5",
        "requirement.added PAY-7",
        "requirement.added LED-1",
        "change.apply big",
      ]),
    );
  });

  it("keeps CRLF line endings and every byte outside the edited block", () => {
    const crlf = PAYMENTS.replace(/\n/g, "\r\n");
    const root = project({ [SPEC]: crlf });
    modify(root, "crlf", "PAY-5", "each charge", "every charge");
    expect(keel(root, ["change", "apply", "crlf"]).code).toBe(0);
    const after = read(root, SPEC);
    expect(after.replace(/\r\n/g, "")).not.toContain("\n");
    expect(after.slice(0, after.indexOf("### Requirement: Charges"))).toBe(
      crlf.slice(0, crlf.indexOf("### Requirement: Charges")),
    );
    expect(after.slice(after.indexOf("### Requirement: Receipts"))).toBe(
      crlf.slice(crlf.indexOf("### Requirement: Receipts")),
    );
  });

  it("applies an OpenSpec-layout change to openspec/specs and archives it there", () => {
    const root = project({
      "openspec/specs/auth/spec.md":
        "# Auth\n\n## Purpose\nSign-in for every user of the shop.\n\n## Requirements\n\n### Requirement: Sessions expire\nThe system SHALL end idle sessions after 30 minutes.\n\n#### Scenario: Idle\n- **WHEN** a session is idle for 30 minutes\n- **THEN** it ends\n",
      "openspec/changes/shorter/proposal.md":
        "## Why\nShorter sessions.\n\n## What Changes\n- Idle timeout 15 minutes.\n",
      "openspec/changes/shorter/.openspec.yaml": "schema: spec-driven\ncreated: 2026-01-01\n",
      "openspec/changes/shorter/specs/auth/spec.md":
        "## MODIFIED Requirements\n\n### Requirement: Sessions expire\nThe system SHALL end idle sessions after 15 minutes.\n\n#### Scenario: Idle\n- **WHEN** a session is idle for 15 minutes\n- **THEN** it ends\n",
    });
    const r = keel(root, ["change", "apply", "shorter", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(read(root, "openspec/specs/auth/spec.md")).toContain("after 15 minutes");
    const dir = json<{ archive: string }>(r).archive;
    expect(dir).toMatch(/^openspec\/changes\/archive\/\d{4}-\d\d-\d\d-shorter$/);
    expect(read(root, `${dir}/.openspec.yaml`)).toBe("schema: spec-driven\ncreated: 2026-01-01\n");
    expect(meta(root, dir).status).toBe("applied");
  });
});

describe("bad input: a clear error, nothing written, the refusal audited", () => {
  const refused = (root: string) => events(root).filter((e) => e.action === "change.apply.refused");

  it.each([
    [
      "a target that does not exist",
      "## MODIFIED Requirements\n\n### Requirement: No such thing\nThe system SHALL not exist.\n",
      "delta/target-missing",
      'MODIFIED requirement "No such thing" does not exist in keel/specs/payments/spec.md',
    ],
    [
      "a requirement outside any delta section",
      "### Requirement: Floating\nThe system SHALL float.\n\n## ADDED Requirements\n",
      "delta/orphan-requirement",
      'requirement "Floating" is outside any delta section',
    ],
    [
      "an unpaired RENAMED line",
      "## RENAMED Requirements\n- FROM: `### Requirement: Receipts are sent`\n",
      "format/rename-unpaired",
      "has no matching TO",
    ],
    [
      "a RENAMED onto an existing name",
      "## RENAMED Requirements\n- FROM: `### Requirement: Receipts are sent`\n- TO: `### Requirement: Charges are authorised`\n",
      "delta/rename-onto-existing",
      'already has a requirement named "Charges are authorised" (PAY-5',
    ],
    [
      "an ADDED requirement that exists",
      "## ADDED Requirements\n\n### Requirement: Again {#PAY-5}\nThe system SHALL repeat.\n",
      "delta/added-exists",
      'ADDED requirement "PAY-5" already exists',
    ],
    [
      "no delta sections at all",
      "Just prose.\n",
      "delta/no-sections",
      "has no ## ADDED, MODIFIED, REMOVED or RENAMED",
    ],
  ])("%s", (_what, delta, rule, message) => {
    const root = project({ [deltaPath("bad")]: delta });
    const before = snapshot(root);
    const r = keel(root, ["change", "apply", "bad", "--json"]);
    expect(r.code).toBe(1);
    const err = json<{ error: { code: string; message: string } }>(r).error;
    expect(err.code).toBe("invalid-change");
    expect(err.message).toContain(message);
    expect(err.message).toContain("nothing was written");
    expect(snapshot(root)).toEqual(before);
    expect(refused(root)).toMatchObject([{ target: "bad", data: { rule } }]);
  });

  it("applying an already-applied change: exit 2, audited", () => {
    const root = project();
    modify(root, "once", "PAY-5", "each charge", "every charge");
    expect(keel(root, ["change", "apply", "once"]).code).toBe(0);
    const before = snapshot(root);
    const r = keel(root, ["change", "apply", "once"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/change "once" was already applied on \d{4}-\d\d-\d\d/);
    expect(snapshot(root)).toEqual(before);
    expect(refused(root)).toMatchObject([{ target: "once", data: { rule: "change/already-applied" } }]);
  });

  it("an unknown change, and a malformed subcommand call: exit 2", () => {
    const root = project();
    expect(keel(root, ["change", "apply", "nope"]).stderr).toContain('no change "nope"');
    expect(keel(root, ["change", "apply", "nope"]).code).toBe(2);
    expect(keel(root, ["change", "frobnicate"]).code).toBe(2);
    expect(keel(root, ["change"]).code).toBe(2);
    expect(keel(root, ["change", "apply"]).code).toBe(2);
    expect(keel(root, ["change", "resolve", "x", "--requirement", "R", "--take", "mine"]).code).toBe(2);
    expect(keel(root, ["change", "apply", "x", "--as", "robot:r2"]).code).toBe(2);
  });

  it("an agent may not apply an unapproved change: exit 5, the rule named, audited, nothing written", () => {
    const root = project();
    modify(root, "agentic", "PAY-5", "each charge", "every charge", "agent:codex-7");
    const before = snapshot(root);
    const r = keel(root, ["change", "apply", "agentic", "--as", "agent:codex-7"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("refused by rule policy.default");
    expect(snapshot(root)).toEqual(before);
    expect(refused(root)).toMatchObject([{ actor: "agent:codex-7", data: { rule: "policy.default" } }]);
  });
});

describe("reject and revert", () => {
  it("reject marks the change rejected in place; apply and a second reject are refused", () => {
    const root = project();
    modify(root, "nah", "PAY-5", "each charge", "every charge");
    const r = keel(root, ["change", "reject", "nah", "--reason", "not needed", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(meta(root, "keel/changes/nah")).toMatchObject({
      status: "rejected",
      rejected: { by: "human:tester", reason: "not needed" },
    });
    expect(keel(root, ["change", "apply", "nah"]).code).toBe(2);
    expect(keel(root, ["change", "reject", "nah"]).code).toBe(2);
    expect(
      json<{ changes: Array<{ id: string; status: string }> }>(keel(root, ["change", "list", "--json"]))
        .changes,
    ).toMatchObject([{ id: "nah", status: "rejected" }]);
  });

  it("revert creates the inverse change as a draft; applying it restores the requirements", () => {
    const root = project();
    const original = read(root, SPEC);
    expect(keel(root, ["change", "new", "mix", "--modify", "PAY-5", "--remove", "PAY-4"]).code).toBe(0);
    write(
      root,
      deltaPath("mix"),
      read(root, deltaPath("mix"))
        .replace("each charge", "every charge")
        .replace(
          "## ADDED Requirements\n",
          "## ADDED Requirements\n\n### Requirement: New one {#PAY-9}\nThe system SHALL be new.\n",
        ),
    );
    expect(keel(root, ["change", "apply", "mix"]).code).toBe(0);
    const r = keel(root, ["change", "revert", "mix", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ change: string; operations: Array<{ op: string; requirement: string }> }>(r);
    expect(out.change).toBe("revert-mix");
    expect(out.operations.map((o) => `${o.op} ${o.requirement}`).sort()).toEqual([
      "ADDED PAY-4",
      "MODIFIED PAY-5",
      "REMOVED PAY-9",
    ]);
    expect(meta(root, "keel/changes/revert-mix")).toMatchObject({ status: "draft", reverts: "mix" });
    expect(keel(root, ["change", "revert", "revert-mix"]).code).toBe(2);
    expect(keel(root, ["change", "apply", "revert-mix"]).code).toBe(0);
    const strip = (t: string) => t.replace(/^> .*\n/gm, "");
    const now = parseSpec(read(root, SPEC), SPEC, "payments").spec.requirements;
    const then = parseSpec(original, SPEC, "payments").spec.requirements;
    expect(now.map((x) => x.id).sort()).toEqual(then.map((x) => x.id).sort());
    for (const x of then)
      expect(strip(now.find((y) => y.id === x.id)?.raw ?? "").trim()).toBe(strip(x.raw).trim());
  });
});

describe("bases, drift and overlap", () => {
  it("takes a hand-written change's base from git, records it on `change status` (audited), and shows the drift", () => {
    const root = project();
    const oldFingerprint = req(root, "PAY-4")?.fingerprint;
    write(
      root,
      deltaPath("by-hand"),
      `## MODIFIED Requirements\n\n${block(PAYMENTS, "### Requirement: Refunds").replace("Refunds are logged.", "Refunds are logged daily.")}`,
    );
    commit(root, "hand-written change");
    write(root, SPEC, read(root, SPEC).replace("per refund key", "for each refund key"));
    commit(root, "someone edits the living spec");
    const r = keel(root, ["change", "status", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = json<{ changes: Loose[]; recorded: Array<Record<string, string>> }>(r);
    expect(out.recorded).toMatchObject([
      { change: "by-hand", requirement: "PAY-4", source: "git", fingerprint: oldFingerprint },
    ]);
    expect(out.changes[0]).toMatchObject({ id: "by-hand", drift: ["PAY-4"] });
    expect(meta(root, "keel/changes/by-hand").base.payments["PAY-4"].fingerprint).toBe(oldFingerprint);
    expect(events(root).map((e) => e.action)).toEqual(["change.base.record"]);
    // Recorded once: a second status writes nothing.
    const again = json<{ recorded: unknown[] }>(keel(root, ["change", "status", "--json"]));
    expect(again.recorded).toEqual([]);
    // And the apply merges the two edits.
    expect(keel(root, ["change", "apply", "by-hand"]).code).toBe(0);
    expect(req(root, "PAY-4")?.text).toContain("for each refund key. Refunds are logged daily.");
  });

  it("without git, a hand-written change's base is the living spec now, and Keel says so", () => {
    const root = project(
      {
        [deltaPath("loose")]: `## REMOVED Requirements\n\n### Requirement: Receipts are sent\n`,
      },
      { git: false },
    );
    const out = json<{ recorded: Array<Record<string, string>> }>(keel(root, ["change", "status", "--json"]));
    expect(out.recorded).toMatchObject([
      {
        requirement: "payments/receipts-are-sent",
        source: "current",
        note: "not in a git repository (or git is unavailable)",
      },
    ]);
  });

  it("shows overlap between open changes in `change status` and `change show`", () => {
    const root = project();
    modify(root, "one", "PAY-4", "per refund key", "for each key");
    modify(root, "two", "PAY-4", "Refunds are logged.", "Refunds are kept.");
    modify(root, "three", "PAY-5", "each charge", "every charge");
    const st = json<{ changes: Array<{ id: string; overlaps: unknown[] }> }>(
      keel(root, ["change", "status", "--json"]),
    );
    expect(Object.fromEntries(st.changes.map((c) => [c.id, c.overlaps]))).toEqual({
      one: [{ capability: "payments", requirement: "PAY-4", changes: ["two"] }],
      two: [{ capability: "payments", requirement: "PAY-4", changes: ["one"] }],
      three: [],
    });
    const show = keel(root, ["change", "show", "two"]);
    expect(show.stdout).toContain("overlap   payments: PAY-4 is also touched by one");
    expect(show.stdout).toContain("living unchanged since base");
    expect(keel(root, ["change", "apply", "one"]).code).toBe(0);
    expect(keel(root, ["change", "show", "two"]).stdout).toContain("living moved since base");
  });

  it("diff shows the change requirement by requirement, word by word", () => {
    const root = project();
    modify(root, "wording", "PAY-4", "at most one refund per refund key", "at most one refund for each key");
    const human = keel(root, ["change", "diff", "wording"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("MODIFIED  PAY-4");
    expect(human.stdout).toContain(
      "at most one refund [-per-]{+for+} [-refund-]{+each+} key. Refunds are logged.",
    );
    expect(human.stdout).not.toContain("> status:");
    const out = json<{ requirements: Array<{ parts: Array<{ op: string; text: string }> }> }>(
      keel(root, ["change", "diff", "wording", "--json"]),
    );
    const changed = out.requirements[0]?.parts.filter((p) => p.op !== "=");
    expect(changed).toEqual([
      { op: "-", text: "per" },
      { op: "+", text: "for" },
      { op: "-", text: "refund" },
      { op: "+", text: "each" },
    ]);
  });
});
