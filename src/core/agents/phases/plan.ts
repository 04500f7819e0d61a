// The plan phase: how a change will be built, written beside it and held against the constitution.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const planPhase: PhaseProcedure = {
  description: "Plan how to implement a Keel change, against the constitution",
  body: `Plan how to implement a Keel change: the approach, the files it touches and the risks, held against the
constitution.

Input: ARGS

The input is a change ID. If it is empty, run \`keel change list\` and ask which change to plan.

1. Load the intent: \`keel change show <change>\` (status, targets, overlaps) and \`keel change diff <change>\`.
   Check: \`keel validate <change> --strict\` reports no \`clarity/unresolved-marker\`; if it does, clarify first.
2. Read \`keel/constitution.md\` and the \`gates:\` of \`keel/keel.yaml\`. Every principle applies to the plan;
   note the gates the work has to pass.
3. For each requirement the change adds or modifies, find the code around it: \`keel trace <REQ-ID>\` for one that
   exists (its code, tests and evidence), \`keel search <terms>\` (MCP: \`keel_search\`) for its neighbours.
4. Write the plan in \`keel/changes/<change>/design.md\`: the context, the approach and each alternative rejected
   (with why), the modules and files to touch, changes to data or interfaces, the test that will exercise each
   scenario, and the risks. List the affected code and specs under \`## Impact\` in \`proposal.md\`.
   Check: every requirement ID of the change is named in the plan, with the test that will exercise it.
5. Hold the plan against each principle. Where it would break one, change the plan, or say so and propose a
   constitution amendment (the constitution phase). Never plan around a principle silently.
   Check: the plan breaks no principle, or names the one it breaks and the amendment proposed.
6. Run \`keel analyze\` and \`keel validate <change> --strict\`, and resolve every finding in the change's files.
   Check: \`keel analyze\` reports nothing under \`keel/changes/<change>/\`, and \`keel validate <change> --strict\`
   exits 0.
7. Report the approach, the risks and any principle at stake. Next phase: tasks.

${CHANGING_INTENT}`,
};
