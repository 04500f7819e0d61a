// Governance: who may do what to intent. Every check returns a decision naming the rule that made it, so a
// refusal can say why and be audited. Approval of intent is a human act unless policy grants autonomy.
import type { Actor } from "../workspace/actor.js";

export type Action = "propose" | "approve" | "apply" | "reject" | "revert" | "resolve" | "edit";

export interface PolicyContext {
  /** The change acted on, with its author, when there is one. */
  change?: { id: string; author: string | null; status: string };
  /** Capabilities the action touches. */
  capabilities?: string[];
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

export function authorize(actor: Actor, action: Action, ctx: PolicyContext = {}): Decision {
  const label = `${actor.kind}:${actor.name}`;
  if (actor.role === "read-only") {
    return deny(
      "role/read-only",
      `${label} has the read-only role`,
      "ask an owner to change actors.roles in keel.yaml",
    );
  }
  if (action === "approve") {
    if (ctx.change && ctx.change.author === label) {
      return deny(
        "approve/not-own-change",
        `${label} wrote change "${ctx.change.id}" and cannot approve it`,
        "another human must approve it",
      );
    }
    if (actor.kind !== "human") {
      return deny(
        "approve/human-only",
        `${label} is not a human; approving intent is a human act`,
        "ask a human reviewer to run `keel change approve`",
      );
    }
    if (actor.role === "agent") {
      return deny("approve/role", `${label} has the agent role`, "ask a reviewer or owner to approve");
    }
    return allow("approve/human-reviewer");
  }
  if (action === "apply" || action === "resolve" || action === "revert" || action === "reject") {
    if (actor.kind === "human" && actor.role !== "agent") return allow(`${action}/human`);
    if (action === "apply" && ctx.change?.status === "approved") return allow("apply/approved-change");
    return deny(
      `${action}/agents-propose-only`,
      `${label} may only propose changes`,
      action === "apply"
        ? "a human must approve the change first (`keel change approve`)"
        : "ask a human to do this",
    );
  }
  return allow(`${action}/anyone`);
}
