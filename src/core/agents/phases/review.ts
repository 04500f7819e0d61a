// The review phase: the work held against approved intent and the constitution; findings recorded, nothing fixed.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const reviewPhase: PhaseProcedure = {
  description: "Review work against the specs before merging",
  body: `Review work against the specs before it is merged: does the code do what the approved intent says, no more
and no less?

Input: ARGS

If the input names a change, review the work on that change; if it is empty, review all work in progress
(\`keel change list\` and \`keel tasks list\`).

1. Run \`keel check\`: validation, drift and the latest gate results in one verdict.
   Check: you have noted the verdict of \`keel check\`; each error it reports is a finding of this review.
2. Run \`keel drift\` and \`keel coverage\`: requirements untraced, links suspect (code changed since it was
   verified), annotations dangling; per capability, what is implemented, tested and verified.
3. For each task of the work, run \`keel boundaries check --task <task>\`: files changed outside its globs.
4. For each change, read \`keel change diff <change>\`; then for each requirement it adds or modifies, run
   \`keel trace <REQ-ID>\` (MCP: \`keel_requirement\`) for the code and tests that cite it and their evidence.
   Read that code: does it do what each scenario says, and nothing the specs do not ask for? Is each scenario
   exercised by a test that can fail?
   Check: for each requirement of the change, \`keel trace <REQ-ID>\` shows code citing it (\`@req\`), a test
   citing it (\`@verifies\`) and passing evidence.
5. Hold the work against each principle of \`keel/constitution.md\`: a principle with a gate is judged by the
   gate's latest result (\`keel check\`), one without a gate by reading the code.
6. Record each finding where the next agent will see it: \`keel tasks note <task> "<finding>"\`, or
   \`keel_note\` with \`kind: "finding"\`, a \`severity\` and the \`requirement\`.
7. Report each finding with its severity, file and line and the requirement or principle it breaks, then the
   verdict: ready to merge, or what has to change first. Fix nothing, and approve or apply no change.

${CHANGING_INTENT}`,
};
