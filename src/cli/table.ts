// Columns measured as a terminal shows them: a CJK character or an emoji takes two columns, a combining mark
// none, a colour code none (string-width). Every table and padded column of the CLI goes through here, so a
// title in Japanese lines up with one in English.
// @req TERM-4
import stringWidth from "string-width";
import type { Io } from "./output.js";
import { paint } from "./output.js";

/** The columns `text` takes on a terminal (ANSI colour codes take none). */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

/** `text` followed by spaces up to `width` display columns (never cut). */
export function padCell(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - displayWidth(text)));
}

/** Spaces before `text` up to `width` display columns (never cut). */
export function padCellStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - displayWidth(text))) + text;
}

/** The widest of `texts`, in display columns (0 for none). */
export function widestOf(texts: Iterable<string>): number {
  let widest = 0;
  for (const t of texts) widest = Math.max(widest, displayWidth(t));
  return widest;
}

/** `text` cut to at most `width` display columns, whole characters only (for a line that must fit the terminal). */
export function fitWidth(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const { segment } of new Intl.Segmenter().segment(text)) {
    const w = displayWidth(segment);
    if (used + w > width) break;
    out += segment;
    used += w;
  }
  return out;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. `header` may be null. */
export function table(io: Io, header: string[] | null, rows: string[][], indent = ""): string {
  const columns = header?.length ?? Math.max(0, ...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) =>
    widestOf([header?.[i] ?? "", ...rows.map((r) => r[i] ?? "")]),
  );
  const line = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padCell(c, widths[i] as number)))
      .join("  ")
      .trimEnd();
  return [...(header ? [paint(io, "bold", line(header))] : []), ...rows.map(line)].join("\n");
}
