// The hash-chained audit log under attack: rows of .keel/state.db edited, deleted, inserted and reordered with
// better-sqlite3 directly, then `keel audit verify` (the real CLI) must name the first bad event. Also the
// reading side: `keel audit log` filters and `keel audit export` JSONL that re-verifies on its own.
// @verifies CHG-8
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AuditEvent,
  appendEvent,
  type EventRow,
  eventHash,
  GENESIS,
} from "../src/store/sqlite/audit-log.js";
import { StateDb } from "../src/store/state-db.js";
import { Database, json, keel, type TempRoot, tempRoot } from "./provenance-support.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-audit-");
});
afterAll(() => tmp.cleanup());

const T0 = Date.parse("2026-11-20T09:00:00.000Z");

/** A project with `n` events appended through the real store (the same code every command uses). */
function projectWithEvents(n: number): string {
  const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
  const state = StateDb.open(root);
  try {
    for (let i = 1; i <= n; i++) {
      state.exclusive(() =>
        appendEvent(
          state,
          root,
          {
            actor: i % 2 === 0 ? "agent:codex-7" : "human:alice",
            actorKind: i % 2 === 0 ? "agent" : "human",
            action: i === 3 ? "change.approve.refused" : "change.apply",
            target: i <= 3 ? "PAY-4" : `change-${i}`,
            before: i === 1 ? null : `fp${i - 1}`.padEnd(16, "0"),
            after: `fp${i}`.padEnd(16, "0"),
            reason: `reason ${i}`,
            data: { change: `change-${i}`, z: 1, a: [i, { y: 2, b: 1 }] },
          },
          new Date(T0 + i * 3_600_000),
        ),
      );
    }
  } finally {
    state.close();
  }
  return root;
}

/** The project's own segment, project-relative: `keel/audit/<store id>.jsonl`. */
function segmentOf(root: string): string {
  return json(keel(root, ["audit", "verify", "--json"])).store.segment;
}

function db(root: string) {
  return new Database(join(root, ".keel", "state.db"));
}

function verify(root: string) {
  const r = keel(root, ["audit", "verify", "--json"]);
  return { code: r.code, out: json(r) };
}

type Row = EventRow;

/** Moves rows `from..` by `delta` in sequence number (via a high offset, so the primary key never collides). */
function renumber(d: InstanceType<typeof Database>, from: number, delta: number): void {
  d.prepare("UPDATE events SET seq = seq + 1000000 WHERE seq >= ?").run(from);
  d.prepare("UPDATE events SET seq = seq - 1000000 + ? WHERE seq >= 1000000").run(delta);
}

/** A well-formed event (its own hash right) following `prevHash`: what a careful forger would insert. */
function forged(seq: number, prevHash: string): Row {
  const e: Omit<AuditEvent, "hash"> = {
    seq,
    at: "2026-11-20T12:30:00.000Z",
    actor: "human:mallory",
    actorKind: "human",
    action: "change.approve",
    target: "PAY-4",
    before: null,
    after: null,
    reason: "looks fine",
    data: null,
    prevHash,
  };
  return {
    seq,
    at: e.at,
    actor: e.actor,
    actor_kind: e.actorKind,
    action: e.action,
    target: e.target,
    before: null,
    after: null,
    reason: e.reason,
    data: null,
    prev_hash: prevHash,
    hash: eventHash(e),
  };
}

function insert(d: InstanceType<typeof Database>, r: Row): void {
  d.prepare(
    `INSERT INTO events (seq, at, actor, actor_kind, action, target, before, after, reason, data, prev_hash, hash)
     VALUES (@seq, @at, @actor, @actor_kind, @action, @target, @before, @after, @reason, @data, @prev_hash, @hash)`,
  ).run(r);
}

function row(d: InstanceType<typeof Database>, seq: number): Row {
  return d.prepare("SELECT * FROM events WHERE seq = ?").get(seq) as Row;
}

