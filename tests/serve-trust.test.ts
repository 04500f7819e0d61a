// A running `keel serve` trusts only the store it started with: deleted or replaced under it, the store's tokens
// are no longer accepted and writes are refused with 503, and no fresh store is made. Refused requests are
// limited per client address before any token is looked up, and audited in aggregate, so a flood of bad tokens
// writes a handful of events with counts, not one per request. And serve warns when git would commit `.keel/`.
// @verifies TRU-8, TRU-9, TRU-10
import { existsSync, readdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RefusalLog, type Tally } from "../src/server/refusals.js";
import { StateDb } from "../src/store/state-db.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects, writeFile } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";
import { gitInit } from "./support/git.js";
import { httpRequest, type Reply, type Served, startServe } from "./support/serve.js";

const project = tempProjects("keel-serve-trust-");

function payments(): string {
  return project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
  });
}

function agentToken(root: string, name = "w1"): string {
  return jsonOut(
    keel(root, "--json", "token", "create", "--role", "agent", "--name", name, "--as", "human:olive"),
  ).token;
}

function as(bearer: string, body?: unknown): { headers: Record<string, string>; body?: string } {
  return {
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

function propose(served: Served, bearer: string, name: string): Promise<Reply> {
  return httpRequest(served.port, "POST", "/api/changes", as(bearer, { name, capabilities: ["payments"] }));
}

function changeFolders(root: string): string[] {
  const dir = join(root, "keel/changes");
  return existsSync(dir) ? readdirSync(dir).filter((f) => f !== "archive" && !f.startsWith(".")) : [];
}

/** A refusal because the store is gone: 503, with the clear message, never a "bug". */
function expectStoreGone(r: Reply): void {
  expect(r.status, r.text).toBe(503);
  expect(r.json.error.code).toBe("store_replaced");
  expect(r.json.error.message).toContain(".keel/state.db was deleted or replaced while Keel was running");
}

const running: Served[] = [];
async function serve(root: string, args: string[] = ["--auth"]): Promise<Served> {
  const s = await startServe(root, args);
  running.push(s);
  return s;
}
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

describe("a store deleted or replaced under keel serve", () => {
  it("refuses the agent's token and its change once .keel/ is deleted, and makes no new store", async () => {
    const root = payments();
    const token = agentToken(root);
    const served = await serve(root);
    const ok = await propose(served, token, "before");
    expect(ok.status, ok.text).toBe(201);

    rmSync(join(root, ".keel"), { recursive: true });
    expectStoreGone(await httpRequest(served.port, "GET", "/api/tasks", as(token)));
    expectStoreGone(await propose(served, token, "after"));
    expect(changeFolders(root)).toEqual(["before"]);
    expect(existsSync(join(root, ".keel/state.db"))).toBe(false);
    // It stays refused: nothing started over behind the server's back.
    expectStoreGone(await httpRequest(served.port, "GET", "/api/status", as(token)));
  });

  it("refuses once the database is replaced by another file, even a sound Keel store", async () => {
    const root = payments();
    const token = agentToken(root);
    const served = await serve(root);
    expect((await httpRequest(served.port, "GET", "/api/tasks", as(token))).status).toBe(200);

    // Another project's store, holding a token of the same name: moved into place, it is another file.
    const other = payments();
    const forged = agentToken(other);
    renameSync(join(other, ".keel/state.db"), join(root, ".keel/state.db"));
    expectStoreGone(await httpRequest(served.port, "GET", "/api/tasks", as(forged)));
    expectStoreGone(await propose(served, forged, "forged"));
    expect(changeFolders(root)).toEqual([]);
  });

  it("refuses writes in single-user mode too", async () => {
    const root = payments();
    const served = await serve(root, []);
    const claim = () =>
      httpRequest(served.port, "POST", "/api/tasks/payments%2F1.1/claim", {
        body: "{}",
        headers: { "content-type": "application/json" },
      });
    rmSync(join(root, ".keel"), { recursive: true });
    expectStoreGone(await claim());
    expect(existsSync(join(root, ".keel/state.db"))).toBe(false);
  });

  it("does not start on a damaged store", () => {
    const root = payments();
    agentToken(root);
    writeFile(root, ".keel/state.db", "not a database at all");
    const run = keel(root, "serve", "--port", "0", "--auth");
    expect(run.code).toBe(3);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("the store at .keel/state.db is not a Keel database");
  });
});

describe("refused requests", () => {
  it("are limited per address before the token lookup and audited in aggregate", async () => {
    const root = payments();
    agentToken(root);
    const served = await serve(root);
    const statuses: number[] = [];
    for (let i = 0; i < 300; i++) {
      const bearer = i % 2 === 0 ? `keel_000000000000_${"A".repeat(43)}` : "junk";
      statuses.push((await httpRequest(served.port, "GET", "/api/tasks", as(bearer))).status);
    }
    const unauthorized = statuses.filter((s) => s === 401).length;
    const limited = statuses.filter((s) => s === 429).length;
    expect(unauthorized + limited).toBe(300);
    // 30 refusals a minute per address, refilled continuously: the bucket's 30 and the few that refill meanwhile.
    expect(unauthorized).toBeGreaterThanOrEqual(30);
    expect(unauthorized).toBeLessThan(60);
    expect(statuses.slice(-10)).toContain(429);

    // While the window is open only its first refusal is written; the server's stop closes the window.
    const during = refusedEvents(root);
    expect(during).toHaveLength(1);
    expect(during[0]?.data).toMatchObject({ remote: "127.0.0.1", count: 1 });
    expect(await served.stop()).toBe(0);
    const events = refusedEvents(root);
    expect(events).toHaveLength(2);
    expect(events.map((e) => e.data.count)).toEqual([1, 299]);
    expect(events[1]?.data.reasons).toEqual({
      unknown: expect.any(Number),
      malformed: expect.any(Number),
      throttled: limited,
    });
    expect(events[1]?.data.targets).toEqual(["GET /api/tasks"]);
  });

  it("are written once per window, with the count of the window", () => {
    vi.useFakeTimers();
    try {
      const written: Array<[string, Tally]> = [];
      const log = new RefusalLog((key, t) => written.push([key, structuredClone(t)]), 60_000);
      const refusal = { reason: "unknown", target: "GET /api/tasks" };
      log.add("10.0.0.1", refusal);
      for (let i = 0; i < 99; i++) log.add("10.0.0.1", refusal);
      log.add("10.0.0.2", { reason: "missing", target: "POST /mcp" });
      expect(written.map(([k, t]) => [k, t.count])).toEqual([
        ["10.0.0.1", 1],
        ["10.0.0.2", 1],
      ]);
      vi.advanceTimersByTime(60_000);
      expect(written.map(([k, t]) => [k, t.count])).toEqual([
        ["10.0.0.1", 1],
        ["10.0.0.2", 1],
        ["10.0.0.1", 99],
      ]);
      // The next refusal falls in the window the last event opened; after a quiet window it is written at once.
      log.add("10.0.0.1", refusal);
      expect(written).toHaveLength(3);
      vi.advanceTimersByTime(60_000);
      expect(written).toHaveLength(4);
      vi.advanceTimersByTime(60_000);
      log.add("10.0.0.1", refusal);
      expect(written).toHaveLength(5);
      log.close();
      expect(written).toHaveLength(5);
    } finally {
      vi.useRealTimers();
    }
  });
});

function refusedEvents(root: string): Array<{ reason: string; data: Record<string, unknown> }> {
  const db = StateDb.open(root);
  try {
    return (
      db.db
        .prepare("SELECT reason, data FROM events WHERE action = 'auth.refused' ORDER BY seq")
        .all() as Array<{
        reason: string;
        data: string;
      }>
    ).map((e) => ({ reason: e.reason, data: JSON.parse(e.data) }));
  } finally {
    db.close();
  }
}

describe("keel serve in a git repository", () => {
  it("warns when .keel/ is not ignored, naming the line to add, and not when it is", async () => {
    const root = payments();
    gitInit(root);
    const bare = await serve(root, []);
    expect(await bare.stop()).toBe(0);
    expect(bare.stderr()).toContain("warning: .keel/ is not ignored by git");
    expect(bare.stderr()).toContain("add the line `.keel/` to .gitignore");

    writeFile(root, ".gitignore", ".keel/\n");
    const ignored = await serve(root, []);
    expect(await ignored.stop()).toBe(0);
    expect(ignored.stderr()).not.toContain("not ignored");
  });
});
