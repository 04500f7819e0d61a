// `keel store repair` and `keel store reset`: the explicit, audited ways out of a lost or damaged store, in real
// git repositories with the real CLI. Six agents hold claims; the store is truncated; a repair rebuilds it from
// the segment, the chain goes on and verifies, no live lease is granted twice and fencing never goes back.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_SCHEMA_VERSION } from "../src/store/state-db.js";
import { Database, gitInit, json, keel, type TempRoot, tempRoot } from "./provenance-support.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-recovery-");
});
afterAll(() => tmp.cleanup());

const TASKS = `## 1. Build\n${Array.from({ length: 9 }, (_, i) => `- [ ] 1.${i + 1} Part ${i + 1}\n`).join("")}`;

/** A git repository where agents w1…w6 each hold a claim under a one-hour lease (tokens 1…6). */
function sixClaims(): string {
  const root = tmp.project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/shop/tasks.md": TASKS,
    ".gitignore": ".keel/\n",
  });
  gitInit(root);
  for (let i = 1; i <= 6; i++) {
    const r = keel(root, ["tasks", "claim", "--next", "--as", `agent:w${i}`, "--ttl", "1h", "--json"]);
    expect(json(r).claim.token).toBe(i);
  }
  expect(keel(root, ["tasks", "note", "shop/1.2", "schema is half done", "--as", "agent:w2"]).code).toBe(0);
  return root;
}

const claim = (root: string, who: string, task?: string) =>
  keel(root, ["tasks", "claim", ...(task ? [task] : ["--next"]), "--as", who, "--ttl", "1h", "--json"]);

const asideFiles = (root: string) => readdirSync(join(root, ".keel")).filter((n) => n.includes(".damaged-"));

