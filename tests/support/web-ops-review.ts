// The review operations (src/server/operations-review.ts) against the OpenAPI document: a change's diff and
// comments, reject, apply, and a conflict parked by an apply, read and resolved, each with its refusals. Two
// changes of its own MODIFY PAY-1 of the test's project, so that the second one's apply conflicts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { WebOpsContext } from "./web-ops.js";

const SPEC = "keel/specs/payments/spec.md";

function modifyPay1(text: string): string {
  return [
    "## MODIFIED Requirements",
    "",
    "### Requirement: Refunds are idempotent {#PAY-1}",
    text,
    "",
    "#### Scenario: Duplicate refund",
    "- **WHEN** a second request with the same key arrives",
    "- **THEN** the original result is returned",
    "",
  ].join("\n");
}

async function propose(ctx: WebOpsContext, name: string, text: string, by = ctx.agent): Promise<string> {
  const r = await ctx.call(by, "POST", "/api/changes", {
    name,
    proposal: `## Why\n${name} is needed.\n\n## What Changes\n- PAY-1 says more.\n`,
    deltas: [{ capability: "payments", markdown: modifyPay1(text) }],
  });
  expect(r.status, r.text).toBe(201);
  return r.json.change as string;
}

export async function exerciseReviewOperations(ctx: WebOpsContext): Promise<void> {
  const { call, human, agent } = ctx;
  const first = await propose(
    ctx,
    "refund window",
    "The system SHALL process at most one refund per refund key within 30 days.",
  );
  const second = await propose(
    ctx,
    "refund audit",
    "The system SHALL process and log at most one refund per refund key.",
  );

  // The diff, word by word against the base.
  const diff = await call(human, "GET", `/api/changes/${first}/diff`);
  expect(diff.status, diff.text).toBe(200);
  const pay1 = diff.json.requirements.find((r: { requirement: string }) => r.requirement === "PAY-1");
  expect(pay1).toMatchObject({ op: "MODIFIED", moved: false });
  expect(pay1.parts).toContainEqual({ op: "+", text: expect.stringContaining("30") });
  expect((await call(human, "GET", "/api/changes/no-such/diff")).status).toBe(404);
  expect((await call(human, "GET", "/api/changes/Not%20An%20ID/diff")).status).toBe(400);

  // Comments, listed with their authors.
  const said = await call(human, "POST", `/api/changes/${first}/comments`, { text: "Why 30 days?" });
  expect(said.status, said.text).toBe(201);
  expect(said.json.comment).toMatchObject({ by: "human:alice", kind: "human", text: "Why 30 days?" });
  expect(
    (await call(agent, "POST", `/api/changes/${first}/comments`, { text: "The law says so." })).status,
  ).toBe(201);
  const comments = await call(human, "GET", `/api/changes/${first}/comments`);
  expect(comments.status).toBe(200);
  expect(comments.json.comments.map((c: { by: string }) => c.by)).toEqual(["human:alice", "agent:mcp"]);
  expect((await call(human, "POST", `/api/changes/${first}/comments`, { text: "  " })).status).toBe(400);
  expect((await call(human, "POST", "/api/changes/no-such/comments", { text: "x" })).status).toBe(404);
  expect((await call(human, "GET", "/api/changes/no-such/comments")).status).toBe(404);

  // Reject: reviewers, or the author; an agent may not reject a person's change.
  const doomed = await propose(ctx, "refund never", "The system SHALL never refund.", human);
  const byAgent = await call(agent, "POST", `/api/changes/${doomed}/reject`, {});
  expect(byAgent.status).toBe(403);
  expect(byAgent.json.error.message).toMatch(/may reject only its own changes/);
  const rejected = await call(human, "POST", `/api/changes/${doomed}/reject`, { reason: "no" });
  expect(rejected.status, rejected.text).toBe(200);
  expect(rejected.json).toMatchObject({ change: doomed, status: "rejected", by: "human:alice" });
  expect((await call(human, "POST", `/api/changes/${doomed}/reject`, {})).status).toBe(400);
  expect((await call(human, "POST", "/api/changes/no-such/reject", {})).status).toBe(404);

  // Apply: an agent may not apply an unapproved change; a reviewer may; the second one then conflicts.
  expect((await call(agent, "POST", `/api/changes/${first}/apply`, {})).status).toBe(403);
  expect((await call(human, "POST", `/api/changes/${doomed}/apply`, {})).status).toBe(400);
  expect((await call(human, "POST", "/api/changes/no-such/apply", {})).status).toBe(404);
  const applied = await call(human, "POST", `/api/changes/${first}/apply`, {});
  expect(applied.status, applied.text).toBe(200);
  expect(applied.json).toMatchObject({ kind: "applied", change: first, by: "human:alice" });
  expect(readFileSync(join(ctx.root, SPEC), "utf8")).toContain("within 30 days");
  const conflicted = await call(human, "POST", `/api/changes/${second}/apply`, {});
  expect(conflicted.status).toBe(409);
  expect(conflicted.json.error.code).toBe("conflict");

  // The conflict: listed, shown, resolved by a person only.
  const open = await call(agent, "GET", `/api/conflicts?change=${second}`);
  expect(open.status).toBe(200);
  expect(open.json.conflicts).toHaveLength(1);
  const c = open.json.conflicts[0];
  expect(c).toMatchObject({ change: second, requirement: "PAY-1", status: "open" });
  expect((await call(human, "GET", "/api/conflicts?all=true")).status).toBe(200);
  expect((await call(human, "GET", "/api/conflicts?all=maybe")).status).toBe(400);
  const shown = await call(human, "GET", `/api/conflicts/${c.id}`);
  expect(shown.status).toBe(200);
  expect(shown.json.conflict.ours).toContain("within 30 days");
  expect(shown.json.conflict.theirs).toContain("and log");
  expect((await call(human, "GET", "/api/conflicts/c-00000000")).status).toBe(404);

  const resolve = `/api/conflicts/${c.id}/resolve`;
  expect((await call(agent, "POST", resolve, { take: "theirs" })).status).toBe(403);
  expect((await call(human, "POST", resolve, { take: "mine" })).status).toBe(400);
  expect((await call(human, "POST", resolve, { text: "not a requirement" })).status).toBe(400);
  expect((await call(human, "POST", "/api/conflicts/c-00000000/resolve", { take: "ours" })).status).toBe(404);
  const merged = modifyPay1(
    "The system SHALL process and log at most one refund per refund key within 30 days.",
  )
    .split("\n")
    .slice(2)
    .join("\n");
  const resolved = await call(human, "POST", resolve, { text: merged });
  expect(resolved.status, resolved.text).toBe(200);
  expect(resolved.json).toMatchObject({ conflict: c.id, resolution: "file", removes: false });
  expect((await call(human, "POST", resolve, { take: "ours" })).status).toBe(409);
  const again = await call(human, "POST", `/api/changes/${second}/apply`, {});
  expect(again.status, again.text).toBe(200);
  expect(readFileSync(join(ctx.root, SPEC), "utf8")).toContain(
    "process and log at most one refund per refund key within 30 days",
  );
}
