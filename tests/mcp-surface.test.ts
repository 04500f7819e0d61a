// The rest of the MCP surface over stdio, driven by the official SDK client on `node dist/keel.mjs mcp`:
// proposing a change (checked before anything is written), recording a finding, the phase prompts, and
// resource subscriptions that notify when a file changes on disk or a task's claim changes.
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  type CallToolResult,
  type LoggingMessageNotification,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, cliEnv, jsonOut, keel, keelAsync } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS as TASKS } from "./support/fixtures.js";

const project = tempProjects("keel-mcp-surface-");

const PROPOSAL = `## Why
Refunds above a daily limit need a second look, because large refunds are where fraud happens.

## What Changes
- Add a daily refund limit (PAY-3).
- Refunds now name their refund key in the receipt.
`;

const DELTA = `## ADDED Requirements

### Requirement: Daily refund limit {#PAY-3}
The system SHALL refuse refunds above the daily limit of the account.

#### Scenario: Over the limit
- **WHEN** a refund would exceed the daily limit
- **THEN** it is refused

## MODIFIED Requirements

### Requirement: Refunds are idempotent {#PAY-1}
The system SHALL process at most one refund per refund key, and name the key in the receipt.

#### Scenario: Duplicate refund
- **WHEN** a second request with the same key arrives
- **THEN** the original result is returned
`;

/** A requirement without a scenario: an error of the change rules, on line 3 of the delta. */
const BAD_DELTA = `## ADDED Requirements

### Requirement: Refund reasons {#PAY-4}
The system SHALL record why a refund was made.
`;

let root: string;
let client: Client;
const updates: string[] = [];
const waiters: Array<{ uri: string; done: () => void }> = [];

/** Resolves on the next resources/updated notification for `uri` (or at once if one came since `from`). */
function updated(uri: string, from: number): Promise<void> {
  if (updates.slice(from).includes(uri)) return Promise.resolve();
  return new Promise((done) => waiters.push({ uri, done }));
}

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

// biome-ignore lint/suspicious/noExplicitAny: structured content is checked field by field
function data(r: CallToolResult): any {
  expect(r.isError ?? false, text(r)).toBe(false);
  return r.structuredContent;
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": "version: 1\n",
    "keel/constitution.md":
      "# Constitution\n\n## Principles\n\n### Principle: Tests first {#P-1}\nTest it.\n",
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  });
  client = new Client({ name: "keel-surface-test", version: "1.0.0" });
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
    updates.push(n.params.uri);
    for (const w of [...waiters])
      if (w.uri === n.params.uri) {
        waiters.splice(waiters.indexOf(w), 1);
        w.done();
      }
  });
  await client.connect(stdio(root));
});

/** `keel mcp` in `cwd`, as agent:codex-7, for the SDK client. */
function stdio(cwd: string): StdioClientTransport {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(cliEnv())) if (v !== undefined) env[k] = v;
  return new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "--as", "agent:codex-7"],
    cwd,
    env,
  });
}

afterAll(async () => {
  await client?.close();
});

// @verifies SRF-7
describe("keel mcp: propose a change", () => {
  it("writes the proposal and delta it was given, records the base, and audits change.new", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain("keel_propose_change");
    expect(tools.length).toBeLessThanOrEqual(10);

    const r = data(
      await call("keel_propose_change", {
        name: "add-refund-limits",
        why: "Large refunds need a limit.",
        proposal: PROPOSAL,
        deltas: [{ capability: "payments", markdown: DELTA }],
      }),
    );
    const dir = "keel/changes/add-refund-limits";
    expect(r).toMatchObject({ change: "add-refund-limits", dir, base: { payments: ["PAY-1"] } });
    expect([...r.files].sort()).toEqual(
      [`${dir}/change.yaml`, `${dir}/proposal.md`, `${dir}/specs/payments/spec.md`, `${dir}/tasks.md`].sort(),
    );
    expect(readFileSync(join(root, dir, "proposal.md"), "utf8")).toBe(PROPOSAL);
    expect(readFileSync(join(root, dir, "specs/payments/spec.md"), "utf8")).toBe(DELTA);
    expect(readFileSync(join(root, dir, "change.yaml"), "utf8")).toContain("author: agent:codex-7");

    const log = jsonOut(keel(root, "--json", "audit", "log", "--action", "change.new"));
    const events = JSON.stringify(log);
    expect(events).toContain("add-refund-limits");
    expect(events).toContain("agent:codex-7");
  });

  it("refuses a delta that does not validate, naming file and line, and writes nothing", async () => {
    const r = await call("keel_propose_change", {
      name: "add-refund-reasons",
      proposal: PROPOSAL,
      deltas: [{ capability: "payments", markdown: BAD_DELTA }],
    });
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("invalid-change-content");
    expect(text(r)).toContain("keel/changes/add-refund-reasons/specs/payments/spec.md:3:");
    expect(text(r)).toMatch(/scenario/i);
    expect(existsSync(join(root, "keel/changes/add-refund-reasons"))).toBe(false);

    const noWhy = await call("keel_propose_change", { name: "no-why", proposal: "## What Changes\n- x\n" });
    expect(noWhy.isError).toBe(true);
    expect(text(noWhy)).toContain("keel/changes/no-why/proposal.md:");
    expect(existsSync(join(root, "keel/changes/no-why"))).toBe(false);
  });
});