describe("keel store repair", () => {
  // @verifies TRU-6, TRU-7
  it("rebuilds a truncated store from its segment: the chain continues, leases hold, the next token is 7", () => {
    const root = sixClaims();
    writeFileSync(join(root, ".keel", "state.db"), "");
    expect(claim(root, "agent:w7").code).toBe(3);

    // Without --yes it only says what it would do.
    const plan = keel(root, ["store", "repair"]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toMatch(/would \(nothing is changed without --yes\)/);
    expect(plan.stdout).toContain("rebuild 6 claims (6 under a live lease");
    expect(plan.stdout).toContain("the next claim gets token 7");
    expect(plan.stdout).toMatch(/bearer tokens .* cannot be rebuilt/);
    expect(statSync(join(root, ".keel", "state.db")).size).toBe(0);
    expect(asideFiles(root)).toEqual([]);

    const done = keel(root, ["store", "repair", "--yes", "--as", "human:alice", "--json"]);
    expect(done.code).toBe(0);
    const out = json(done);
    expect(out).toMatchObject({
      applied: true,
      event: 8,
      plan: { events: 7, claims: 6, notes: 1, fencing: 6 },
    });
    // The damaged file is kept, byte for byte, beside the new store.
    expect(out.movedAside).toEqual([expect.stringMatching(/^\.keel\/state\.db\.damaged-\d{8}T\d{6}Z$/)]);
    expect(statSync(join(root, out.movedAside[0])).size).toBe(0);

    const verified = json(keel(root, ["audit", "verify", "--json"]));
    expect(verified).toMatchObject({ ok: true, events: 8 });
    const repairEvent = json(keel(root, ["audit", "log", "--action", "store.repair", "--json"])).events[0];
    expect(repairEvent).toMatchObject({ actor: "human:alice", data: { events: 7, claims: 6, fencing: 6 } });
    expect(repairEvent.data.notRecovered.join(" ")).toMatch(/bearer tokens/);

    // The live lease of w2 is not granted to anyone else; the next free task gets token 7.
    const taken = claim(root, "agent:intruder", "shop/1.2");
    expect(taken.code).toBe(6);
    expect(taken.stdout + taken.stderr).toContain("already claimed by agent:w2 (token 2)");
    expect(json(claim(root, "agent:w7")).claim).toMatchObject({ taskId: "shop/1.7", token: 7 });
    // The holders' tokens still pass the fence, and the handoff note is back.
    expect(keel(root, ["tasks", "heartbeat", "shop/1.2", "--token", "2", "--as", "agent:w2"]).code).toBe(0);
    const d = new Database(join(root, ".keel", "state.db"), { readonly: true });
    expect(d.prepare("SELECT task_id, author, text FROM claim_notes").all()).toEqual([
      { task_id: "shop/1.2", author: "agent:w2", text: "schema is half done" },
    ]);
    d.close();
  });

  // @verifies TRU-6
  it("rebuilds a store whose .keel/ folder was deleted: the clone's store ID lives in the git directory", () => {
    const root = sixClaims();
    const id = readFileSync(join(root, ".git", "keel-store"), "utf8").trim();
    rmSync(join(root, ".keel"), { recursive: true });
    expect(keel(root, ["store", "repair", "--yes", "--as", "human:alice"]).code).toBe(0);
    const status = json(keel(root, ["store", "status", "--json"]));
    expect(status).toMatchObject({
      state: "sound",
      storeId: id,
      schema: STATE_SCHEMA_VERSION,
      events: 8,
      segmentEvents: 8,
      matches: true,
    });
    expect(json(claim(root, "agent:w7")).claim.token).toBe(7);
  });

  it("has nothing to do on a sound store, and is a human's act", () => {
    const root = sixClaims();
    const sound = keel(root, ["store", "repair", "--yes", "--as", "human:alice"]);
    expect(sound.code).toBe(0);
    expect(sound.stdout).toContain("nothing to repair");
    writeFileSync(join(root, ".keel", "state.db"), "");
    const agent = keel(root, ["store", "repair", "--yes", "--as", "agent:w1"]);
    expect(agent.code).toBe(5);
    expect(agent.stderr).toMatch(/a human's act/);
    expect(statSync(join(root, ".keel", "state.db")).size).toBe(0);
  });

  it("refuses to rebuild from a segment whose chain is broken", () => {
    const root = sixClaims();
    const seg = json(keel(root, ["audit", "verify", "--json"])).store.segment as string;
    const text = readFileSync(join(root, seg), "utf8").replace('"agent:w3"', '"agent:mallory"');
    writeFileSync(join(root, seg), text);
    rmSync(join(root, ".keel"), { recursive: true });
    const r = keel(root, ["store", "repair", "--yes", "--as", "human:alice"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/cannot rebuild from .*: .*event 3 was edited/);
    expect(existsSync(join(root, ".keel", "state.db"))).toBe(false);
  });
});

describe("keel store reset", () => {
  // @verifies TRU-7
  it("starts a fresh store, keeps the old segment as history, and never hands out a token again", () => {
    const root = sixClaims();
    const before = json(keel(root, ["audit", "verify", "--json"])).store.segment as string;
    const r = keel(root, ["store", "reset", "--yes", "--as", "human:alice", "--json"]);
    expect(r.code).toBe(0);
    const out = json(r);
    expect(out.plan).toMatchObject({
      fencing: 6,
      liveLeases: expect.arrayContaining([expect.objectContaining({ taskId: "shop/1.2", token: 2 })]),
    });
    expect(asideFiles(root).length).toBeGreaterThan(0);
    const verified = json(keel(root, ["audit", "verify", "--json"]));
    expect(verified.ok).toBe(true);
    expect(verified.store.segment).not.toBe(before);
    expect(verified.segments.find((s: { segment: string }) => s.segment === before)).toMatchObject({
      events: 7,
      ok: true,
    });
    expect(json(claim(root, "agent:w7")).claim.token).toBe(7);
    // The old holder's token is fenced off: the new store never granted it.
    expect(keel(root, ["tasks", "heartbeat", "shop/1.1", "--token", "1", "--as", "agent:w1"]).code).toBe(6);
    expect(json(keel(root, ["audit", "log", "--action", "store.reset", "--json"])).events[0]).toMatchObject({
      actor: "human:alice",
      data: { fencing: 6 },
    });
  });
});

describe("a store written before segments (schema 4)", () => {
  it("is migrated in place: a store ID, its events written into a segment, the head file retired", () => {
    const root = sixClaims();
    const seg = json(keel(root, ["audit", "verify", "--json"])).store.segment as string;
    const d = new Database(join(root, ".keel", "state.db"));
    const last = d.prepare("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1").get() as {
      seq: number;
      hash: string;
    };
    d.exec("DROP TABLE meta");
    d.pragma("user_version = 4");
    d.close();
    rmSync(join(root, seg));
    rmSync(join(root, ".git", "keel-store"));
    writeFileSync(join(root, ".keel", "audit-head"), `${last.seq} ${last.hash}\n`);
    const out = json(keel(root, ["audit", "verify", "--json"]));
    expect(out).toMatchObject({ ok: true, events: 7 });
    expect(out.store.segment).not.toBe(seg);
    expect(readFileSync(join(root, out.store.segment), "utf8")).toBe(keel(root, ["audit", "export"]).stdout);
    expect(existsSync(join(root, ".keel", "audit-head"))).toBe(false);
    expect(json(claim(root, "agent:w7")).claim.token).toBe(7);
  });
});
