// Requirement identity. Explicit IDs are written by people (`{#AUTH-1}`); derived IDs are a pure function of
// the capability and title so that every reader of the same file computes the same ID.

/**
 * `PAY-4`; or qualified by its scope, `001-photo-albums/FR-001` or `user-auth/1.2`: toolkits that number every
 * feature from one (Spec Kit, Kiro) keep their IDs as written under the feature's name, which may start with a
 * digit, as may an ID under a scope. An unqualified ID starts with a letter, so `{#4PAY}` stays a mistake.
 */
export const EXPLICIT_ID =
  /^(?:[A-Za-z][A-Za-z0-9_.-]*|(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)+[A-Za-z0-9][A-Za-z0-9_.-]*)$/;
// @req FMT-3
/**
 * Splits `Title {#ID}` into its title and explicit ID. Done by hand rather than with an unanchored
 * `/[ \t]*\{#(…)\}[ \t]*$/`, which backtracks quadratically on a title with a long run of spaces.
 */
export function splitExplicitId(heading: string): { title: string; id: string | null } {
  let end = heading.length;
  while (end > 0 && (heading[end - 1] === " " || heading[end - 1] === "\t")) end--;
  const open = heading.lastIndexOf("{#", end);
  if (end === 0 || heading[end - 1] !== "}" || open === -1) return { title: heading.trim(), id: null };
  const id = heading.slice(open + 2, end - 1);
  if (!EXPLICIT_ID.test(id)) return { title: heading.trim(), id: null };
  return { title: heading.slice(0, open).trim(), id };
}

// @req FMT-4
/** NFKD, strip combining marks, lowercase, runs of anything but [a-z0-9] become one `-`, trimmed. */
export function slug(text: string): string {
  // Plain ASCII (nearly every title) has nothing to decompose: skip the Unicode passes.
  const folded = !/[\u0080-\uffff]/.test(text) ? text : text.normalize("NFKD").replace(/\p{M}+/gu, "");
  return folded
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export function derivedRequirementId(capability: string, title: string): string {
  return `${capability}/${slug(title) || "untitled"}`;
}
