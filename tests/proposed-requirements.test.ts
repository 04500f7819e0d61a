// Requirements that open changes propose: `keel show` and `keel trace` find them, marked with the change, its
// approval and the kind of delta, until the change is applied; a living requirement that an open change would
// change lists that change. Real temporary projects, the real CLI bundle, and the real MCP client SDK.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, describe, expect, it } from "vitest";
import { CLI, cleanup, env, json, keel, project, read, write } from "./changes-support.js";
import { httpRequest, startServe } from "./support/serve.js";

afterAll(cleanup);

const DELTA = "keel/changes/add-refunds/specs/payments/spec.md";
const LIVING = "keel/specs/payments/spec.md";
const ADD_PAY_9 = `## ADDED Requirements

### Requirement: Partial refunds {#PAY-9}
The system SHALL refund part of a charge when asked to.

#### Scenario: Half a refund
- **WHEN** a refund of half the charge is asked for
- **THEN** half the charge is refunded
`;

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON answers, navigated freely by the assertions
type Loose = Record<string, any>;

/** A project whose open change add-refunds (written by alice) adds PAY-9, which src/partial.ts implements. */
function proposing(): string {
  const root = project({ "src/partial.ts": "// @req PAY-9\nexport const partial = 1;\n" });
  const r = keel(root, ["change", "new", "add-refunds", "--as", "human:alice"]);
  expect(r.code, r.stderr).toBe(0);
  write(root, DELTA, ADD_PAY_9);
  return root;
}

