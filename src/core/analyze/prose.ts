// The prose lines of a Markdown file, for the text checks of `keel analyze`: YAML front matter, fenced code
// blocks and HTML comments are left out, since what they hold is not prose a reader takes as a reference or a term.

export interface ProseLine {
  /** 1-based. */
  line: number;
  text: string;
}

const FENCE = /^\s{0,3}(`{3,}|~{3,})/;

export function proseLines(text: string): ProseLine[] {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const out: ProseLine[] = [];
  let i = 0;
  if (lines[0]?.replace(/^\uFEFF/, "").trimEnd() === "---") {
    const close = lines.findIndex((l, k) => k > 0 && (l.trimEnd() === "---" || l.trimEnd() === "..."));
    if (close > 0) i = close + 1;
  }
  let fence: string | null = null;
  let inComment = false;
  for (; i < lines.length; i++) {
    let raw = lines[i] as string;
    const f = FENCE.exec(raw);
    if (fence !== null) {
      if (f && (f[1] as string)[0] === fence[0] && (f[1] as string).length >= fence.length) fence = null;
      continue;
    }
    if (f && !inComment) {
      fence = f[1] as string;
      continue;
    }
    // HTML comments, possibly over several lines, are blanked out with spaces so columns stay right.
    let kept = "";
    while (raw.length > 0) {
      if (inComment) {
        const end = raw.indexOf("-->");
        if (end === -1) {
          kept += " ".repeat(raw.length);
          raw = "";
        } else {
          kept += " ".repeat(end + 3);
          raw = raw.slice(end + 3);
          inComment = false;
        }
      } else {
        const start = raw.indexOf("<!--");
        if (start === -1) {
          kept += raw;
          raw = "";
        } else {
          kept += raw.slice(0, start);
          raw = raw.slice(start);
          inComment = true;
          kept += "    ";
          raw = raw.slice(4);
        }
      }
    }
    if (kept.trim() !== "") out.push({ line: i + 1, text: kept });
  }
  return out;
}

/** Inline code spans of a line: 0-based bounds of the whole span, and its trimmed content with its 0-based start. */
export function codeSpans(
  text: string,
): Array<{ start: number; end: number; content: string; contentStart: number }> {
  const out: Array<{ start: number; end: number; content: string; contentStart: number }> = [];
  const re = /(`+)([\s\S]*?[^`])\1(?!`)/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const inner = m[2] as string;
    const lead = inner.length - inner.trimStart().length;
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      content: inner.trim(),
      contentStart: m.index + (m[1] as string).length + lead,
    });
  }
  return out;
}

/** The line with its code spans replaced by spaces (same length), for checks that must not look inside them. */
export function withoutCode(text: string): string {
  let out = text;
  for (const s of codeSpans(text))
    out = out.slice(0, s.start) + " ".repeat(s.end - s.start) + out.slice(s.end);
  return out;
}
