// Tokens and roles: `keel token` stores hashes only, `keel serve --auth` (and any non-loopback bind) refuses
// requests without a good token and audits the refusals, tokens are rate-limited, and roles are enforced by
// the core, so a read token cannot claim over MCP and a read-only actor cannot claim from the CLI either.
// @verifies SRF-11, SRF-12, SRF-13, SRF-15
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Claims } from "../src/store/sqlite/claims.js";
import { StateDb } from "../src/store/state-db.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC, PAYMENTS_TASKS as TASKS } from "./support/fixtures.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";

const project = tempProjects("keel-auth-");

const CONFIG = `version: 1
actors:
  roles:
    olive: owner
    rita: reviewer
    reed: read-only
`;

let root: string;
let served: Served;

function create(role: string, name: string, ...more: string[]) {
  return keel(
    root,
    "--json",
    "token",
    "create",
    "--role",
    role,
    "--name",
    name,
    "--as",
    "human:olive",
    ...more,
  );
}

function token(role: string, name: string, ...more: string[]): string {
  return jsonOut(create(role, name, ...more)).token;
}

function audit(action: string) {
  return jsonOut(keel(root, "--json", "audit", "log", "--action", action)).events as Array<{
    action: string;
    actor: string;
    reason: string | null;
    data: Record<string, unknown> | null;
  }>;
}

async function mcpAs(bearer: string): Promise<Client> {
  const c = new Client({ name: "keel-auth-test", version: "1.0.0" });
  await c.connect(
    new StreamableHTTPClientTransport(new URL(`${served.base}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${bearer}` } },
    }),
  );
  return c;
}

/** A raw JSON-RPC `tools/list` POST on /mcp, with these headers besides the JSON-RPC ones. */
function rawToolsList(id: number, headers: Record<string, string>) {
  return httpRequest(served.port, "POST", "/mcp", {
    body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/list" }),
    headers: {
      "content-type": "application/json",
      accept: "application/json, text/event-stream",
      ...headers,
    },
  });
}

function text(r: CallToolResult): string {
  return r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
}

/** The task's claim record, or null when it was never claimed. */
function claimOf(key: string) {
  const db = StateDb.open(root);
  try {
    return new Claims(db, root).get(key, new Date());
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  root = project({
    "keel/keel.yaml": CONFIG,
    "keel/specs/payments/spec.md": PAYMENTS_SPEC,
    "keel/specs/payments/tasks.md": TASKS,
  });
  served = await startServe(root, ["--auth", "--rate", "40"]);
});

afterAll(async () => {
  expect(await served.stop()).toBe(0);
});

