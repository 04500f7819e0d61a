// What links can point at: the living requirements (with fingerprint, effective status and spec file), the IDs
// open changes are about to add, and the tasks.
import { derivedRequirementId } from "../../model/ids.js";
import { effectiveStatus } from "../../model/status.js";
import type { LoadedProject } from "../project.js";
import type { KnownRequirement } from "./state.js";

export interface LinkTargets {
  requirements: Map<string, KnownRequirement>;
  pending: Set<string>;
}

export function linkTargets(project: LoadedProject): LinkTargets {
  const requirements = new Map<string, KnownRequirement>();
  for (const spec of project.specs)
    for (const r of spec.requirements)
      if (!requirements.has(r.id))
        requirements.set(r.id, {
          id: r.id,
          fingerprint: r.fingerprint,
          status: effectiveStatus(r, spec),
          title: r.title,
          capability: spec.capability,
          line: r.headingSpan.start.line,
          spec: { file: spec.file, capability: spec.capability, layout: spec.layout },
        });
  const pending = new Set<string>();
  for (const change of project.changes)
    for (const d of change.deltas)
      for (const sec of d.sections) {
        if (sec.op === "ADDED") for (const r of sec.requirements) pending.add(r.id);
        for (const r of sec.renames) pending.add(r.toId ?? derivedRequirementId(d.capability, r.to));
      }
  return { requirements, pending };
}
