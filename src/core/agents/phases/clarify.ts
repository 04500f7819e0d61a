// The clarify phase: the vague and undecided points of a draft change, settled with the user one question at a time.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const clarifyPhase: PhaseProcedure = {
  description: "Resolve vague or open points in a Keel change",
  body: `Clarify a Keel change: find what is vague, missing or undecided in its delta specs, and settle it with the user.

Input: ARGS

The input is a change ID. If it is empty, run \`keel change list\`: use the only open change, or ask which one.

1. Load the change: \`keel change show <change>\` and \`keel change diff <change>\`; read its \`proposal.md\` and
   every delta spec under \`keel/changes/<change>/specs/\`.
   Check: its status is \`draft\` or \`review\`. An approved change is not edited: stop and ask the user.
2. Run \`keel validate <change> --strict\` and list every \`clarity/...\` finding (vague terms, markers such as
   \`[NEEDS CLARIFICATION]\` or \`TBD\`) and every requirement without a scenario.
3. Look for what no linter sees, in this order: scope (what is left out), actors and permissions, data and
   limits (numbers, units, sizes), errors and edge cases, time, load and security, and a term used in two senses.
   Check: each candidate question is tied to a requirement ID or to the proposal.
4. Keep the five questions whose answers would change a requirement or a scenario most. Ask them one at a time,
   each with your recommended answer (or two to four options) and why. Stop early when the user says so.
5. After each answer, edit the delta spec at once: replace the vague words, add or fix the scenario, remove the
   marker. Each requirement keeps exactly one SHALL or MUST.
   Check: \`keel validate <change> --strict\` reports no finding that was not there before the edit.
6. A question left unanswered goes under \`## Open Questions\` in the delta spec as \`- [ ] <question>\`; an answer
   worth keeping as a record becomes \`- [x] <question> Resolved: <answer>.\`
7. Report the questions asked, the requirements changed, and what is still open.
   Check: \`keel validate <change> --strict\` exits 0, or each warning left is an open question you reported.

${CHANGING_INTENT}`,
};
