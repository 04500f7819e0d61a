// A requirement's effective status: its marker line's, else its spec's own (front matter `status:`).
import type { Requirement, RequirementStatus, Spec } from "./types.js";

export function effectiveStatus(r: Requirement, spec: Pick<Spec, "status">): RequirementStatus | null {
  return r.markers?.status ?? spec.status ?? null;
}
