// Which review controls the page shows the session: derived from its principal and role only to leave out
// buttons the core would refuse (src/core/policy.ts decides, and the API refuses whatever the page shows).
// @req WEB-7
import type { Session } from "../api";

/** `kind:name`, as changes record their author. */
function label(s: Session): string | null {
  return s.principal ? `${s.principal.kind}:${s.principal.name}` : null;
}

/** Owners and reviewers: the roles policy trusts with intent. */
function trusted(s: Session): boolean {
  return s.principal?.role === "owner" || s.principal?.role === "reviewer";
}

export function mayApprove(s: Session, author: string | null): boolean {
  return s.canApprove && author !== label(s);
}

/** Reviewers reject any change; anyone may reject their own. */
export function mayReject(s: Session, author: string | null): boolean {
  return trusted(s) || (author !== null && author === label(s));
}

/** Agents apply only where an area of policy lets them: the page offers apply to reviewers only. */
export function mayApply(s: Session): boolean {
  return trusted(s);
}

/** A conflict takes a human reviewer's resolution. */
export function mayResolve(s: Session): boolean {
  return s.principal?.kind === "human" && trusted(s);
}

export function mayComment(s: Session): boolean {
  return s.principal !== null && s.principal.role !== "read-only";
}

/** Agents' sessions read spec text delivered; a person's page asks for the text as written. */
export function rawQuery(s: Session): string {
  return s.principal?.kind === "agent" ? "" : "?raw=true";
}

/** `agent:codex-7` as the origin and name `Origin` shows. */
export function splitLabel(by: string | null): { origin: string | null; name: string | null } {
  const m = by ? /^(human|agent|system):(.+)$/.exec(by) : null;
  return m ? { origin: m[1] ?? null, name: m[2] ?? null } : { origin: null, name: by };
}
