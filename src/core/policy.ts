// Governance: who may do what to intent. Every check returns a decision naming the rule that made it, so a
// refusal can say why and be audited. Approval of intent is a human act unless policy grants autonomy:
// keel.yaml's `policy:` says, per capability (a glob over capability names), what agents may do without a
// human — only propose, apply changes a human approved, or also approve and apply changes whose requirements
// are all marked inferred. See docs/cli.md#configuration and docs/cli.md#governance.
import picomatch from "picomatch";
import type { Basis, Change } from "../model/types.js";
import type { AuditInput } from "../store/audit-chain.js";
import type { CoordinationStore } from "../store/coordination.js";
import { appendEvent } from "../store/sqlite/audit-log.js";
import type { StateDb } from "../store/state-db.js";
import type { Actor } from "../workspace/actor.js";
import { actorLabel } from "../workspace/actor.js";
import {
  CONFIG_FILE,
  type LandLevel,
  type PolicyConfig,
  type PolicyLevel,
  type Role,
} from "../workspace/config.js";
import { EXIT, KeelError } from "../workspace/errors.js";

/** `work`: claiming, heartbeating, completing, blocking and noting tasks. */
export type Action = "propose" | "approve" | "apply" | "reject" | "revert" | "resolve" | "edit" | "work";

export interface PolicyContext {
  /** The change acted on, with its author (`kind:name`), when there is one. */
  change?: { id: string; author: string | null; status: string };
  /** Capabilities the action touches. None: the policy's default applies. */
  capabilities?: string[];
  /** The project's policy (`config.policy`). Without it: agents may only propose, everywhere. */
  policy?: PolicyConfig;
  /**
   * True when every requirement the change adds or modifies is marked `inferred` and it removes and renames
   * nothing: the only kind of change an `auto-approve-inferred` area lets agents approve.
   */
  inferredOnly?: boolean;
}

export type Decision =
  | { allowed: true; rule: string }
  | { allowed: false; rule: string; reason: string; hint: string };

const allow = (rule: string): Decision => ({ allowed: true, rule });
const deny = (rule: string, reason: string, hint: string): Decision => ({
  allowed: false,
  rule,
  reason,
  hint,
});

export const DEFAULT_POLICY: PolicyConfig = {
  default: "propose-only",
  land: "auto",
  defaultLine: null,
  areas: [],
};

/** The policy rule that governs agents in one capability. */
export interface AreaRule {
  capability: string;
  level: PolicyLevel;
  /** `policy.areas[1]` or `policy.default`: the name a refusal gives. */
  rule: string;
  /** Where the rule is written, for messages (`keel/keel.yaml:12`, or "built in"). */
  where: string;
  match: string | null;
}

const matchers = new Map<string, (s: string) => boolean>();
function matcher(glob: string): (s: string) => boolean {
  let m = matchers.get(glob);
  if (!m) {
    m = picomatch(glob, { dot: true });
    matchers.set(glob, m);
  }
  return m;
}

/** The first `policy.areas` entry whose glob matches the capability, else `policy.default`. */
export function ruleFor(policy: PolicyConfig, capability: string): AreaRule {
  for (const area of policy.areas) {
    if (matcher(area.match)(capability)) {
      return {
        capability,
        level: area.agents,
        rule: `policy.areas[${area.index}]`,
        where: `${CONFIG_FILE}:${area.line}`,
        match: area.match,
      };
    }
  }
  return {
    capability,
    level: policy.default,
    rule: "policy.default",
    where: policy.defaultLine === null ? "built-in default" : `${CONFIG_FILE}:${policy.defaultLine}`,
    match: null,
  };
}

/**
 * Whether green `keel run` work in a capability lands by itself or waits for a human: the first matching area's
 * `land`, else `policy.land`.
 * @req RUN-9
 */
export function landFor(policy: PolicyConfig, capability: string): LandLevel {
  const area = policy.areas.find((a) => matcher(a.match)(capability));
  return area?.land ?? policy.land;
}

function describe(r: AreaRule): string {
  const what =
    r.level === "propose-only"
      ? "lets agents only propose"
      : r.level === "apply-approved"
        ? "lets agents apply only changes a human approved"
        : "lets agents approve only changes whose requirements are all inferred";
  const which = r.match === null ? r.rule : `${r.rule} (match "${r.match}")`;
  return `${which} ${what} in "${r.capability}" [${r.where}]`;
}

/** May an actor without a reviewer's standing do this? Humans with the agent role are treated as agents. */
function isTrusted(actor: Actor): boolean {
  return actor.role === "owner" || actor.role === "reviewer";
}

