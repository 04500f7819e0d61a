// `keel change resolve`: a human's resolution of a conflict recorded by apply — take our side (the living
// requirement), their side (the change's), or a merged block from a file. The next apply uses it, provided
// the living requirement is still the one the conflict was recorded against.

import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import type { KeelConfig } from "../../workspace/config.js";
import { KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { changeContext, enforce, type PolicyContext } from "../policy.js";
import { blockCore, parseBlock } from "./blocks.js";
import { type ConflictRecord, GIT_MERGE, listConflicts, resolveConflict } from "./conflicts.js";
import { findChangeFolder, loadChange } from "./load.js";

export type Choice = { take: "ours" | "theirs" } | { file: string; text: string };

export interface ResolveResult {
  conflict: string;
  change: string;
  capability: string;
  requirement: string;
  resolution: "ours" | "theirs" | "file";
  /** True when the resolution removes the requirement. */
  removes: boolean;
  by: string;
}

export function resolveChangeConflict(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  changeId: string,
  requirement: string,
  choice: Choice,
  capability: string | null,
  now = new Date(),
): ResolveResult {
  if (changeId === GIT_MERGE) {
    throw usageError(
      "conflicts from a git merge are resolved in the file",
      "edit the spec, keep the version you want between the conflict markers, and commit; `keel conflicts` then closes the record",
    );
  }
  const state = StateDb.open(project.root);
  try {
    const find = (): ConflictRecord => {
      const open = listConflicts(state, { change: changeId, requirement, status: ["open"] }).filter(
        (c) => capability === null || c.capability === capability,
      );
      if (open.length === 0) {
        throw usageError(
          `change "${changeId}" has no open conflict on requirement ${requirement}${capability ? ` in ${capability}` : ""}`,
          "`keel conflicts` lists the open conflicts",
        );
      }
      const caps = new Set(open.map((c) => c.capability));
      if (caps.size > 1) {
        throw usageError(
          `requirement ${requirement} is in conflict in several capabilities: ${[...caps].join(", ")}`,
          "name one with --capability",
        );
      }
      return open[open.length - 1] as ConflictRecord;
    };
    const conflict = find();
    let block: string;
    if ("take" in choice) block = choice.take === "ours" ? conflict.ours : conflict.theirs;
    else {
      block = choice.text;
      if (blockCore(block) !== "") {
        const parsed = parseBlock(block, conflict.capability);
        if (!parsed) {
          throw usageError(
            `${choice.file} is not exactly one requirement block`,
            "write the merged requirement: its `### Requirement:` heading, text and scenarios, and nothing else (an empty file removes it)",
          );
        }
        const ids = new Set([conflict.requirement]);
        for (const side of [conflict.ours, conflict.theirs, conflict.base]) {
          const p = side ? parseBlock(side, conflict.capability) : null;
          if (p) ids.add(p.req.id);
        }
        if (!ids.has(parsed.req.id)) {
          throw usageError(
            `${choice.file} holds requirement ${parsed.req.id}, not ${conflict.requirement}`,
            "keep the requirement's heading (title and {#ID}) as it is in the conflict",
          );
        }
        if (/^(<{7}|={7}|>{7})( |$)/m.test(block)) {
          throw usageError(
            `${choice.file} still has conflict markers`,
            "remove the <<<<<<< ======= >>>>>>> lines",
          );
        }
      }
    }
    const ref = findChangeFolder(project, changeId);
    const ctx: PolicyContext = ref
      ? changeContext(loadChange(project, ref).change, config.policy)
      : { capabilities: [conflict.capability], policy: config.policy };
    enforce(state, project.root, actor, "resolve", ctx, {
      action: "change.resolve",
      target: changeId,
    });
    const label = actorLabel(actor);
    const result = state.exclusive((): ResolveResult | KeelError => {
      const current = find();
      if (current.id !== conflict.id)
        return usageError("the conflict changed meanwhile", "run the command again");
      resolveConflict(state, conflict.id, block, label, now);
      const how = "take" in choice ? choice.take : "file";
      appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "conflict.resolve",
        target: conflict.requirement,
        reason: null,
        data: {
          conflict: conflict.id,
          change: changeId,
          capability: conflict.capability,
          requirement: conflict.requirement,
          resolution: how,
        },
      });
      return {
        conflict: conflict.id,
        change: changeId,
        capability: conflict.capability,
        requirement: conflict.requirement,
        resolution: how,
        removes: blockCore(block) === "",
        by: label,
      };
    });
    if (result instanceof KeelError) throw result;
    return result;
  } finally {
    state.close();
  }
}
