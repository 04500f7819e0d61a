// The implement phase: the work loop of one task, claim to done, held by its boundaries and gates.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const implementPhase: PhaseProcedure = {
  description: "Claim the next Keel task and implement it until its gates pass",
  body: `Implement one Keel task inside its boundaries, until its gates pass.

Input: ARGS

If the input names a task (\`<scope>/<id>\`), claim that one; if it is empty, claim the next ready task.

1. Claim: \`keel tasks claim <task>\` or \`keel tasks claim --next\` (MCP: \`keel_claim_task\` with \`task\` or
   \`next: true\`). Keep the token it prints: every later write needs it.
   Check: the claim succeeded. Exit 6 means the task is held, done, blocked or unknown: run \`keel tasks ready\`
   (MCP: \`keel_ready_tasks\`) and take another, or stop when nothing is ready.
2. Load the context: \`keel context <task>\` (MCP: \`keel_context\`). Read all of it (requirements and scenarios,
   constitution, boundaries, notes and findings) before changing any file.
   Check: you can name each requirement ID the task covers and the scenario that proves it. If one is unclear
   or wrong, stop: \`keel tasks note <task> "<question>"\` (MCP: \`keel_note\`), and ask the user.
3. Implement within the task's \`boundaries\` only. Mark the code with \`@req <ID>\` and the tests that exercise
   its scenarios with \`@verifies <ID>\`. On long work, renew the lease:
   \`keel tasks heartbeat <task> --token <token>\` (MCP: \`keel_heartbeat\`).
   Check: \`keel boundaries check --task <task>\` reports no file outside the task's globs.
4. Verify: \`keel verify --task <task>\` runs the project's gates, the acceptance commands of the requirements
   the task covers and its own \`verify:\` commands, and records the evidence. Fix the code, never the gate
   or the spec, until every gate passes.
   Check: \`keel verify --task <task>\` exits 0.
5. Finish: \`keel tasks done <task> --token <token>\` (MCP: \`keel_complete_task\`). Exit 7 names the gates
   without passing evidence on this tree: verify again. Never pass \`--override\`; that is a person's call.
   Check: \`keel tasks show <task>\` shows the task done.
6. If you cannot finish: \`keel tasks block <task> --token <token> --reason "<what is missing>"\`. A problem in
   the specs themselves is a finding: \`keel_note\` with \`kind: "finding"\`, a \`severity\` and the
   \`requirement\`. Then report and stop.
7. Report the task, the files changed, the gates run and their results.

${CHANGING_INTENT}`,
};
