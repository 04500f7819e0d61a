// `keel change reject`: marks a change rejected. The folder stays where it is, as the record of a decision;
// apply refuses a rejected change. Audited; refused (and audited) for a change that is already applied.
import { join } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import type { KeelConfig } from "../../workspace/config.js";
import { KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { changeContext, enforce } from "../policy.js";
import { invalidChange } from "./errors.js";
import { changeStatus, findChangeFolder, loadChange, requireChange } from "./load.js";
import { META_FILE, metaEditable, patchMeta } from "./meta.js";

export interface RejectResult {
  change: string;
  dir: string;
  previousStatus: string;
  status: "rejected";
  by: string;
  at: string;
}

export function rejectChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  id: string,
  reason: string | null,
  now = new Date(),
): RejectResult {
  const first = requireChange(project, id);
  const label = actorLabel(actor);
  const state = StateDb.open(project.root);
  try {
    const refusal = (lc: typeof first): KeelError | null => {
      const status = changeStatus(lc);
      if (lc.archived || status === "applied") {
        return usageError(
          `change "${lc.id}" is already applied (${lc.dir}); it cannot be rejected`,
          "to undo it, run `keel change revert` to create the inverse change",
        );
      }
      if (status === "rejected") {
        return usageError(`change "${lc.id}" is already rejected`, "nothing to do");
      }
      return null;
    };
    const audited = (error: KeelError, rule: string) => {
      appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "change.reject.refused",
        target: id,
        reason: error.message,
        data: { rule },
      });
      return error;
    };
    const early = refusal(first);
    if (early) {
      state.exclusive(() =>
        audited(
          early,
          early.message.includes("applied") ? "change/already-applied" : "change/already-rejected",
        ),
      );
      throw early;
    }
    enforce(state, project.root, actor, "reject", changeContext(first.change, config.policy), {
      action: "change.reject",
      target: first.id,
      reason,
    });
    const result = state.exclusive((): RejectResult | KeelError => {
      const ref = findChangeFolder(project, first.id);
      if (!ref) return usageError(`change "${first.id}" is gone`, "it was moved or deleted meanwhile");
      const lc = loadChange(project, ref);
      const late = refusal(lc);
      if (late) return audited(late, "change/status");
      if (!metaEditable(lc.metaText)) {
        return invalidChange(
          `${lc.dir}/${META_FILE} is not a YAML mapping`,
          "fix it so the rejection can be recorded",
        );
      }
      const at = now.toISOString();
      const text = patchMeta(lc.metaText, [
        ...(lc.metaText === null ? [{ path: ["id"], value: lc.id }] : []),
        { path: ["status"], value: "rejected" },
        { path: ["rejected"], value: { at, by: label, ...(reason ? { reason } : {}) } },
      ]);
      writeFileAtomic(join(lc.abs, META_FILE), text);
      appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "change.reject",
        target: lc.id,
        before: lc.metaText === null ? null : contentHash(lc.metaText).slice(0, 16),
        after: contentHash(text).slice(0, 16),
        reason,
        data: { previous: changeStatus(lc), dir: lc.dir },
      });
      return {
        change: lc.id,
        dir: lc.dir,
        previousStatus: changeStatus(lc),
        status: "rejected",
        by: label,
        at,
      };
    });
    if (result instanceof KeelError) throw result;
    return result;
  } finally {
    state.close();
  }
}
