// Provenance end to end, on a real git repository with the real CLI: an agent proposes, a human approves, the
// agent applies where policy allows it; the requirement then carries who/tool/model/basis/change/when in its
// marker line, `keel show` displays it, and `keel history` / `keel blame` attribute it — before and after the
// commit. Also the order in which the acting identity is resolved: --as, KEEL_ACTOR, keel.yaml, git user.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitAll, gitInit, json, keel, type TempRoot, tempRoot, write } from "./provenance-support.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-provenance-");
});
afterAll(() => tmp.cleanup());

const SEARCH = `# Search Specification

## Purpose
Finding things.

## Requirements

### Requirement: Search by title {#SRCH-1}
> status: approved · origin: human · explicit · actor: alice
The system SHALL find a document by any word of its title.

#### Scenario: One word
- **WHEN** a user searches for "ledger"
- **THEN** documents titled with "ledger" are listed
`;

const ADD_RANKING = `## ADDED Requirements

### Requirement: Rank by recency {#SRCH-2}
> inferred
The system SHALL list newer documents before older ones when their relevance is equal.

#### Scenario: Tie
- **GIVEN** two documents match equally
- **WHEN** a user searches
- **THEN** the newer one is listed first
`;

// @verifies CHG-6
describe("provenance of a requirement, from proposal to blame", () => {
  it("is stamped by apply, shown by `keel show`, and attributed by history and blame", () => {
    const root = tmp.project({
      "keel/keel.yaml":
        "version: 1\npolicy:\n  default: propose-only\n  areas:\n    - match: search\n      agents: apply-approved\n",
      "keel/specs/search/spec.md": SEARCH,
    });
    gitInit(root);
    commitAll(root, "search spec", "2026-01-01T10:00:00+00:00");
    write(
      root,
      "keel/changes/add-ranking/change.yaml",
      "id: add-ranking\nstatus: review\nauthor: agent:codex-7\ntool: codex-cli\nmodel: gpt-5\ncreated: 2026-01-02T09:00:00.000Z\nwhy: Users cannot find the latest documents\n",
    );
    write(
      root,
      "keel/changes/add-ranking/proposal.md",
      "## Why\nUsers cannot find the latest documents.\n\n## What Changes\n- rank\n",
    );
    write(root, "keel/changes/add-ranking/specs/search/spec.md", ADD_RANKING);
    const agent = ["--as", "agent:codex-7", "--tool", "codex-cli", "--model", "gpt-5"];

    // The agent may not apply before a human approved, nor approve its own change.
    expect(keel(root, ["change", "apply", "add-ranking", ...agent]).code).toBe(5);
    expect(keel(root, ["change", "approve", "add-ranking", ...agent]).code).toBe(5);
    expect(keel(root, ["change", "approve", "add-ranking", "--as", "human:alice"]).code).toBe(0);
    const applied = keel(root, ["change", "apply", "add-ranking", ...agent]);
    expect(applied.code, applied.stderr).toBe(0);

    const shown = json(keel(root, ["show", "SRCH-2", "--json"])).item;
    expect(shown.provenance).toMatchObject({
      origin: "agent",
      basis: "inferred",
      tool: "codex-cli",
      model: "gpt-5",
      change: "add-ranking",
    });
    expect(shown.provenance.actor).toMatch(/codex-7$/);
    expect(shown.provenance.at).toMatch(/^\d{4}-\d\d-\d\d/);
    const text = keel(root, ["show", "SRCH-2"]).stdout;
    expect(text).toMatch(
      /^ {2}provenance +origin agent · inferred · actor (agent:)?codex-7 · tool codex-cli · model gpt-5 · change add-ranking · at \S+$/m,
    );
    const living = readFileSync(join(root, "keel/specs/search/spec.md"), "utf8");
    expect(living).toMatch(
      /### Requirement: Rank by recency \{#SRCH-2\}\n> .*origin: agent · inferred · actor: .*codex-7 · tool: codex-cli · model: gpt-5 · change: add-ranking · at: /,
    );

    // Before the commit: the working tree's version, attributed through the change and the audit log.
    const before = json(keel(root, ["history", "SRCH-2", "--json"]));
    expect(before.versions).toHaveLength(1);
    expect(before.versions[0]).toMatchObject({
      kind: "added",
      source: "working-tree",
      actor: "agent:codex-7",
      origin: "agent",
      tool: "codex-cli",
      model: "gpt-5",
      basis: "inferred",
      change: "add-ranking",
      why: "Users cannot find the latest documents",
      event: { action: expect.stringMatching(/^requirement\./) },
    });
    const blameBefore = json(keel(root, ["blame", "search", "--json"])).requirements;
    expect(blameBefore[1]).toMatchObject({
      id: "SRCH-2",
      actor: "agent:codex-7",
      change: "add-ranking",
      introduced: { source: "working-tree" },
    });

    // After the commit: the same attribution, now on the commit (the committer is a different person).
    const sha = commitAll(
      root,
      "apply add-ranking",
      "2026-01-03T10:00:00+00:00",
      "Bob Builder <bob@example.org>",
    );
    const after = json(keel(root, ["history", "SRCH-2", "--json"]));
    expect(after.versions).toHaveLength(1);
    expect(after.versions[0]).toMatchObject({
      source: "git",
      actor: "agent:codex-7",
      change: "add-ranking",
      why: "Users cannot find the latest documents",
      commit: { sha, author: "Bob Builder" },
    });
    const blame = json(keel(root, ["blame", "search", "--json"])).requirements;
    expect(blame[0]).toMatchObject({ id: "SRCH-1", introduced: { commit: { subject: "search spec" } } });
    expect(blame[1]).toMatchObject({
      id: "SRCH-2",
      actor: "agent:codex-7",
      change: "add-ranking",
      introduced: { commit: { sha } },
    });
    expect(json(keel(root, ["audit", "verify", "--json"])).ok).toBe(true);
  });
});

