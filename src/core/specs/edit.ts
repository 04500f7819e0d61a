// An in-place edit of a living requirement's normative text: the surgical edit of format/edit.ts made safe for
// concurrent writers. The caller names the fingerprint it read (its base). Under the project's write lock the
// spec file is read again, and when the requirement's fingerprint is no longer the base the edit is refused as a
// conflict (audited) and nothing is written: a person's edit never overwrites an edit they did not see. Policy
// decides who may edit living specs (`edit` in policy.ts): reviewers and owners; an agent only where an area
// lets it approve inferred requirements, and only those.
// @req WEB-6
import { join } from "node:path";
import { EditError, replaceRequirementText, type SpecRef, setProvenance } from "../../format/edit.js";
import { parseSpec } from "../../format/spec.js";
import type { Requirement } from "../../model/types.js";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import type { KeelConfig } from "../../workspace/config.js";
import { EXIT, KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { lf } from "../changes/blocks.js";
import { readText } from "../changes/load.js";
import { enforce } from "../policy.js";
import { loadProject } from "../project.js";

export interface RequirementEdit {
  id: string;
  /** The fingerprint of the requirement the new text was written against. */
  base: string;
  /** The new normative text (Markdown; no headings: scenarios stay as they are). */
  text: string;
  reason?: string | null;
}

export interface EditedRequirement {
  id: string;
  capability: string;
  file: string;
  before: string;
  after: string;
  /** False when the text was already the one given: nothing was written. */
  changed: boolean;
  by: string;
  at: string;
}

/** The code of the refusal when the requirement is no longer at the base (answered 409 over REST). */
export const STALE_BASE = "stale-base";
/** The code of the refusal when no living spec holds the requirement (answered 404 over REST). */
export const NO_REQUIREMENT = "requirement-not-found";

export function editRequirement(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  edit: RequirementEdit,
  now = new Date(),
): EditedRequirement {
  const { capability, file } = specOf(project, edit.id);
  const label = actorLabel(actor);
  const reason = edit.reason ?? null;
  const state = StateDb.open(project.root);
  try {
    const inferred = findIn(readText(project, file), file, capability, edit.id)?.markers?.provenance.basis;
    enforce(
      state,
      project.root,
      actor,
      "edit",
      { capabilities: [capability], policy: config.policy, inferredOnly: inferred === "inferred" },
      { action: "requirement.edit", target: edit.id, reason },
    );
    const outcome = state.exclusive((): EditedRequirement | KeelError => {
      const source = readText(project, file);
      const current = findIn(source, file, capability, edit.id);
      const common = { id: edit.id, capability, file, before: edit.base, by: label, at: now.toISOString() };
      if (source === null || current === null || current.fingerprint !== edit.base) {
        const error = staleBase(edit, current);
        appendEvent(state, project.root, {
          actor: label,
          actorKind: actor.kind,
          action: "requirement.edit.refused",
          target: edit.id,
          before: edit.base,
          after: current?.fingerprint ?? null,
          reason: error.message,
          data: { rule: "edit/stale-base", capability, requirement: edit.id, file },
        });
        return error;
      }
      const next = rewrite(source, { capability, file }, edit, actor, now);
      if (next === null) return { ...common, after: edit.base, changed: false };
      const edited = findIn(next, file, capability, edit.id) as Requirement;
      writeFileAtomic(join(project.root, file), next);
      appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "requirement.edit",
        target: edit.id,
        before: edit.base,
        after: edited.fingerprint,
        reason,
        data: {
          capability,
          requirement: edit.id,
          file,
          // The text of this version, so that `keel history` shows it even when no commit holds it.
          block: lf(edited.raw),
          ...(actor.tool ? { tool: actor.tool } : {}),
          ...(actor.model ? { model: actor.model } : {}),
        },
      });
      return { ...common, after: edited.fingerprint, changed: true };
    });
    if (outcome instanceof KeelError) throw outcome;
    return outcome;
  } finally {
    state.close();
  }
}

/** The spec that holds the requirement: exactly one, in Keel's own dialect (the one the surgical edit writes). */
function specOf(project: ProjectRoot, id: string): { capability: string; file: string } {
  const specs = loadProject(project.root, { explicitRoot: true }).specs.filter((s) =>
    s.requirements.some((r) => r.id === id),
  );
  const [spec, ...others] = specs;
  if (!spec)
    throw new KeelError(
      `no requirement "${id}" in the living specs`,
      EXIT.usage,
      "`keel list requirements` lists them",
      undefined,
      NO_REQUIREMENT,
    );
  if (others.length > 0)
    throw usageError(
      `requirement ${id} is in several specs: ${specs.map((s) => s.file).join(", ")}`,
      "give each requirement its own ID (`keel validate` reports duplicates)",
    );
  if (spec.layout !== "keel")
    throw usageError(
      `${spec.file} is a ${spec.layout} spec; Keel edits only its own specs in place`,
      "propose a change instead (`keel change new`)",
    );
  return { capability: spec.capability, file: spec.file };
}

function findIn(source: string | null, file: string, capability: string, id: string): Requirement | null {
  if (source === null) return null;
  return parseSpec(source, file, capability).spec.requirements.find((r) => r.id === id) ?? null;
}

function staleBase(edit: RequirementEdit, current: Requirement | null): KeelError {
  const now = current ? `it is now at ${current.fingerprint}` : "it is no longer in the spec";
  return new KeelError(
    `requirement ${edit.id} changed since ${edit.base} was read: ${now}; nothing was written`,
    EXIT.conflict,
    "read the requirement again and make the edit on its current text",
    undefined,
    STALE_BASE,
  );
}

/** The file with the new text and the editor's provenance; null when the text is the one it has already. */
function rewrite(
  source: string,
  ref: SpecRef,
  edit: RequirementEdit,
  actor: Actor,
  now: Date,
): string | null {
  try {
    const replaced = replaceRequirementText(source, ref, edit.id, edit.text);
    if (replaced === source) return null;
    return setProvenance(replaced, ref, edit.id, {
      origin: actor.kind,
      basis: actor.kind === "human" ? "explicit" : "inferred",
      actor: actor.name,
      tool: actor.tool ?? null,
      model: actor.model ?? null,
      change: null,
      at: now.toISOString().slice(0, 10),
    });
  } catch (e) {
    if (e instanceof EditError) throw usageError(`cannot edit ${edit.id}: ${e.message}`, EDIT_HINT);
    throw e;
  }
}

const EDIT_HINT =
  "write the requirement's normative text only: no headings (its scenarios stay as they are) and no marker line";
