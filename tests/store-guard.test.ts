// The store never silently starts over: a truncated, garbage, foreign or damaged `.keel/state.db`, or a missing one
// where the audit segment says state existed, is refused with exit 3 naming the file and the way out, and left
// byte for byte as it was; a project that never had a store gets one; an open store notices its file being
// deleted or replaced; and a garbage index, a cache, is simply rebuilt.
// @verifies TRU-6, TRU-8
import { createHash } from "node:crypto";
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { errorResult } from "../src/mcp/tools.js";
import { Claims } from "../src/store/sqlite/claims.js";
import { sqliteDriver } from "../src/store/sqlite.js";
import { StateDb } from "../src/store/state-db.js";
import { EXIT, KeelError } from "../src/workspace/errors.js";
import { keel, keelAsync, type Run } from "./support/cli.js";
import { tempProjects, treeDigests, writeFile } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS } from "./support/fixtures.js";

const project = tempProjects("keel-store-guard-");

const STORE = ".keel/state.db";

let root: string;
let store: string;

/** A project that never had a store. */
function fresh(): void {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": PAYMENTS_TASKS,
  });
  store = join(root, STORE);
}

/** A project whose store holds a claim (and whose audit segment records it), as after some work. */
function worked(): void {
  fresh();
  const claimed = keel(root, "tasks", "claim", "payments/1.1", "--as", "agent:w1");
  expect(claimed.code, claimed.stderr).toBe(0);
}

const EMPTY = createHash("sha256").digest("hex");

/**
 * Every file of the project, `.keel/` included, by digest: what a refusal must leave as it was. A store that
 * SQLite could open may gain SQLite's shared-memory index beside it and an empty write-ahead log; neither is
 * a write to the store, so the index is left out and an empty log counts as none.
 */
function snapshot(): { tree: Map<string, string>; keel: Record<string, string> } {
  const dir = join(root, ".keel");
  const keelFiles = existsSync(dir) ? readdirSync(dir) : [];
  const digests = keelFiles
    .filter((f) => !f.endsWith("-shm"))
    .map((f) => [
      f,
      createHash("sha256")
        .update(readFileSync(join(dir, f)))
        .digest("hex"),
    ])
    .filter(([f, digest]) => !(f?.endsWith("-wal") && digest === EMPTY));
  return { tree: treeDigests(root), keel: Object.fromEntries(digests) };
}

/** Bytes that are not a SQLite file, the same on every run. */
function garbage(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += 32) createHash("sha256").update(String(i)).digest().copy(out, i);
  return out;
}

/** A command refused because of the store: exit 3, the file and the way out named, no Keel bug reported. */
function expectRefused(run: Run, what: string): void {
  expect(run.code, run.stderr).toBe(EXIT.unreadable);
  expect(run.stderr).toContain(`the store at ${STORE} ${what}`);
  expect(run.stderr).toContain("keel store repair");
  expect(run.stderr).toContain("keel store reset");
  expect(run.stderr).not.toContain("report this as a bug");
}

/** The refusal for each kind of damage, for a write and for a read, with nothing written. */
function expectRefusedEverywhere(what: string): void {
  const before = snapshot();
  expectRefused(keel(root, "tasks", "claim", "payments/1.2", "--as", "agent:w2"), what);
  expectRefused(keel(root, "tasks", "list"), what);
  const json = keel(root, "--json", "tasks", "claim", "payments/1.2", "--as", "agent:w2");
  expect(json.code).toBe(EXIT.unreadable);
  expect(JSON.parse(json.stdout)).toMatchObject({
    ok: false,
    error: { code: "store_unreadable", message: expect.stringContaining(STORE) },
    exitCode: 3,
  });
  expect(snapshot()).toEqual(before);
}

describe("a store that is there but not sound is refused and left alone", () => {
  beforeEach(worked);

  it("refuses a truncated store", () => {
    truncateSync(store, 0);
    expectRefusedEverywhere("is empty (truncated)");
  });

  it("refuses garbage bytes", () => {
    writeFileSync(store, garbage(8192));
    expectRefusedEverywhere("is not a Keel database");
  });

  it("refuses another program's SQLite database", () => {
    rmSync(store);
    const foreign = new (sqliteDriver())(store);
    foreign.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');");
    foreign.close();
    expectRefusedEverywhere("is not a Keel database");
  });

  it("refuses a store whose pages are damaged, on opening or in mid-command", () => {
    const bytes = readFileSync(store);
    // Everything after the first page: the header still says SQLite, the tables do not hold.
    garbage(bytes.length - 4096).copy(bytes, 4096);
    writeFileSync(store, bytes);
    expectRefusedEverywhere("is damaged");
  });

  it("refuses a store written by a newer Keel instead of reporting a bug", () => {
    const db = new (sqliteDriver())(store);
    db.pragma("user_version = 999");
    db.close();
    const before = snapshot();
    const run = keel(root, "tasks", "list");
    expect(run.code).toBe(EXIT.unreadable);
    expect(run.stderr).toContain("was written by a newer Keel (schema 999)");
    expect(snapshot()).toEqual(before);
  });
});

