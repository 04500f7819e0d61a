// What the agent is told: the task, how its work is taken (Keel commits, checks and lands it; the agent only edits
// files in its worktree), the context pack, and — from the second attempt on — what went wrong last time, in the
// words the next attempt needs: the gate's output tail, the files out of bounds, the reviewer's note.
// @req RUN-2, RUN-4
import type { Gate } from "../core/verify/gates.js";

/** The end of a gate's output that goes into feedback: enough to see the error, small enough for any window. */
const FEEDBACK_TAIL = 6000;

export interface PromptInput {
  task: string;
  title: string;
  attempt: number;
  maxAttempts: number;
  boundaries: string[];
  gates: Gate[];
  pack: string;
  feedback: string | null;
}

export function renderPrompt(p: PromptInput): string {
  const lines = [
    `# Task ${p.task}: ${p.title}`,
    "",
    `Attempt ${p.attempt} of ${p.maxAttempts}. You work in a git worktree made for this task. Make the change the task asks for and leave it as changes to the files of the worktree: Keel commits your work, checks it and lands it. Do not commit, push, switch branches or mark the task done yourself.`,
    "",
    p.boundaries.length > 0
      ? `Change only files matching the task's boundaries: ${p.boundaries.map((b) => `\`${b}\``).join(", ")}. A file changed outside them fails the attempt.`
      : "The task declares no boundaries; change only what it needs.",
    "",
    p.gates.length > 0
      ? `When you exit, these gates must pass:\n${p.gates.map((g) => `- ${g.name}: \`${g.command}\``).join("\n")}`
      : "The task has no gates: your work lands once it stays inside its boundaries.",
  ];
  if (p.feedback) lines.push("", `## Feedback from attempt ${p.attempt - 1}`, "", p.feedback);
  lines.push("", "---", "", p.pack);
  return `${lines.join("\n")}\n`;
}

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = "`".repeat(longest + 1);
  return `${ticks}\n${text.replace(/\s+$/, "")}\n${ticks}`;
}

export function tailOf(text: string): string {
  return text.length > FEEDBACK_TAIL ? `…${text.slice(text.length - FEEDBACK_TAIL)}` : text;
}

export const feedback = {
  boundary: (files: string[], globs: string[]) =>
    `The attempt changed files outside the task's boundaries (${globs.map((g) => `\`${g}\``).join(", ")}):\n${files.map((f) => `- ${f}`).join("\n")}\nKeel restored them. Make the change inside the boundaries.`,
  gate: (gate: Gate, exitCode: number | null, timedOut: boolean, output: string) =>
    `Gate ${gate.name} (\`${gate.command}\`) ${timedOut ? "timed out" : `failed with exit code ${exitCode}`}. The end of its output:\n\n${fence(tailOf(output))}`,
  integrated: (tip: string, gate: Gate, exitCode: number | null, output: string) =>
    `Your work passed its gates on its own, but gate ${gate.name} (\`${gate.command}\`) failed with exit code ${exitCode} on top of the integration branch (now at ${tip.slice(0, 12)}, with work that landed meanwhile). Your worktree now holds your work on top of it. The end of its output:\n\n${fence(tailOf(output))}`,
  stalled: (seconds: number) =>
    `The previous attempt was stopped: no output and no file change for ${seconds} s, even after a nudge. Work in smaller steps and exit when you are done.`,
  crashed: (exitCode: number | null, signal: string | null, output: string) =>
    `The agent ${signal ? `was ended by ${signal}` : `exited with code ${exitCode}`} before the gates ran. The end of its output:\n\n${fence(tailOf(output))}`,
  rejected: (reviewer: string, note: string) => `A reviewer (${reviewer}) rejected the work: ${note}`,
};
