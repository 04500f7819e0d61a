// The task operations the web app added (src/server/operations-work.ts), each called through the checker with
// its success and its refusals: the board, a task's context pack and its handoff notes. On tasks of their own
// (a tasks.md written here), since earlier tests have claimed and closed the project's others.
// @verifies WEB-10
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { keel } from "./cli.js";
import type { WebOpsContext } from "./web-ops.js";

const TASKS = `## 1. Board
- [ ] T901 Draw the board
  - covers: PAY-1
- [ ] T902 Count the columns
  - depends-on: T901
`;

export async function exerciseWorkOperations(ctx: WebOpsContext): Promise<void> {
  const { call, human, agent, root } = ctx;
  mkdirSync(join(root, "keel", "specs", "board-ops"), { recursive: true });
  writeFileSync(join(root, "keel", "specs", "board-ops", "tasks.md"), TASKS);
  const first = "board-ops%2FT901";

  const before = (await call(human, "GET", "/api/board")).json;
  const card = (key: string, board: typeof before) => board.tasks.find((t: { key: string }) => t.key === key);
  expect(card("board-ops/T901", before)).toMatchObject({ column: "ready", claim: null });
  expect(card("board-ops/T902", before)).toMatchObject({ column: "waiting", dependsOn: ["board-ops/T901"] });
  const total = before.columns.reduce((n: number, c: { count: number }) => n + c.count, 0);
  expect(total).toBe(before.tasks.length);

  const claim = await call(agent, "POST", `/api/tasks/${first}/claim`, { ttl: "10m" });
  expect(claim.status, claim.text).toBe(200);
  const after = (await call(human, "GET", "/api/board")).json;
  expect(card("board-ops/T901", after)).toMatchObject({
    column: "claimed",
    claim: { holder: "agent:mcp", leaseUntil: claim.json.result.leaseUntil, live: true },
  });

  const pack = await call(human, "GET", `/api/tasks/${first}/context`);
  expect(pack.status, pack.text).toBe(200);
  // The pack's text is the one `keel context` prints.
  expect(pack.json.text.trimEnd()).toBe(keel(root, "context", "board-ops/T901").stdout.trimEnd());
  const small = await call(human, "GET", `/api/tasks/${first}/context?budget=50`);
  expect(small.json).toMatchObject({ budget: 50, totals: { overBudget: true } });

  expect((await call(human, "GET", `/api/tasks/${first}/notes`)).json).toMatchObject({
    task: "board-ops/T901",
    claim: { holder: "agent:mcp", status: "claimed", live: true },
    notes: [],
  });
  expect((await call(agent, "POST", `/api/tasks/${first}/notes`, { text: "half drawn" })).status).toBe(200);
  const notes = (await call(human, "GET", "/api/tasks/T901/notes")).json;
  expect(notes).toMatchObject({ task: "board-ops/T901" });
  expect(notes.notes.map((n: { author: string; text: string }) => [n.author, n.text])).toEqual([
    ["agent:mcp", "half drawn"],
  ]);

  for (const path of ["/api/tasks/nope%2F9/context", "/api/tasks/nope%2F9/notes"]) {
    const r = await call(human, "GET", path);
    expect(r.status, path).toBe(404);
    expect(r.json.error.message).toContain("unknown task");
  }
  for (const path of [`/api/tasks/${first}/context?budget=0`, `/api/tasks/${first}/context?tokens=9`]) {
    expect((await call(human, "GET", path)).status, path).toBe(400);
  }
}
