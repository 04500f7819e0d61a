// Positions of arbitrary offsets in a scanned file, for spans that start or end inside a line (an ID within a
// list item, a trimmed slice of a criterion), which the line-based helpers of scan.ts do not cover.
import type { Position } from "../../model/types.js";
import type { Scan } from "../scan.js";

/** Position of an offset that lies in (or at the end of) a line's content, by binary search over line starts. */
export function positionAt(s: Scan, offset: number): Position {
  let lo = 0;
  let hi = s.lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.lines[mid]!.start <= offset) lo = mid;
    else hi = mid - 1;
  }
  const line = s.lines[lo];
  if (!line) return { line: 1, col: 1, offset };
  return { line: lo + 1, col: offset - line.start + 1, offset };
}
