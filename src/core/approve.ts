// `keel change approve`: a reviewer's approval, appended to the change's metadata under the write lock.
// Approval is a human act; an author never approves their own change; an agent approves only where the
// policy grants autonomy (an `auto-approve-inferred` area, inferred requirements only). A refusal is audited
// and writes nothing else.
// @req CHG-7
import { join } from "node:path";
import { Document, isMap, isSeq, parseDocument, YAMLSeq } from "yaml";
import { contentHash } from "../model/fingerprint.js";
import { appendEvent } from "../store/sqlite/audit-log.js";
import { StateDb } from "../store/state-db.js";
import { type Actor, actorLabel } from "../workspace/actor.js";
import { writeFileAtomic } from "../workspace/atomic.js";
import type { KeelConfig } from "../workspace/config.js";
import { type KeelError, projectError, usageError } from "../workspace/errors.js";
import type { ProjectRoot } from "../workspace/root.js";
import { changeStatus, readText, requireChange } from "./changes/load.js";
import { META_FILE, OPENSPEC_META_FILE } from "./changes/meta.js";
import { authorize, changeContext, refusalError } from "./policy.js";

export interface Approval {
  by: string;
  at: string;
  /** For an approval granted by policy rather than by a human reviewer: the rule that granted it. */
  rule?: string;
}

export interface ApproveResult {
  change: string;
  previousStatus: string;
  status: "approved";
  approvals: Approval[];
  /** The rule that allowed the approval (`approve/human-reviewer`, or a `policy.areas[…]` rule). */
  rule: string;
  /** Project-relative metadata file written. */
  file: string;
  event: number;
}

function readApprovals(value: unknown): Approval[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((a) => {
    if (!a || typeof a !== "object") return [];
    const { by, at, rule } = a as Record<string, unknown>;
    if (typeof by !== "string") return [];
    const out: Approval = {
      by,
      at: typeof at === "string" ? at : at instanceof Date ? at.toISOString() : "",
    };
    if (typeof rule === "string") out.rule = rule;
    return [out];
  });
}

/** The metadata text with one approval appended and the status set, everything else kept as written. */
function withApproval(text: string | null, file: string, approval: Approval): string {
  const doc: Document = text === null || text.trim() === "" ? new Document({}) : parseDocument(text);
  const err = doc.errors[0];
  if (err || (doc.contents !== null && !isMap(doc.contents))) {
    throw projectError(
      `${file} is not a YAML mapping${err ? `: ${err.message.split("\n")[0]}` : ""}`,
      "fix the file so that the approval can be recorded",
      { file, line: err?.linePos?.[0]?.line ?? 1, col: err?.linePos?.[0]?.col ?? 1 },
    );
  }
  if (doc.contents === null) doc.contents = doc.createNode({});
  const entry = doc.createNode({ ...approval });
  entry.flow = true;
  const list = doc.get("approvals", true);
  if (isSeq(list)) list.add(entry);
  else if (list === undefined || list === null || (list as { value?: unknown }).value === null) {
    const seq = new YAMLSeq();
    seq.items.push(entry);
    doc.set("approvals", seq);
  } else {
    throw projectError(`${file}: \`approvals\` is not a list`, "make `approvals` a YAML list of {by, at}", {
      file,
      line: 1,
      col: 1,
    });
  }
  doc.set("status", "approved");
  return doc.toString({ lineWidth: 0 });
}

export function approveChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  id: string,
  reason: string | null,
  now: () => Date = () => new Date(),
): ApproveResult {
  const label = actorLabel(actor);
  const state = StateDb.open(project.root);
  try {
    // Everything is read under the lock, so the decision and the write see the same change.
    type Refused = { refused: KeelError };
    const outcome = state.exclusive((): ApproveResult | Refused => {
      const loaded = requireChange(project, id);
      const status = changeStatus(loaded);
      // A refusal is recorded (and committed) before it is thrown; nothing else is written.
      const refuse = (rule: string, error: KeelError, capabilities: string[] = []): Refused => {
        appendEvent(state, project.root, {
          actor: label,
          actorKind: actor.kind,
          action: "change.approve.refused",
          target: id,
          reason: error.message,
          data: {
            change: id,
            rule,
            hint: error.hint,
            capabilities,
            ...(actor.tool ? { tool: actor.tool } : {}),
            ...(actor.model ? { model: actor.model } : {}),
          },
        });
        return { refused: error };
      };
      if (loaded.archived || status === "applied" || status === "rejected") {
        const applied = loaded.archived || status === "applied";
        return refuse(
          applied ? "change/already-applied" : "change/rejected",
          usageError(
            `change "${id}" ${applied ? `was already applied (${loaded.dir})` : "was rejected"}; only an open change can be approved, nothing was written`,
            applied
              ? "to undo it, run `keel change revert` to create the inverse change"
              : "a rejected change is kept as a record: create a new change to propose it again",
          ),
        );
      }
      const ctx = changeContext(loaded.change, config.policy);
      const decision = authorize(actor, "approve", ctx);
      if (!decision.allowed) return refuse(decision.rule, refusalError(decision), ctx.capabilities);
      const keelRel = `${loaded.dir}/${META_FILE}`;
      const openspecRel = `${loaded.dir}/${OPENSPEC_META_FILE}`;
      let file = keelRel;
      let before = readText(project, keelRel);
      if (before === null && loaded.layout === "openspec") {
        // OpenSpec ignores keys it does not know in .openspec.yaml, so the approval can live there.
        const os = readText(project, openspecRel);
        if (os !== null) {
          file = openspecRel;
          before = os;
        }
      }
      const approvals = readApprovals(loaded.change.meta?.approvals);
      if (approvals.some((a) => a.by === label)) {
        return refuse(
          "approve/already-approved",
          usageError(
            `${label} has already approved change "${id}"; nothing was written`,
            "another reviewer may add an approval",
          ),
          ctx.capabilities,
        );
      }
      const approval: Approval = { by: label, at: now().toISOString() };
      if (actor.kind !== "human") approval.rule = decision.rule;
      const after = withApproval(before, file, approval);
      writeFileAtomic(join(project.root, file), after);
      const event = appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "change.approve",
        target: id,
        before: before === null ? null : contentHash(before).slice(0, 16),
        after: contentHash(after).slice(0, 16),
        reason,
        data: {
          change: id,
          rule: decision.rule,
          status: { from: status, to: "approved" },
          capabilities: ctx.capabilities ?? [],
          file,
          ...(actor.tool ? { tool: actor.tool } : {}),
          ...(actor.model ? { model: actor.model } : {}),
        },
      });
      return {
        change: id,
        previousStatus: status,
        status: "approved",
        approvals: [...approvals, approval],
        rule: decision.rule,
        file,
        event: event.seq,
      };
    });
    if ("refused" in outcome) throw outcome.refused;
    return outcome;
  } finally {
    state.close();
  }
}
