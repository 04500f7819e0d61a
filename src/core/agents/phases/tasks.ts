// The tasks phase: a change broken into small claimable tasks, each covering the requirements it implements.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const tasksPhase: PhaseProcedure = {
  description: "Break a Keel change into claimable tasks",
  body: `Break a Keel change into small tasks that agents can claim, each covering the requirements it implements.

Input: ARGS

The input is a change ID. If it is empty, run \`keel change list\` and ask which change to break down.

1. Load the change and its plan: \`keel change show <change>\`, \`keel change diff <change>\`, and
   \`keel/changes/<change>/design.md\` when the plan phase wrote one.
   Check: you have the list of requirement IDs the change adds or modifies.
2. Write \`keel/changes/<change>/tasks.md\`, replacing the scaffolded items. Group tasks under numbered headings
   (\`## 1. <stage>\`). Each task is one line, \`- [ ] <n>.<m> <imperative title>\`, with sub-bullets:
   \`- covers: <REQ-ID>, <REQ-ID>\` (what it implements), \`- depends-on: <n>.<m>\` (a task it needs first),
   \`- boundaries: <globs>\` (the files it may touch) and \`- verify:\` with a command in backticks that proves it.
   A task fits in one sitting and has one observable result; the test of a scenario goes in the task that
   implements it.
   Check: every requirement ID of the change is covered by a task, and every task covers a requirement.
3. Run \`keel tasks list\` and \`keel tasks graph\`: the order is the one you intend, and \`keel tasks ready\`
   lists the change's first tasks.
   Check: \`keel validate <change> --strict\` reports no \`tasks/...\` finding (no cycle, no unknown dependency).
4. Run \`keel analyze\`; fix every \`analyze/task-without-requirement\` and \`analyze/requirement-without-task\`
   finding about this change.
   Check: \`keel analyze\` reports nothing under \`keel/changes/<change>/\`.
5. Report the number of tasks, their order and the first ready task. Next phase: implement, once a person has
   approved the change.

${CHANGING_INTENT}`,
};