describe("who is acting", () => {
  const change = (id: string, capability = "payments") => ({
    [`keel/changes/${id}/change.yaml`]: `id: ${id}\nstatus: review\nauthor: agent:codex-7\n`,
    [`keel/changes/${id}/specs/${capability}/spec.md`]: `## ADDED Requirements\n\n### Requirement: R ${id} {#R-${id}}\n> inferred\nThe system SHALL do ${id}.\n\n#### Scenario: s\n- **WHEN** a\n- **THEN** b\n`,
  });
  const approvedBy = (root: string, id: string) =>
    /approvals:\n {2}- \{ by: ([^,]+),/.exec(
      readFileSync(join(root, "keel/changes", id, "change.yaml"), "utf8"),
    )?.[1];

  it("is --as, else KEEL_ACTOR, else actors.default in keel.yaml, else the git user", () => {
    const root = tmp.project({
      "keel/keel.yaml": "version: 1\nactors:\n  default: human:carol\n",
      ...change("c1"),
      ...change("c2"),
      ...change("c3"),
    });
    gitInit(root, "Dave Git", "dave@example.org");
    expect(
      keel(root, ["change", "approve", "c1", "--as", "human:alice"], { KEEL_ACTOR: "human:bob" }).code,
    ).toBe(0);
    expect(approvedBy(root, "c1")).toBe("human:alice");
    expect(keel(root, ["change", "approve", "c2"], { KEEL_ACTOR: "human:bob" }).code).toBe(0);
    expect(approvedBy(root, "c2")).toBe("human:bob");
    expect(keel(root, ["change", "approve", "c3"]).code).toBe(0);
    expect(approvedBy(root, "c3")).toBe("human:carol");

    const noDefault = tmp.project({ "keel/keel.yaml": "version: 1\n", ...change("c4") });
    gitInit(noDefault, "Dave Git", "dave@example.org");
    expect(keel(noDefault, ["change", "approve", "c4"]).code).toBe(0);
    expect(approvedBy(noDefault, "c4")).toBe("human:Dave Git");
  });

  it("takes an agent's tool and model from KEEL_TOOL and KEEL_MODEL, and refuses an unknown actor kind", () => {
    const root = tmp.project({
      "keel/keel.yaml":
        "version: 1\npolicy:\n  areas:\n    - match: docs-*\n      agents: auto-approve-inferred\n",
      ...change("d1", "docs-guide"),
    });
    const r = keel(root, ["change", "approve", "d1"], {
      KEEL_ACTOR: "agent:claude-2",
      KEEL_TOOL: "claude-code",
      KEEL_MODEL: "opus",
    });
    expect(r.code, r.stderr).toBe(0);
    const e = json(keel(root, ["audit", "log", "--json", "--actor", "agent:claude-2"])).events[0];
    expect(e).toMatchObject({
      action: "change.approve",
      data: { tool: "claude-code", model: "opus", rule: "policy.areas[0]" },
    });
    const bad = keel(root, ["change", "approve", "d1", "--as", "robot:r2"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown actor kind "robot"');
  });
});
