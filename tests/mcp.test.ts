// `keel mcp`: the official MCP SDK client spawns `node dist/keel.mjs mcp` on a real project (specs, a
// constitution, tasks, gates, git) and drives every tool, with effects checked on disk and through other tools.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Claims } from "../src/store/sqlite/claims.js";
import { StateDb } from "../src/store/state-db.js";
import { CLI, cliEnv, keelWith } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { CORE_TOOLS, PAYMENTS_SPEC, PAYMENTS_TASKS_VERIFIED as TASKS } from "./support/fixtures.js";
import { commitAll, gitInit } from "./support/git.js";

const project = tempProjects("keel-mcp-");

const CONSTITUTION = `# Constitution

## Principles

### Principle: Tests first {#P-1}
Every change comes with a test.
Gate: \`echo unit tests pass\`
`;

let root: string;
let client: Client;
/** The fencing token of payments/1.1, claimed through the server. */
let held11 = 0;

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(cliEnv())) if (v !== undefined) out[k] = v;
  return out;
}

async function connect(cwd: string, ...flags: string[]): Promise<Client> {
  const c = new Client({ name: "keel-test", version: "1.0.0" });
  await c.connect(
    new StdioClientTransport({ command: process.execPath, args: [CLI, "mcp", ...flags], cwd, env: env() }),
  );
  return c;
}

