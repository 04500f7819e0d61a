#!/usr/bin/env node
// The test agent of `keel run`: a real program that reads its prompt (on stdin and from $KEEL_PACK_FILE) and acts
// by a script in the fixture, `agent-script.json` at the top of its worktree, keyed by task ID (`"*"`: any other task),
// one step per attempt (the last step repeats): `write` files ({path: content}; `{task}`, `{id}` and `{attempt}` in
// paths and contents are the task's key, its ID and the attempt), `append` to files, then `exit` with a code, or `hang`
// (no output, no change, until stopped), or `crash` (killed by SIGSEGV). It logs what it saw — the task, attempt,
// whether stdin and the file held the same prompt, and the feedback section — as one JSON line to
// $KEEL_TEST_AGENT_LOG, so a test can check what each attempt was told. `mcpNote` leaves a note on the task
// through Keel's MCP server at $KEEL_MCP_URL, with the real MCP client SDK.
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const stdin = Buffer.concat(chunks).toString("utf8");
const file = readFileSync(process.env.KEEL_PACK_FILE, "utf8");
const task = process.env.KEEL_TASK;
const id = task.slice(task.lastIndexOf("/") + 1);
const attempt = Number(process.env.KEEL_ATTEMPT);
const script = JSON.parse(readFileSync("agent-script.json", "utf8"));
const steps = script[id] ?? script["*"] ?? [{}];
const step = steps[Math.min(attempt, steps.length) - 1] ?? {};
const feedback = /## Feedback from attempt \d+\n\n([\s\S]*?)\n---\n/.exec(file)?.[1] ?? null;
if (process.env.KEEL_TEST_AGENT_LOG) {
  appendFileSync(
    process.env.KEEL_TEST_AGENT_LOG,
    `${JSON.stringify({ task, attempt, sameOnStdin: stdin === file, feedback, pack: file.length, token: process.env.KEEL_TOKEN })}\n`,
  );
}
// Placeholders in paths and contents: {task} is the whole key (scope/id), {id} the task's ID alone.
const expand = (text) =>
  text.replaceAll("{attempt}", String(attempt)).replaceAll("{task}", task).replaceAll("{id}", id);
for (const [name, content] of Object.entries(step.write ?? {})) {
  const path = expand(name);
  mkdirSync(dirname(join(".", path)), { recursive: true });
  writeFileSync(path, expand(content));
}
for (const [name, content] of Object.entries(step.append ?? {}))
  appendFileSync(expand(name), expand(content));
if (step.mcpNote) {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const { StreamableHTTPClientTransport } = await import(
    "@modelcontextprotocol/sdk/client/streamableHttp.js"
  );
  const client = new Client({ name: "keel-test-agent", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(process.env.KEEL_MCP_URL)));
  await client.callTool({ name: "keel_note", arguments: { task, text: step.mcpNote } });
  await client.close();
}
if (step.hang) {
  setInterval(() => undefined, 1 << 30);
} else if (step.crash) {
  process.kill(process.pid, "SIGSEGV");
} else {
  console.log(`agent did ${task} attempt ${attempt}`);
  process.exit(step.exit ?? 0);
}
