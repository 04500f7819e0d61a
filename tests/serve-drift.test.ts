// Drift on the live stream: with `keel serve` running on a git project whose code is annotated `@req PAY-1`,
// a person rewording PAY-1 in an editor makes the link suspect and every subscriber gets `drift.found`;
// putting the words back resolves it (`drift.resolved`). Edits that make no link suspect send only the count.
// @verifies SRF-14
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { commitAll, gitInit } from "./support/git.js";
import { type Served, startServe, subscribeEvents } from "./support/serve.js";

const project = tempProjects("keel-serve-drift-");

let root: string;
let served: Served;

beforeAll(async () => {
  root = project({
    ".gitignore": ".keel/\n",
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "src/refunds.ts": "// @req PAY-1\nexport const refund = 1;\n",
    "src/receipts.ts": "// @req PAY-2\nexport const receipt = 1;\n",
  });
  gitInit(root);
  commitAll(root, "payments");
  served = await startServe(root);
});

afterAll(async () => {
  expect(await served.stop()).toBe(0);
});

describe("keel serve: drift events", () => {
  it("sends drift.found when an edit makes a link suspect, and drift.resolved when it is undone", async () => {
    const feed = await subscribeEvents(served.port);
    const spec = join(root, "keel/specs/payments/spec.md");
    try {
      // The baseline is taken once the server is up (a subscriber gets the latest count at once).
      expect((await feed.next((e) => e.type === "drift.checked")).data.suspect).toBe(0);
      // An edit to the purpose changes no requirement: it is seen, and judged, without drift.
      writeFileSync(spec, PAYMENTS_SPEC.replace("Taking payments.", "Taking card payments."));
      const edited = await feed.next((e) => e.type === "spec.edited");
      const judged = await feed.next(
        (e) => e.type === "drift.checked" && feed.seen.indexOf(e) > feed.seen.indexOf(edited),
      );
      expect(judged.data.suspect).toBe(0);
      expect(feed.seen.filter((e) => e.type === "drift.found")).toEqual([]);
      writeFileSync(
        spec,
        PAYMENTS_SPEC.replace("Taking payments.", "Taking card payments.").replace(
          "at most one refund per refund key",
          "at most one refund per refund key and per day",
        ),
      );
      const found = await feed.next((e) => e.type === "drift.found");
      expect(found.data).toMatchObject({
        requirement: "PAY-1",
        file: "src/refunds.ts",
        line: 1,
        kind: "implements",
      });
      expect(found.data.reason).toMatch(/PAY-1/);

      writeFileSync(spec, PAYMENTS_SPEC);
      const resolved = await feed.next((e) => e.type === "drift.resolved");
      expect(resolved.data).toMatchObject({ requirement: "PAY-1", file: "src/refunds.ts" });
      // PAY-2 was never touched: no drift event names it.
      const named = feed.seen.filter((e) => e.type === "drift.found" || e.type === "drift.resolved");
      expect(named.map((e) => `${e.type} ${e.data.requirement}`)).toEqual([
        "drift.found PAY-1",
        "drift.resolved PAY-1",
      ]);
    } finally {
      feed.close();
    }
  });
});