// @req CHG-7
export function authorize(actor: Actor, action: Action, ctx: PolicyContext = {}): Decision {
  const label = actorLabel(actor);
  if (actor.role === "read-only") {
    return deny(
      "role/read-only",
      `${label} has the read-only role`,
      "ask an owner to change actors.roles in keel.yaml",
    );
  }
  const policy = ctx.policy ?? DEFAULT_POLICY;
  const areas = (ctx.capabilities && ctx.capabilities.length > 0 ? ctx.capabilities : ["*"]).map((c) =>
    c === "*"
      ? { ...ruleFor({ ...policy, areas: [] }, c), capability: "any capability" }
      : ruleFor(policy, c),
  );
  const own = ctx.change !== undefined && ctx.change.author === label;

  switch (action) {
    case "work":
      return allow("work/anyone");

    case "propose":
    case "revert":
      // Reverting creates the inverse change, for review like any other: it is a proposal.
      return allow(`${action}/anyone`);

    case "approve": {
      if (own && ctx.change) {
        return deny(
          "approve/not-own-change",
          `${label} wrote change "${ctx.change.id}" and cannot approve it`,
          "another reviewer must approve it",
        );
      }
      if (actor.kind === "human" && isTrusted(actor)) return allow("approve/human-reviewer");
      if (actor.kind === "human") {
        return deny("approve/role", `${label} has the agent role`, "ask a reviewer or owner to approve");
      }
      // An agent (or system) approves only where an area grants autonomy, and only inferred requirements.
      const blocked = areas.find((a) => a.level !== "auto-approve-inferred");
      if (blocked) {
        return deny(
          blocked.rule,
          `${label} is not a human and ${describe(blocked)}; approving intent is a human act there`,
          "ask a human reviewer to run `keel change approve`",
        );
      }
      if (!ctx.inferredOnly) {
        const first = areas[0] as AreaRule;
        return deny(
          first.rule,
          `${label} is not a human and ${describe(first)}; this change has explicit requirements, removals or renames`,
          "ask a human reviewer to run `keel change approve`",
        );
      }
      return allow(areas.map((a) => a.rule).join(","));
    }

    case "apply":
    case "edit": {
      if (isTrusted(actor)) return allow(`${action}/${actor.role}`);
      const approved = ctx.change?.status === "approved";
      for (const a of areas) {
        if (a.level === "propose-only") {
          return deny(
            a.rule,
            `${label} may not ${action} here: ${describe(a)}`,
            "a human reviewer or owner must apply it",
          );
        }
        if (a.level === "apply-approved" && !(action === "apply" && approved)) {
          return deny(
            a.rule,
            `${label} may not ${action} ${action === "apply" ? "an unapproved change" : "living specs"}: ${describe(a)}`,
            action === "apply"
              ? "a human must approve the change first (`keel change approve`)"
              : "propose a change instead (`keel change new`)",
          );
        }
        if (a.level === "auto-approve-inferred" && !(action === "apply" && approved)) {
          if (!ctx.inferredOnly) {
            return deny(
              a.rule,
              `${label} may not ${action} this without approval: ${describe(a)}, and it has explicit requirements, removals or renames`,
              "a human must approve the change first (`keel change approve`)",
            );
          }
          if (own && ctx.change) {
            return deny(
              "approve/not-own-change",
              `${label} wrote change "${ctx.change.id}"; applying it unapproved would approve its own change`,
              "another agent or a human must approve or apply it",
            );
          }
        }
      }
      return allow(areas.map((a) => a.rule).join(","));
    }

    case "reject":
      if (isTrusted(actor)) return allow(`reject/${actor.role}`);
      if (own) return allow("reject/own-change");
      return deny(
        "reject/reviewers-only",
        `${label} may reject only its own changes`,
        "ask a reviewer to reject it, or propose a change",
      );

    case "resolve":
      if (actor.kind === "human" && isTrusted(actor)) return allow("resolve/human");
      return deny(
        "resolve/human-only",
        `${label} is not a human reviewer; a conflict takes a human's resolution`,
        "ask a human reviewer to run `keel change resolve`",
      );
  }
}

const RANK: Record<Role, number> = { "read-only": 0, agent: 1, reviewer: 2, owner: 3 };

/**
 * May this actor mint a bearer token with this role? Only a person may, and never above their own role, so a
 * token cannot be used to climb: a reviewer grants agent and read tokens, an owner grants any.
 * @req SRF-13
 */