describe("keel audit verify", () => {
  it("accepts an intact log and says how many events it holds", () => {
    const root = projectWithEvents(6);
    const { code, out } = verify(root);
    expect(code).toBe(0);
    expect(out).toMatchObject({ version: 1, ok: true, events: 6, firstBad: null, problems: [], notes: [] });
    expect(out.store).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{16}$/),
      segment: expect.any(String),
      state: "present",
    });
    expect(out.segments).toEqual([
      {
        id: out.store.id,
        segment: `keel/audit/${out.store.id}.jsonl`,
        events: 6,
        own: true,
        commits: 0,
        ok: true,
      },
    ]);
    const text = keel(root, ["audit", "verify"]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("audit log intact: 6 events, matching keel/audit/");
  });

  it("accepts a project with no log yet, and creates nothing", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    const { code, out } = verify(root);
    expect(code).toBe(0);
    expect(out.events).toBe(0);
    expect(existsSync(join(root, ".keel", "state.db"))).toBe(false);
  });

  it("names an event whose content was edited", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    d.prepare("UPDATE events SET reason = 'nothing to see' WHERE seq = 4").run();
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.ok).toBe(false);
    expect(out.firstBad.seq).toBe(4);
    expect(out.firstBad.problem).toMatch(/event 4 was edited/);
    const text = keel(root, ["audit", "verify"]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/audit log broken at event 4: event 4 was edited/);
  });

  it("names an edited actor, and an edited data field, as well as the reason", () => {
    for (const sql of [
      "UPDATE events SET actor = 'human:bob' WHERE seq = 2",
      `UPDATE events SET data = '{"change":"other"}' WHERE seq = 2`,
      "UPDATE events SET data = 'not json' WHERE seq = 2",
      "UPDATE events SET after = NULL WHERE seq = 2",
    ]) {
      const root = projectWithEvents(4);
      const d = db(root);
      d.prepare(sql).run();
      d.close();
      const { code, out } = verify(root);
      expect(code, sql).toBe(1);
      expect(out.firstBad, sql).toEqual({ seq: 2, problem: expect.stringMatching(/event 2 was edited/) });
    }
  });

  it("names an event edited and re-hashed by a forger: the next event no longer follows it", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    const r = row(d, 3);
    const hash = eventHash({
      seq: 3,
      at: r.at,
      actor: r.actor,
      actorKind: r.actor_kind as AuditEvent["actorKind"],
      action: r.action,
      target: r.target,
      before: r.before,
      after: r.after,
      reason: "rewritten",
      data: r.data === null ? null : JSON.parse(r.data),
      prevHash: r.prev_hash,
    });
    d.prepare("UPDATE events SET reason = 'rewritten', hash = ? WHERE seq = 3").run(hash);
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({
      seq: 3,
      problem: expect.stringMatching(/event 3 was edited and its hash recomputed/),
    });
  });

  it("names a deleted event in the middle", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    d.prepare("DELETE FROM events WHERE seq = 3").run();
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 3, problem: expect.stringMatching(/event 3 is missing/) });
  });

  it("names a deleted event even when the later ones were renumbered to close the gap", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    d.prepare("DELETE FROM events WHERE seq = 3").run();
    renumber(d, 4, -1);
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 3, problem: expect.stringMatching(/event 3 was deleted/) });
  });

  it("catches the newest event deleted, through the head record", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    d.prepare("DELETE FROM events WHERE seq = 6").run();
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({
      seq: 6,
      problem: expect.stringMatching(/event 6 is missing.*deleted from the end/),
    });
  });

  it("catches every event deleted", () => {
    const root = projectWithEvents(3);
    const d = db(root);
    d.prepare("DELETE FROM events").run();
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad.seq).toBe(1);
  });

  it("catches the segment (the head record) removed to hide a deletion at the end", () => {
    const root = projectWithEvents(4);
    const d = db(root);
    d.prepare("DELETE FROM events WHERE seq = 4").run();
    d.close();
    rmSync(join(root, segmentOf(root)));
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad.problem).toMatch(/segment \(keel\/audit\/[0-9a-f]+\.jsonl\) is missing/);
  });

  it("still reads the head file of a store written before segments, when it disagrees with the log", () => {
    const root = projectWithEvents(4);
    const d = db(root);
    const last = row(d, 4);
    d.close();
    writeFileSync(join(root, ".keel", "audit-head"), `5 ${last.hash}\n`);
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad.problem).toMatch(/\.keel\/audit-head records event 5 \(deleted from the end\)/);
  });

  it("names an event appended by hand after the last one Keel wrote, even with a correct hash", () => {
    const root = projectWithEvents(5);
    const d = db(root);
    insert(d, forged(6, row(d, 5).hash));
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 6, problem: expect.stringMatching(/event 6 was inserted/) });
  });

  it("names a well-forged event inserted in the middle (later events renumbered)", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    const prev = row(d, 2).hash;
    renumber(d, 3, 1);
    insert(d, forged(3, prev));
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 3, problem: expect.stringMatching(/event 3 was inserted/) });
  });

  it("names a crudely inserted event in the middle (wrong hash)", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    const copy = row(d, 5);
    renumber(d, 3, 1);
    insert(d, { ...copy, seq: 3 });
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 3, problem: expect.stringMatching(/event 3 was inserted/) });
  });

  it("names reordered events (sequence numbers swapped)", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    d.prepare("UPDATE events SET seq = 100 WHERE seq = 2").run();
    d.prepare("UPDATE events SET seq = 2 WHERE seq = 3").run();
    d.prepare("UPDATE events SET seq = 3 WHERE seq = 100").run();
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 2, problem: expect.stringMatching(/event 2 is out of order/) });
  });

  it("names reordered events (contents swapped between rows)", () => {
    const root = projectWithEvents(6);
    const d = db(root);
    const a = row(d, 4);
    const b = row(d, 5);
    d.prepare("DELETE FROM events WHERE seq IN (4, 5)").run();
    insert(d, { ...b, seq: 4 });
    insert(d, { ...a, seq: 5 });
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 4, problem: expect.stringMatching(/event 4 is out of order/) });
  });

  it("names the last event replaced by a forged one, through the head record", () => {
    const root = projectWithEvents(4);
    const d = db(root);
    const prev = row(d, 3).hash;
    d.prepare("DELETE FROM events WHERE seq = 4").run();
    insert(d, forged(4, prev));
    d.close();
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 4, problem: expect.stringMatching(/event 4 was replaced/) });
  });
});

