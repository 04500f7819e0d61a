// What Keel writes for agents: the AGENTS.md instructions, the bridge block that tools reading their own
// instructions file (CLAUDE.md, GEMINI.md, …) import AGENTS.md with, and the text of one command per phase.

export const PHASES = ["specify", "clarify", "plan", "tasks", "implement", "review"] as const;
export type Phase = (typeof PHASES)[number];

/** The first words of the line that marks a command file as Keel's. */
export const FILE_MARKER = "Written by Keel (keel agents add).";

export const AGENTS_BLOCK = `## Keel: spec-driven workflow

This project keeps its intent in \`keel/\` (specs, changes, tasks). Work through Keel, in this loop:

1. Pick work: \`keel tasks claim --next\` (prints the task and a claim token), or \`keel tasks ready\` to look first.
2. Load context: \`keel context <task>\` — the requirements, constitution and files the task needs. Read it before editing.
3. Implement inside the task's boundaries; cite requirement IDs in code and tests with \`@req <ID>\`.
4. Verify: \`keel verify --task <task>\` runs the gates and records evidence.
5. Finish: \`keel tasks done <task> --token <token>\` (refused while a gate lacks passing evidence).

Changing behaviour starts with intent, not code: \`keel change new <name> --why "<reason>"\`, then edit the
proposal and delta specs in \`keel/changes/<name>/\` and run \`keel validate\`. Approving a change is a human act.
Stuck or blocked: \`keel tasks note <task> "<text>"\` or \`keel tasks block <task> --token <token> --reason "<text>"\`.
The same operations are available as MCP tools from \`keel mcp\` (keel_context, keel_claim_task, …).`;

export const BRIDGE_BLOCK = `Read and follow the project instructions in AGENTS.md:

@AGENTS.md`;

const PHASE_TEXT: Record<Phase, { description: string; body: string }> = {
  specify: {
    description: "Turn a request into a Keel change with delta specs",
    body: `Turn this request into a Keel change: ARGS

1. Run \`keel search <terms>\` and \`keel show <capability>\` to find the requirements it touches.
2. Run \`keel change new <kebab-name> --why "<one sentence>"\` (add \`--capability <cap>\` or \`--modify <REQ-ID>\`).
3. Fill \`keel/changes/<name>/proposal.md\` (## Why, ## What Changes) and the delta specs under
   \`keel/changes/<name>/specs/<capability>/spec.md\`: \`### Requirement:\` with one SHALL or MUST each and a
   \`#### Scenario:\` with GIVEN/WHEN/THEN steps.
4. Run \`keel validate\` and fix every error. Do not approve the change.`,
  },
  clarify: {
    description: "Resolve vague or open points in a Keel change",
    body: `Clarify the Keel change: ARGS

1. Run \`keel change show <name>\` and \`keel validate --strict\`; list vague terms and missing scenarios.
2. Ask the user at most five precise questions, one at a time, and record each answer in the spec.
3. Keep unanswered ones under \`## Open Questions\` as \`- [ ]\` items. Run \`keel validate\` again.`,
  },
  plan: {
    description: "Plan how to implement an approved Keel change",
    body: `Plan the implementation of the Keel change: ARGS

1. Run \`keel change show <name>\` and read \`keel/constitution.md\`; every principle applies.
2. Write the approach, affected files and risks under \`## Impact\` in the change's proposal.md.
3. Run \`keel analyze\` and resolve what it reports about this change.`,
  },
  tasks: {
    description: "Break a Keel change into claimable tasks",
    body: `Write the tasks of the Keel change: ARGS

1. Edit \`keel/changes/<name>/tasks.md\`: small tasks (\`- [ ] 1.1 …\`), each citing the requirement IDs it implements.
2. Run \`keel tasks list\` and \`keel tasks graph\` and check the order; run \`keel validate\`.`,
  },
  implement: {
    description: "Claim the next Keel task and implement it",
    body: `Implement the next Keel task. ARGS

1. \`keel tasks claim --next\` (or \`keel tasks claim <task>\`); keep the token it prints.
2. \`keel context <task>\`; read it in full before changing code.
3. Implement within the task's boundaries; mark code and tests with \`@req <ID>\`.
4. \`keel verify --task <task>\` until every gate passes.
5. \`keel tasks done <task> --token <token>\`.`,
  },
  review: {
    description: "Review work against the specs before merging",
    body: `Review the work against the specs. ARGS

1. Run \`keel check\`, \`keel drift\` and \`keel boundaries\`; report each finding with its file and line.
2. For each change involved, \`keel change diff <name>\`: does the code do what the delta specs say, no more?
3. List what is missing or wrong; do not approve changes yourself.`,
  },
};

/** One phase's description and instructions with `args` in place of the tool's argument placeholder (MCP prompts). */
export function phaseText(phase: Phase, args: string): { description: string; text: string } {
  const { description, body } = PHASE_TEXT[phase];
  return { description, text: body.replace("ARGS", () => args) };
}
