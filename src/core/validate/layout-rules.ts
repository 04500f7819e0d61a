// The deterministic validator Spec Kit and Kiro lack: their structural rules, each documented in
// docs/layouts.md. File-local rules run per spec file (cached with its analysis); the rules that need another
// file (a plan beside the spec, the stories a tasks.md names) run over the summaries in the engine.
// @req LAY-11
import type { Finding, Spec } from "../../model/types.js";
import { finding } from "./finding.js";
import { openspecSpecRules } from "./openspec-rules.js";

const USER_STORY = /^US\d+$/;

/** The structural rules of a spec's own layout: OpenSpec's for Keel's and OpenSpec's, the toolkit's for others. */
export function layoutSpecRules(spec: Spec): Finding[] {
  switch (spec.layout) {
    case "speckit":
      return speckitSpecRules(spec);
    case "kiro":
      return kiroSpecRules(spec);
    default:
      return openspecSpecRules(spec);
  }
}

function speckitSpecRules(spec: Spec): Finding[] {
  const out: Finding[] = [];
  for (const r of spec.requirements) {
    if (!USER_STORY.test(r.written ?? "") || r.scenarios.length > 0) continue;
    out.push(
      finding(
        "speckit/story-without-scenario",
        "error",
        r.headingSpan,
        `user story ${r.written} "${r.title}" has no acceptance scenario`,
        "add `**Acceptance Scenarios**:` with numbered `**Given** …, **When** …, **Then** …` lines under the story",
        r.id,
      ),
    );
  }
  return out;
}

function kiroSpecRules(spec: Spec): Finding[] {
  const out: Finding[] = [];
  for (const r of spec.requirements) {
    if (r.ears !== null) continue;
    out.push(
      finding(
        "kiro/criterion-not-ears",
        "warning",
        r.textSpan ?? r.headingSpan,
        `acceptance criterion ${r.written ?? r.id} is not in an EARS form`,
        "write it as `WHEN <event> THEN the <system> SHALL <response>` (or IF / WHILE / WHERE … SHALL)",
        r.id,
      ),
    );
  }
  return out;
}

/** A `[NEEDS CLARIFICATION]` marker of a Spec Kit spec, as kept in the spec's analysis. */
export interface Clarification {
  text: string;
  line: number;
  col: number;
}

/** The markers a spec's analysis keeps for the cross-file rule below (Spec Kit only). */
export function clarificationsOf(spec: Spec): Clarification[] | undefined {
  if (spec.layout !== "speckit") return undefined;
  return (spec.notes ?? [])
    .filter((n) => n.kind === "clarification")
    .map((n) => ({ text: n.text, line: n.span.start.line, col: n.span.start.col }));
}

/**
 * Spec Kit's workflow resolves every `[NEEDS CLARIFICATION]` (`/clarify`) before planning: a marker still in a
 * spec whose feature already has a plan.md means the plan was made on a guess.
 */
export function clarificationAfterPlan(
  file: string,
  capability: string,
  markers: readonly Clarification[],
  planFile: string,
): Finding[] {
  return markers.map((m) =>
    finding(
      "speckit/clarification-after-plan",
      "error",
      { file, start: { line: m.line, col: m.col, offset: 0 }, end: { line: m.line, col: m.col, offset: 0 } },
      `unresolved [NEEDS CLARIFICATION: ${m.text}] in a feature that already has a plan (${planFile})`,
      "answer the question in the spec (Spec Kit's /clarify), then revisit the plan",
      capability,
    ),
  );
}
