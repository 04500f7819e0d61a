// The coordination store's contract, run against both implementations: the embedded SQLite store and the team
// store on a real PostgreSQL (a throwaway cluster, tests/support/postgres.ts). The same tests, parameterised: what
// one store does, the other must do alike, down to the refusals' codes and the audit chain.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { walkChain } from "../src/store/audit-chain.js";
import { CLAIM_ERRORS, type Grant } from "../src/store/claim-rules.js";
import type { ClaimWork, CoordinationStore, Settled } from "../src/store/coordination.js";
import { connect } from "../src/store/postgres/connection.js";
import { migrate } from "../src/store/postgres/schema.js";
import { PgStore } from "../src/store/postgres/store.js";
import { SqliteStore } from "../src/store/sqlite/coordination.js";
import { KeelError } from "../src/workspace/errors.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";

const T0 = Date.parse("2026-12-07T10:00:00.000Z");
const TTL = 15 * 60_000;
const at = (ms: number) => new Date(T0 + ms);

let cluster: PgCluster | null = null;
beforeAll(async () => {
  if (HAS_POSTGRES) cluster = await startPostgres();
});
afterAll(async () => {
  await cluster?.stop();
});

interface Backend {
  name: string;
  /** A fresh, empty store, and a second handle on the same state (another process, another server). */
  open(): Promise<{
    store: CoordinationStore;
    other: () => Promise<CoordinationStore>;
    cleanup(): Promise<void>;
  }>;
}

const sqlite: Backend = {
  name: "sqlite",
  async open() {
    const root = mkdtempSync(join(tmpdir(), "keel-store-"));
    const opened: CoordinationStore[] = [new SqliteStore(root)];
    return {
      store: opened[0] as CoordinationStore,
      other: async () => {
        const s = new SqliteStore(root);
        opened.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
        rmSync(root, { recursive: true, force: true });
      },
    };
  },
};

const postgres: Backend = {
  name: "postgres",
  async open() {
    const url = await (cluster as PgCluster).database("store");
    const conn = await connect(url);
    await migrate(conn);
    await conn.pool.end();
    const opened: CoordinationStore[] = [await PgStore.open(url)];
    return {
      store: opened[0] as CoordinationStore,
      other: async () => {
        const s = await PgStore.open(url);
        opened.push(s);
        return s;
      },
      cleanup: async () => {
        for (const s of opened) await s.close();
      },
    };
  },
};

if (!HAS_POSTGRES) console.warn("coordination store tests run on SQLite only: no PostgreSQL here");
const BACKENDS = HAS_POSTGRES ? [sqlite, postgres] : [sqlite];

function claimNext(candidates: string[], holder: string, now = at(0)): ClaimWork {
  return {
    now,
    step: { op: "claim-next", candidates: (held) => candidates.filter((k) => !held(k)), holder, ttlMs: TTL },
  };
}

function claimOne(key: string, holder: string, now = at(0)): ClaimWork {
  return { now, step: { op: "claim", key, holder, ttlMs: TTL } };
}

async function one<T>(store: CoordinationStore, work: ClaimWork): Promise<T> {
  const [settled] = (await store.claim([work])) as Array<Settled<unknown>>;
  if (!settled?.ok) throw (settled as { error: unknown }).error;
  return settled.value as T;
}

async function refusedWith(promise: Promise<unknown>, code: string): Promise<KeelError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KeelError);
  expect((error as KeelError).code).toBe(code);
  return error as KeelError;
}

