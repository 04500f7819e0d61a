// YAML front matter, parsed with the `yaml` library so that errors carry a line and column.
// @req FMT-16, VAL-19
import { parseDocument } from "yaml";
import type { Diagnostic, FrontMatter } from "../model/types.js";
import { linesSpan, type Scan } from "./scan.js";
import { parseSimpleYaml } from "./simple-yaml.js";

/**
 * YAML longer than this is not parsed: the yaml library slows down badly on long malformed input (seconds for
 * 100 KB of unclosed flow collections), and real front matter and change metadata are a few hundred bytes.
 */
export const MAX_YAML_CHARS = 32 * 1024;

export function parseFrontMatter(s: Scan): { frontMatter: FrontMatter | null; diagnostics: Diagnostic[] } {
  const fm = s.frontMatter;
  if (!fm) return { frontMatter: null, diagnostics: [] };
  const span = linesSpan(s, fm.openLine, fm.closeLine + 1);
  const bodyStart = s.lines[fm.openLine + 1]?.start ?? span.end.offset;
  const bodyEnd = s.lines[fm.closeLine]!.start;
  const yamlText = s.text.slice(bodyStart, bodyEnd);
  const diagnostics: Diagnostic[] = [];
  const raw = s.text.slice(span.start.offset, span.end.offset);
  const simple = parseSimpleYaml(yamlText);
  if (simple) return { frontMatter: { data: simple, raw, span }, diagnostics };
  if (yamlText.length > MAX_YAML_CHARS) {
    diagnostics.push({
      rule: "format/front-matter",
      severity: "error",
      message: `front matter too long to read: ${yamlText.length} characters, at most ${MAX_YAML_CHARS}`,
      hint: "keep a few metadata keys between the two `---` lines and move long content into the body",
      span,
    });
    return { frontMatter: { data: {}, raw, span }, diagnostics };
  }
  const doc = parseDocument(yamlText, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      // `prettyErrors: false` leaves `linePos` unset: place the error from its offset in the YAML text.
      const offset = bodyStart + Math.min(Math.max(err.pos[0], 0), yamlText.length);
      let k = fm.openLine + 1;
      while (k < fm.closeLine && (s.lines[k + 1] as { start: number }).start <= offset) k++;
      const line = k + 1;
      const col = offset - (s.lines[k] as { start: number }).start + 1;
      diagnostics.push({
        rule: "format/front-matter",
        severity: "error",
        message: `invalid YAML front matter: ${err.message.split("\n")[0]}`,
        hint: "fix the YAML between the two `---` lines, or remove the front matter",
        span: { file: s.file, start: { line, col, offset }, end: { line, col, offset } },
      });
    }
    return { frontMatter: { data: {}, raw, span }, diagnostics };
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (e) {
    // The yaml library refuses alias bombs ("billion laughs") by throwing; report it like any bad YAML.
    diagnostics.push({
      rule: "format/front-matter",
      severity: "error",
      message: `invalid YAML front matter: ${(e as Error).message}`,
      hint: "fix the YAML between the two `---` lines, or remove the front matter",
      span,
    });
    return { frontMatter: { data: {}, raw, span }, diagnostics };
  }
  if (data !== null && (typeof data !== "object" || Array.isArray(data))) {
    diagnostics.push({
      rule: "format/front-matter",
      severity: "error",
      message: "front matter must be a YAML mapping (key: value pairs)",
      hint: "write front matter as `key: value` lines, e.g. `status: approved`",
      span,
    });
    return { frontMatter: { data: {}, raw, span }, diagnostics };
  }
  return { frontMatter: { data: (data ?? {}) as Record<string, unknown>, raw, span }, diagnostics };
}
