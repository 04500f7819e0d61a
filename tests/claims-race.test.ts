// The claim race: many real processes loop `claimNext` over the same 1,000 task IDs at once. Every task must
// end with exactly one winner and the winners together must cover all tasks — on every run, so it runs twice:
// the second race starts on the same project once every lease from the first has expired.
// @verifies TSK-6
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listEvents, verifyChain } from "../src/store/sqlite/audit-log.js";
import { Claims } from "../src/store/sqlite/claims.js";
import { StateDb } from "../src/store/state-db.js";
import { bundleFixture, removeBundle, runBundle } from "./support/harness.js";

const PROCESSES = 16;
const TASKS = 1000;
const TTL = 10 * 60_000;

let tmp: string;
let racer: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "keel-claims-race-"));
  racer = await bundleFixture("claim-racer");
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  removeBundle(racer);
});

interface Win {
  holder: string;
  taskId: string;
  token: number;
}

/** Starts every racer at once; returns each win with its holder. */
async function race(root: string, round: number, offsetMs: number): Promise<Win[]> {
  const outputs = await Promise.all(
    Array.from({ length: PROCESSES }, (_, p) =>
      runBundle(racer, [root, `r${round}-p${p}`, String(TASKS), String(TTL), String(offsetMs)], tmp),
    ),
  );
  return outputs.flatMap((o, p) =>
    o
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => ({ holder: `r${round}-p${p}`, ...(JSON.parse(l) as { taskId: string; token: number }) })),
  );
}

const ALL = Array.from({ length: TASKS }, (_, i) => `T${String(i).padStart(4, "0")}`);

describe("claim race", () => {
  it(`${PROCESSES} processes × ${TASKS} tasks, twice: every task has exactly one winner`, async () => {
    const root = join(tmp, "race");
    mkdirSync(root);
    const rounds: Win[][] = [];
    const times: number[] = [];
    // Round 2 runs on a clock past every round-1 lease, so all 1,000 tasks are free again.
    for (const [round, offset] of [
      [1, 0],
      [2, 2 * TTL],
    ] as const) {
      const started = performance.now();
      const wins = await race(root, round, offset);
      times.push(performance.now() - started);
      rounds.push(wins);

      // Exactly one winner per task, and together they cover every task.
      const byTask = new Map<string, Win[]>();
      for (const w of wins) byTask.set(w.taskId, [...(byTask.get(w.taskId) ?? []), w]);
      expect([...byTask.entries()].filter(([, ws]) => ws.length !== 1)).toEqual([]);
      expect([...byTask.keys()].sort()).toEqual(ALL);
      expect(wins).toHaveLength(TASKS);
      // Fencing tokens are unique, and the store agrees with every winner.
      expect(new Set(wins.map((w) => w.token)).size).toBe(TASKS);
      const state = StateDb.open(root);
      try {
        const now = new Date(Date.now() + offset);
        const stored = new Map(new Claims(state, root).list(now).map((c) => [c.taskId, c]));
        expect(stored.size).toBe(TASKS);
        const mismatched = wins.filter((w) => {
          const c = stored.get(w.taskId);
          return c?.holder !== w.holder || c.token !== w.token || !c.live;
        });
        expect(mismatched).toEqual([]);
      } finally {
        state.close();
      }
    }

    // The second round's tokens all come after the first's: the counter only grows.
    const [first, second] = rounds as [Win[], Win[]];
    expect(Math.min(...second.map((w) => w.token))).toBeGreaterThan(Math.max(...first.map((w) => w.token)));
    // Both rounds spread over several processes (a race, not one process doing all the work).
    for (const wins of rounds) expect(new Set(wins.map((w) => w.holder)).size).toBeGreaterThan(1);

    const state = StateDb.open(root);
    try {
      const events = listEvents(state, { action: "task.claim" });
      expect(events).toHaveLength(2 * TASKS);
      expect(events.filter((e) => e.data?.expiredHolder !== undefined)).toHaveLength(TASKS);
      expect(verifyChain(state, root).ok).toBe(true);
    } finally {
      state.close();
    }
    console.log(
      `claim race: ${PROCESSES} processes × ${TASKS} tasks: ${times.map((t) => `${Math.round(t)} ms`).join(", ")}`,
    );
  });
});