export function authorizeGrant(actor: Actor, role: Role): Decision {
  const label = actorLabel(actor);
  if (actor.kind !== "human")
    return deny(
      "token/human-only",
      `${label} is not a human; granting access is a human act`,
      "ask an owner",
    );
  if (RANK[role] > RANK[actor.role])
    return deny(
      "token/not-above-own-role",
      `${label} has the ${actor.role} role and cannot grant the ${role} role`,
      "ask an owner (actors.roles in keel.yaml) to create it",
    );
  return allow(`token/${actor.role}`);
}

/** Capabilities a change touches, and whether all it adds or modifies is inferred (for autonomy rules). */
export function changeScope(change: Change): { capabilities: string[]; inferredOnly: boolean } {
  const capabilities = new Set<string>();
  const bases: Array<Basis | undefined> = [];
  let removesOrRenames = false;
  for (const delta of change.deltas) {
    capabilities.add(delta.capability);
    for (const sec of delta.sections) {
      if (sec.op === "REMOVED" || sec.op === "RENAMED") {
        if (sec.requirements.length + sec.removed.length + sec.renames.length > 0) removesOrRenames = true;
        continue;
      }
      for (const r of sec.requirements) bases.push(r.markers?.provenance.basis);
    }
  }
  return {
    capabilities: [...capabilities].sort(),
    inferredOnly: !removesOrRenames && bases.length > 0 && bases.every((b) => b === "inferred"),
  };
}

/** The policy context of acting on a parsed change: author, status, capabilities, inferred-only. */
export function changeContext(change: Change, policy: PolicyConfig): PolicyContext {
  const author = change.meta?.author;
  return {
    change: { id: change.id, author: typeof author === "string" ? author : null, status: change.status },
    ...changeScope(change),
    policy,
  };
}

/** The error a refusal stops with: exit 5, naming the rule. */
export function refusalError(decision: Extract<Decision, { allowed: false }>): KeelError {
  return new KeelError(
    `refused by rule ${decision.rule}: ${decision.reason}`,
    EXIT.refused,
    decision.hint,
    undefined,
    "refused",
  );
}

/**
 * authorize() plus its consequences: a refusal is recorded as an audited event (`<action-name>.refused`,
 * with `data.rule`) under the write lock, and thrown as exit 5; nothing else is written. Returns the decision
 * when allowed.
 */
export function enforce(
  state: StateDb,
  projectRoot: string,
  actor: Actor,
  action: Action,
  ctx: PolicyContext,
  audit: { action: string; target: string; reason?: string | null },
): Extract<Decision, { allowed: true }> {
  return enforceDecision(
    state,
    projectRoot,
    actor,
    authorize(actor, action, ctx),
    audit,
    ctx.capabilities ? { capabilities: ctx.capabilities } : {},
  );
}

/** Passes an allowed decision through; audits a refusal as `<action>.refused` and throws it (exit 5). */
export function enforceDecision(
  state: StateDb,
  projectRoot: string,
  actor: Actor,
  decision: Decision,
  audit: { action: string; target: string },
  data: Record<string, unknown> = {},
): Extract<Decision, { allowed: true }> {
  if (decision.allowed) return decision;
  state.exclusive(() => {
    appendEvent(state, projectRoot, refusalEvent(actor, decision, audit, data));
  });
  throw refusalError(decision);
}

/** enforceDecision on any coordination store: the refusal is audited in the store's log (the team's, in team mode). */
export async function enforceInStore(
  store: CoordinationStore,
  actor: Actor,
  decision: Decision,
  audit: { action: string; target: string },
  data: Record<string, unknown> = {},
): Promise<Extract<Decision, { allowed: true }>> {
  if (decision.allowed) return decision;
  await store.append([refusalEvent(actor, decision, audit, data)], new Date());
  throw refusalError(decision);
}

/** The audit record of a refusal: who asked, what for, and the rule that refused it. */
export function refusalEvent(
  actor: Actor,
  decision: Extract<Decision, { allowed: false }>,
  audit: { action: string; target: string },
  data: Record<string, unknown> = {},
): AuditInput {
  return {
    actor: actorLabel(actor),
    actorKind: actor.kind,
    action: `${audit.action}.refused`,
    target: audit.target,
    reason: decision.reason,
    data: {
      rule: decision.rule,
      hint: decision.hint,
      ...(actor.tool ? { tool: actor.tool } : {}),
      ...(actor.model ? { model: actor.model } : {}),
      ...data,
    },
  };
}
