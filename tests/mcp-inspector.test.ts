// The MCP Inspector CLI (`@modelcontextprotocol/inspector --cli`, from tools/mcp-clients), an MCP client Keel
// does not ship, run on Node 22 against `keel mcp` over stdio (the Inspector spawns `node dist/keel.mjs mcp` in
// a temp project) and against `keel serve` over Streamable HTTP at /mcp: it lists the tools, calls them and
// sees their structured content, reads resources, and gets clear errors for an unknown tool, bad arguments
// and a traversal URI, with nothing changed on disk or in the claim state.
// @verifies SRF-1, SRF-2, SRF-3
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, jsonOut, keelWith, type Run } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { CORE_TOOLS, PAYMENTS_SPEC, PAYMENTS_TASKS as TASKS } from "./support/fixtures.js";
import { binOf, HAS_NODE22, NODE22, node22 } from "./support/node22.js";
import { type Served, startServe } from "./support/serve.js";

if (!HAS_NODE22)
  console.warn(
    `mcp-inspector.test.ts: skipped, no Node 22 at ${NODE22} (run npm install --prefix tools/mcp-clients)`,
  );

const project = tempProjects("keel-inspector-");

const CONSTITUTION = `# Constitution

## Principles

### Principle: Tests first {#P-1}
Every change comes with a test.
`;

const ACTOR = "agent:inspector";

interface Target {
  name: string;
  /** What follows the Inspector's own options: the server command, or the /mcp URL. */
  target: () => string[];
  /** Inspector options for this transport. */
  options: (root: string) => string[];
  setUp: (root: string) => Promise<void>;
  tearDown: () => Promise<void>;
}

let served: Served | undefined;

const TARGETS: Target[] = [
  {
    name: "keel mcp over stdio",
    // The command runs Keel on the Node that runs the tests: Keel's native SQLite module is built for it.
    target: () => [process.execPath, CLI, "mcp", "--as", ACTOR],
    options: (root) => ["--cwd", root],
    setUp: async () => {},
    tearDown: async () => {},
  },
  {
    name: "keel serve over Streamable HTTP",
    target: () => [`${served?.base}/mcp`],
    options: () => [],
    setUp: async (root) => {
      served = await startServe(root, ["--as", ACTOR]);
    },
    tearDown: async () => {
      if (served) expect(await served.stop()).toBe(0);
      served = undefined;
    },
  },
];

/** The Inspector's error envelope on stderr, e.g. { code: "tool_not_found", message: "…" }. */
interface Failure {
  code: string;
  message: string;
}

interface ToolRun {
  code: number | null;
  // biome-ignore lint/suspicious/noExplicitAny: a tools/call result printed by the Inspector, checked field by field
  result: any;
  error: Failure | null;
}