// @verifies SRF-7
describe("keel mcp: record a finding", () => {
  it("records a finding that shows in the task's context pack and in the audit log", async () => {
    const f = data(
      await call("keel_note", {
        task: "payments/1.1",
        kind: "finding",
        severity: "error",
        requirement: "PAY-1",
        text: "refund keys are not unique per account",
      }),
    );
    expect(f).toMatchObject({
      task: "payments/1.1",
      kind: "finding",
      severity: "error",
      requirement: "PAY-1",
      author: "agent:codex-7",
    });
    const pack = data(await call("keel_context", { task: "payments/1.1" }));
    expect(pack.text).toContain("## Findings");
    expect(pack.text).toContain("error (PAY-1)");
    expect(pack.text).toContain("refund keys are not unique per account");
    expect(pack.sections.map((s: { kind: string }) => s.kind)).toContain("findings");

    const log = JSON.stringify(jsonOut(keel(root, "--json", "audit", "log", "--action", "task.finding")));
    expect(log).toContain("refund keys are not unique per account");

    const unknown = await call("keel_note", {
      task: "payments/1.1",
      kind: "finding",
      severity: "info",
      requirement: "PAY-99",
      text: "x",
    });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain("unknown requirement: PAY-99");
    const noSeverity = await call("keel_note", { task: "payments/1.1", kind: "finding", text: "x" });
    expect(noSeverity.isError).toBe(true);
    expect(text(noSeverity)).toContain("needs a severity");
  });
});

// @verifies SRF-8
describe("keel mcp: prompts", () => {
  it("lists one prompt per phase, with the text keel agents writes as slash commands", async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name).sort()).toEqual([
      "analyze",
      "checklist",
      "clarify",
      "constitution",
      "implement",
      "plan",
      "review",
      "specify",
      "tasks",
    ]);
    const other = project({ "keel/keel.yaml": "version: 1\n" });
    expect(keel(other, "agents", "add", "cursor").code).toBe(0);
    const command = (phase: string) => {
      const file = readFileSync(join(other, `.cursor/commands/keel-${phase}.md`), "utf8");
      return file.slice(file.indexOf("-->\n\n") + 5).trimEnd();
    };
    const plan = await client.getPrompt({ name: "plan", arguments: { change: "add-refund-limits" } });
    const planText = plan.messages[0]?.content.type === "text" ? plan.messages[0].content.text : "";
    expect(planText).toBe(command("plan").replace("$ARGUMENTS", "add-refund-limits"));

    const impl = await client.getPrompt({ name: "implement", arguments: { task: "payments/1.2" } });
    const implText = impl.messages[0]?.content.type === "text" ? impl.messages[0].content.text : "";
    expect(implText).toContain("payments/1.2");
    expect(implText).toContain("keel verify --task");
  });
});

// @verifies SRF-9
describe("keel mcp: resource subscriptions", () => {
  it("lists resources, and notifies a subscriber when a spec file or a task's claim changes", async () => {
    const caps = await client.getServerCapabilities();
    expect(caps?.resources?.subscribe).toBe(true);
    const { resources } = await client.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toEqual(
      expect.arrayContaining([
        "keel://constitution",
        "keel://spec/payments",
        "keel://requirement/PAY-1",
        "keel://task/payments/1.1",
      ]),
    );

    await client.subscribeResource({ uri: "keel://spec/payments" });
    await client.subscribeResource({ uri: "keel://requirement/PAY-2" });
    await client.subscribeResource({ uri: "keel://task/payments/1.2" });
    const from = updates.length;
    const spec = updated("keel://spec/payments", from);
    const req = updated("keel://requirement/PAY-2", from);
    writeFileSync(
      join(root, "keel/specs/payments/spec.md"),
      PAYMENTS_SPEC.replace("Taking payments.", "Taking money."),
    );
    await Promise.all([spec, req]);

    const task = updated("keel://task/payments/1.2", updates.length);
    const run = await keelAsync(root, ["tasks", "claim", "payments/1.2", "--as", "agent:other"]);
    expect(run.code, run.stderr).toBe(0);
    await task;

    await client.unsubscribeResource({ uri: "keel://spec/payments" });
    const bad = client.subscribeResource({ uri: "keel://nothing/here" });
    await expect(bad).rejects.toThrow(/not a Keel resource URI/);
  });
});