describe("a missing store", () => {
  it("is refused where the audit segment says state existed, and nothing is created", () => {
    worked();
    // Outside git, any non-empty segment in keel/audit/ is this project's own.
    const segments = readdirSync(join(root, "keel/audit"));
    expect(segments).toHaveLength(1);
    rmSync(join(root, ".keel"), { recursive: true });
    const before = snapshot();
    const run = keel(root, "tasks", "claim", "payments/1.2", "--as", "agent:w2");
    expectRefused(run, "is missing");
    expect(run.stderr).toContain(`keel/audit/${segments[0]}`);
    expect(existsSync(store)).toBe(false);
    expect(snapshot()).toEqual(before);
  });

  it("is created when the project never had one", () => {
    fresh();
    const run = keel(root, "tasks", "claim", "payments/1.2", "--as", "agent:w2");
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(store).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
  });

  it("is created by processes racing for it, none of them seeing a half-made file", async () => {
    fresh();
    const runs = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        keelAsync(root, ["tasks", "claim", "payments/1.2", "--as", `agent:r${i}`]),
      ),
    );
    // Exactly one claim wins; the others are refused by the task queue (6), never by the store (3).
    expect(runs.map((r) => r.code).sort(), runs.map((r) => r.stderr).join("")).toEqual([
      0, 6, 6, 6, 6, 6, 6, 6,
    ]);
    expect(readdirSync(join(root, ".keel")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("is created with allowFresh (for keel store repair and reset), which still refuses a garbage file", () => {
    fresh();
    writeFile(root, "keel/audit/0123456789abcdef.jsonl", '{"seq":1}\n');
    writeFile(root, STORE, garbage(4096));
    expect(() => StateDb.open(root, { allowFresh: true })).toThrow(/is not a Keel database/);
    rmSync(store);
    expect(() => StateDb.open(root)).toThrow(/is missing/);
    StateDb.open(root, { allowFresh: true }).close();
    expect(existsSync(store)).toBe(true);
  });
});

describe("an open store", () => {
  beforeEach(worked);

  it("refuses to write once its file was deleted or replaced", () => {
    const db = StateDb.open(root);
    try {
      db.exclusive(() => undefined);
      renameSync(store, `${store}.moved`);
      expect(() => db.exclusive(() => undefined)).toThrow(/deleted or replaced while Keel was running/);
      renameSync(`${store}.moved`, store);
      db.assertUnchanged();
      // Another valid store moved into its place is another file.
      const other = project({ "keel/keel.yaml": "version: 1\n" });
      StateDb.open(other).close();
      renameSync(join(other, STORE), store);
      let refusal: unknown;
      try {
        db.exclusive(() => undefined);
      } catch (e) {
        refusal = e;
      }
      expect(refusal).toBeInstanceOf(KeelError);
      expect((refusal as KeelError).exitCode).toBe(EXIT.unreadable);
    } finally {
      db.close();
    }
  });

  it("names the damaged store when SQLite reports damage mid-command, over MCP too", () => {
    // Only the claims table's pages are overwritten: the header and schema can still be read, so the store
    // opens; the claims table cannot be read.
    const probe = StateDb.open(root);
    const { rootpage } = probe.db
      .prepare("SELECT rootpage FROM sqlite_master WHERE name = 'claims'")
      .get() as {
      rootpage: number;
    };
    const pageSize = probe.db.pragma("page_size", { simple: true }) as number;
    probe.close();
    const bytes = readFileSync(store);
    garbage(pageSize).copy(bytes, (rootpage - 1) * pageSize);
    writeFileSync(store, bytes);
    const db = StateDb.open(root);
    let thrown: unknown;
    try {
      new Claims(db, root).get("payments/1.1", new Date());
    } catch (e) {
      thrown = e;
    } finally {
      db.close();
    }
    expect(thrown).toBeDefined();
    const text = JSON.stringify(errorResult(thrown));
    expect(text).toContain(`the store at ${STORE}`);
    expect(text).not.toContain("internal error");
  });
});

describe("the index", () => {
  it("is rebuilt from garbage bytes, with no error", () => {
    fresh();
    const index = join(root, ".keel/index.db");
    expect(keel(root, "validate").code).toBe(0);
    writeFileSync(index, garbage(16_384));
    const run = keel(root, "validate");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain("error");
    expect(readFileSync(index).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\0");
    expect(keel(root, "search", "refund").code).toBe(0);
  });
});
