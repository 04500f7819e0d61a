// What every phase is made of, and the one paragraph all of them share: how an agent changes intent.

/** One phase as an agent receives it: a one-line description, and the procedure with `ARGS` where the user's words go. */
export interface PhaseProcedure {
  description: string;
  body: string;
}

/**
 * Said in every phase, because any phase can reveal that the intent itself is wrong: the fix is a proposed change
 * that a person approves, never an edit to what was already approved.
 */
export const CHANGING_INTENT = `Changing intent: never edit an approved spec in \`keel/specs/\`, an approved change, or
\`keel/constitution.md\` directly. Propose a change instead: \`keel change new <name> --why "<reason>"\`, or the MCP
tool \`keel_propose_change\`. Then stop for review: approving a change is a human act, so never run
\`keel change approve\` yourself.`;