describe.skipIf(!HAS_NODE22).each(TARGETS)("MCP Inspector CLI against $name", (t) => {
  let root: string;
  /** The Inspector's HOME: it keeps a catalog, client config and secrets under ~/.mcp-inspector. */
  let home: string;
  const inspectorBin = HAS_NODE22 ? binOf("@modelcontextprotocol/inspector", "mcp-inspector") : "";

  /** One Inspector run: `--cli --format json -q <target> --method <method> [options]`, in the project. */
  function inspector(method: string, ...options: string[]): Promise<Run> {
    const args = ["--cli", "--format", "json", "--quiet", ...t.options(root), ...t.target()];
    return node22([inspectorBin, ...args, "--method", method, ...options], root, { HOME: home });
  }

  function envelope(r: Run): Failure | null {
    return r.stderr.trim() === "" ? null : (JSON.parse(r.stderr) as { error: Failure }).error;
  }

  /** The Inspector's JSON answer, after checking it exited 0 and said nothing on stderr. */
  // biome-ignore lint/suspicious/noExplicitAny: the Inspector prints the MCP result as JSON, checked field by field
  async function answer(method: string, ...options: string[]): Promise<any> {
    const r = await inspector(method, ...options);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    return JSON.parse(r.stdout).result;
  }

  async function callTool(name: string, ...args: string[]): Promise<ToolRun> {
    const r = await inspector(
      "tools/call",
      "--tool-name",
      name,
      ...(args.length > 0 ? ["--tool-arg", ...args] : []),
    );
    const result = r.stdout.trim() === "" ? null : JSON.parse(r.stdout).result;
    return { code: r.code, result, error: envelope(r) };
  }

  // biome-ignore lint/suspicious/noExplicitAny: a tools/call result printed by the Inspector
  function text(result: any): string {
    return result.content.map((c: { type: string; text?: string }) => c.text ?? "").join("\n");
  }

  /** A successful call's structured content. */
  // biome-ignore lint/suspicious/noExplicitAny: structured content, checked field by field
  async function data(name: string, ...args: string[]): Promise<any> {
    const r = await callTool(name, ...args);
    expect(r.error, JSON.stringify(r.result)).toBeNull();
    expect(r.code).toBe(0);
    expect(r.result.isError ?? false).toBe(false);
    return r.result.structuredContent;
  }

  function readyViaCli(): string[] {
    return jsonOut(keelWith({}, root, "--json", "tasks", "ready")).ready.map((x: { key: string }) => x.key);
  }

  beforeAll(async () => {
    home = project({});
    root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/constitution.md": CONSTITUTION,
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
      "keel/specs/payments/tasks.md": TASKS,
    });
    await t.setUp(root);
  });

  afterAll(async () => {
    await t.tearDown();
  });

  it("lists Keel's core tools (at most 10), each with an input and an output schema", async () => {
    // --strict exits 6 when a tool schema has an error-severity portability problem (warnings are allowed).
    const [{ tools }, strict] = await Promise.all([
      answer("tools/list"),
      inspector("tools/list", "--strict"),
    ]);
    const names = tools.map((x: { name: string }) => x.name);
    expect([...names].sort()).toEqual(CORE_TOOLS);
    expect(tools.length).toBeLessThanOrEqual(10);
    for (const tool of tools) {
      expect(tool.inputSchema?.type, tool.name).toBe("object");
      expect(tool.outputSchema?.type, tool.name).toBe("object");
      expect(tool.description?.length ?? 0, tool.name).toBeGreaterThan(10);
    }
    expect(strict.code, strict.stderr).toBe(0);
  });

  it("calls tools and gets structured content: ready tasks, a claim, a heartbeat with the claim's token", async () => {
    const ready = await data("keel_ready_tasks");
    expect(ready.total).toBe(2);
    expect(ready.tasks.map((x: { key: string }) => x.key)).toEqual(["payments/1.1", "payments/1.2"]);
    expect(ready.tasks[0]).toMatchObject({ title: "Make refunds idempotent", covers: ["PAY-1"] });

    const claim = await data("keel_claim_task", "task=payments/1.1");
    expect(claim).toMatchObject({ claimed: true, task: "payments/1.1", holder: ACTOR });
    expect(Number.isInteger(claim.token)).toBe(true);

    // The Inspector turns `token=<n>` into a number.
    const beat = await data("keel_heartbeat", "task=payments/1.1", `token=${claim.token}`);
    expect(beat).toMatchObject({ task: "payments/1.1", token: claim.token, holder: ACTOR });

    const after = await data("keel_ready_tasks");
    expect(after.tasks.map((x: { key: string }) => x.key)).toEqual(["payments/1.2"]);
    // The CLI sees the same claim.
    expect(readyViaCli()).toEqual(["payments/1.2"]);
  });

  it("reads the spec and the constitution as Markdown, and a requirement as JSON", async () => {
    const [spec, constitution, req] = await Promise.all([
      answer("resources/read", "--uri", "keel://spec/payments"),
      answer("resources/read", "--uri", "keel://constitution"),
      answer("resources/read", "--uri", "keel://requirement/PAY-1"),
    ]);
    expect(spec.contents).toHaveLength(1);
    expect(spec.contents[0]).toMatchObject({
      uri: "keel://spec/payments",
      mimeType: "text/markdown",
      text: PAYMENTS_SPEC,
    });
    expect(constitution.contents[0]).toMatchObject({ mimeType: "text/markdown", text: CONSTITUTION });
    expect(JSON.parse(req.contents[0].text)).toMatchObject({ id: "PAY-1", title: "Refunds are idempotent" });
  });

  it("answers an unknown tool, bad arguments and a traversal URI with clear errors, and changes nothing", async () => {
    const tasksFile = join(root, "keel/specs/payments/tasks.md");
    const before = readFileSync(tasksFile, "utf8");
    const readyBefore = readyViaCli();

    const [unknown, badToken, badTtl, traversal, noSpec] = await Promise.all([
      callTool("keel_delete_everything", "task=payments/1.2"),
      callTool("keel_heartbeat", "task=payments/1.2", "token=abc"),
      callTool("keel_claim_task", "task=payments/1.2", "ttl=forever"),
      inspector("resources/read", "--uri", "keel://spec/..%2F..%2F..%2Fetc%2Fpasswd"),
      inspector("resources/read", "--uri", "keel://spec/nope"),
    ]);
    // The Inspector checks the tool list before calling, so it names the missing tool itself.
    expect(unknown.code).not.toBe(0);
    expect(unknown.error).toMatchObject({ code: "tool_not_found" });
    expect(unknown.error?.message).toContain("keel_delete_everything");
    // Arguments that fail the schema reach Keel, which answers with an error result naming the argument.
    for (const [r, tool, arg] of [
      [badToken, "keel_heartbeat", "token"],
      [badTtl, "keel_claim_task", "ttl"],
    ] as const) {
      expect(r.code, tool).not.toBe(0);
      expect(r.error, tool).toMatchObject({ code: "tool_is_error" });
      expect(r.result.isError, tool).toBe(true);
      expect(text(r.result), tool).toMatch(new RegExp(`Input validation error: .*${tool}.*${arg}`, "s"));
    }
    for (const r of [traversal, noSpec]) {
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(envelope(r)?.message).toMatch(/resource not found: keel:\/\/spec\//);
    }
    expect(envelope(noSpec)?.message).toContain("no capability named nope");

    expect(readFileSync(tasksFile, "utf8")).toBe(before);
    expect(readyViaCli()).toEqual(readyBefore);
    expect(readyBefore).toEqual(["payments/1.2"]);
  });
});
