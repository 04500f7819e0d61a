// Requirement identity. Explicit IDs are written by people (`{#AUTH-1}`); derived IDs are a pure function of
// the capability and title so that every reader of the same file computes the same ID.

export const EXPLICIT_ID = /^[A-Za-z][A-Za-z0-9_.-]*$/;
const TRAILING_ID = /[ \t]*\{#([A-Za-z][A-Za-z0-9_.-]*)\}[ \t]*$/;

/** Splits `Title {#ID}` into its title and explicit ID. */
export function splitExplicitId(heading: string): { title: string; id: string | null } {
  const m = TRAILING_ID.exec(heading);
  if (!m) return { title: heading.trim(), id: null };
  return { title: heading.slice(0, m.index).trim(), id: m[1] as string };
}

/** NFKD, strip combining marks, lowercase, runs of anything but [a-z0-9] become one `-`, trimmed. */
export function slug(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

export function derivedRequirementId(capability: string, title: string): string {
  return `${capability}/${slug(title) || "untitled"}`;
}
