// `keel change approve` end to end (the real CLI on projects in temporary folders): approval is a human act, no
// author approves their own change, agents approve only where keel.yaml's policy grants it; every refusal exits
// 5 (or 2 for a change that cannot be approved), names its rule, is audited, and writes nothing else.
// @verifies CHG-7
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { json, keel, keelAsync, type TempRoot, tempRoot } from "./provenance-support.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-approve-");
});
afterAll(() => tmp.cleanup());

const LIVING = `# Payments Specification

## Purpose
Refunds.

## Requirements

### Requirement: Refunds are idempotent {#PAY-4}
The system SHALL process at most one refund per refund key.

#### Scenario: Duplicate refund
- **WHEN** a second request with the same key arrives
- **THEN** the original result is returned
`;

const POLICY = `version: 1
actors:
  roles:
    intern: agent
    auditor: read-only
    deployer: owner
policy:
  default: propose-only
  areas:
    - match: "docs-*"
      agents: auto-approve-inferred
    - match: payments
      agents: propose-only
    - match: search
      agents: apply-approved
`;

function delta(capability: string, id: string, basis: "inferred" | "explicit" | null): string {
  return `## ADDED Requirements

### Requirement: New rule ${id} {#${id}}
${basis ? `> origin: agent · ${basis}\n` : ""}The system SHALL follow rule ${id} in ${capability}.

#### Scenario: Rule applies
- **WHEN** it is asked
- **THEN** it happens
`;
}

interface ChangeSpec {
  id: string;
  author: string | null;
  status?: string;
  deltas: Record<string, string>;
  archived?: boolean;
}

function changeFiles(c: ChangeSpec): Record<string, string> {
  const dir = c.archived ? `keel/changes/archive/2026-01-01-${c.id}` : `keel/changes/${c.id}`;
  const files: Record<string, string> = {
    [`${dir}/proposal.md`]: `## Why\nBecause ${c.id}.\n\n## What Changes\n- ${c.id}\n`,
  };
  if (c.author !== null) {
    files[`${dir}/change.yaml`] =
      `# written by hand\nid: ${c.id}\nstatus: ${c.status ?? "review"}\nauthor: ${c.author}\ncreated: 2026-11-01T09:00:00.000Z\nwhy: Because ${c.id}\n`;
  }
  for (const [cap, text] of Object.entries(c.deltas)) files[`${dir}/specs/${cap}/spec.md`] = text;
  return files;
}

function project(changes: ChangeSpec[], config = POLICY): string {
  return tmp.project({
    "keel/keel.yaml": config,
    "keel/specs/payments/spec.md": LIVING,
    ...Object.assign({}, ...changes.map(changeFiles)),
  });
}

const meta = (root: string, id: string) =>
  readFileSync(join(root, "keel/changes", id, "change.yaml"), "utf8");

function events(root: string) {
  return json(keel(root, ["audit", "log", "--json"])).events;
}

function approve(
  root: string,
  id: string,
  as: string | null,
  extra: string[] = [],
  env: Record<string, string> = {},
) {
  return keel(root, ["change", "approve", id, ...(as ? ["--as", as] : []), ...extra], env);
}

/** A refusal: its exit code, its rule in the message and in the audit log, and nothing else written. */
function expectRefused(
  root: string,
  id: string,
  as: string,
  code: number,
  rule: string,
  extra: string[] = [],
) {
  const before = meta(root, id);
  const count = events(root).length;
  const r = approve(root, id, as, extra);
  expect(r.code, r.stderr).toBe(code);
  if (code === 5) expect(r.stderr).toContain(`refused by rule ${rule}`);
  expect(meta(root, id)).toBe(before);
  const log = events(root);
  expect(log).toHaveLength(count + 1);
  expect(log.at(-1)).toMatchObject({
    action: "change.approve.refused",
    actor: as,
    target: id,
    data: { change: id, rule },
  });
  return r;
}