describe.each(BACKENDS)("coordination store on $name", (backend) => {
  let store: CoordinationStore;
  let other: () => Promise<CoordinationStore>;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ store, other, cleanup } = await backend.open());
  });
  afterEach(async () => {
    await cleanup();
  });

  // @verifies TEAM-1, TSK-6, TSK-7
  it("grants one claim per task, refuses a second claimant and a stale token, and tokens only grow", async () => {
    const first = await one<Grant>(store, claimOne("T1", "agent:a"));
    expect(first).toEqual({ taskId: "T1", holder: "agent:a", token: 1, leaseUntil: at(TTL).toISOString() });
    const held = await refusedWith(one(store, claimOne("T1", "agent:b", at(1000))), CLAIM_ERRORS.held);
    expect(held.message).toContain("agent:a");
    // The lease ran out: the next claimant takes the task with a larger token, and the old token is fenced off.
    const second = await one<Grant>(store, claimOne("T1", "agent:b", at(TTL + 1)));
    expect(second.token).toBeGreaterThan(first.token);
    await refusedWith(
      one(store, { now: at(TTL + 2), step: { op: "heartbeat", key: "T1", token: first.token, ttlMs: TTL } }),
      CLAIM_ERRORS.stale,
    );
    const done = await one<{ status: string }>(store, {
      now: at(TTL + 3),
      step: {
        op: "finish",
        key: "T1",
        token: second.token,
        finish: { status: "done", verb: "done" },
        reason: null,
      },
    });
    expect(done.status).toBe("done");
    await refusedWith(one(store, claimOne("T1", "agent:c", at(TTL * 3))), CLAIM_ERRORS.closed);
    const reopened = await one<{ status: string }>(store, {
      now: at(TTL * 3),
      step: { op: "reopen", key: "T1", actor: "human:ann" },
    });
    expect(reopened.status).toBe("open");
    expect((await store.claimOf("T1", at(TTL * 3)))?.status).toBe("open");
    expect(await store.claimOf("T9", at(0))).toBeNull();
  });

  // @verifies TEAM-3
  it("claims the next free task in the queue's order, skipping held and closed ones", async () => {
    const queue = ["A", "B", "C"];
    expect((await one<Grant>(store, claimNext(queue, "agent:a"))).taskId).toBe("A");
    expect((await one<Grant>(store, claimNext(queue, "agent:b"))).taskId).toBe("B");
    expect((await one<Grant>(store, claimNext(queue, "agent:c"))).taskId).toBe("C");
    expect(await one(store, claimNext(queue, "agent:d"))).toBeNull();
    const views = await store.claims(at(1));
    expect(views.map((v) => [v.taskId, v.holder, v.live])).toEqual([
      ["A", "agent:a", true],
      ["B", "agent:b", true],
      ["C", "agent:c", true],
    ]);
  });

  // @verifies TEAM-3
  it("gives every task to exactly one of many concurrent claimants, through two handles on one state", async () => {
    const second = await other();
    const queue = Array.from({ length: 12 }, (_, i) => `T${String(i).padStart(2, "0")}`);
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        one<Grant | null>(i % 2 ? second : store, claimNext(queue, `agent:w${i}`)),
      ),
    );
    const grants = results.filter((g): g is Grant => g !== null);
    expect(grants.map((g) => g.taskId).sort()).toEqual(queue);
    expect(new Set(grants.map((g) => g.token)).size).toBe(12);
    expect(results.filter((g) => g === null)).toHaveLength(12);
  });

  // @verifies TEAM-3, DMN-7
  it("commits a batch together while a refused part, or a failing afterStep, rolls back alone", async () => {
    const grant = await one<Grant>(store, claimOne("T1", "agent:a"));
    const settled = await store.claim([
      claimOne("T2", "agent:a"),
      { now: at(1), step: { op: "heartbeat", key: "T1", token: grant.token + 100, ttlMs: TTL } },
      {
        ...claimOne("T3", "agent:a"),
        afterStep: () => {
          throw new Error("the task file could not be written");
        },
      },
      {
        now: at(2),
        step: { op: "note", key: "T2", text: "look at the retry path first", author: "agent:a" },
      },
    ]);
    expect(settled.map((s) => s.ok)).toEqual([true, false, false, true]);
    expect(((settled[1] as { error: KeelError }).error as KeelError).code).toBe(CLAIM_ERRORS.stale);
    expect((await store.claims(at(3))).map((v) => v.taskId)).toEqual(["T1", "T2"]);
    expect(await store.notes("T2")).toEqual([
      { taskId: "T2", author: "agent:a", at: at(2).toISOString(), text: "look at the retry path first" },
    ]);
    const actions = (await store.events(0)).map((e) => `${e.action} ${e.target}`);
    expect(actions).toEqual(["task.claim T1", "task.claim T2", "task.note T2"]);
  });

  // @verifies TEAM-4
  it("keeps one hash chain that verifies, with events readable by range from any handle", async () => {
    await one(store, claimOne("T1", "agent:a"));
    await store.append(
      [
        {
          actor: "human:ann",
          actorKind: "human",
          action: "change.comment",
          target: "add-x",
          data: { b: 1, a: [2] },
        },
      ],
      at(5),
    );
    const second = await other();
    await one(second, claimOne("T2", "agent:b", at(6)));
    expect(await store.latestSeq()).toBe(3);
    expect((await second.events(1, 2)).map((e) => e.action)).toEqual(["change.comment"]);
    const rows = await store.chain();
    expect(walkChain(rows, null)).toEqual({ ok: true, events: 3, firstBad: null });
    // Editing a stored event breaks the chain at that event.
    const edited = rows.map((r) => (r.seq === 2 ? { ...r, target: "add-y" } : r));
    expect(walkChain(edited, null).firstBad?.seq).toBe(2);
  });

  // @verifies TEAM-11
  it("keeps tokens with their events: a live name is unique, a revocation ends it, a dump carries them", async () => {
    const row = (id: string, name: string) => ({
      id,
      name,
      actor: `agent:${name}`,
      role: "agent",
      secret_hash: "ab".repeat(32),
      created_at: at(0).toISOString(),
      created_by: "human:ann",
      expires_at: null,
      revoked_at: null,
    });
    const made = (id: string) => ({
      actor: "human:ann",
      actorKind: "human" as const,
      action: "token.create",
      target: `token:${id}`,
    });
    expect(await store.addToken(row("a1", "codex"), made("a1"), at(1))).toEqual({ clash: null });
    // A second live token of that name is refused through another handle too, and writes nothing.
    const second = await other();
    expect(await second.addToken(row("a2", "codex"), made("a2"), at(2))).toEqual({ clash: "a1" });
    expect((await second.tokens()).map((t) => t.id)).toEqual(["a1"]);
    const revoked = await second.revokeToken("codex", at(3), (r) => ({
      ...made(r.id),
      action: "token.revoke",
    }));
    expect(revoked?.revoked_at).toBe(at(3).toISOString());
    expect(await store.revokeToken("codex", at(4), () => made("x"))).toBeNull();
    // Once revoked, the name is free again.
    expect(await store.addToken(row("a3", "codex"), made("a3"), at(5))).toEqual({ clash: null });
    expect((await store.chain()).map((e) => `${e.action} ${e.target}`)).toEqual([
      "token.create token:a1",
      "token.revoke token:a1",
      "token.create token:a3",
    ]);
    expect((await store.dump()).tokens.map((t) => [t.id, t.revoked_at])).toEqual([
      ["a1", at(3).toISOString()],
      ["a3", null],
    ]);
  });

  // @verifies TEAM-4, TEAM-12
  it("takes in another log's events exactly once, in its order and at their times, however many handles forward it", async () => {
    const theirs = (seq: number) => ({
      seq,
      at: at(seq).toISOString(),
      actor: "human:ann",
      actorKind: "human" as const,
      action: "change.apply",
      target: `add-${seq}`,
      before: null,
      after: null,
      reason: null,
      data: { n: seq },
      prevHash: "x",
      hash: "y",
    });
    await one(store, claimOne("T1", "agent:a", at(0)));
    const second = await other();
    // Two processes forward overlapping parts of one log at once.
    const marks = await Promise.all([
      store.forward("checkout-a", [theirs(1), theirs(2)]),
      second.forward("checkout-a", [theirs(1), theirs(2), theirs(3)]),
    ]);
    expect(Math.max(...marks)).toBe(3);
    expect(await store.forward("checkout-a", [theirs(2), theirs(3)])).toBe(3);
    expect(await second.forwarded("checkout-a")).toBe(3);
    expect(await store.forwarded("checkout-b")).toBe(0);
    const taken = await store.listEvents({ action: "change.apply" });
    expect(taken.map((e) => [e.target, e.at, e.data])).toEqual(
      [1, 2, 3].map((n) => [`add-${n}`, at(n).toISOString(), { n, origin: { store: "checkout-a", seq: n } }]),
    );
    // They join the store's own chain, which still verifies.
    expect(walkChain(await store.chain(), null)).toMatchObject({ ok: true, events: 4 });
    expect((await store.listEvents({ actor: "ann", target: "add-2" })).map((e) => e.target)).toEqual([
      "add-2",
    ]);
    expect((await store.listEvents({ target: "T1" })).map((e) => e.action)).toEqual(["task.claim"]);
  });

  // @verifies TEAM-8
  it("tells its watchers of events written", async () => {
    let told = 0;
    const stop = store.watch(() => told++);
    const before = told;
    await one(store, claimOne("T1", "agent:a"));
    await expect.poll(() => told > before).toBe(true);
    stop();
  });
});

describe.skipIf(!HAS_POSTGRES)("team store across servers", () => {
  // @verifies TEAM-8
  it("tells a second server's watchers of the first one's events, through LISTEN/NOTIFY", async () => {
    const { store, other, cleanup } = await postgres.open();
    try {
      const remote = await other();
      const seen: number[] = [];
      remote.watch(() => void remote.latestSeq().then((n) => seen.push(n)));
      await expect.poll(() => seen.length > 0).toBe(true); // listening
      await one(store, claimOne("T1", "agent:a"));
      await expect.poll(() => seen.includes(1)).toBe(true);
    } finally {
      await cleanup();
    }
  });
});
