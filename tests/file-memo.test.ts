// A long-lived process (keel serve) reuses what it parsed from a file only while the file is unchanged: the
// memo itself, and a server answering after same-size edits of a task file and a spec (the racy window set to
// 0 so that the files just written are memoized at once).
// @verifies SRF-16
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileMemo } from "../src/workspace/file-memo.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";

describe("FileMemo", () => {
  it("answers only for the size and stamp it was given, and keeps nothing too recent to trust", () => {
    const memo = new FileMemo<string>(2000);
    const now = 1_000_000;
    memo.set("/p/a.md", 10, now - 5000, "parsed a", now);
    expect(memo.get("/p/a.md", 10, now - 5000)).toBe("parsed a");
    expect(memo.get("/p/a.md", 11, now - 5000)).toBeUndefined();
    expect(memo.get("/p/a.md", 10, now - 4999)).toBeUndefined();
    memo.set("/p/a.md", 10, now - 1000, "parsed again", now);
    expect(memo.get("/p/a.md", 10, now - 1000)).toBeUndefined();
    expect(memo.get("/p/a.md", 10, now - 5000)).toBeUndefined();
  });
});

const project = tempProjects("keel-file-memo-");
let root: string;
let served: Served;

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": "- [ ] 1.1 Make refunds idempotent\n",
  });
  served = await startServe(root, [], { KEEL_RACY_WINDOW_MS: "0" });
});

afterAll(async () => {
  expect(await served.stop()).toBe(0);
});

describe("keel serve after same-size edits", () => {
  it("answers with what the files hold now, not what it parsed before", async () => {
    const tasks = async () =>
      (await httpRequest(served.port, "GET", "/api/tasks")).json.tasks.map((t: { title: string }) => t.title);
    // The index answers the requirement; its trace comes from the parsed project, fingerprint included.
    const shown = async () => {
      const r = (await httpRequest(served.port, "GET", "/api/requirements/PAY-1")).json;
      return { text: r.item.text, traced: r.trace.requirements[0].fingerprint, indexed: r.item.fingerprint };
    };
    expect(await tasks()).toEqual(["Make refunds idempotent"]);
    const before = await shown();
    expect(before.text).toContain("at most one refund");
    expect(before.traced).toBe(before.indexed);

    // Same sizes: only the change stamps tell the edits apart.
    writeFileSync(join(root, "keel/specs/payments/tasks.md"), "- [ ] 1.1 Mark refunds idempotent\n");
    writeFileSync(
      join(root, "keel/specs/payments/spec.md"),
      PAYMENTS_SPEC.replace("at most one", "at most two"),
    );
    expect(await tasks()).toEqual(["Mark refunds idempotent"]);
    const after = await shown();
    expect(after.text).toContain("at most two refund");
    expect(after.traced).not.toBe(before.traced);
    expect(after.traced).toBe(after.indexed);
  });
});
