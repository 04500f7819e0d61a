// Governance rules: authorize() over actors, roles, actions and keel.yaml's `policy:` (graduated autonomy), and
// the `policy:` / `actors.roles` sections of keel.yaml, whose mistakes stop every command with the line (exit 3).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authorize, changeScope, type PolicyContext, ruleFor } from "../src/core/policy.js";
import { parseDeltaSpec } from "../src/format/delta.js";
import type { Change } from "../src/model/types.js";
import type { Actor } from "../src/workspace/actor.js";
import { defaultConfig, parseConfig } from "../src/workspace/config.js";
import { KeelError } from "../src/workspace/errors.js";
import { keel, type TempRoot, tempRoot } from "./provenance-support.js";

const human = (name: string, role: Actor["role"] = "reviewer"): Actor => ({
  name,
  kind: "human",
  role,
  source: "flag",
});
const agent = (name: string, role: Actor["role"] = "agent"): Actor => ({
  name,
  kind: "agent",
  role,
  source: "flag",
});

const POLICY = parseConfig(`version: 1
policy:
  default: apply-approved
  areas:
    - match: "docs-*"
      agents: auto-approve-inferred
    - match: payments
      agents: propose-only
    - match: "billing/**"
      agents: auto-approve-inferred
`).policy;

const change = (author: string, status = "review") => ({ id: "add-x", author, status });

function ctx(caps: string[], extra: Partial<PolicyContext> = {}): PolicyContext {
  return { change: change("agent:codex-7"), capabilities: caps, policy: POLICY, ...extra };
}

