// Keel's side file for a layout whose files cannot hold a requirement's status or provenance (Spec Kit, Kiro):
// `keel/layouts/<layout>.yaml`, by requirement ID. Keel keeps there what it needs and never writes it into the
// toolkit's files. Reading never throws; what cannot be read is a positioned diagnostic.
// @req LAY-13
import { isMap, isScalar, LineCounter, type Pair, parseDocument, type YAMLMap } from "yaml";
import type { Diagnostic, Markers, Span, Spec } from "../../model/types.js";
import { applyMarkerField } from "../markers.js";

/** What the side file says of one requirement, as the marker line of a Keel requirement would. */
export type SidecarEntries = Map<string, Markers>;

export function parseSidecar(
  text: string,
  file: string,
): { entries: SidecarEntries; diagnostics: Diagnostic[] } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter });
  const entries: SidecarEntries = new Map();
  const diagnostics: Diagnostic[] = [];
  const spanAt = (offset: number): Span => {
    const { line, col } = counter.linePos(offset);
    const at = { line, col, offset };
    return { file, start: at, end: at };
  };
  const problem = (offset: number, message: string, hint: string) =>
    diagnostics.push({ rule: "layout/side-file", severity: "error", message, hint, span: spanAt(offset) });
  const yamlError = doc.errors[0];
  if (yamlError) {
    problem(yamlError.pos[0], `not valid YAML: ${yamlError.message.split("\n")[0]}`, "fix the YAML syntax");
    return { entries, diagnostics };
  }
  const requirements = isMap(doc.contents) ? doc.contents.get("requirements", true) : undefined;
  if (requirements === undefined || requirements === null) return { entries, diagnostics };
  if (!isMap(requirements)) {
    problem(0, "`requirements` must be a mapping of requirement ID to its status and provenance", HINT);
    return { entries, diagnostics };
  }
  for (const pair of (requirements as YAMLMap).items as Pair[]) {
    const id = isScalar(pair.key) ? String(pair.key.value) : "";
    const at = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? 0;
    const markers = readEntry(pair.value, spanAt(at), (message) => problem(at, `${id}: ${message}`, HINT));
    if (markers) entries.set(id, markers);
  }
  return { entries, diagnostics };
}

const HINT =
  "write `requirements: { <ID>: { status: approved, origin: human, actor: alice } }` (docs/layouts.md, Side file)";

function readEntry(value: unknown, span: Span, bad: (message: string) => void): Markers | null {
  if (!isMap(value)) {
    bad("must be a mapping of status and provenance fields");
    return null;
  }
  const markers: Markers = { provenance: {}, extra: {}, span, raw: "" };
  for (const [key, v] of Object.entries((value as YAMLMap).toJSON() as Record<string, unknown>)) {
    const text = v === null || v === undefined ? "" : v instanceof Date ? v.toISOString() : String(v);
    const refused = applyMarkerField(markers, key, text);
    if (refused) bad(`${refused.message} (${refused.hint})`);
  }
  return markers;
}

/**
 * The spec with the side file's status and provenance on its requirements, as their marker lines (copies: the
 * parsed spec may be shared). Requirements the side file does not name are as parsed.
 */
export function withSidecar(spec: Spec, entries: SidecarEntries | undefined): Spec {
  if (!entries || entries.size === 0 || !spec.requirements.some((r) => entries.has(r.id))) return spec;
  return {
    ...spec,
    requirements: spec.requirements.map((r) => {
      const markers = entries.get(r.id);
      return markers ? { ...r, markers } : r;
    }),
  };
}