describe("keel change approve", () => {
  it("records a human reviewer's approval and sets the status to approved, under the lock, audited", () => {
    const root = project([
      { id: "add-x", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    const r = approve(root, "add-x", "human:alice", ["--reason", "read it twice", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r);
    expect(out).toMatchObject({
      ok: true,
      change: "add-x",
      previousStatus: "review",
      status: "approved",
      rule: "approve/human-reviewer",
      file: "keel/changes/add-x/change.yaml",
      approvals: [{ by: "human:alice", at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) }],
    });
    const text = meta(root, "add-x");
    expect(text).toMatch(/^# written by hand\nid: add-x\nstatus: approved\nauthor: agent:codex-7\n/);
    expect(text).toContain(`approvals:\n  - { by: human:alice, at: ${out.approvals[0].at} }\n`);
    const [e] = events(root);
    expect(e).toMatchObject({
      seq: out.event,
      actor: "human:alice",
      actorKind: "human",
      action: "change.approve",
      target: "add-x",
      reason: "read it twice",
      before: expect.stringMatching(/^[0-9a-f]{16}$/),
      after: expect.stringMatching(/^[0-9a-f]{16}$/),
      data: {
        rule: "approve/human-reviewer",
        status: { from: "review", to: "approved" },
        capabilities: ["payments"],
      },
    });
    // A second reviewer adds an approval; the first cannot approve twice.
    expect(approve(root, "add-x", "human:bob").code).toBe(0);
    expect(meta(root, "add-x")).toMatch(
      /approvals:\n {2}- \{ by: human:alice, .*\}\n {2}- \{ by: human:bob, .*\}\n/,
    );
    expectRefused(root, "add-x", "human:alice", 2, "approve/already-approved");
    const v = keel(root, ["audit", "verify", "--json"]);
    expect(json(v)).toMatchObject({ ok: true, events: 3 });
  });

  it("never lets an author approve their own change: agent or human", () => {
    const root = project([
      {
        id: "by-agent",
        author: "agent:codex-7",
        deltas: { "docs-guide": delta("docs-guide", "DOC-1", "inferred") },
      },
      { id: "by-human", author: "human:alice", deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    // Even in an auto-approve-inferred area with only inferred requirements.
    const r = expectRefused(root, "by-agent", "agent:codex-7", 5, "approve/not-own-change");
    expect(r.stderr).toContain('agent:codex-7 wrote change "by-agent" and cannot approve it');
    expectRefused(root, "by-human", "human:alice", 5, "approve/not-own-change");
  });

  it("refuses agents where policy lets them only propose, naming the rule and its line in keel.yaml", () => {
    const root = project([
      { id: "pay", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-9", "inferred") } },
      { id: "other", author: "agent:codex-7", deltas: { ledger: delta("ledger", "LED-1", "inferred") } },
    ]);
    const r = expectRefused(root, "pay", "agent:claude-2", 5, "policy.areas[1]", ["--tool", "claude-code"]);
    expect(r.stderr).toContain(
      'policy.areas[1] (match "payments") lets agents only propose in "payments" [keel/keel.yaml:12]',
    );
    expect(events(root).at(-1).data.tool).toBe("claude-code");
    expectRefused(root, "other", "agent:claude-2", 5, "policy.default");
    expectRefused(root, "other", "system:ci", 5, "policy.default");
  });

  it("refuses humans whose role forbids it", () => {
    const root = project([
      { id: "pay", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    expectRefused(root, "pay", "human:intern", 5, "approve/role");
    expectRefused(root, "pay", "human:auditor", 5, "role/read-only");
    expect(approve(root, "pay", "human:deployer").code).toBe(0);
  });

  it("lets an agent approve another's all-inferred change in an auto-approve-inferred area", () => {
    const root = project([
      {
        id: "docs",
        author: "agent:codex-7",
        deltas: { "docs-guide": delta("docs-guide", "DOC-1", "inferred") },
      },
      {
        id: "docs-explicit",
        author: "agent:codex-7",
        deltas: { "docs-guide": delta("docs-guide", "DOC-2", "explicit") },
      },
      {
        id: "docs-and-pay",
        author: "agent:codex-7",
        deltas: {
          "docs-guide": delta("docs-guide", "DOC-3", "inferred"),
          payments: delta("payments", "PAY-9", "inferred"),
        },
      },
    ]);
    const r = approve(root, "docs", "agent:claude-2", ["--model", "opus", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(json(r)).toMatchObject({
      rule: "policy.areas[0]",
      approvals: [{ by: "agent:claude-2", rule: "policy.areas[0]" }],
    });
    expect(meta(root, "docs")).toContain("status: approved");
    expect(events(root).at(-1)).toMatchObject({
      action: "change.approve",
      actorKind: "agent",
      data: { model: "opus" },
    });
    const explicit = expectRefused(root, "docs-explicit", "agent:claude-2", 5, "policy.areas[0]");
    expect(explicit.stderr).toContain("explicit requirements, removals or renames");
    expectRefused(root, "docs-and-pay", "agent:claude-2", 5, "policy.areas[1]");
  });

  it("refuses changes that are applied or rejected (exit 2, audited), and unknown ones (exit 2)", () => {
    const root = project([
      {
        id: "done",
        author: "agent:codex-7",
        archived: true,
        deltas: { payments: delta("payments", "PAY-9", null) },
      },
      {
        id: "nope",
        author: "agent:codex-7",
        status: "rejected",
        deltas: { payments: delta("payments", "PAY-8", null) },
      },
    ]);
    const count = events(root).length;
    const applied = approve(root, "done", "human:alice");
    expect(applied.code).toBe(2);
    expect(applied.stderr).toContain('change "done" was already applied');
    expect(events(root).at(-1)).toMatchObject({
      action: "change.approve.refused",
      data: { rule: "change/already-applied" },
    });
    expectRefused(root, "nope", "human:alice", 2, "change/rejected");
    expect(events(root)).toHaveLength(count + 2);
    const missing = approve(root, "ghost", "human:alice");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no change "ghost"');
    expect(approve(root, "nope", "robot:r2").code).toBe(2);
    expect(keel(root, ["change", "approve"]).code).toBe(2);
  });

  it("approves a change made by hand without change.yaml, creating one", () => {
    const root = project([
      { id: "hand", author: null, deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    expect(approve(root, "hand", "human:alice").code).toBe(0);
    expect(meta(root, "hand")).toMatch(
      /^approvals:\n {2}- \{ by: human:alice, at: .+ \}\nstatus: approved\n$/,
    );
  });

  it("records an OpenSpec change's approval in its .openspec.yaml, keeping what was there", () => {
    const root = tmp.project({
      "openspec/specs/payments/spec.md": LIVING,
      "openspec/changes/add-x/.openspec.yaml": "schema: spec-driven\ncreated: 2026-11-01\n",
      "openspec/changes/add-x/proposal.md": "## Why\nX.\n\n## What Changes\n- x\n",
      "openspec/changes/add-x/specs/payments/spec.md": delta("payments", "PAY-9", null),
    });
    expect(approve(root, "add-x", "human:alice").code).toBe(0);
    const text = readFileSync(join(root, "openspec/changes/add-x/.openspec.yaml"), "utf8");
    expect(text).toMatch(
      /^schema: spec-driven\ncreated: 2026-11-01\napprovals:\n {2}- \{ by: human:alice, at: .+ \}\nstatus: approved\n$/,
    );
  });

  it("loses no approval when many reviewers approve at once", async () => {
    const root = project([
      { id: "busy", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    const names = ["ann", "ben", "cat", "dan", "eve", "fay"];
    const runs = await Promise.all(
      names.map((n) => keelAsync(root, ["change", "approve", "busy", "--as", `human:${n}`])),
    );
    for (const r of runs) expect(r.code, r.stderr).toBe(0);
    const text = meta(root, "busy");
    for (const n of names) expect(text).toContain(`by: human:${n},`);
    expect(text.match(/- \{ by: /g)).toHaveLength(names.length);
    expect(json(keel(root, ["audit", "verify", "--json"]))).toMatchObject({ ok: true, events: names.length });
  });

  it("waits for another process that holds the write lock of the state database", async () => {
    const root = project([
      { id: "first", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-8", null) } },
      { id: "held", author: "agent:codex-7", deltas: { payments: delta("payments", "PAY-9", null) } },
    ]);
    expect(keel(root, ["change", "approve", "first", "--as", "human:ann"]).code).toBe(0);
    // Another process holds the write lock (an IMMEDIATE transaction), as a second Keel does mid-write.
    // (Creating the store races no longer: tests/store-guard.test.ts covers processes racing to create it.)
    const holder = spawn(
      process.execPath,
      [
        "-e",
        `const db = new (require("better-sqlite3"))(${JSON.stringify(join(root, ".keel/state.db"))});
         db.exec("BEGIN IMMEDIATE"); console.log("held");
         setTimeout(() => { db.exec("ROLLBACK"); db.close(); }, 800);`,
      ],
      { cwd: process.cwd(), stdio: ["ignore", "pipe", "inherit"] },
    );
    const exited = once(holder, "exit");
    await once(holder.stdout, "data");
    const run = await keelAsync(root, ["change", "approve", "held", "--as", "human:ann"]);
    await exited;
    expect(run.code, run.stderr).toBe(0);
    expect(meta(root, "held")).toContain("by: human:ann,");
    expect(json(keel(root, ["audit", "verify", "--json"]))).toMatchObject({ ok: true, events: 2 });
  });
});

describe("policy on apply", () => {
  it("refuses an agent's apply in a propose-only area with exit 5, names the rule, audits it, writes nothing", () => {
    const root = project([
      {
        id: "pay",
        author: "agent:codex-7",
        status: "approved",
        deltas: { payments: delta("payments", "PAY-9", null) },
      },
    ]);
    const r = keel(root, ["change", "apply", "pay", "--as", "agent:claude-2"]);
    expect(r.code, r.stderr).toBe(5);
    expect(r.stderr).toContain("refused by rule policy.areas[1]");
    expect(readFileSync(join(root, "keel/specs/payments/spec.md"), "utf8")).toBe(LIVING);
    expect(events(root).at(-1)).toMatchObject({
      action: "change.apply.refused",
      actor: "agent:claude-2",
      data: { rule: "policy.areas[1]" },
    });
  });
});