// @verifies SRF-17
describe("keel mcp: live events as log messages", () => {
  it("sends nothing until a level is set, then each event at or above it, an expired lease at warning", async () => {
    const dir = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
      "keel/specs/payments/tasks.md": TASKS,
    });
    const logs: LoggingMessageNotification["params"][] = [];
    const waiters: Array<() => void> = [];
    const logger = new Client({ name: "keel-logging-test", version: "1.0.0" });
    logger.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      logs.push(n.params);
      for (const w of waiters.splice(0)) w();
    });
    // biome-ignore lint/suspicious/noExplicitAny: the event rides in the message's free-form data
    const logged = async (pred: (data: any) => boolean) => {
      while (!logs.some((l) => pred(l.data))) await new Promise<void>((done) => waiters.push(done));
    };
    await logger.connect(stdio(dir));
    try {
      expect((await logger.getServerCapabilities())?.logging).toEqual({});
      // Before a level is set nothing is sent: this claim would be an info message.
      expect((await keelAsync(dir, ["tasks", "claim", "payments/1.1", "--as", "agent:early"])).code).toBe(0);
      await logger.setLoggingLevel("warning");
      const slow = await keelAsync(dir, [
        "tasks",
        "claim",
        "payments/1.2",
        "--as",
        "agent:slow",
        "--ttl",
        "1ms",
      ]);
      expect(slow.code, slow.stderr).toBe(0);
      // The 1 ms lease has expired by the time the next process starts: a warning, while both claims are info.
      expect((await keelAsync(dir, ["tasks", "claim", "payments/1.2", "--as", "agent:fast"])).code).toBe(0);
      await logged((d) => d.type === "task.expired");
      await logger.setLoggingLevel("info");
      writeFileSync(
        join(dir, "keel/specs/payments/spec.md"),
        PAYMENTS_SPEC.replace("Taking payments.", "Paying."),
      );
      await logged((d) => d.type === "spec.edited");
      expect(logs.map((l) => [l.level, l.logger, (l.data as { type: string }).type])).toEqual([
        ["warning", "keel", "task.expired"],
        ["info", "keel", "spec.edited"],
      ]);
      expect(logs[0]?.data).toMatchObject({
        message: "payments/1.2: the lease of agent:slow expired; agent:fast claimed it",
        data: { action: "task.claim", target: "payments/1.2", actor: "agent:fast" },
      });
      expect(logs[1]?.data).toMatchObject({ message: "keel/specs/payments/spec.md edited" });
    } finally {
      await logger.close();
    }
  });
});

describe("keel mcp: completions", () => {
  it("completes capability names, requirement IDs and task keys from what was typed", async () => {
    const values = async (uri: string, name: string, value: string) =>
      (await client.complete({ ref: { type: "ref/resource", uri }, argument: { name, value } })).completion
        .values;
    expect(await values("keel://spec/{capability}", "capability", "Pay")).toEqual(["payments"]);
    expect(await values("keel://requirement/{+id}", "id", "pay-")).toEqual(["PAY-1", "PAY-2"]);
    expect(await values("keel://requirement/{+id}", "id", "NOPE")).toEqual([]);
    expect(await values("keel://task/{+key}", "key", "payments/1")).toEqual(["payments/1.1", "payments/1.2"]);
  });

  it("completes prompt arguments: open changes and task keys", async () => {
    const values = async (prompt: string, name: string, value: string) =>
      (await client.complete({ ref: { type: "ref/prompt", name: prompt }, argument: { name, value } }))
        .completion.values;
    // add-refund-limits was proposed above; the refused proposals left no folder.
    expect(await values("plan", "change", "add-")).toEqual(["add-refund-limits"]);
    expect(await values("review", "change", "")).toEqual(["add-refund-limits"]);
    expect(await values("implement", "task", "PAYMENTS/")).toEqual(["payments/1.1", "payments/1.2"]);
    expect(await values("clarify", "change", "zzz")).toEqual([]);
  });
});

describe("keel mcp: malformed input on stdio", () => {
  it("survives lines that are not JSON-RPC and answers the next request", async () => {
    const child = spawn(process.execPath, [CLI, "mcp"], { cwd: root, env: cliEnv() });
    try {
      const lines = createInterface({ input: child.stdout });
      const replies: Array<{ id?: number; result?: { serverInfo?: { name: string } }; error?: unknown }> = [];
      const initialized = new Promise<void>((resolve) =>
        lines.on("line", (line) => {
          replies.push(JSON.parse(line));
          if (replies.at(-1)?.id === 2) resolve();
        }),
      );
      child.stdin.write('{"jsonrpc": "2.0", "method": \n');
      child.stdin.write("not json at all\n");
      child.stdin.write('{"jsonrpc": "2.0", "id": 1, "method": "no/such/method"}\n');
      child.stdin.write(
        `${JSON.stringify({
          jsonrpc: "2.0",
          id: 2,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "raw", version: "1" },
          },
        })}\n`,
      );
      await initialized;
      const unknown = replies.find((r) => r.id === 1);
      expect(unknown?.error).toMatchObject({ code: -32601 });
      expect(replies.find((r) => r.id === 2)?.result?.serverInfo?.name).toBe("keel");
      expect(child.exitCode).toBeNull();
    } finally {
      child.kill("SIGTERM");
    }
  });
});