function ok(root: string, args: string[]): string {
  const r = keel(root, args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

const shown = (root: string, id: string): Loose => json<Loose>(keel(root, ["show", id, "--json"])).item;
/** `keel trace <id> --json`: its one requirement. */
function traced(root: string, id: string): Loose {
  const { requirements } = json<{ requirements: Loose[] }>(keel(root, ["trace", id, "--json"]));
  expect(requirements.map((r) => r.id)).toEqual([id]);
  return requirements[0] as Loose;
}

// @verifies TRC-12
describe("a requirement an open change adds", () => {
  it("is shown and traced, marked proposed by the change, with the link that names it", () => {
    const root = proposing();
    const text = ok(root, ["show", "PAY-9"]);
    expect(text).toContain("PAY-9  Partial refunds");
    expect(text).toContain("proposed by change add-refunds (not yet approved) · added");
    expect(text).toContain(`${DELTA}:3:1`);
    expect(text).toContain("The system SHALL refund part of a charge when asked to.");

    const item = shown(root, "PAY-9");
    expect(item.proposed).toEqual({ change: "add-refunds", status: "draft", delta: "added" });
    expect(item).toMatchObject({ id: "PAY-9", file: DELTA, line: 3, capability: "payments" });
    expect(item.scenarios.map((s: Loose) => s.name)).toEqual(["Half a refund"]);
    expect(item.openChanges).toBeUndefined();

    const lines = ok(root, ["trace", "PAY-9"]).split("\n");
    expect(lines[0]).toContain(`${DELTA}:3`);
    expect(lines[1]).toBe("  proposed by change add-refunds (not yet approved) · added");
    expect(lines.find((l) => l.includes("src/partial.ts:1:"))).toMatch(/^ {2}code +ok /);

    const t = traced(root, "PAY-9");
    expect(t.proposed).toEqual({ change: "add-refunds", status: "draft", delta: "added" });
    expect(t.implementations.map((l: Loose) => [l.file, l.state])).toEqual([["src/partial.ts", "ok"]]);
  });

  it("is not a dangling link for validation or drift", () => {
    const root = proposing();
    const validate = json<Loose>(keel(root, ["validate", "--json"]));
    expect(JSON.stringify(validate)).not.toContain("PAY-9");
    const drift = json<{ findings: Loose[] }>(keel(root, ["drift", "--json"]));
    expect(drift.findings.filter((f) => f.rule === "drift/dangling-link")).toEqual([]);
  });

  it("says approved once the change is, and is current without the mark once it is applied", () => {
    const root = proposing();
    ok(root, ["change", "approve", "add-refunds", "--as", "human:bob"]);
    expect(ok(root, ["show", "PAY-9"])).toContain("proposed by change add-refunds (approved) · added");
    expect(traced(root, "PAY-9").proposed).toEqual({
      change: "add-refunds",
      status: "approved",
      delta: "added",
    });

    ok(root, ["change", "apply", "add-refunds", "--as", "human:bob"]);
    const item = shown(root, "PAY-9");
    expect(item.file).toBe(LIVING);
    expect(item.proposed).toBeUndefined();
    expect(item.openChanges).toBeUndefined();
    expect(ok(root, ["show", "PAY-9"])).not.toContain("proposed by");
    const t = traced(root, "PAY-9");
    expect(t.file).toBe(LIVING);
    expect(t.proposed).toBeUndefined();
    expect(t.implementations.map((l: Loose) => l.file)).toEqual(["src/partial.ts"]);
  });

  it("is not proposed by a rejected change", () => {
    const root = proposing();
    ok(root, ["change", "reject", "add-refunds", "--reason", "not now", "--as", "human:bob"]);
    expect(keel(root, ["show", "PAY-9"]).code).toBe(2);
    expect(keel(root, ["trace", "PAY-9"]).code).toBe(2);
  });
});

// @verifies TRC-13
describe("a living requirement an open change would change", () => {
  it("is shown as it is, with the open changes that modify or rename it", () => {
    const root = project();
    ok(root, ["change", "new", "tighten", "--modify", "PAY-4", "--as", "human:alice"]);
    const delta = "keel/changes/tighten/specs/payments/spec.md";
    write(
      root,
      delta,
      read(root, delta).replace("Refunds are logged.", "Refunds are logged with their key."),
    );
    ok(root, ["change", "new", "rename-charges", "--as", "human:alice"]);
    write(
      root,
      "keel/changes/rename-charges/specs/payments/spec.md",
      "## RENAMED Requirements\n- FROM: `### Requirement: Charges are authorised {#PAY-5}`\n- TO: `### Requirement: Charges are authorised first {#PAY-50}`\n",
    );

    const text = ok(root, ["show", "PAY-4"]);
    expect(text).toMatch(/open changes +tighten \(modified, not yet approved\)/);
    expect(text).toContain("Refunds are logged.");
    expect(text).not.toContain("with their key");
    const item = shown(root, "PAY-4");
    expect(item.file).toBe(LIVING);
    expect(item.proposed).toBeUndefined();
    expect(item.openChanges).toEqual([{ change: "tighten", status: "draft", delta: "modified" }]);
    expect(ok(root, ["trace", "PAY-4"])).toContain("open changes: tighten (modified, not yet approved)");
    expect(traced(root, "PAY-4").openChanges).toEqual([
      { change: "tighten", status: "draft", delta: "modified" },
    ]);

    expect(shown(root, "PAY-5").openChanges).toEqual([
      { change: "rename-charges", status: "draft", delta: "renamed" },
    ]);
    // The new name of a rename with no block under it: the living text, under the new title.
    const renamed = shown(root, "PAY-50");
    expect(renamed).toMatchObject({ id: "PAY-50", title: "Charges are authorised first" });
    expect(renamed.text).toBe("The system SHALL authorise each charge before capture.");
    expect(renamed.proposed).toEqual({ change: "rename-charges", status: "draft", delta: "renamed" });
    expect(traced(root, "PAY-50").proposed.delta).toBe("renamed");
  });
});

describe("an OpenSpec change", () => {
  it("proposes its added requirement under the derived ID", () => {
    const root = project({
      "openspec/specs/auth/spec.md":
        "# Auth\n\n## Purpose\nLogging in.\n\n## Requirements\n\n### Requirement: Password login\nThe system SHALL let a user log in with a password.\n\n#### Scenario: Good password\n- **WHEN** the password is right\n- **THEN** a session starts\n",
      "openspec/changes/add-2fa/proposal.md":
        "## Why\nPasswords alone are not enough.\n\n## What Changes\n- 2FA.\n",
      "openspec/changes/add-2fa/specs/auth/spec.md":
        "## ADDED Requirements\n\n### Requirement: Two-factor login\nThe system SHALL ask for a one-time code.\n\n#### Scenario: Code\n- **WHEN** the password is right\n- **THEN** a code is asked for\n",
    });
    const item = shown(root, "auth/two-factor-login");
    expect(item.proposed).toEqual({ change: "add-2fa", status: "draft", delta: "added" });
    expect(item.file).toBe("openspec/changes/add-2fa/specs/auth/spec.md");
    expect(traced(root, "auth/two-factor-login").proposed.change).toBe("add-2fa");
  });
});

describe("an unknown ID", () => {
  it("is refused as before", () => {
    const root = proposing();
    const show = keel(root, ["show", "PAY-99"]);
    expect(show.code).toBe(2);
    expect(show.stderr).toContain('error: no requirement, spec or change "PAY-99"');
    const trace = keel(root, ["trace", "PAY-99"]);
    expect(trace.code).toBe(2);
    expect(trace.stderr).toContain("error: no requirement PAY-99");
  });
});

describe("keel_requirement over MCP", () => {
  it("returns the proposed mark and the open changes, valid against its output schema", async () => {
    const root = proposing();
    ok(root, ["change", "new", "tighten", "--modify", "PAY-4", "--as", "human:alice"]);
    const vars: Record<string, string> = {};
    for (const [k, v] of Object.entries(env())) if (v !== undefined) vars[k] = v;
    const client = new Client({ name: "keel-test", version: "1.0.0" });
    await client.connect(
      new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp"], cwd: root, env: vars }),
    );
    try {
      // Listing the tools gives the client their output schemas, which it then checks every answer against.
      await client.listTools();
      const call = async (id: string) =>
        (await client.callTool({ name: "keel_requirement", arguments: { id } })) as CallToolResult;
      const proposed = await call("PAY-9");
      expect(proposed.isError ?? false).toBe(false);
      expect(proposed.structuredContent).toMatchObject({
        id: "PAY-9",
        file: DELTA,
        proposed: { change: "add-refunds", status: "draft", delta: "added" },
      });
      expect((proposed.structuredContent as Loose).trace.implementations).toEqual([
        { file: "src/partial.ts", line: 1, kind: "implements", state: "ok" },
      ]);
      const said = proposed.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
      expect(said).toContain("proposed by change add-refunds (not yet approved) · added");

      const living = (await call("PAY-4")).structuredContent as Loose;
      expect(living.proposed).toBeUndefined();
      expect(living.openChanges).toEqual([{ change: "tighten", status: "draft", delta: "modified" }]);
      expect((await call("PAY-99")).isError).toBe(true);

      const resource = await client.readResource({ uri: "keel://requirement/PAY-9" });
      const [content] = resource.contents;
      expect(JSON.parse((content as { text: string }).text).proposed).toEqual({
        change: "add-refunds",
        status: "draft",
        delta: "added",
      });
    } finally {
      await client.close();
    }
  });
});

describe("GET /api/requirements/{id}", () => {
  it("answers a proposed requirement with the mark on the item and on its trace", async () => {
    const root = proposing();
    const served = await startServe(root);
    try {
      const r = await httpRequest(served.port, "GET", "/api/requirements/PAY-9");
      expect(r.status, r.text).toBe(200);
      const mark = { change: "add-refunds", status: "draft", delta: "added" };
      expect(r.json.item.proposed).toEqual(mark);
      expect(r.json.trace.requirements.map((t: Loose) => [t.id, t.proposed])).toEqual([["PAY-9", mark]]);
      expect((await httpRequest(served.port, "GET", "/api/requirements/PAY-99")).status).toBe(404);
    } finally {
      await served.stop();
    }
  });
});
