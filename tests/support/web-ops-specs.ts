// The specs view's REST operations (src/server/operations-specs.ts), each called with its success and its main
// refusals on a spec of its own, so the other areas' requirements are left as they found them.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { expect } from "vitest";
import type { WebOpsContext } from "./web-ops.js";

const FILE = "keel/specs/web-specs/spec.md";
const SPEC = `# Web Specs Specification

## Purpose
A spec the specs view's operations are exercised on.

## Requirements

### Requirement: Exports are signed {#WS-1}
> status: approved · origin: human · explicit
The system SHALL sign every export with the workspace key.

#### Scenario: A signed export
- **WHEN** an export is downloaded
- **THEN** it carries a signature

### Requirement: Exports are listed {#WS-2}
The system SHALL list the exports of the last 30 days.
`;

export async function exerciseSpecsOperations(ctx: WebOpsContext): Promise<void> {
  const { call, human, agent } = ctx;
  const path = join(ctx.root, FILE);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, SPEC);

  // A spec's requirements, a page at a time: delivered by default, raw with the scanner's flags for a person.
  const all = await call(human, "GET", "/api/specs/web-specs/requirements");
  expect(all.status, all.text).toBe(200);
  expect(all.json).toMatchObject({ capability: "web-specs", total: 2, offset: 0 });
  expect(all.json.requirements.map((r: { id: string }) => r.id)).toEqual(["WS-1", "WS-2"]);
  const raw = await call(human, "GET", "/api/specs/web-specs/requirements?raw=true&offset=1&limit=1");
  expect(raw.json.requirements).toMatchObject([{ id: "WS-2", security: { trust: "trusted" } }]);
  expect((await call(human, "GET", "/api/specs/web-specs/requirements?limit=0")).status).toBe(400);
  expect((await call(human, "GET", "/api/specs/nowhere/requirements")).status).toBe(404);

  // Who wrote each requirement, and one requirement's versions.
  const blame = await call(human, "GET", "/api/specs/web-specs/blame");
  expect(blame.status, blame.text).toBe(200);
  expect(blame.json.requirements.map((r: { id: string }) => r.id)).toEqual(["WS-1", "WS-2"]);
  expect((await call(human, "GET", "/api/specs/nowhere/blame")).status).toBe(404);
  const history = await call(human, "GET", "/api/requirements/WS-1/history");
  expect(history.status, history.text).toBe(200);
  expect(history.json).toMatchObject({ id: "WS-1", capability: "web-specs", current: true });
  expect(history.json.versions.length).toBeGreaterThan(0);
  expect((await call(human, "GET", "/api/requirements/NOPE-9/history")).status).toBe(404);

  // The edit in place, against the fingerprint it was read at.
  const base = all.json.requirements[0].fingerprint as string;
  const text = "The system SHALL sign every export with the workspace's current key.";
  const edited = await call(human, "POST", "/api/requirements/WS-1/edit", { base, text });
  expect(edited.status, edited.text).toBe(200);
  expect(edited.json).toMatchObject({ ok: true, id: "WS-1", before: base, changed: true, by: "human:alice" });
  const written = readFileSync(path, "utf8");
  expect(written).toContain(text);
  expect(written.slice(written.indexOf("### Requirement: Exports are listed"))).toBe(
    SPEC.slice(SPEC.indexOf("### Requirement: Exports are listed")),
  );
  const again = await call(human, "POST", "/api/requirements/WS-1/edit", { base: edited.json.after, text });
  expect(again.json).toMatchObject({ changed: false, after: edited.json.after });
  // Refusals write nothing: a stale base (409), an agent (policy, 403), a text that is not one (400), no such ID.
  const stale = await call(human, "POST", "/api/requirements/WS-1/edit", { base, text: "Older text." });
  expect(stale.status).toBe(409);
  expect(stale.json.error.code).toBe("stale-base");
  const byAgent = await call(agent, "POST", "/api/requirements/WS-1/edit", {
    base: edited.json.after,
    text: "x",
  });
  expect(byAgent.status).toBe(403);
  const heading = await call(human, "POST", "/api/requirements/WS-1/edit", {
    base: edited.json.after,
    text: "One line.\n\n### Requirement: Smuggled {#WS-9}\nMore.",
  });
  expect(heading.status).toBe(400);
  expect((await call(human, "POST", "/api/requirements/NOPE-9/edit", { base, text })).status).toBe(404);
  expect(readFileSync(path, "utf8")).toBe(written);
}
