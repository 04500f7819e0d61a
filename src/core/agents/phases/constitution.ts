// The constitution phase: principles are intent too, so they change through a change a person approves.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const constitutionPhase: PhaseProcedure = {
  description: "Create or amend the project's constitution through a Keel change",
  body: `Create or amend the project's constitution, \`keel/constitution.md\`, through a Keel change.

Input: ARGS

If the input is empty, ask the user which principle to add, change or retire, and why. Do not invent principles.

1. Read what holds today: \`keel status\` (how many principles, how many with a gate), then
   \`keel/constitution.md\` and the \`gates:\` section of \`keel/keel.yaml\`.
   Check: you can name every principle ID (\`P-1\`, ...) and every gate of keel.yaml with its command.
2. Draft the amendment. A principle is a heading \`### Principle: <title> {#P-<n>}\`, then one short paragraph a
   reviewer can hold a pull request against, then, when a command can check it, a line of its own,
   Gate: \`<gate>\`, that names a gate of \`keel/keel.yaml\` by its name or by its exact command.
   A new principle takes the next free ID. Never renumber or reuse an ID; mark a principle that no longer
   applies as deprecated instead of deleting it.
   Check: every \`Gate:\` line names a gate of keel.yaml; a principle that no command can check says who checks it.
3. Propose it: \`keel change new <amend-constitution-topic> --why "<reason>"\` (MCP: \`keel_propose_change\`
   with the same name and why). In the change's \`proposal.md\`, write under \`## What Changes\` the full new
   text of each principle added or amended, and under \`## Impact\` the gates it adds or drops. A constitution
   amendment has no delta specs: add the line \`skip_specs: true\` to the change's \`change.yaml\`.
   Check: \`keel validate <change> --strict\` exits 0.
4. Stop and ask a person to review and approve the change. \`keel change show <change>\` shows its status.
5. Only once \`keel change show <change>\` reports \`approved\`: copy the approved text into
   \`keel/constitution.md\`, exactly as approved, and change nothing else in the file.
   Check: \`keel validate --strict\` exits 0; \`keel analyze\` reports no \`analyze/gate-not-wired\` and no
   \`analyze/principle-without-gate\` finding for a principle you added; \`keel verify\` runs every gate the
   constitution names and records passing evidence.
6. Report the principle IDs added, amended or deprecated, each with its gate, and the change's ID.

${CHANGING_INTENT}`,
};
