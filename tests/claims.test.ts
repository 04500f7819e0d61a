// Claims with leases and fencing tokens, driven by an injected clock: nothing here waits on real time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { listEvents, verifyChain } from "../src/store/sqlite/audit-log.js";
import { CLAIM_ERRORS, Claims, parseDuration } from "../src/store/sqlite/claims.js";
import { STATE_SCHEMA_VERSION, StateDb } from "../src/store/state-db.js";
import { KeelError } from "../src/workspace/errors.js";

const T0 = Date.parse("2026-11-20T10:00:00.000Z");
const MIN = 60_000;
const TTL = 15 * MIN;
const at = (ms: number) => new Date(T0 + ms);

let root: string;
let state: StateDb;
let claims: Claims;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "keel-claims-"));
  state = StateDb.open(root);
  claims = new Claims(state, root);
});

afterEach(() => {
  state.close();
  rmSync(root, { recursive: true, force: true });
});

/** Runs `fn`, expecting a KeelError with this code; returns it. */
function refused(fn: () => unknown, code: string): KeelError {
  let caught: unknown = null;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(KeelError);
  const err = caught as KeelError;
  expect(err.code).toBe(code);
  expect(err.exitCode).toBe(code === CLAIM_ERRORS.ttl ? 2 : 6);
  return err;
}

function actions(): string[] {
  return listEvents(state).map((e) => `${e.action} ${e.target}`);
}

// @verifies TSK-6, TSK-9
describe("claim", () => {
  it("grants a lease with a fencing token and refuses a second claimant while the lease is live", () => {
    const grant = claims.claim("T1", "alice", TTL, at(0));
    expect(grant).toEqual({
      taskId: "T1",
      holder: "alice",
      token: 1,
      leaseUntil: at(TTL).toISOString(),
    });
    const err = refused(() => claims.claim("T1", "bob", TTL, at(TTL - 1)), CLAIM_ERRORS.held);
    expect(err.message).toContain("alice");
    expect(err.message).toContain("token 1");
    // The holder itself cannot claim twice either: it extends its lease with a heartbeat.
    refused(() => claims.claim("T1", "alice", TTL, at(1)), CLAIM_ERRORS.held);
    expect(claims.get("T1", at(1))).toMatchObject({
      status: "claimed",
      holder: "alice",
      token: 1,
      live: true,
    });
    expect(actions()).toEqual(["task.claim T1"]);
  });

  it("treats an expired lease as free: the next claimant takes the task with a larger token", () => {
    claims.claim("T1", "alice", TTL, at(0));
    expect(claims.get("T1", at(TTL))).toMatchObject({ live: false, free: true, holder: "alice" });
    const grant = claims.claim("T1", "bob", TTL, at(TTL));
    expect(grant.token).toBe(2);
    expect(claims.get("T1", at(TTL))).toMatchObject({ holder: "bob", token: 2, live: true, free: false });
    const takeover = listEvents(state).at(-1);
    expect(takeover?.data).toMatchObject({ token: 2, expiredHolder: "alice", expiredToken: 1 });
    expect(takeover?.actor).toBe("agent:bob");
  });

  it("draws tokens from one project-wide counter, so they strictly increase across tasks", () => {
    const tokens = ["A", "B", "C", "A2"].map((id, i) => claims.claim(id, `w${i}`, TTL, at(i)).token);
    const t = claims.claim("A", "w9", TTL, at(TTL + 10)).token;
    expect([...tokens, t]).toEqual([1, 2, 3, 4, 5]);
  });

  it("refuses a non-positive or non-finite ttl", () => {
    refused(() => claims.claim("T1", "alice", 0, at(0)), CLAIM_ERRORS.ttl);
    refused(() => claims.claimNext(["T1"], "alice", Number.NaN, at(0)), CLAIM_ERRORS.ttl);
    expect(claims.get("T1", at(0))).toBeNull();
  });
});

