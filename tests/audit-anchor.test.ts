// The audit log anchored in git: every event also appended to `keel/audit/<store-id>.jsonl`, which a commit
// carries and a clone has. Real git repositories in temporary folders and the real CLI: a fresh clone verifies
// the committed segment, a clone whose `.keel/` is gone is never "intact", and a segment cut short, edited,
// or rewritten in a later commit is named.
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuditEvent, eventHash, GENESIS } from "../src/store/sqlite/audit-log.js";
import { detectLayouts } from "../src/workspace/root.js";
import { commitAll, git, gitInit, json, keel, type TempRoot, tempRoot } from "./provenance-support.js";
import { layoutFixture, tempProjects } from "./support/files.js";

let tmp: TempRoot;
beforeAll(() => {
  tmp = tempRoot("keel-anchor-");
});
afterAll(() => tmp.cleanup());

const TASKS = "## 1. Build\n- [ ] 1.1 Schema\n- [ ] 1.2 API\n- [ ] 1.3 Docs\n";
const DATE = "2026-11-20T09:00:00Z";

/** A git repository with `claims` claims made through the CLI (one audit event each), committed. */
function repoWithClaims(claims: number): string {
  const root = tmp.project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/shop/tasks.md": TASKS,
    ".gitignore": ".keel/\n",
  });
  gitInit(root);
  for (let i = 1; i <= claims; i++) {
    expect(keel(root, ["tasks", "claim", "--next", "--as", `agent:w${i}`, "--ttl", "1h"]).code).toBe(0);
  }
  commitAll(root, "work", DATE);
  return root;
}

function verify(root: string) {
  const r = keel(root, ["audit", "verify", "--json"]);
  return { code: r.code, out: json(r), text: keel(root, ["audit", "verify"]).stdout };
}

const segmentOf = (root: string): string => verify(root).out.store.segment as string;

function lines(root: string, rel: string): string[] {
  return readFileSync(join(root, rel), "utf8").trimEnd().split("\n");
}

describe("the segment in keel/audit/", () => {
  // @verifies TRU-4
  it("holds every event, as `keel audit export` writes it, and names the clone's store in the git directory", () => {
    const root = repoWithClaims(2);
    const { code, out } = verify(root);
    expect(code).toBe(0);
    expect(out).toMatchObject({ ok: true, events: 2, store: { state: "present" } });
    expect(readFileSync(join(root, ".git", "keel-store"), "utf8").trim()).toBe(out.store.id);
    const exported = keel(root, ["audit", "export"]).stdout;
    expect(readFileSync(join(root, out.store.segment), "utf8")).toBe(exported);
    expect(git(root, ["ls-files", "keel/audit"]).trim()).toBe(out.store.segment);
    // Recording an event never makes the tree dirty for evidence: the segment is not part of what gates verify.
    expect(keel(root, ["tasks", "note", "shop/1.3", "hand-off", "--as", "agent:w9"]).code).toBe(0);
    expect(git(root, ["status", "--porcelain"]).trim()).toBe(`M ${out.store.segment}`);
  });

  // @verifies TRU-4
  it("lets a fresh clone verify the committed events from the segment alone", () => {
    const root = repoWithClaims(3);
    const seg = segmentOf(root);
    const clone = join(tmp.project({}), "clone");
    git(root, ["clone", "-q", root, clone]);
    const { code, out, text } = verify(clone);
    expect(code).toBe(0);
    expect(out).toMatchObject({ ok: true, events: 0, store: { id: null, state: "none" } });
    expect(out.segments).toEqual([
      { id: expect.any(String), segment: seg, events: 3, own: false, commits: 1, ok: true },
    ]);
    expect(text).toContain(`${seg}: 3 events intact`);
    expect(existsSync(join(clone, ".keel", "state.db"))).toBe(false);
    // The clone's first write starts a store of its own, with its own segment beside the other one.
    expect(keel(clone, ["tasks", "claim", "shop/1.3", "--as", "agent:c1"]).code).toBe(0);
    const after = verify(clone).out;
    expect(after.ok).toBe(true);
    expect(after.store.segment).not.toBe(seg);
    expect(after.segments.map((s: { own: boolean }) => s.own).sort()).toEqual([false, true]);
  });
});

