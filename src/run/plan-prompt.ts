// What the planner agent is told: write one file, the change's tasks.md, in Keel's task format, covering what the
// change adds or modifies; the change itself (proposal and delta specs, delivered as untrusted text where an agent
// wrote them); the project's capabilities; and, from the second attempt on, the findings that sent the last plan
// back, each at its `tasks.md:LINE:COL`, with the rule and the hint `keel validate` gives.
// @req RUN-8
import { type LoadedChange, readText } from "../core/changes/load.js";
import type { LoadedProject } from "../core/project.js";
import { authorProvenance, deliveryLog } from "../core/scan/deliver.js";
import { securityPolicy } from "../core/scan/policy.js";
import type { ChangePlan } from "../core/validate/task-rules.js";
import type { Finding } from "../model/types.js";

export const PLAN_FILE = "tasks.md";

export interface PlanPromptInput {
  project: LoadedProject;
  loaded: LoadedChange;
  requirements: ChangePlan["requirements"];
  attempt: number;
  maxAttempts: number;
  feedback: string | null;
}

const FORMAT = `Keel's task format (docs/format.md, "Tasks"), for example:

\`\`\`markdown
## 1. Refunds

- [ ] 1.1 Add the refund key column
  - covers: PAY-4
  - boundaries: src/db/**, migrations/*.sql
- [ ] 1.2 Write the refund handler
  - covers: PAY-4
  - depends-on: 1.1
  - boundaries: src/refunds/**
  - verify: \`npm test -- refunds\`
\`\`\`

- Each task is a checkbox line with an ID unique in the file (\`1.1\`, \`1.2\`, …) and a title saying the work.
- \`covers:\` names the requirement IDs the task implements; together the tasks cover every requirement below.
- \`depends-on:\` names the tasks it waits for: IDs of this file (or \`scope/ID\` of another task file), no cycle.
- \`boundaries:\` lists the file globs the task may change; the work loop refuses changes outside them.
  Tasks marked \`[P]\` may run at the same time: give them boundaries that do not overlap.
- \`verify:\` (optional) is a command that checks the task.`;

export function renderPlanPrompt(p: PlanPromptInput): string {
  const lines = [
    `# Plan change ${p.loaded.id}`,
    "",
    `Attempt ${p.attempt} of ${p.maxAttempts}. Break the change below into tasks: write them as ONE file, \`${PLAN_FILE}\`, in your working directory, and change nothing else. Keel checks that file with its parser and rules; an invalid plan comes back to you with the findings. Do not commit, and do not edit the change or the specs.`,
    "",
    FORMAT,
    "",
    "## Requirements to cover",
    "",
    ...(p.requirements.length > 0
      ? p.requirements.map((r) => `- \`${r.id}\`: ${r.title}`)
      : ["The change adds or modifies no requirement: plan the work its proposal describes."]),
  ];
  if (p.feedback)
    lines.push(
      "",
      `## Feedback from attempt ${p.attempt - 1}`,
      "",
      `Your last \`${PLAN_FILE}\` is still in your working directory. Keel did not accept it:`,
      "",
      p.feedback,
    );
  lines.push("", "## Capabilities of the project", "", ...capabilities(p.project), "", ...changeText(p));
  return `${lines.join("\n")}\n`;
}

function capabilities(project: LoadedProject): string[] {
  if (project.specs.length === 0) return ["The project has no capability spec yet."];
  return project.specs.map((s) => `- ${s.capability} (${s.file}): ${s.requirements.length} requirements`);
}

/** The change's proposal and delta specs, delivered as the rest of Keel delivers repository text to agents. */
function changeText(p: PlanPromptInput): string[] {
  const log = deliveryLog(securityPolicy(p.project.config));
  const author =
    typeof p.loaded.meta.author === "string" ? authorProvenance(p.loaded.meta.author) : undefined;
  const proposal = p.loaded.change.proposalFile;
  const files = [
    ...(proposal ? [{ file: proposal, text: readText(p.project.project, proposal) ?? "" }] : []),
    ...p.loaded.deltas.map((d) => ({ file: d.rel, text: d.text })),
  ].filter((f) => f.text.trim() !== "");
  return [
    `## The change: ${p.loaded.id}`,
    ...files.flatMap((f) => ["", `### ${f.file}`, "", log.block(f.text.trimEnd(), p.loaded.id, author)]),
  ];
}

/** The findings an attempt is sent back with: errors to fix, then warnings to consider, each at its position. */
export function planFeedback(findings: readonly Finding[], file: string): string {
  const at = (f: Finding) => `${f.file === file ? PLAN_FILE : f.file}:${f.line}:${f.col}`;
  const line = (f: Finding) =>
    `- ${at(f)}: ${f.severity}: ${f.message} [${f.rule}]${f.hint ? `\n  hint: ${f.hint}` : ""}`;
  const errors = findings.filter((f) => f.severity === "error");
  const others = findings.filter((f) => f.severity !== "error");
  return [
    ...(errors.length > 0 ? ["Fix these:", ...errors.map(line)] : []),
    ...(others.length > 0 ? [errors.length > 0 ? "\nAlso consider:" : "Consider:", ...others.map(line)] : []),
  ].join("\n");
}
