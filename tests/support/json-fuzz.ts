// What the fuzz tests of the JSON task readers (Task Master, Beads) share: the JSON tokens that mutations
// insert, and a check that a reported position (1-based line and column) lies in a text, for the fuzz tests of the readers
// that report line and column rather than spans (Task Master, Beads). The column may sit one past the line's
// last character, where an unterminated value ends.
export function positionInText(text: string): (line: number, col: number) => boolean {
  const lines = text.split("\n");
  return (line, col) =>
    line >= 1 && line <= lines.length && col >= 1 && col <= (lines[line - 1]?.length ?? 0) + 1;
}

/** Tokens that break JSON structure, strings and line ends, for mutations of a JSON fixture. */
export const JSON_FUZZ_TOKENS = ["{", "}", "[", "]", ",", ":", '"', "\\", "\n", "\r\n", "null"] as const;
