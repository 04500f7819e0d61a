// A planner agent for tests: a real program, started by `keel run --plan` like any `command:` agent. It reads its
// prompt (stdin, else the file $KEEL_PACK_FILE names), then acts by a script: $PLAN_AGENT_SCRIPT is a JSON array
// (the text itself: a file outside the project would be out of a sandboxed agent's sight) with one entry per
// attempt (the last one repeats):
//   "…"                       write that text to ./tasks.md
//   { "exit": 3 }             write nothing and exit with that code
//   { "tasks": "…", "touch": ["path", …] }   also try to write each path (a sandbox test: it must fail)
//   null                      write nothing, exit 0
// Each prompt it was given is appended to $PLAN_AGENT_LOG (outside the project) as one JSON line, with the attempt
// number and the feedback file's text, so a test sees what every attempt was told. A write that the sandbox
// refuses (the log, a touched path) is ignored: what got through is what the test checks.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";

const attempt = Number(process.env.KEEL_ATTEMPT ?? "1");
const readOr = (path, fallback) => {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return fallback;
  }
};
const tryWrite = (write) => {
  try {
    write();
  } catch {
    // Refused by the sandbox: the test looks at what exists afterwards.
  }
};

const stdin = readOr(0, "");
const prompt = stdin !== "" ? stdin : readOr(process.env.KEEL_PACK_FILE ?? "", "");
const feedback = process.env.KEEL_FEEDBACK_FILE ? readOr(process.env.KEEL_FEEDBACK_FILE, null) : null;
if (process.env.PLAN_AGENT_LOG)
  tryWrite(() =>
    appendFileSync(
      process.env.PLAN_AGENT_LOG,
      `${JSON.stringify({ attempt, prompt, feedback, cwd: process.cwd() })}\n`,
    ),
  );

const script = JSON.parse(process.env.PLAN_AGENT_SCRIPT ?? "[]");
const step = script[Math.min(attempt, script.length) - 1] ?? null;
if (typeof step === "string") writeFileSync("tasks.md", step);
else if (step !== null && typeof step.exit === "number") process.exit(step.exit);
else if (step !== null) {
  for (const path of step.touch ?? []) tryWrite(() => writeFileSync(path, "escaped\n"));
  writeFileSync("tasks.md", step.tasks);
}
