// The spec-driven phases Keel gives agents, in the order a change goes through them. One text per phase feeds
// both the slash command `keel agents add` writes and the MCP prompt `keel mcp` serves, so the two never differ.
// @req AGT-10, AGT-11, AGT-12, AGT-13, AGT-14, AGT-15, AGT-16, AGT-17
import { analyzePhase } from "./analyze.js";
import { checklistPhase } from "./checklist.js";
import { clarifyPhase } from "./clarify.js";
import { constitutionPhase } from "./constitution.js";
import { implementPhase } from "./implement.js";
import { planPhase } from "./plan.js";
import type { PhaseProcedure } from "./procedure.js";
import { reviewPhase } from "./review.js";
import { specifyPhase } from "./specify.js";
import { tasksPhase } from "./tasks.js";

export const PHASES = [
  "constitution",
  "specify",
  "clarify",
  "plan",
  "tasks",
  "analyze",
  "checklist",
  "implement",
  "review",
] as const;
export type Phase = (typeof PHASES)[number];

/** Each phase's procedure; `ARGS` in its body marks the one place the user's words go. */
export const PHASE_TEXT: Record<Phase, PhaseProcedure> = {
  constitution: constitutionPhase,
  specify: specifyPhase,
  clarify: clarifyPhase,
  plan: planPhase,
  tasks: tasksPhase,
  analyze: analyzePhase,
  checklist: checklistPhase,
  implement: implementPhase,
  review: reviewPhase,
};

/** One phase's description and instructions with `args` in place of the tool's argument placeholder (MCP prompts). */
export function phaseText(phase: Phase, args: string): { description: string; text: string } {
  const { description, body } = PHASE_TEXT[phase];
  return { description, text: body.replace("ARGS", () => args) };
}
