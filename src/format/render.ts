// Re-rendering a parsed file. A file is a sequence of pieces: an optional byte order mark, the front matter
// as written, the requirement blocks as written, and the text between them as written. Rendering joins the
// pieces, so a file parsed and rendered with no edit comes back byte for byte, and an edit that replaces one
// piece leaves every other byte where it was. See docs/format.md ("Round trip").
// @req FMT-14
import type { DeltaSpec, Requirement, Spec } from "../model/types.js";
import type { Scan } from "./scan.js";

export type Piece =
  | { kind: "bom"; raw: string }
  | { kind: "front-matter"; raw: string }
  | { kind: "text"; raw: string }
  | { kind: "requirement"; id: string; raw: string };

export interface SourceDocument {
  pieces: Piece[];
}

/** Splits a parsed capability spec into pieces. */
export function specDocument(parsed: { spec: Spec; scan: Scan }): SourceDocument {
  return document(parsed.scan, parsed.spec.frontMatter, parsed.spec.requirements);
}

/** Splits a parsed delta spec into pieces: the requirement blocks of every delta section, in file order. */
export function deltaDocument(parsed: { delta: DeltaSpec; scan: Scan }): SourceDocument {
  const blocks = parsed.delta.sections.flatMap((sec) => sec.requirements);
  blocks.sort((a, b) => a.span.start.offset - b.span.start.offset);
  return document(parsed.scan, null, blocks);
}

export function renderDocument(doc: SourceDocument): string {
  let out = "";
  for (const piece of doc.pieces) out += piece.raw;
  return out;
}

/** Renders a parsed capability spec back to text; with no edit, the result equals the parsed text. */
export function renderSpec(parsed: { spec: Spec; scan: Scan }): string {
  return renderDocument(specDocument(parsed));
}

/** Renders a parsed delta spec back to text; with no edit, the result equals the parsed text. */
export function renderDeltaSpec(parsed: { delta: DeltaSpec; scan: Scan }): string {
  return renderDocument(deltaDocument(parsed));
}

function document(
  s: Scan,
  frontMatter: Spec["frontMatter"],
  requirements: readonly Requirement[],
): SourceDocument {
  const pieces: Piece[] = [];
  let at = 0;
  const text = (to: number) => {
    if (to > at) pieces.push({ kind: "text", raw: s.text.slice(at, to) });
    at = Math.max(at, to);
  };
  if (s.contentStart > 0) {
    pieces.push({ kind: "bom", raw: s.text.slice(0, s.contentStart) });
    at = s.contentStart;
  }
  if (frontMatter) {
    text(frontMatter.span.start.offset);
    pieces.push({ kind: "front-matter", raw: frontMatter.raw });
    at = frontMatter.span.end.offset;
  }
  for (const r of requirements) {
    text(r.span.start.offset);
    pieces.push({ kind: "requirement", id: r.id, raw: r.raw });
    at = r.span.end.offset;
  }
  text(s.text.length);
  return { pieces };
}