describe("what an audited refusal writes", () => {
  it("is its event in the segment, and nothing else", () => {
    const root = repoWithClaims(1);
    const seg = segmentOf(root);
    const refused = keel(root, ["token", "create", "--role", "owner", "--name", "x", "--as", "agent:w1"]);
    expect(refused.code).toBe(5);
    expect(git(root, ["status", "--porcelain", "--untracked-files=all"]).trim()).toBe(`M ${seg}`);
    expect(JSON.parse(lines(root, seg).at(-1) as string)).toMatchObject({
      action: "token.create.refused",
    });
  });
});

describe("keel audit verify against the segment", () => {
  // @verifies TRU-5
  it("never calls a log intact whose local state was moved away, and creates none", () => {
    const root = repoWithClaims(2);
    const seg = segmentOf(root);
    renameSync(join(root, ".keel"), join(root, "keel-state-moved"));
    const { code, out, text } = verify(root);
    expect(code).toBe(1);
    expect(out.ok).toBe(false);
    expect(out.store.state).toBe("missing");
    expect(out.firstBad).toEqual({
      seq: 1,
      problem: `the local state in .keel/ is gone but ${seg} records 2 events`,
    });
    expect(text).toMatch(/audit log broken: the local state in \.keel\/ is gone/);
    expect(text).toContain("keel store repair");
    expect(text).not.toContain("intact");
    expect(existsSync(join(root, ".keel", "state.db"))).toBe(false);
  });

  // @verifies TRU-5
  it("names a segment cut short, and the next write brings it up to date from the store", () => {
    const root = repoWithClaims(3);
    const seg = segmentOf(root);
    writeFileSync(join(root, seg), `${lines(root, seg).slice(0, 2).join("\n")}\n`);
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({ seq: 3, problem: expect.stringMatching(/cut short: it ends at event 2/) });
    expect(keel(root, ["tasks", "note", "shop/1.1", "later", "--as", "agent:w1"]).code).toBe(0);
    expect(verify(root).out).toMatchObject({ ok: true, events: 4 });
    expect(lines(root, seg)).toHaveLength(4);
  });

  // @verifies TRU-5
  it("names a segment line edited in the working copy", () => {
    const root = repoWithClaims(3);
    const seg = segmentOf(root);
    const edited = lines(root, seg);
    edited[1] = (edited[1] as string).replace('"agent:w2"', '"agent:mallory"');
    writeFileSync(join(root, seg), `${edited.join("\n")}\n`);
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad).toEqual({
      seq: 2,
      problem: expect.stringMatching(/event 2 differs between \.keel\/state\.db and/),
    });
    const problems = out.problems.map((p: { problem: string }) => p.problem).join("\n");
    expect(problems).toMatch(/event 2 was edited/);
    expect(problems).toMatch(
      /the working copy of .* rewrites the version in commit [0-9a-f]{12}: its line 2 differs/,
    );
  });

  // @verifies TRU-5
  it("names the commit that rewrote a committed segment, even in a clone that has only the files", () => {
    const root = repoWithClaims(2);
    const seg = segmentOf(root);
    // A careful forger: line 1 rewritten and the whole chain re-hashed, so the file verifies on its own.
    let prev = GENESIS;
    const forged = lines(root, seg).map((line, i) => {
      const { hash: _h, ...e } = JSON.parse(line) as AuditEvent;
      const next = { ...e, actor: i === 0 ? "agent:mallory" : e.actor, prevHash: prev };
      prev = eventHash(next);
      return JSON.stringify({ ...next, hash: prev });
    });
    writeFileSync(join(root, seg), `${forged.join("\n")}\n`);
    const rewrite = commitAll(root, "tidy the audit log", "2026-11-21T09:00:00Z");
    const clone = join(tmp.project({}), "clone");
    git(root, ["clone", "-q", root, clone]);
    const { code, out } = verify(clone);
    expect(code).toBe(1);
    expect(out.problems).toEqual([
      {
        segment: seg,
        seq: 1,
        commit: rewrite,
        problem: expect.stringMatching(
          new RegExp(`rewritten in commit ${rewrite.slice(0, 12)}: its line 1 differs`),
        ),
      },
    ]);
    // The clone that wrote it also has the store, which still holds the original.
    const own = verify(root).out;
    expect(own.firstBad.problem).toMatch(
      /event 2 was replaced: its hash differs from the one keel\/audit\/.* records/,
    );
    expect(own.problems.map((p: { problem: string }) => p.problem)).toContain(
      `event 1 differs between .keel/state.db and ${seg} (line 1): one of them was rewritten`,
    );
  });

  // @verifies TRU-5
  it("catches a rewrite hidden by git commit --amend through the store that wrote the events", () => {
    const root = repoWithClaims(2);
    const seg = segmentOf(root);
    const edited = lines(root, seg);
    edited.pop();
    writeFileSync(join(root, seg), `${edited.join("\n")}\n`);
    git(root, ["commit", "-q", "--amend", "-a", "--no-edit"]);
    expect(git(root, ["log", "--format=%H", "--", seg]).trim().split("\n")).toHaveLength(1);
    const { code, out } = verify(root);
    expect(code).toBe(1);
    expect(out.firstBad.seq).toBe(2);
  });

  it("reads past a torn last line (a crash mid-append), and the next write cuts it off", () => {
    const root = repoWithClaims(2);
    const seg = segmentOf(root);
    appendFileSync(join(root, seg), '{"seq":3,"at":"2026-');
    const { code, out, text } = verify(root);
    expect(code).toBe(0);
    expect(out.notes).toEqual([expect.stringMatching(/ends in an incomplete line \(20 bytes/)]);
    expect(text).toContain("note:");
    expect(keel(root, ["tasks", "note", "shop/1.1", "after the crash", "--as", "agent:w1"]).code).toBe(0);
    const after = verify(root).out;
    expect(after).toMatchObject({ ok: true, events: 3, notes: [] });
    expect(readFileSync(join(root, seg), "utf8").endsWith("}\n")).toBe(true);
    expect(statSync(join(root, seg)).size).toBe(readFileSync(join(root, seg)).length);
  });
});

