// Small text helpers shared by the converters.
import type { Scan } from "../../format/scan.js";
import { topSections } from "../../format/spec.js";

/** LF line ends: converted files are written with LF, whatever the source used. */
export function lf(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

/**
 * The text above the first `## ` section, the title line left out: what a toolkit writes around its title (Spec
 * Kit's `**Status**` and `**Input**` lines, a constitution's sync report comment above it), trimmed.
 */
export function preambleText(s: Scan): string {
  const h1 = s.headings.find((h) => h.level === 1);
  const first = topSections(s)[0];
  const to = first ? (s.lines[first.heading.lineIndex]?.start ?? s.text.length) : s.text.length;
  const titleLine = h1 ? s.lines[h1.lineIndex] : undefined;
  const part = (a: number, b: number) => (a < b ? lf(s.text.slice(a, b)).trim() : "");
  if (!titleLine || titleLine.start >= to) return part(s.contentStart, to);
  return [part(s.contentStart, titleLine.start), part(titleLine.next, to)]
    .filter((p) => p !== "")
    .join("\n\n");
}

/** Each `## ` section as written, with whether it holds any of the offsets given (its elements' starts). */
export function sectionsOf(s: Scan, starts: readonly number[]): Array<{ text: string; holds: boolean }> {
  return topSections(s).map((sec) => {
    const from = s.lines[sec.heading.lineIndex]?.start ?? 0;
    const to = s.lines[sec.endLine]?.start ?? s.text.length;
    return { text: lf(s.text.slice(from, to)).trimEnd(), holds: starts.some((o) => o >= from && o < to) };
  });
}
