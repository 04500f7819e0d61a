// Clarity lint: "is this spec clear enough for an agent to implement without guessing?"
import type { Finding, Requirement, Span, Spec } from "../../model/types.js";
import { finding } from "./finding.js";

const UNRESOLVED = /\bTBD\b|\bTODO\b|\bFIXME\b|\[NEEDS CLARIFICATION[^\]]*\]/g;
const NORMATIVE = /\b(?:SHALL|MUST)\b/g;

export interface ClarityOptions {
  vagueTerms: readonly string[];
}

export function vagueTermPattern(terms: readonly string[]): RegExp | null {
  if (terms.length === 0) return null;
  const escaped = [...terms]
    .sort((a, b) => b.length - a.length)
    .map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  // Word boundaries by hand: `\b` fails next to punctuation such as the dot in "etc.".
  return new RegExp(`(?<![\\p{L}\\p{N}_])(?:${escaped.join("|")})(?![\\p{L}\\p{N}_])`, "giu");
}

export function clarityRules(spec: Spec, text: string, vague: RegExp | null): Finding[] {
  const out: Finding[] = [];
  for (const r of spec.requirements) {
    const normative = r.text.match(NORMATIVE)?.length ?? 0;
    if (normative > 1 && r.textSpan) {
      out.push(
        finding(
          "clarity/compound-requirement",
          "warning",
          r.headingSpan,
          `requirement "${r.title}" states ${normative} obligations (SHALL/MUST); agents verify one at a time`,
          "split it into one requirement per SHALL/MUST, each with its own scenario",
          r.id,
        ),
      );
    }
    for (const sc of r.scenarios) {
      if (sc.steps.length > 0 && !sc.steps.some((s) => s.keyword === "THEN")) {
        out.push(
          finding(
            "clarity/scenario-no-then",
            "warning",
            sc.headingSpan,
            `scenario "${sc.name}" has no THEN step, so nothing observable is checked`,
            "add a `- **THEN** <observable outcome>` step",
            r.id,
          ),
        );
      }
    }
    if (vague) out.push(...vagueTerms(r, text, vague));
  }
  out.push(...unresolvedMarkers(spec, text));
  if (spec.status === "approved") {
    for (const q of spec.openQuestions) {
      if (q.resolved) continue;
      out.push(
        finding(
          "clarity/open-question",
          "warning",
          q.span,
          `approved spec still has an open question: "${q.text}"`,
          "answer it and tick it (`- [x]`), or move the spec back to draft",
          spec.capability,
        ),
      );
    }
  }
  return out;
}

/** Vague terms in a requirement's text and scenarios, each reported at its own line and column. */
function vagueTerms(r: Requirement, text: string, vague: RegExp): Finding[] {
  const out: Finding[] = [];
  const regions: Span[] = [];
  if (r.textSpan) regions.push(r.textSpan);
  for (const sc of r.scenarios) regions.push(sc.span);
  for (const region of regions) {
    forEachMatch(text, region, vague, (term, span) =>
      out.push(
        finding(
          "clarity/vague-term",
          "warning",
          span,
          `vague term "${term}" in requirement "${r.title}"`,
          "replace it with a measurable criterion (a number, a limit, an observable outcome)",
          r.id,
        ),
      ),
    );
  }
  return out;
}

function unresolvedMarkers(spec: Spec, text: string): Finding[] {
  const out: Finding[] = [];
  const whole: Span = {
    file: spec.file,
    start: { line: 1, col: 1, offset: 0 },
    end: { line: 0, col: 0, offset: text.length },
  };
  forEachMatch(text, whole, UNRESOLVED, (marker, span) =>
    out.push(
      finding(
        "clarity/unresolved-marker",
        "warning",
        span,
        `unresolved marker ${marker}`,
        "resolve it, or move the question to `## Open Questions` as `- [ ] …`",
        spec.capability,
      ),
    ),
  );
  return out;
}

/** Calls `fn` for each match inside `region`, skipping fenced code and inline code spans. */
function forEachMatch(text: string, region: Span, re: RegExp, fn: (match: string, span: Span) => void): void {
  const slice = text.slice(region.start.offset, region.end.offset);
  re.lastIndex = 0;
  if (!re.test(slice)) return;
  let line = region.start.line;
  let lineStart = region.start.offset;
  let inFence = false;
  for (const rawLine of slice.split("\n")) {
    const fence = /^ {0,3}(```|~~~)/.test(rawLine);
    if (fence) inFence = !inFence;
    if (!fence && !inFence) {
      const masked = rawLine.replace(/`[^`]*`/g, (c) => " ".repeat(c.length));
      re.lastIndex = 0;
      for (const m of masked.matchAll(re)) {
        const col = (m.index ?? 0) + 1;
        const offset = lineStart + col - 1;
        fn(m[0], {
          file: region.file,
          start: { line, col, offset },
          end: { line, col: col + m[0].length, offset: offset + m[0].length },
        });
      }
    }
    line++;
    lineStart += rawLine.length + 1;
  }
}
