// Which spec root owns a link (keel.yaml `roots:`): the root whose folder holds the file, else the top level.
// An unqualified `@req PAY-1` is read where it is written: its own root's requirement first, then the top
// level's, then the one root that has it. A qualified one (`payments:PAY-1`) names its root's, from anywhere.
// @req MONO-5, MONO-6
import { namespaceOf } from "../../model/namespace.js";
import type { SpecRoot } from "../../workspace/spec-roots.js";
import type { RawLink, ScanResult } from "./types.js";

/** The name of the root whose folder holds `file` (repository-relative); null: the top level (or a commit). */
export function ownerOf(roots: readonly SpecRoot[], file: string): string | null {
  return roots.find((r) => file.startsWith(`${r.dir}/`))?.name ?? null;
}

/** Each link with its owning root; unqualified requirement IDs resolved as above. Without roots: the scan itself. */
export function resolveLinkRoots(
  scan: ScanResult,
  roots: readonly SpecRoot[],
  known: ReadonlySet<string>,
): ScanResult {
  if (roots.length === 0) return scan;
  return { ...scan, links: scan.links.map((l) => withRoot(l, roots, known)) };
}

function withRoot(link: RawLink, roots: readonly SpecRoot[], known: ReadonlySet<string>): RawLink {
  const root = ownerOf(roots, link.file);
  if (link.targetType !== "req" || namespaceOf(link.target) !== null) return { ...link, root };
  return { ...link, root, target: resolveWritten(link.target, root, roots, known) };
}

function resolveWritten(
  id: string,
  root: string | null,
  roots: readonly SpecRoot[],
  known: ReadonlySet<string>,
): string {
  if (root !== null && known.has(`${root}:${id}`)) return `${root}:${id}`;
  if (known.has(id)) return id;
  const only = roots.map((r) => `${r.name}:${id}`).filter((q) => known.has(q));
  // None, or several roots have it: left as written, so it is reported as naming no requirement.
  return only.length === 1 ? (only[0] as string) : id;
}