describe("keel.yaml policy", () => {
  it("parses default and areas, keeping each area's line for messages", () => {
    expect(POLICY.default).toBe("apply-approved");
    expect(POLICY.defaultLine).toBe(3);
    expect(POLICY.areas).toEqual([
      { match: "docs-*", agents: "auto-approve-inferred", land: null, index: 0, line: 5 },
      { match: "payments", agents: "propose-only", land: null, index: 1, line: 7 },
      { match: "billing/**", agents: "auto-approve-inferred", land: null, index: 2, line: 9 },
    ]);
  });

  it("defaults to propose-only everywhere when keel.yaml says nothing", () => {
    expect(defaultConfig().policy).toEqual({
      default: "propose-only",
      land: "auto",
      defaultLine: null,
      areas: [],
    });
    expect(ruleFor(defaultConfig().policy, "docs-guide")).toMatchObject({
      level: "propose-only",
      rule: "policy.default",
      where: "built-in default",
    });
  });

  it("matches capabilities with globs, first match wins, `*` does not cross `/`", () => {
    expect(ruleFor(POLICY, "docs-guide")).toMatchObject({
      level: "auto-approve-inferred",
      rule: "policy.areas[0]",
    });
    expect(ruleFor(POLICY, "docs")).toMatchObject({ level: "apply-approved", rule: "policy.default" });
    expect(ruleFor(POLICY, "payments")).toMatchObject({
      level: "propose-only",
      rule: "policy.areas[1]",
      where: "keel/keel.yaml:7",
    });
    expect(ruleFor(POLICY, "payments-eu").rule).toBe("policy.default");
    expect(ruleFor(POLICY, "billing/tax/eu").rule).toBe("policy.areas[2]");
    expect(ruleFor(POLICY, "docs-a/b").rule).toBe("policy.default");
  });

  it("lets the first matching area decide when several match", () => {
    const p = parseConfig(
      "policy:\n  areas:\n    - match: docs-secret\n      agents: propose-only\n    - match: docs-*\n      agents: auto-approve-inferred\n",
    ).policy;
    expect(ruleFor(p, "docs-secret")).toMatchObject({ level: "propose-only", rule: "policy.areas[0]" });
    expect(ruleFor(p, "docs-guide")).toMatchObject({
      level: "auto-approve-inferred",
      rule: "policy.areas[1]",
    });
  });

  const bad: Array<[string, string, RegExp]> = [
    [
      "policy:\n  default: yolo\n",
      "keel/keel.yaml:2:1",
      /`policy\.default` has unknown value "yolo"; use one of propose-only, apply-approved, auto-approve-inferred/,
    ],
    [
      "policy:\n  areas:\n    - match: docs\n      agents: propose-only\n    - match: pay\n      agents: apply-everything\n",
      "keel/keel.yaml:6:1",
      /`policy\.areas\[1\]\.agents` has unknown value "apply-everything"/,
    ],
    [
      "policy:\n  areas:\n    - agents: propose-only\n",
      "keel/keel.yaml:3:1",
      /`policy\.areas\[0\]` needs `match`/,
    ],
    ["policy:\n  areas:\n    - match: docs\n", "keel/keel.yaml:3:1", /`policy\.areas\[0\]` needs `agents`/],
    [
      "policy:\n  areas:\n    - match: docs\n      agents: propose-only\n      humans: x\n",
      "keel/keel.yaml:5:1",
      /`policy\.areas\[0\]\.humans` is not a known key/,
    ],
    ["policy:\n  areas: docs\n", "keel/keel.yaml:2:1", /`policy\.areas` must be a list/],
    ["policy:\n  mode: strict\n", "keel/keel.yaml:2:1", /`policy\.mode` is not a known key/],
    ["policy: propose-only\n", "keel/keel.yaml:1:1", /`policy` must be a mapping/],
    [
      "actors:\n  roles:\n    alice: owner\n    bob: superuser\n",
      "keel/keel.yaml:4:1",
      /`actors\.roles\.bob` has unknown role "superuser"; use one of owner, reviewer, agent, read-only/,
    ],
  ];

  it("refuses unknown policy values, keys and roles with their line", () => {
    for (const [yaml, where, message] of bad) {
      let err: unknown;
      try {
        parseConfig(yaml);
      } catch (e) {
        err = e;
      }
      expect(err, yaml).toBeInstanceOf(KeelError);
      const k = err as KeelError;
      expect(k.exitCode, yaml).toBe(3);
      expect(`${k.location?.file}:${k.location?.line}:${k.location?.col}`, yaml).toBe(where);
      expect(k.message, yaml).toMatch(message);
    }
  });

  describe("through the CLI", () => {
    let tmp: TempRoot;
    beforeAll(() => {
      tmp = tempRoot("keel-policy-");
    });
    afterAll(() => tmp.cleanup());

    it("stops a command with exit 3 and the file:line of the bad value", () => {
      const root = tmp.project({
        "keel/keel.yaml":
          "version: 1\npolicy:\n  default: propose-only\n  areas:\n    - match: docs\n      agents: sometimes\n",
        "keel/specs/docs/spec.md": "# Docs\n\n## Purpose\nDocs.\n\n## Requirements\n",
      });
      for (const args of [["blame", "docs"], ["validate"], ["history", "X-1"]]) {
        const r = keel(root, args);
        expect(r.code, args.join(" ")).toBe(3);
        expect(r.stderr, args.join(" ")).toContain(
          "keel/keel.yaml:6:1: `policy.areas[0].agents` has unknown value",
        );
      }
      const role = tmp.project({ "keel/keel.yaml": "actors:\n  roles:\n    ci: robot\n" });
      const r = keel(role, ["validate", "--json"]);
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).error.location).toEqual({ file: "keel/keel.yaml", line: 3, col: 1 });
    });
  });
});

