// What Keel writes for agents: the AGENTS.md instructions, the bridge block that tools reading their own
// instructions file (CLAUDE.md, GEMINI.md, …) import AGENTS.md with, and the text of one command per phase.

export { PHASES, type Phase, phaseText } from "./phases/index.js";

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
