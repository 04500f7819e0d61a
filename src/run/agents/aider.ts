// Aider scripted: `--message-file` sends the prompt file as one message, applies the edits and exits (no chat).
// Aider commits by itself; Keel's worker commits instead, after the boundary check and the gates, so every commit
// of its own is off (`--no-auto-commits`, `--no-dirty-commits`). So is every write outside the task: adding
// `.aider*` to .gitignore (`--no-gitignore`) and the history files it keeps in the repository's root (sent to
// /dev/null). `--yes-always` answers its confirmations; the update check and analytics, which would ask (and be
// answered yes), are off. It prints a "Tokens: … sent, … received. Cost: $… message, $… session." line per
// message, the counts rounded to a tenth of a thousand.
// @req RUN-7
import { option, reported } from "./shared.js";
import type { AgentPreset, AgentUsage } from "./types.js";

const NUMBER = String.raw`(\d+(?:\.\d+)?k?)`;
const USAGE_LINE = new RegExp(
  String.raw`Tokens: ${NUMBER} sent(?:, ${NUMBER} cache write)?(?:, ${NUMBER} cache hit)?, ${NUMBER} received\.` +
    String.raw`(?: Cost: \$(\d+(?:\.\d+)?) message, \$(\d+(?:\.\d+)?) session\.)?`,
  "g",
);

/** Aider's rounded count ("186", "4.6k", "12k") as a number of tokens. */
function tokens(text: string): number {
  return text.endsWith("k") ? Math.round(Number(text.slice(0, -1)) * 1000) : Number(text);
}

function aiderUsage(stdout: string): AgentUsage | null {
  let sent: number | null = null;
  let received: number | null = null;
  let session: number | null = null;
  for (const m of stdout.matchAll(USAGE_LINE)) {
    sent = (sent ?? 0) + tokens(m[1] as string);
    received = (received ?? 0) + tokens(m[4] as string);
    // The session figure is the running total: the last one is the run's.
    if (m[6] !== undefined) session = Number(m[6]);
  }
  return reported({ costUsd: session, inputTokens: sent, outputTokens: received });
}

export const aider: AgentPreset = {
  name: "aider",
  title: "Aider",
  program: "aider",
  docs: [
    "https://aider.chat/docs/scripting.html",
    "https://aider.chat/docs/config/options.html",
    "https://aider.chat/docs/git.html",
  ],
  network: true,
  keyEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY"],
  passEnv: [
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "DEEPSEEK_API_KEY",
    "OPENROUTER_API_KEY",
    "OPENAI_API_BASE",
    "AIDER_MODEL",
  ],
  stateDirs: [".aider"],
  launch: (req) => ({
    argv: [
      "aider",
      "--message-file",
      req.promptFile,
      "--yes-always",
      "--no-auto-commits",
      "--no-dirty-commits",
      "--no-gitignore",
      "--input-history-file",
      "/dev/null",
      "--chat-history-file",
      "/dev/null",
      "--no-check-update",
      "--no-analytics",
      ...option("--model", req.model),
      ...req.args,
    ],
    stdin: null,
  }),
  usage: aiderUsage,
};