async function call(name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

// biome-ignore lint/suspicious/noExplicitAny: structured content is checked field by field
function data(r: CallToolResult): any {
  expect(r.isError ?? false, text(r)).toBe(false);
  return r.structuredContent;
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

function readyKeys(r: CallToolResult): string[] {
  return data(r).tasks.map((t: { key: string }) => t.key);
}

beforeAll(async () => {
  root = project({
    ".gitignore": ".keel/\n",
    "keel/keel.yaml": "version: 1\ngates:\n  unit: echo unit tests pass\n",
    "keel/constitution.md": CONSTITUTION,
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
    "src/refunds.ts": "// @req PAY-1\nexport const refund = 1;\n",
  });
  gitInit(root);
  commitAll(root, "initial");
  client = await connect(root, "--as", "agent:codex-7");
});

afterAll(async () => {
  await client?.close();
});

// @verifies SRF-1, SRF-2, SRF-3, TSK-6, TSK-8, TSK-12
describe("keel mcp: tools", () => {
  it("lists a small core set of tools, each with an input and an output schema", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(CORE_TOOLS);
    expect(tools.length).toBeLessThanOrEqual(10);
    for (const t of tools) {
      expect(t.outputSchema?.type, t.name).toBe("object");
      expect(t.inputSchema.type, t.name).toBe("object");
      expect(t.description?.length ?? 0, t.name).toBeGreaterThan(10);
      expect(t.description?.length ?? 0, t.name).toBeLessThanOrEqual(120);
    }
  });

  it("searches specs and shows a requirement with its trace", async () => {
    const found = data(await call("keel_search", { query: "refund key" }));
    expect(found.results[0]).toMatchObject({ kind: "requirement", id: "PAY-1", capability: "payments" });
    const req = data(await call("keel_requirement", { id: "PAY-1" }));
    expect(req.text).toContain("at most one refund per refund key");
    expect(req.scenarios[0].steps[0]).toBe("WHEN a second request with the same key arrives");
    expect(req.trace.tasks.map((t: { key: string }) => t.key)).toEqual(["payments/1.1"]);
    expect(req.trace.implementations).toEqual([
      expect.objectContaining({ file: "src/refunds.ts", line: 1, kind: "implements" }),
    ]);
    const unknown = await call("keel_requirement", { id: "PAY-11" });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("error [usage]: unknown requirement: PAY-11");
    expect(text(unknown)).toContain("did you mean PAY-1");
  });

  it("claims a task, which leaves the ready queue; a second claimant is refused with the error code", async () => {
    expect(readyKeys(await call("keel_ready_tasks"))).toEqual(["payments/1.1", "payments/1.2"]);
    const grant = data(await call("keel_claim_task", { task: "1.1" }));
    expect(grant).toMatchObject({ claimed: true, task: "payments/1.1", holder: "agent:codex-7" });
    held11 = grant.token;
    expect(readyKeys(await call("keel_ready_tasks"))).toEqual(["payments/1.2"]);
    // The CLI sees the same claim.
    const shown = JSON.parse(keelWith({}, root, "tasks", "ready", "--json").stdout);
    expect(shown.ready.map((t: { key: string }) => t.key)).toEqual(["payments/1.2"]);

    const second = await call("keel_claim_task", { task: "payments/1.1", as: "agent:other" });
    expect(second.isError).toBe(true);
    expect(text(second)).toMatch(/^error \[claim-held\]: /);

    const hb = data(await call("keel_heartbeat", { task: "payments/1.1", token: grant.token, ttl: "2h" }));
    expect(hb.token).toBe(grant.token);
    expect(Date.parse(hb.leaseUntil)).toBeGreaterThan(Date.parse(grant.leaseUntil));
    const stale = await call("keel_heartbeat", { task: "payments/1.1", token: grant.token + 100 });
    expect(stale.isError).toBe(true);
    expect(text(stale)).toContain("[claim-stale-token]");
  });

  it("claims the next ready task, and says so when none is left", async () => {
    const next = data(await call("keel_claim_task", { next: true, as: "agent:second" }));
    expect(next).toMatchObject({ claimed: true, task: "payments/1.2", holder: "agent:second" });
    expect(data(await call("keel_claim_task", { next: true }))).toEqual({
      claimed: false,
      task: null,
      holder: null,
      token: null,
      leaseUntil: null,
    });
    const both = await call("keel_claim_task", { task: "1.1", next: true });
    expect(both.isError).toBe(true);
    expect(text(both)).toContain("[usage]");
  });

  it("leaves a note that the task's context pack then carries", async () => {
    const note = data(await call("keel_note", { task: "payments/1.1", text: "refund keys live in Redis" }));
    expect(note).toEqual({
      task: "payments/1.1",
      author: "agent:codex-7",
      text: "refund keys live in Redis",
    });
    const r = await call("keel_context", { task: "payments/1.1", budget: 4000 });
    const pack = data(r);
    expect(pack.task).toBe("payments/1.1");
    expect(pack.text).toContain("refund keys live in Redis");
    expect(pack.text).toContain("at most one refund per refund key");
    expect(pack.sections.map((s: { kind: string }) => s.kind)).toContain("notes");
    expect(text(r)).toBe(pack.text);
  });

  it("refuses completion while a gate fails, naming the gate and `keel verify --task`, then completes", async () => {
    const token = held11;
    const before = readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8");

    const refused = await call("keel_complete_task", { task: "payments/1.1", token });
    expect(refused.isError).toBe(true);
    expect(text(refused)).toContain("error [gates-not-passing]: task payments/1.1 is not done");
    expect(text(refused)).toContain("task:payments/1.1: no evidence on this tree");
    expect(text(refused)).toContain("unit: no evidence on this tree");
    expect(text(refused)).toContain("keel verify --task payments/1.1");
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toBe(before);

    writeFileSync(join(root, "refunds.ok"), "");
    expect(keelWith({}, root, "verify", "--task", "payments/1.1").code).toBe(0);
    const doneResult = data(await call("keel_complete_task", { task: "1.1", token }));
    expect(doneResult.status).toBe("done");
    expect(
      doneResult.gates.map((g: { name: string; state: string }) => `${g.name}=${g.state}`).sort(),
    ).toEqual(["task:payments/1.1=passed", "unit=passed"]);
    expect(readFileSync(join(root, "keel/specs/payments/tasks.md"), "utf8")).toContain(
      "- [x] 1.1 Make refunds idempotent",
    );
  });
});

describe("keel mcp: bad input", () => {
  it("answers an unknown tool and arguments that fail the schema with errors, and changes nothing", async () => {
    const tasksFile = join(root, "keel/specs/payments/tasks.md");
    const before = readFileSync(tasksFile, "utf8");
    const readyBefore = data(await call("keel_ready_tasks"));
    // 1.2 is held by another agent: its claim, token and notes must not move.
    const taskState = () => {
      const db = StateDb.open(root);
      try {
        const claims = new Claims(db, root);
        return { claim: claims.get("payments/1.2", new Date()), notes: claims.notes("payments/1.2") };
      } finally {
        db.close();
      }
    };
    const taskBefore = taskState();
    expect(taskBefore.claim).toMatchObject({ holder: "agent:second", status: "claimed" });

    // The SDK (1.32) reports both as tool results with isError (the 2025-11-25 specification's choice for
    // input validation), not as JSON-RPC errors.
    const unknown = await call("keel_delete_everything", {});
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("Tool keel_delete_everything not found");

    const badToken = await call("keel_complete_task", { task: "payments/1.2", token: "abc" });
    expect(badToken.isError).toBe(true);
    expect(text(badToken)).toContain("Input validation error");
    expect(text(badToken)).toContain("token");

    const missing = await call("keel_note", { task: "payments/1.2" });
    expect(missing.isError).toBe(true);
    expect(text(missing)).toContain("Input validation error");

    const badTtl = await call("keel_claim_task", { task: "payments/1.2", ttl: "forever" });
    expect(badTtl.isError).toBe(true);
    expect(text(badTtl)).toContain("Input validation error");

    expect(readFileSync(tasksFile, "utf8")).toBe(before);
    expect(data(await call("keel_ready_tasks"))).toEqual(readyBefore);
    expect(taskState()).toEqual(taskBefore);
  });

  it("refuses a bad --as before serving", () => {
    const r = keelWith({}, root, "mcp", "--as", "robot:x");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown actor kind "robot"');
  });
});

describe("keel mcp: resources", () => {
  it("reads the constitution, a spec, a requirement and a task by URI", async () => {
    const constitution = await client.readResource({ uri: "keel://constitution" });
    expect(constitution.contents[0]).toMatchObject({ mimeType: "text/markdown", text: CONSTITUTION });
    const spec = await client.readResource({ uri: "keel://spec/payments" });
    expect(spec.contents[0]).toMatchObject({ text: PAYMENTS_SPEC });
    const req = await client.readResource({ uri: "keel://requirement/PAY-2" });
    expect(JSON.parse((req.contents[0] as { text: string }).text)).toMatchObject({
      id: "PAY-2",
      title: "Receipts",
    });
    const task = await client.readResource({ uri: "keel://task/payments/1.1" });
    expect(JSON.parse((task.contents[0] as { text: string }).text)).toMatchObject({
      key: "payments/1.1",
      status: "done",
    });
  });

  it("looks IDs up instead of joining them into paths: traversal is an unknown resource", async () => {
    for (const uri of [
      "keel://spec/..%2F..%2F..%2Fetc%2Fpasswd",
      "keel://spec/..",
      "keel://task/../../../etc/passwd",
      "keel://requirement/../../keel.yaml",
    ]) {
      await expect(client.readResource({ uri }), uri).rejects.toThrow(/not found/i);
    }
    await expect(client.readResource({ uri: "keel://nothing" })).rejects.toThrow(/not found/);
  });

  it("reports a project without a constitution as an unknown resource", async () => {
    const bare = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/a/spec.md": "# A\n\n## Purpose\nA.\n",
    });
    const c = await connect(bare);
    try {
      await expect(c.readResource({ uri: "keel://constitution" })).rejects.toThrow(/no constitution/);
      expect(existsSync(join(bare, "keel/constitution.md"))).toBe(false);
    } finally {
      await c.close();
    }
  });
});

describe("keel mcp: start-up cost", () => {
  it("keeps the SDK out of what `keel --version` loads", () => {
    const seen = new Set<string>();
    const queue = [CLI];
    while (queue.length > 0) {
      const file = queue.pop() as string;
      if (seen.has(file)) continue;
      seen.add(file);
      for (const m of readFileSync(file, "utf8").matchAll(/from\s*"(\.{1,2}\/[^"]+)"/g))
        queue.push(join(file, "..", m[1] as string));
    }
    expect(seen.size).toBeGreaterThan(1);
    for (const file of seen)
      expect(readFileSync(file, "utf8"), file).not.toMatch(/McpServer|modelcontextprotocol/);
  });
});
