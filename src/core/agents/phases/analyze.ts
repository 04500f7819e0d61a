// The analyze phase: Keel's computed reports read side by side, plus what only a reader sees. It changes nothing.
import { CHANGING_INTENT, type PhaseProcedure } from "./procedure.js";

export const analyzePhase: PhaseProcedure = {
  description: "Report gaps and inconsistencies across specs, changes, tasks and code",
  body: `Analyze the project's intent for gaps and inconsistencies, and report them. This phase changes no file.

Input: ARGS

If the input names a change, focus on it: its folder \`keel/changes/<change>/\` and the requirements it touches.
If it is empty, report on the whole project.

1. Run \`keel analyze\` (with \`--json\` to read each finding's fields) and group its findings by category:
   requirements without tasks, tasks without requirements, unwired gates, missing files, inconsistent terms.
2. Run \`keel validate --strict\` (for one change: \`keel validate <change> --strict\`) and group its findings by
   rule family: \`openspec/\`, \`xref/\`, \`clarity/\`, \`tasks/\`, \`change/\`, \`format/\`, \`input/\`.
3. Run \`keel drift\`: requirements untraced, links suspect (code changed since it was verified), dangling or
   out of bounds, evidence stale.
4. For a change, also run \`keel change show <change>\` (its base drift and overlaps with other open changes).
   Check: \`keel analyze\`, \`keel validate --strict\` and \`keel drift\` each ran to its end. Exit 1 means
   findings, which go in the report; exit 2 or 3 means the command could not judge: report that first.
5. Read across what no command computes: two requirements that contradict each other, one behaviour stated
   twice, a scenario whose THEN does not follow from its requirement, a task doing more than it covers, a
   requirement that breaks a principle of \`keel/constitution.md\`. Mark these as judgement.
6. Write the report: one row per finding with its severity (error, warning, info), its rule (or "judgement"),
   its file and line, what is wrong, and the phase that fixes it (specify, clarify, plan, tasks, constitution).
   End with the counts per category and each command's verdict.
   Check: every finding has a file and line, and your counts match what the commands printed.
7. Fix nothing here. Offer the user the next step for the worst findings: a draft change is fixed by its
   phase, and anything approved is fixed by proposing a change.

${CHANGING_INTENT}`,
};