describe("keel/audit/ beside a toolkit's files", () => {
  const make = tempProjects("keel-anchor-layout-");
  it("does not make a Spec Kit, Kiro, Task Master or Beads project a Keel one", () => {
    for (const name of ["speckit", "kiro", "taskmaster", "beads"]) {
      const root = layoutFixture(make, name);
      const before = detectLayouts(root);
      // What a write in such a project adds: only its segment under keel/audit/.
      mkdirSync(join(root, "keel", "audit"), { recursive: true });
      writeFileSync(join(root, "keel", "audit", "0123456789abcdef.jsonl"), "");
      expect(detectLayouts(root), name).toEqual(before);
      expect(before).not.toContain("keel");
    }
  });
});

describe("a writer killed between the segment's fsync and the commit", () => {
  // @verifies TRU-6, RUN-12
  it("leaves lines that never committed, which the next writer drops instead of refusing the store", () => {
    const root = repoWithClaims(2);
    const seg = json(keel(root, ["audit", "verify", "--json"])).store.segment as string;
    const before = readFileSync(join(root, seg), "utf8");
    const killed = keel(root, ["tasks", "claim", "--next", "--as", "agent:w3", "--ttl", "1h"], {
      KEEL_TEST_CRASH_AT: "audit:1",
    });
    expect(killed.code).toBeNull();
    // The claim's line reached the segment; its transaction never committed.
    expect(readFileSync(join(root, seg), "utf8").length).toBeGreaterThan(before.length);
    const next = json(keel(root, ["tasks", "claim", "--next", "--as", "agent:w4", "--ttl", "1h", "--json"]));
    expect(next.claim.token).toBe(3);
    const verified = json(keel(root, ["audit", "verify", "--json"]));
    expect(verified).toMatchObject({ ok: true, events: 3 });
    expect(readFileSync(join(root, seg), "utf8")).toBe(keel(root, ["audit", "export"]).stdout);
  });
});