// @verifies TSK-7
describe("fencing", () => {
  it("rejects every write with a stale token once a successor claimed, naming the current holder", () => {
    const old = claims.claim("T1", "alice", TTL, at(0));
    const now = claims.claim("T1", "bob", TTL, at(TTL + 1));
    const later = at(TTL + 2);
    for (const write of [
      () => claims.heartbeat("T1", old.token, TTL, later),
      () => claims.release("T1", old.token, later),
      () => claims.done("T1", old.token, later),
      () => claims.block("T1", old.token, "waiting on review", later),
    ]) {
      const err = refused(write, CLAIM_ERRORS.stale);
      expect(err.message).toContain(`token ${old.token} is stale`);
      expect(err.message).toContain(`held by bob with token ${now.token}`);
    }
    // Nothing changed: bob still holds the task under his own lease, and only his writes are audited.
    expect(claims.get("T1", later)).toMatchObject({
      status: "claimed",
      holder: "bob",
      token: now.token,
      leaseUntil: at(TTL + 1 + TTL).toISOString(),
    });
    expect(actions()).toEqual(["task.claim T1", "task.claim T1"]);
    claims.done("T1", now.token, later);
    expect(claims.get("T1", later)?.status).toBe("done");
  });

  it("rejects a token for a task that was never claimed", () => {
    refused(() => claims.heartbeat("T9", 1, TTL, at(0)), CLAIM_ERRORS.stale);
  });

  it("heartbeat extends the lease with the current token, keeping a waiting claimant out", () => {
    const g = claims.claim("T1", "alice", TTL, at(0));
    const hb = claims.heartbeat("T1", g.token, TTL, at(TTL - 1));
    expect(hb).toMatchObject({ token: g.token, holder: "alice", leaseUntil: at(2 * TTL - 1).toISOString() });
    // Without the heartbeat the lease would have ended at TTL; now bob is refused past that point.
    refused(() => claims.claim("T1", "bob", TTL, at(TTL + 1)), CLAIM_ERRORS.held);
    expect(claims.claim("T1", "bob", TTL, at(2 * TTL - 1)).token).toBe(g.token + 1);
  });

  it("lets a holder whose lease expired but was not replaced extend it: its token is still current", () => {
    const g = claims.claim("T1", "alice", TTL, at(0));
    claims.heartbeat("T1", g.token, TTL, at(TTL + 5));
    refused(() => claims.claim("T1", "bob", TTL, at(TTL + 6)), CLAIM_ERRORS.held);
  });

  it("release returns the task; the released token can do nothing more", () => {
    const g = claims.claim("T1", "alice", TTL, at(0));
    expect(claims.release("T1", g.token, at(1))).toMatchObject({
      status: "released",
      free: true,
      live: false,
    });
    refused(() => claims.release("T1", g.token, at(2)), CLAIM_ERRORS.notClaimed);
    refused(() => claims.heartbeat("T1", g.token, TTL, at(2)), CLAIM_ERRORS.notClaimed);
    expect(claims.claim("T1", "bob", TTL, at(3)).token).toBe(g.token + 1);
  });

  // @verifies TSK-9
  it("done and blocked tasks cannot be claimed until reopened", () => {
    const a = claims.claim("A", "alice", TTL, at(0));
    const b = claims.claim("B", "bob", TTL, at(0));
    claims.done("A", a.token, at(1));
    refused(() => claims.block("B", b.token, "  ", at(1)), "claim-no-reason");
    expect(claims.block("B", b.token, "needs the schema from A", at(1))).toMatchObject({
      status: "blocked",
      reason: "needs the schema from A",
      holder: "bob",
    });
    // Long after any lease would have ended, neither is free.
    const late = at(10 * TTL);
    expect(refused(() => claims.claim("A", "carol", TTL, late), CLAIM_ERRORS.closed).message).toContain(
      "done",
    );
    expect(refused(() => claims.claim("B", "carol", TTL, late), CLAIM_ERRORS.closed).message).toContain(
      "needs the schema from A",
    );
    expect(claims.claimNext(["A", "B"], "carol", TTL, late)).toBeNull();
    refused(() => claims.done("A", a.token, late), CLAIM_ERRORS.notClaimed);
    refused(() => claims.reopen("C", "carol", late), CLAIM_ERRORS.notClaimed);
    claims.reopen("B", "human:lead", late);
    expect(claims.claimNext(["A", "B"], "carol", TTL, late)).toMatchObject({ taskId: "B", token: 3 });
    expect(listEvents(state).map((e) => [e.action, e.actor, e.before, e.after])).toEqual([
      ["task.claim", "agent:alice", "open", "claimed"],
      ["task.claim", "agent:bob", "open", "claimed"],
      ["task.done", "agent:alice", "claimed", "done"],
      ["task.block", "agent:bob", "claimed", "blocked"],
      ["task.reopen", "human:lead", "blocked", "open"],
      ["task.claim", "agent:carol", "open", "claimed"],
    ]);
  });
});

