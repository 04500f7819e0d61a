// Marked blocks in Markdown files: `<!-- keel:begin -->` … `<!-- keel:end -->`. Keel owns what is between
// the markers (markers included); everything outside them is the user's and kept byte for byte.

const BEGIN = "<!-- keel:begin -->";
const END = "<!-- keel:end -->";

export interface BlockSpan {
  /** Offset of the begin marker. */
  start: number;
  /** Offset just past the end marker and its line break. */
  end: number;
}

/** The block's span, or null when absent; an unpaired marker is an error (line given). */
export function findBlock(
  text: string,
  begin = BEGIN,
  endMarker = END,
): BlockSpan | { error: string; line: number } | null {
  const start = text.indexOf(begin);
  const endAt = text.indexOf(endMarker, Math.max(start, 0));
  if (start < 0 && endAt < 0) return null;
  if (start < 0 || endAt < 0) {
    const at = start < 0 ? endAt : start;
    return { error: `unpaired ${start < 0 ? endMarker : begin} marker`, line: lineOf(text, at) };
  }
  let end = endAt + endMarker.length;
  if (text.startsWith("\r\n", end)) end += 2;
  else if (text.startsWith("\n", end)) end += 1;
  return { start, end };
}

/** `text` without the block at `span` and, when it is still there, the separator `sep` Keel put before it. */
export function cutBlock(text: string, span: BlockSpan, sep: string): string {
  const from = sep !== "" && text.endsWith(sep, span.start) ? span.start - sep.length : span.start;
  return text.slice(0, from) + text.slice(span.end);
}

export function renderBlock(body: string, eol = "\n"): string {
  return `${BEGIN}${eol}${body.replace(/\n/g, eol)}${eol}${END}${eol}`;
}

/** What goes before an appended block so that it starts on a line of its own after a blank line. */
export function separatorFor(existing: string): string {
  if (existing === "" || existing.endsWith("\n\n") || existing.endsWith("\r\n\r\n")) return "";
  const eol = existing.includes("\r\n") ? "\r\n" : "\n";
  return existing.endsWith("\n") ? eol : eol + eol;
}

export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}