describe("keel audit log", () => {
  let root: string;
  beforeAll(() => {
    root = projectWithEvents(6);
  });

  it("lists every event, oldest first, with the documented fields", () => {
    const out = json(keel(root, ["audit", "log", "--json"]));
    expect(out.version).toBe(1);
    expect(out.events.map((e: AuditEvent) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const e = out.events[1];
    expect(e).toMatchObject({
      seq: 2,
      at: "2026-11-20T11:00:00.000Z",
      actor: "agent:codex-7",
      actorKind: "agent",
      action: "change.apply",
      target: "PAY-4",
      before: "fp10000000000000",
      after: "fp20000000000000",
      reason: "reason 2",
      data: { change: "change-2", z: 1, a: [2, { y: 2, b: 1 }] },
    });
    expect(e.prevHash).toBe(out.events[0].hash);
    expect(out.events[0].prevHash).toBe(GENESIS);
  });

  it("filters by actor (kind:name, or a bare name of any kind), target, action and time", () => {
    const ids = (args: string[]) =>
      json(keel(root, ["audit", "log", "--json", ...args])).events.map((e: AuditEvent) => e.seq);
    expect(ids(["--actor", "agent:codex-7"])).toEqual([2, 4, 6]);
    expect(ids(["--actor", "alice"])).toEqual([1, 3, 5]);
    expect(ids(["--actor", "agent:alice"])).toEqual([]);
    expect(ids(["--target", "PAY-4"])).toEqual([1, 2, 3]);
    expect(ids(["--action", "change.approve.refused"])).toEqual([3]);
    expect(ids(["--since", "2026-11-20T13:00:00Z"])).toEqual([4, 5, 6]);
    expect(ids(["--since", "2026-11-21"])).toEqual([]);
    expect(ids(["--since", "100000d", "--actor", "human:alice", "--target", "PAY-4"])).toEqual([1, 3]);
  });

  it("takes --since as a duration back from now", () => {
    const recent = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    const state = StateDb.open(recent);
    try {
      for (const daysAgo of [30, 10, 3, 1]) {
        state.exclusive(() =>
          appendEvent(
            state,
            recent,
            { actor: "human:alice", actorKind: "human", action: "change.apply", target: `c${daysAgo}` },
            new Date(Date.now() - daysAgo * 86_400_000),
          ),
        );
      }
    } finally {
      state.close();
    }
    const targets = (since: string) =>
      json(keel(recent, ["audit", "log", "--json", "--since", since])).events.map(
        (e: AuditEvent) => e.target,
      );
    expect(targets("7d")).toEqual(["c3", "c1"]);
    expect(targets("2w")).toEqual(["c10", "c3", "c1"]);
    expect(targets("36h")).toEqual(["c1"]);
    expect(targets("5m")).toEqual([]);
  });

  it("prints one line per event, refusals with their rule", () => {
    const state = StateDb.open(root);
    try {
      state.exclusive(() =>
        appendEvent(state, root, {
          actor: "agent:codex-7",
          actorKind: "agent",
          action: "change.apply.refused",
          target: "add-refunds",
          reason: "agents may only propose",
          data: { rule: "policy.areas[1]" },
        }),
      );
    } finally {
      state.close();
    }
    const r = keel(root, ["audit", "log", "--target", "add-refunds"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^#7 \S+Z {2}agent:codex-7 {2}change\.apply\.refused {2}add-refunds {2}\[policy\.areas\[1\]\]$/m,
    );
    expect(r.stdout).toContain("agents may only propose");
  });

  it("refuses a malformed --since and an unknown subcommand (exit 2)", () => {
    const bad = keel(root, ["audit", "log", "--since", "yesterday"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--since must be a date/);
    expect(keel(root, ["audit", "frobnicate"]).code).toBe(2);
    expect(keel(root, ["audit"]).code).toBe(2);
  });

  it("refuses a flag of another subcommand, naming the synopsis of the one given (exit 2)", () => {
    const log = keel(root, ["audit", "log", "--output", "audit.jsonl"]);
    expect(log.code).toBe(2);
    expect(log.stderr).toContain("'--output'");
    expect(log.stderr).toContain("usage: keel audit log [--since");
    const exported = keel(root, ["audit", "export", "--since", "7d"]);
    expect(exported.code).toBe(2);
    expect(exported.stderr).toContain("usage: keel audit export [--output <file>]");
    expect(existsSync(join(root, "audit.jsonl"))).toBe(false);
  });
});

describe("keel audit export", () => {
  it("writes JSONL that re-verifies on its own: each line's hash and link", () => {
    const root = projectWithEvents(5);
    const r = keel(root, ["audit", "export", "--output", "audit.jsonl", "--json"]);
    expect(json(r)).toEqual({ version: 1, output: "audit.jsonl", events: 5 });
    const lines = readFileSync(join(root, "audit.jsonl"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(5);
    let prev = GENESIS;
    for (const line of lines) {
      const { hash, ...rest } = JSON.parse(line) as AuditEvent;
      expect(rest.prevHash).toBe(prev);
      expect(eventHash(rest)).toBe(hash);
      prev = hash;
    }
    const stdout = keel(root, ["audit", "export"]);
    expect(stdout.code).toBe(0);
    expect(stdout.stdout).toBe(readFileSync(join(root, "audit.jsonl"), "utf8"));
  });

  it("exports an empty log as an empty file, and fails with exit 3 on an unwritable path", () => {
    const root = tmp.project({ "keel/keel.yaml": "version: 1\n" });
    expect(keel(root, ["audit", "export", "-o", "empty.jsonl"]).code).toBe(0);
    expect(readFileSync(join(root, "empty.jsonl"), "utf8")).toBe("");
    const bad = keel(root, ["audit", "export", "-o", "keel/keel.yaml/x.jsonl"]);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/cannot write/);
  });
});