// @verifies TSK-6
describe("claimNext", () => {
  it("claims the first free candidate in order, skipping live, done and blocked tasks", () => {
    const a = claims.claim("A", "alice", TTL, at(0));
    claims.done("A", a.token, at(0));
    claims.claim("B", "bob", 2 * TTL, at(0));
    claims.claim("C", "carol", TTL, at(0));
    const d = claims.claim("D", "dan", TTL, at(0));
    claims.block("D", d.token, "flaky", at(0));
    // At TTL + 1 only C's lease has expired; E was never claimed.
    expect(claims.claimNext(["A", "B", "D", "C", "E"], "erin", TTL, at(TTL + 1))).toMatchObject({
      taskId: "C",
      holder: "erin",
    });
    expect(claims.claimNext(["A", "B", "D", "C", "E"], "erin", TTL, at(TTL + 1))?.taskId).toBe("E");
    expect(claims.claimNext(["A", "B", "D", "C", "E"], "erin", TTL, at(TTL + 1))).toBeNull();
    expect(claims.claimNext([], "erin", TTL, at(0))).toBeNull();
  });

  it("evaluates a candidate function under the lock", () => {
    let calls = 0;
    const grant = claims.claimNext(
      () => {
        calls++;
        expect(state.db.inTransaction).toBe(true);
        return ["X"];
      },
      "alice",
      TTL,
      at(0),
    );
    expect(calls).toBe(1);
    expect(grant?.taskId).toBe("X");
  });
});

describe("notes and audit", () => {
  it("keeps handoff notes in order and audits each one; refusals write nothing", () => {
    claims.note("T1", "schema lives in db/schema.sql", "alice", at(0));
    claims.note("T1", "tests still failing on CI", "human:bo", at(1));
    refused(() => claims.note("T1", "   ", "alice", at(2)), "claim-empty-note");
    expect(claims.notes("T1")).toEqual([
      { taskId: "T1", author: "alice", at: at(0).toISOString(), text: "schema lives in db/schema.sql" },
      { taskId: "T1", author: "human:bo", at: at(1).toISOString(), text: "tests still failing on CI" },
    ]);
    expect(claims.notes("T2")).toEqual([]);
    expect(listEvents(state).map((e) => [e.action, e.actor, e.actorKind])).toEqual([
      ["task.note", "agent:alice", "agent"],
      ["task.note", "human:bo", "human"],
    ]);
    expect(verifyChain(state, root).ok).toBe(true);
  });

  it("lists every claim by task ID with liveness at the given time", () => {
    claims.claim("B", "bob", TTL, at(0));
    claims.claim("A", "alice", 3 * TTL, at(0));
    expect(claims.list(at(2 * TTL)).map((c) => [c.taskId, c.holder, c.live])).toEqual([
      ["A", "alice", true],
      ["B", "bob", false],
    ]);
  });
});

describe("parseDuration", () => {
  it("reads a number with a unit as milliseconds and refuses anything else", () => {
    expect(["15m", "90s", "2h", "1d", "500ms", "250", " 1.5m "].map(parseDuration)).toEqual([
      900_000, 90_000, 7_200_000, 86_400_000, 500, 250, 90_000,
    ]);
    for (const bad of ["", "0m", "-5m", "15 minutes", "m", "1e3", "15mm"]) {
      refused(() => parseDuration(bad), CLAIM_ERRORS.ttl);
    }
  });
});

describe("state migration", () => {
  it("migrates a schema-1 state file in place, keeping its audit events", () => {
    claims.note("T1", "before the upgrade", "alice", at(0));
    state.db.exec(
      "DROP TABLE claims; DROP TABLE claim_notes; DROP TABLE counters; DROP TABLE evidence; DROP TABLE tokens; DROP TABLE meta; DROP TABLE runs; DROP TABLE run_tasks; DROP TABLE run_attempts; DROP TABLE run_reviews; DROP TABLE hook_deliveries;",
    );
    state.db.pragma("user_version = 1");
    state.close();
    state = StateDb.open(root);
    claims = new Claims(state, root);
    expect(state.db.pragma("user_version", { simple: true })).toBe(STATE_SCHEMA_VERSION);
    expect(listEvents(state)).toHaveLength(1);
    expect(claims.claim("T1", "alice", TTL, at(0)).token).toBe(1);
  });
});
