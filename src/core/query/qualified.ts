// An ID given on the command line in a repository with spec roots (keel.yaml `roots:`): `payments:PAY-1` names
// that root's; an unqualified one names the `--root` scope's first, then the top level's, then the one root that
// has it; several roots having it is a usage error naming each. Without roots: the ID as given.
// @req MONO-4
import { namespaceOf } from "../../model/namespace.js";
import { usageError } from "../../workspace/errors.js";
import type { SpecRoot } from "../../workspace/spec-roots.js";

export async function findQualified<T>(
  roots: readonly SpecRoot[],
  scope: SpecRoot | null,
  id: string,
  find: (id: string) => Promise<T | null> | T | null,
): Promise<T | null> {
  const local = namespaceOf(id) === null;
  if (scope !== null && local) {
    const scoped = await find(`${scope.name}:${id}`);
    if (scoped !== null) return scoped;
  }
  const direct = await find(id);
  if (direct !== null || roots.length === 0 || !local) return direct;
  const hits: Array<{ id: string; found: T }> = [];
  for (const r of roots) {
    const found = await find(`${r.name}:${id}`);
    if (found !== null) hits.push({ id: `${r.name}:${id}`, found });
  }
  if (hits.length > 1) {
    const names = hits.map((h) => h.id);
    throw usageError(
      `"${id}" is ambiguous: ${names.join(", ")}`,
      `qualify it with its root (e.g. ${names[0]}), or keep to one root with --root ${namespaceOf(names[0] as string)}`,
    );
  }
  return hits[0]?.found ?? null;
}
