// Namespaced IDs of a repository with several spec roots (keel.yaml `roots:`, workspace/spec-roots.ts): a root's
// capabilities and requirement IDs carry its name, `payments:billing`, `payments:PAY-1`. The top level's are not
// namespaced. Discovery gives a root's files their qualified capability; the readers qualify the IDs from it.
// @req MONO-3
import type { DeltaSpec, Spec } from "./types.js";

/** A spec root's name: lowercase kebab-case, the namespace of its IDs. */
export const ROOT_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

/** The namespace of a qualified ID or capability (`payments` of `payments:PAY-1`), or null for a top-level one. */
export function namespaceOf(id: string): string | null {
  const at = id.indexOf(":");
  return at > 0 ? id.slice(0, at) : null;
}

/** The ID without its namespace (`PAY-1` of `payments:PAY-1`). */
export function localId(id: string): string {
  return id.slice(id.indexOf(":") + 1);
}

/** `id` qualified with `ns`; an ID already qualified (written `web:UI-1`, to reach another root) is kept. */
export function qualifyId(ns: string, id: string): string {
  return namespaceOf(id) === null ? `${ns}:${id}` : id;
}

/**
 * A root's spec with its IDs and references qualified from its capability (already `ns:capability`); an
 * unqualified reference written in a root names that root's requirement. A top-level spec is left as it is.
 */
export function qualifySpec(spec: Spec): Spec {
  const ns = namespaceOf(spec.capability);
  if (ns === null) return spec;
  for (const r of spec.requirements) r.id = qualifyId(ns, r.id);
  for (const ref of spec.references) ref.id = qualifyId(ns, ref.id);
  for (const note of spec.notes ?? [])
    if (note.requirement) note.requirement = qualifyId(ns, note.requirement);
  return spec;
}

/** A root's delta spec with the IDs it adds, modifies, removes and renames qualified like its living spec's. */
export function qualifyDelta(delta: DeltaSpec): DeltaSpec {
  const ns = namespaceOf(delta.capability);
  if (ns === null) return delta;
  for (const section of delta.sections) {
    for (const r of section.requirements) r.id = qualifyId(ns, r.id);
    for (const r of section.removed) if (r.id !== null) r.id = qualifyId(ns, r.id);
    for (const r of section.renames) {
      if (r.fromId !== null) r.fromId = qualifyId(ns, r.fromId);
      if (r.toId !== null) r.toId = qualifyId(ns, r.toId);
    }
  }
  return delta;
}
