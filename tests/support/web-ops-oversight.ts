// The oversight operations (src/server/operations-oversight.ts) called through the document checker: gates, trace
// links and their acknowledgement (a human act: an agent's is refused), the audit log and its verification, runs
// and metrics. A capability of its own, committed with code linked to it and then reworded, makes the suspect link.
// @verifies WEB-11
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { writeFiles } from "./files.js";
import { commitAll, gitInit } from "./git.js";
import type { WebOpsContext } from "./web-ops.js";

const SPEC = (text: string) =>
  `# Oversight\n\n## Purpose\nWatching the work.\n\n## Requirements\n\n### Requirement: Ledger {#OVS-1}\nThe system SHALL ${text}.\n\n#### Scenario: Ledger\n- **WHEN** work is done\n- **THEN** it is recorded\n`;

export async function exerciseOversightOperations({
  root,
  human,
  agent,
  call,
}: WebOpsContext): Promise<void> {
  if (!existsSync(join(root, ".git"))) gitInit(root);
  writeFiles(root, {
    "keel/specs/oversight/spec.md": SPEC("record every step"),
    "src/ledger.ts": "// @req OVS-1\nexport const ledger = 1;\n",
    "src/typo.ts": "// @req OVS-404\nexport const typo = 1;\n",
  });
  commitAll(root, "oversight");
  writeFileSync(join(root, "keel/specs/oversight/spec.md"), SPEC("record every step, with its actor"));

  const gates = await call(human, "GET", "/api/gates");
  expect(gates.status, gates.text).toBe(200);
  expect(gates.json.version).toBe(1);

  const links = await call(human, "GET", "/api/trace/links");
  expect(links.status, links.text).toBe(200);
  expect(links.json.counts).toMatchObject({ suspect: 1, dangling: 1 });
  const suspect = (await call(human, "GET", "/api/trace/links?state=suspect")).json.links;
  expect(suspect).toHaveLength(1);
  expect(suspect[0]).toMatchObject({ id: "OVS-1 src/ledger.ts implements", requirement: { id: "OVS-1" } });
  expect(suspect[0].baseline).not.toBe(suspect[0].current);
  expect((await call(human, "GET", "/api/trace/links?state=ok")).status).toBe(400);

  const byAgent = await call(agent, "POST", "/api/trace/ack", { link: suspect[0].id, reason: "still holds" });
  expect(byAgent.status, byAgent.text).toBe(403);
  expect(byAgent.json.error.code).toBe("ack-refused");
  expect((await call(human, "POST", "/api/trace/ack", { link: suspect[0].id, reason: " " })).status).toBe(
    400,
  );
  const unknown = await call(human, "POST", "/api/trace/ack", { link: "NOPE-1", reason: "x" });
  expect(unknown.status).toBe(400);
  expect(unknown.json.error.message).toBe("no requirement NOPE-1");
  const acked = await call(human, "POST", "/api/trace/ack", {
    link: suspect[0].id,
    reason: "the actor is kept",
  });
  expect(acked.status, acked.text).toBe(200);
  expect(acked.json.acks[0]).toMatchObject({
    link: suspect[0].id,
    by: "human:alice",
    fingerprint: suspect[0].current,
  });
  expect((await call(human, "GET", "/api/trace/links?state=suspect")).json.links).toEqual([]);

  const log = await call(human, "GET", "/api/audit?actor=alice&action=trace.ack&limit=5");
  expect(log.status, log.text).toBe(200);
  expect(log.json.events[0]).toMatchObject({ target: suspect[0].id, reason: "the actor is kept" });
  const all = (await call(human, "GET", "/api/audit?since=2000-01-01")).json;
  expect(all.events.length).toBeGreaterThan(1);
  expect(all.events[0].seq).toBeGreaterThan(all.events[1].seq);
  expect((await call(human, "GET", "/api/audit?limit=0")).status).toBe(400);
  expect((await call(human, "GET", "/api/audit?since=yesterday")).json.error.message).toMatch(
    /^query\.since: /,
  );
  const verified = await call(human, "GET", "/api/audit/verify");
  expect(verified.status, verified.text).toBe(200);
  expect(verified.json).toMatchObject({ ok: true, firstBad: null });

  const runs = await call(human, "GET", "/api/runs");
  expect(runs.status, runs.text).toBe(200);
  expect(runs.json).toMatchObject({ run: null, workers: [], attempts: [], reviews: [] });
  const metrics = await call(human, "GET", "/api/metrics");
  expect(metrics.status, metrics.text).toBe(200);
  expect(metrics.json).toMatchObject({ empty: true, by: ["agent", "capability", "day"] });
  expect((await call(human, "GET", "/api/metrics?since=2026-01-01T00:00Z")).status).toBe(200);
  expect((await call(human, "GET", "/api/metrics?since=soon")).status).toBe(400);
}