describe("authorize", () => {
  it("lets anyone but read-only propose, and treats a revert as a proposal", () => {
    expect(authorize(agent("codex-7"), "propose", ctx(["payments"]))).toEqual({
      allowed: true,
      rule: "propose/anyone",
    });
    expect(authorize(agent("codex-7"), "revert", ctx(["payments"])).allowed).toBe(true);
    const ro = authorize(human("eve", "read-only"), "propose", ctx(["docs-guide"]));
    expect(ro).toMatchObject({ allowed: false, rule: "role/read-only" });
  });

  // @verifies CHG-7
  describe("approve", () => {
    it("is a human reviewer's act", () => {
      expect(authorize(human("alice"), "approve", ctx(["payments"]))).toEqual({
        allowed: true,
        rule: "approve/human-reviewer",
      });
      expect(authorize(human("olga", "owner"), "approve", ctx(["payments"])).allowed).toBe(true);
    });

    it("is never granted to the change's author, human or agent, whatever the policy", () => {
      const own = authorize(
        human("alice"),
        "approve",
        ctx(["docs-guide"], { change: change("human:alice") }),
      );
      expect(own).toMatchObject({ allowed: false, rule: "approve/not-own-change" });
      const agentOwn = authorize(
        agent("codex-7"),
        "approve",
        ctx(["docs-guide"], { change: change("agent:codex-7"), inferredOnly: true }),
      );
      expect(agentOwn).toMatchObject({ allowed: false, rule: "approve/not-own-change" });
      expect((agentOwn as { reason: string }).reason).toContain('agent:codex-7 wrote change "add-x"');
    });

    it("refuses a human with the agent role, and a read-only human", () => {
      expect(authorize(human("intern", "agent"), "approve", ctx(["payments"]))).toMatchObject({
        allowed: false,
        rule: "approve/role",
      });
      expect(authorize(human("eve", "read-only"), "approve", ctx(["payments"]))).toMatchObject({
        allowed: false,
        rule: "role/read-only",
      });
    });

    it("refuses an agent outside auto-approve areas, naming the area rule that refused", () => {
      const d = authorize(agent("claude-2"), "approve", ctx(["payments"], { inferredOnly: true }));
      expect(d).toMatchObject({ allowed: false, rule: "policy.areas[1]" });
      expect((d as { reason: string }).reason).toBe(
        'agent:claude-2 is not a human and policy.areas[1] (match "payments") lets agents only propose in "payments" [keel/keel.yaml:7]; approving intent is a human act there',
      );
      const byDefault = authorize(agent("claude-2"), "approve", ctx(["search"], { inferredOnly: true }));
      expect(byDefault).toMatchObject({ allowed: false, rule: "policy.default" });
      const none = authorize(agent("claude-2"), "approve", {
        change: change("agent:codex-7"),
        inferredOnly: true,
      });
      expect(none).toMatchObject({ allowed: false, rule: "policy.default" });
    });

    it("lets an agent approve another's all-inferred change in an auto-approve-inferred area only", () => {
      expect(authorize(agent("claude-2"), "approve", ctx(["docs-guide"], { inferredOnly: true }))).toEqual({
        allowed: true,
        rule: "policy.areas[0]",
      });
      expect(
        authorize(agent("claude-2"), "approve", ctx(["docs-guide", "billing/tax"], { inferredOnly: true })),
      ).toEqual({ allowed: true, rule: "policy.areas[0],policy.areas[2]" });
      const explicit = authorize(agent("claude-2"), "approve", ctx(["docs-guide"], { inferredOnly: false }));
      expect(explicit).toMatchObject({ allowed: false, rule: "policy.areas[0]" });
      expect((explicit as { reason: string }).reason).toMatch(/explicit requirements, removals or renames/);
      const mixed = authorize(
        agent("claude-2"),
        "approve",
        ctx(["docs-guide", "payments"], { inferredOnly: true }),
      );
      expect(mixed).toMatchObject({ allowed: false, rule: "policy.areas[1]" });
      // A system actor (CI) is not a human either.
      const system: Actor = { name: "ci", kind: "system", role: "agent", source: "env" };
      expect(authorize(system, "approve", ctx(["payments"])).allowed).toBe(false);
    });
  });

  describe("apply", () => {
    it("lets reviewers and owners apply, whatever the policy", () => {
      expect(authorize(human("alice"), "apply", ctx(["payments"]))).toEqual({
        allowed: true,
        rule: "apply/reviewer",
      });
      expect(authorize(agent("deployer", "owner"), "apply", ctx(["payments"])).allowed).toBe(true);
    });

    it("refuses agents in propose-only areas even for an approved change", () => {
      const d = authorize(
        agent("codex-7"),
        "apply",
        ctx(["payments"], { change: change("agent:x", "approved") }),
      );
      expect(d).toMatchObject({ allowed: false, rule: "policy.areas[1]" });
      const byDefault = authorize(agent("codex-7"), "apply", {
        change: change("agent:x", "approved"),
        capabilities: ["payments"],
      });
      expect(byDefault).toMatchObject({ allowed: false, rule: "policy.default" });
    });

    it("lets agents apply approved changes where the area says apply-approved", () => {
      expect(
        authorize(agent("codex-7"), "apply", ctx(["search"], { change: change("agent:x", "approved") })),
      ).toEqual({
        allowed: true,
        rule: "policy.default",
      });
      const unapproved = authorize(agent("codex-7"), "apply", ctx(["search"]));
      expect(unapproved).toMatchObject({ allowed: false, rule: "policy.default" });
      expect((unapproved as { hint: string }).hint).toContain("keel change approve");
    });

    it("lets agents apply another's unapproved all-inferred change in auto areas, never their own", () => {
      expect(authorize(agent("claude-2"), "apply", ctx(["docs-guide"], { inferredOnly: true })).allowed).toBe(
        true,
      );
      expect(authorize(agent("codex-7"), "apply", ctx(["docs-guide"], { inferredOnly: true }))).toMatchObject(
        { allowed: false, rule: "approve/not-own-change" },
      );
      expect(
        authorize(agent("claude-2"), "apply", ctx(["docs-guide"], { inferredOnly: false })),
      ).toMatchObject({ allowed: false, rule: "policy.areas[0]" });
      expect(
        authorize(
          agent("codex-7"),
          "apply",
          ctx(["docs-guide"], { change: change("agent:codex-7", "approved") }),
        ),
      ).toEqual({ allowed: true, rule: "policy.areas[0]" });
    });

    it("treats a human with the agent role as an agent", () => {
      expect(authorize(human("intern", "agent"), "apply", ctx(["payments"]))).toMatchObject({
        allowed: false,
        rule: "policy.areas[1]",
      });
    });
  });

  it("reject: reviewers, or the change's own author withdrawing it", () => {
    expect(authorize(human("alice"), "reject", ctx(["payments"])).allowed).toBe(true);
    expect(authorize(agent("codex-7"), "reject", ctx(["payments"]))).toEqual({
      allowed: true,
      rule: "reject/own-change",
    });
    expect(authorize(agent("claude-2"), "reject", ctx(["payments"]))).toMatchObject({
      allowed: false,
      rule: "reject/reviewers-only",
    });
  });

  it("resolve: human reviewers only", () => {
    expect(authorize(human("alice"), "resolve", ctx(["payments"])).allowed).toBe(true);
    expect(authorize(agent("codex-7", "owner"), "resolve", ctx(["payments"]))).toMatchObject({
      allowed: false,
      rule: "resolve/human-only",
    });
  });
});

