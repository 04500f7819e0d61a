// Many writers at once: every edit ends applied or as a recorded conflict, never lost; a killed writer
// never leaves a torn file. Real child processes, real files, the real SQLite store.
// @verifies CHG-9
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSpec } from "../src/format/spec.js";
import { listEvents, verifyChain } from "../src/store/sqlite/audit-log.js";
import { StateDb } from "../src/store/state-db.js";
import { bundleFixture, removeBundle, runBundle } from "./support/harness.js";

const PROCESSES = 8;
const EDITS = 100;
const REQS = ["SHOP-1", "SHOP-2", "SHOP-3", "SHOP-4"];

let tmp: string;
let editor: string;
let killed: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "keel-conc-"));
  editor = await bundleFixture("concurrent-editor");
  killed = await bundleFixture("killed-writer");
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  removeBundle(editor);
  removeBundle(killed);
});

function requirement(n: number): string {
  return `### Requirement: Rule ${n} {#SHOP-${n}}
The system SHALL apply rule ${n} to every order.

#### Scenario: Rule ${n} holds
- **WHEN** an order is placed
- **THEN** rule ${n} is applied
`;
}

describe("concurrent writers", () => {
  it(`${PROCESSES} processes × ${EDITS} edits of one spec: each applied or a recorded conflict, none lost`, async () => {
    const root = join(tmp, "shop");
    mkdirSync(join(root, "keel", "specs", "shop"), { recursive: true });
    mkdirSync(join(root, "keel", "changes"), { recursive: true });
    writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\n");
    const specPath = join(root, "keel", "specs", "shop", "spec.md");
    const untouched = requirement(9);
    writeFileSync(
      specPath,
      `# Shop\n\n## Purpose\nRules every order follows, edited by many agents at once.\n\n## Requirements\n\n${[1, 2, 3, 4].map(requirement).join("\n")}\n${untouched}`,
    );
    const initial = new Map(
      parseSpec(readFileSync(specPath, "utf8"), "s", "shop").spec.requirements.map((r) => [
        r.id,
        r.fingerprint,
      ]),
    );

    const outputs = await Promise.all(
      Array.from({ length: PROCESSES }, (_, p) =>
        runBundle(editor, [root, String(p), String(EDITS), ...REQS], tmp),
      ),
    );
    const edits = outputs.flatMap((o) =>
      o
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { name: string; req: string; outcome: string }),
    );

    // Every edit is accounted for, and each ended one of the two allowed ways.
    expect(edits).toHaveLength(PROCESSES * EDITS);
    expect(edits.filter((e) => e.outcome !== "applied" && e.outcome !== "conflict")).toEqual([]);
    const applied = edits.filter((e) => e.outcome === "applied");
    expect(applied.length).toBeGreaterThan(0);

    const state = StateDb.open(root);
    try {
      expect(verifyChain(state, root).ok).toBe(true);
      const modified = listEvents(state, { action: "requirement.modified" });
      expect(modified).toHaveLength(applied.length);
      const final = parseSpec(readFileSync(specPath, "utf8"), "s", "shop").spec;
      for (const id of REQS) {
        // Per requirement, the applied edits form one unbroken chain from the first version to the file's:
        // an update made against a version that another writer had already replaced would break it.
        const chain = modified.filter((e) => e.target === id);
        let fingerprint = initial.get(id);
        for (const e of chain) {
          expect(e.before).toBe(fingerprint);
          fingerprint = e.after ?? undefined;
        }
        const now = final.requirements.find((r) => r.id === id);
        expect(now?.fingerprint).toBe(fingerprint);
        // The file holds the text of the last edit applied to it.
        const last = chain.at(-1)?.data?.change as string | undefined;
        if (last) expect(now?.text).toContain(`record edit ${last}.`);
      }
      // A requirement nobody edited is byte-for-byte what it was.
      expect(final.requirements.find((r) => r.id === "SHOP-9")?.raw).toBe(untouched);
      // Each conflict left a record for a human.
      const conflicts = state.db.prepare("SELECT count(DISTINCT change_id) AS n FROM conflicts").get() as {
        n: number;
      };
      expect(conflicts.n).toBe(edits.length - applied.length);
    } finally {
      state.close();
    }
  }, 300_000);

  it("a writer killed with SIGKILL mid-write leaves the old file or the new one, never a torn one", async () => {
    const path = join(tmp, "victim.md");
    for (let round = 0; round < 5; round++) {
      const child = spawn(process.execPath, [killed, path], { cwd: tmp });
      await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
      child.kill("SIGKILL");
      await new Promise((resolve) => child.on("close", resolve));
      const text = readFileSync(path, "utf8");
      const m = /^version (\d+) length (\d+)\n/.exec(text);
      expect(m).not.toBeNull();
      expect(text.length - (m as RegExpExecArray)[0].length).toBe(Number((m as RegExpExecArray)[2]));
    }
  }, 60_000);
});
