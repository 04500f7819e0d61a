// What one file yields: its links and its problems, positioned (1-based line and column, the column counting
// UTF-16 code units of the decoded line, as everywhere in Keel).
import type { LinkKind, LinkSource, RawLink, ScanProblem } from "../types.js";
import type { TargetType } from "./ids.js";

export class FileSink {
  readonly links: RawLink[] = [];
  readonly problems: ScanProblem[] = [];

  constructor(readonly file: string) {}

  link(
    kind: LinkKind,
    source: LinkSource,
    target: string,
    targetType: TargetType,
    line: number,
    col: number,
  ) {
    this.links.push({ kind, source, target, targetType, file: this.file, line, col });
  }

  problem(
    rule: ScanProblem["rule"],
    severity: ScanProblem["severity"],
    line: number,
    col: number,
    message: string,
  ) {
    this.problems.push({ file: this.file, line, col, rule, severity, message });
  }

  /** A line too long to lex, holding what looks like an annotation at `col`. */
  longLine(line: number, col: number, length: number, limit: number): void {
    this.problem(
      "trace/long-line",
      "warning",
      line,
      col,
      `line ${line} is ${mib(length)} long (the limit is ${mib(limit)}): the annotations on it are not read`,
    );
  }
}

export function mib(n: number): string {
  return n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;
}

/**
 * Finds a needle's occurrences in order: `in(from, to)` says whether one lies in [from, to), searching the text
 * once in all however many lines ask. Calls must come with non-decreasing `from`.
 */
export class NextFinder {
  private at = -2;

  constructor(
    private readonly text: string,
    private readonly needle: string,
  ) {}

  in(from: number, to: number): boolean {
    if (this.at !== -1 && this.at < from) this.at = this.text.indexOf(this.needle, from);
    return this.at !== -1 && this.at < to;
  }
}

/** A position's line end (before `\r\n` or `\n`) and the start of the next line. */
export function lineBounds(text: string, start: number): { end: number; next: number } {
  const nl = text.indexOf("\n", start);
  if (nl === -1) return { end: text.length, next: text.length + 1 };
  return { end: nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl, next: nl + 1 };
}