describe("keel token", () => {
  it("prints the token once and keeps only its hash", () => {
    const run = keel(root, "token", "create", "--role", "agent", "--name", "codex", "--as", "human:olive");
    expect(run.code, run.stderr).toBe(0);
    const printed = run.stdout.trim();
    expect(printed).toMatch(/^keel_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(run.stderr).toContain("agent:codex");
    const secret = printed.split("_").slice(2).join("_");
    for (const f of readdirSync(join(root, ".keel"), { withFileTypes: true })) {
      if (!f.isFile()) continue; // the server's watch-cookies folder
      const bytes = readFileSync(join(root, ".keel", f.name));
      expect(bytes.includes(secret), f.name).toBe(false);
    }
    const listed = jsonOut(keel(root, "--json", "token", "list")).tokens;
    const entry = listed.find((t: { name: string }) => t.name === "codex");
    expect(entry).toMatchObject({ actor: "agent:codex", role: "agent", revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(secret);
  });

  it("maps --role read to the read-only role and refuses unknown roles and duplicate names", () => {
    expect(jsonOut(create("read", "dash"))).toMatchObject({ role: "read-only", actor: "human:dash" });
    const dup = keel(root, "token", "create", "--role", "read", "--name", "dash", "--as", "human:olive");
    expect(dup.code).toBe(2);
    expect(dup.stderr).toContain('a live token named "dash" exists');
    const bad = keel(root, "token", "create", "--role", "admin", "--name", "x", "--as", "human:olive");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown role "admin"');
  });

  it("refuses, and audits, a grant above the granter's role or by an agent", () => {
    const before = audit("token.create.refused").length;
    const up = keel(root, "token", "create", "--role", "owner", "--name", "sneaky", "--as", "human:rita");
    expect(up.code).toBe(5);
    expect(up.stderr).toContain("token/not-above-own-role");
    const agent = keel(root, "token", "create", "--role", "read", "--name", "bot", "--as", "agent:bot");
    expect(agent.code).toBe(5);
    expect(agent.stderr).toContain("token/human-only");
    expect(audit("token.create.refused").length).toBe(before + 2);
    const names = jsonOut(keel(root, "--json", "token", "list")).tokens.map((t: { name: string }) => t.name);
    expect(names).not.toContain("sneaky");
    expect(names).not.toContain("bot");
  });
});

describe("keel serve --auth", () => {
  it("refuses requests without a good token with 401, changes nothing and audits the first refusal at once", async () => {
    const before = audit("auth.refused").length;
    const none = await httpRequest(served.port, "GET", "/api/status");
    expect(none.status).toBe(401);
    expect(none.json.error.code).toBe("token_missing");
    expect(none.headers["www-authenticate"]).toBe('Bearer realm="keel"');
    const forged = await httpRequest(served.port, "GET", "/api/status", {
      headers: { authorization: `Bearer keel_000000000000_${"A".repeat(43)}` },
    });
    expect(forged.status).toBe(401);
    expect(forged.json.error.code).toBe("token_unknown");
    const junk = await httpRequest(served.port, "GET", "/api/tasks", {
      headers: { authorization: "Bearer x" },
    });
    expect(junk.status).toBe(401);
    expect(junk.json.error.code).toBe("token_malformed");
    const mcp = await rawToolsList(1, {});
    expect(mcp.status).toBe(401);
    // A write with a malformed token: refused before it runs.
    const claim = await httpRequest(served.port, "POST", "/api/tasks/payments%2F1.2/claim", {
      body: "{}",
      headers: { "content-type": "application/json", authorization: "Bearer x" },
    });
    expect(claim.status).toBe(401);
    expect(claimOf("payments/1.2")).toBeNull();
    // Refusals are audited per client address in aggregate (tests/serve-trust.test.ts): the first one of the
    // window at once, the four after it counted into the event that closes the window.
    const events = audit("auth.refused").slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: "system:anonymous",
      reason: "missing",
      data: { remote: "127.0.0.1", count: 1, reasons: { missing: 1 }, targets: ["GET /api/status"] },
    });
  });

  it("serves a good token and acts as its actor; a revoked or expired token is refused at once", async () => {
    const good = token("agent", "worker");
    const ok = await httpRequest(served.port, "GET", "/api/tasks", {
      headers: { authorization: `Bearer ${good}` },
    });
    expect(ok.status).toBe(200);

    const client = await mcpAs(good);
    try {
      const claimed = (await client.callTool({
        name: "keel_claim_task",
        arguments: { task: "payments/1.2" },
      })) as CallToolResult;
      expect(claimed.isError ?? false, text(claimed)).toBe(false);
      expect(claimed.structuredContent).toMatchObject({ claimed: true, holder: "agent:worker" });
      const impersonate = (await client.callTool({
        name: "keel_note",
        arguments: { task: "payments/1.2", text: "hi", as: "human:olive" },
      })) as CallToolResult;
      expect(impersonate.isError).toBe(true);
      expect(text(impersonate)).toContain("authenticated as agent:worker and cannot act as human:olive");
    } finally {
      await client.close();
    }

    expect(keel(root, "token", "revoke", "worker", "--as", "human:olive").code).toBe(0);
    const revoked = await httpRequest(served.port, "GET", "/api/tasks", {
      headers: { authorization: `Bearer ${good}` },
    });
    expect(revoked.status).toBe(401);
    expect(revoked.json.error.code).toBe("token_revoked");

    const brief = token("agent", "brief", "--expires", "1ms");
    const expired = await httpRequest(served.port, "GET", "/api/tasks", {
      headers: { authorization: `Bearer ${brief}` },
    });
    expect(expired.status).toBe(401);
    expect(expired.json.error.code).toBe("token_expired");
  });

  it("lets a read token read but not claim: the core refuses by role and audits it", async () => {
    const reader = token("read", "viewer");
    const client = await mcpAs(reader);
    const before = audit("task.claim.refused").length;
    try {
      const ready = (await client.callTool({ name: "keel_ready_tasks", arguments: {} })) as CallToolResult;
      expect(ready.isError ?? false, text(ready)).toBe(false);
      const claim = (await client.callTool({
        name: "keel_claim_task",
        arguments: { task: "payments/1.1" },
      })) as CallToolResult;
      expect(claim.isError).toBe(true);
      expect(text(claim)).toContain("role/read-only");
    } finally {
      await client.close();
    }
    expect(claimOf("payments/1.1")).toBeNull();
    const refused = audit("task.claim.refused").slice(before);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ actor: "human:viewer", data: { rule: "role/read-only" } });
  });

  it("refuses an MCP session to any token but the one that opened it, and audits it", async () => {
    const mine = token("agent", "session-owner");
    const theirs = token("agent", "session-thief");
    const client = await mcpAs(mine);
    try {
      const transport = client.transport as StreamableHTTPClientTransport;
      const session = transport.sessionId as string;
      expect(session).toBeTruthy();
      const stolen = await rawToolsList(7, { authorization: `Bearer ${theirs}`, "mcp-session-id": session });
      expect(stolen.status).toBe(403);
      expect(stolen.json.error.message).toContain("belongs to another principal");
      expect(audit("mcp.session.refused").at(-1)).toMatchObject({
        actor: "agent:session-thief",
        reason: "session-principal",
        data: { session },
      });
      // Another token of the very same actor and role is still another principal.
      const twin = token("agent", "agent:session-owner");
      const twinned = await rawToolsList(8, { authorization: `Bearer ${twin}`, "mcp-session-id": session });
      expect(twinned.status).toBe(403);
      // The owner's session still works.
      expect((await client.listTools()).tools.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
  });

  it("limits each token to its rate with 429 and Retry-After, and audits it", async () => {
    const busy = token("agent", "busy");
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof httpRequest>> | null = null;
    for (let i = 0; i < 60 && limited === null; i++) {
      const r = await httpRequest(served.port, "GET", "/api/tasks/ready", {
        headers: { authorization: `Bearer ${busy}` },
      });
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(limited, statuses.join(",")).not.toBeNull();
    // The bucket holds 40 requests: about that many pass before the first refusal.
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(39);
    expect(limited?.json.error.code).toBe("rate_limited");
    expect(Number(limited?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    expect(audit("auth.rate-limited").at(-1)).toMatchObject({ actor: "agent:busy" });
  });
});

describe("roles in the core, whatever the surface", () => {
  it("refuses a read-only actor's claim from the CLI with exit 5 and leaves the task unclaimed", () => {
    const run = keel(root, "tasks", "claim", "payments/1.1", "--as", "human:reed");
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("role/read-only");
    expect(claimOf("payments/1.1")).toBeNull();
  });
});

describe("keel serve --auth without tokens", () => {
  it("warns that every request will be refused until a token exists", async () => {
    const bare = project({ "keel/keel.yaml": "version: 1\n", "keel/specs/payments/spec.md": PAYMENTS_SPEC });
    const first = await startServe(bare, ["--auth"]);
    expect(await first.stop()).toBe(0);
    expect(first.stderr()).toContain("warning: no live token exists");
    expect(keel(bare, "token", "create", "--role", "agent", "--name", "a", "--as", "human:olive").code).toBe(
      0,
    );
    const second = await startServe(bare, ["--auth"]);
    expect(await second.stop()).toBe(0);
    expect(second.stderr()).toContain("bearer tokens required");
    expect(second.stderr()).not.toContain("warning");
  });
});

describe("keel serve off loopback", () => {
  it("asks for a token when bound to a non-loopback address, even without --auth", async () => {
    const open = await startServe(root, ["--host", "0.0.0.0"]);
    try {
      const r = await httpRequest(open.port, "GET", "/api/status", { host: `127.0.0.1:${open.port}` });
      expect(r.status).toBe(401);
      const foreign = await httpRequest(open.port, "GET", "/api/status", {
        host: `keel.example:${open.port}`,
      });
      expect(foreign.status).toBe(403);
    } finally {
      expect(await open.stop()).toBe(0);
    }
    const named = await startServe(root, ["--host", "0.0.0.0", "--allow-host", "keel.example"]);
    try {
      const admin = token("owner", "admin-for-host");
      const r = await httpRequest(named.port, "GET", "/api/status", {
        host: `keel.example:${named.port}`,
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    } finally {
      expect(await named.stop()).toBe(0);
    }
  });
});
