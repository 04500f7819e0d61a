// The checklist phase: a test of the written requirements (not of the code), kept in the change and resolved.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const checklistPhase: PhaseProcedure = {
  description: "Write and resolve a requirements-quality checklist for a Keel change",
  body: `Write a requirements-quality checklist for a Keel change, a test of the written requirements rather than of
the code, and resolve each item.

Input: ARGS

The input is a change ID, optionally followed by a focus (security, errors, performance, ...). If it is empty,
run \`keel change list\` and ask which change to check.

1. Load the change: \`keel change show <change>\`, \`keel change diff <change>\`, its \`proposal.md\` and delta
   specs, and each living requirement it modifies (\`keel show <REQ-ID>\`, MCP: \`keel_requirement\`).
2. Write \`keel/changes/<change>/checklists/<focus>.md\` (\`requirements.md\` without a focus): a title naming the
   change, then one section per dimension below, each item one line
   \`- [ ] CHK001 <question> [<dimension>, <REQ-ID>]\`. When the file exists, number on from its last item and
   delete nothing.
   - Completeness: is each bullet of \`## What Changes\` a requirement? Are errors, empty and limit cases stated?
   - Clarity: is each adjective or quantity (large, many, soon) made concrete? Is each term used in one sense?
   - Measurability: can a test decide pass or fail for each obligation?
   - Scenarios: does each requirement have a scenario for its main case and for each error case, each with
     an observable THEN?
   - Consistency: do the requirements agree with each other, the living specs and \`keel/constitution.md\`?
   Ask about what is written, never whether code works: "Is the refund limit given in a currency and a
   period?", not "Test the refund limit".
   Check: each requirement ID of the change appears in at least one item, and each item names its dimension.
3. Resolve each item in order:
   - satisfied: check it (\`- [x]\`) and say where, e.g. the requirement ID and the scenario's name;
   - a gap the proposal settles: edit the draft delta spec, then check the item and say what changed;
   - a question only the user can answer: ask it (five at most) and record the answer in the delta spec. An
     unanswered one stays \`- [ ]\` and is copied under \`## Open Questions\` in the delta spec.
   Check: after each edit, \`keel validate <change> --strict\` reports no finding that was not there before.
4. Run \`keel validate <change> --strict\` and \`keel analyze\`.
   Check: \`keel validate <change> --strict\` exits 0, and \`keel analyze\` reports nothing under
   \`keel/changes/<change>/\`.
5. Report the checklist's path, the items checked, the edits made and the items still open.

${CHANGING_INTENT}`,
};
