// The specify phase: a request becomes a change with a proposal (why) and delta specs (what), before any code.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const specifyPhase: PhaseProcedure = {
  description: "Turn a request into a Keel change with delta specs",
  body: `Turn a request into a Keel change: a proposal that says why, and delta specs that say what.

Input: ARGS

If the input is empty, ask the user what behaviour they want and who needs it. Write nothing until they answer.

1. Find what exists: \`keel search <terms>\` (MCP: \`keel_search\`) with the words of the request, then
   \`keel show <capability>\` and \`keel show <REQ-ID>\` (MCP: \`keel_requirement\`) for each hit that matters.
   Check: you know which capabilities and requirement IDs the request touches, or that it touches none.
2. Run \`keel change list\` (and \`keel change show <id>\` for a likely one). If an open change already covers
   the request, stop and tell the user which one.
3. Propose the change: \`keel change new <kebab-name> --why "<one sentence>"\`, with \`--capability <cap>\` for each
   capability that gains requirements, \`--modify <REQ-ID>\` for each requirement that changes and
   \`--remove <REQ-ID>\` for each that goes. The MCP tool \`keel_propose_change\` takes the same fields.
   Check: it printed the change's folder, \`keel/changes/<name>/\`.
4. Write \`keel/changes/<name>/proposal.md\`: \`## Why\` (the problem and who has it, in at least 50 characters)
   and \`## What Changes\` (one bullet per change in behaviour, breaking ones marked **BREAKING**).
5. Write each delta spec, \`keel/changes/<name>/specs/<capability>/spec.md\`. Under \`## ADDED Requirements\`
   (or MODIFIED, REMOVED, RENAMED), each requirement is a heading \`### Requirement: <title> {#<ID>}\`, text that
   states exactly one obligation with SHALL or MUST, and at least one \`#### Scenario:\` with \`- **WHEN**\` and
   \`- **THEN**\` steps (\`- **GIVEN**\` when a prior state matters). A new ID takes the capability's prefix and the
   next free number (\`keel list requirements --capability <cap>\`). A MODIFIED requirement holds its whole new
   block. Where you would have to guess, write \`[NEEDS CLARIFICATION: <question>]\` instead.
   Check: every requirement has one SHALL or MUST and at least one scenario whose THEN can be observed.
6. Run \`keel validate <name> --strict\` and fix what it reports; then read \`keel change diff <name>\` word by word.
   Check: \`keel validate <name> --strict\` reports no error, and its only warnings are the
   \`clarity/unresolved-marker\` lines you left on purpose.
7. Report the change ID, the requirement IDs it adds, modifies or removes, and each open clarification.
   Next phase: clarify while markers remain, then checklist and plan.

${CHANGING_INTENT}`,
};