describe("changeScope", () => {
  function changeOf(delta: string, capability = "docs-guide"): Change {
    const { delta: d } = parseDeltaSpec(delta, `keel/changes/x/specs/${capability}/spec.md`, capability);
    return {
      kind: "change",
      id: "x",
      dir: "keel/changes/x",
      archived: false,
      proposalFile: null,
      why: null,
      whatChanges: null,
      proposalSections: [],
      deltas: [d],
      tasksFile: null,
      tasks: { total: 0, done: 0 },
      meta: null,
      status: "draft",
      layout: "keel",
    };
  }
  const req = (id: string, marker: string) =>
    `### Requirement: R ${id} {#${id}}\n${marker}\nThe system SHALL do ${id}.\n\n#### Scenario: s\n- **WHEN** a\n- **THEN** b\n\n`;

  it("is inferred-only when every added or modified requirement is marked inferred", () => {
    const c = changeOf(
      `## ADDED Requirements\n\n${req("D-1", "> origin: agent · inferred")}## MODIFIED Requirements\n\n${req("D-2", "> inferred")}`,
    );
    expect(changeScope(c)).toEqual({ capabilities: ["docs-guide"], inferredOnly: true });
  });

  it("is not when one is explicit or unmarked, or when anything is removed or renamed", () => {
    expect(
      changeScope(changeOf(`## ADDED Requirements\n\n${req("D-1", "> inferred")}${req("D-2", "> explicit")}`))
        .inferredOnly,
    ).toBe(false);
    expect(
      changeScope(changeOf(`## ADDED Requirements\n\n${req("D-1", "> inferred")}${req("D-2", "")}`))
        .inferredOnly,
    ).toBe(false);
    expect(
      changeScope(
        changeOf(
          `## ADDED Requirements\n\n${req("D-1", "> inferred")}## REMOVED Requirements\n\n### Requirement: Old {#D-9}\n`,
        ),
      ).inferredOnly,
    ).toBe(false);
    expect(changeScope(changeOf("## ADDED Requirements\n\n")).inferredOnly).toBe(false);
  });
});
