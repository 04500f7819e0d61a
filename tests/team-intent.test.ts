// Intent across machines in team mode: two `keel serve` processes, each on its own checkout of one bare remote, on
// one PostgreSQL. Two overlapping changes applied at once through the two servers give one apply and one conflict,
// never two applies; what one server writes is pushed, and the other server's checkout follows it.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOut, keel, keelWith } from "./support/cli.js";
import { commitAll, git, gitInit } from "./support/git.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { httpRequest, type Served, startServe, subscribeEvents } from "./support/serve.js";
import { checkout, migrateStore } from "./support/team.js";

const REPO = join(import.meta.dirname, "..");

/** The bundled example, with its two overlapping changes (both modify INV-5) approved, in a bare remote. */
function exampleRemote(): string {
  const base = mkdtempSync(join(tmpdir(), "keel-team-intent-"));
  const seed = join(base, "seed");
  cpSync(join(REPO, "examples", "acme-invoicing"), seed, { recursive: true });
  gitInit(seed);
  for (const change of ["add-partial-payments", "add-invoice-disputes"])
    expect(keel(seed, "change", "approve", change, "--as", "human:maria").code).toBe(0);
  commitAll(seed, "the example, both changes approved");
  const remote = join(base, "remote.git");
  git(base, "clone", "-q", "--bare", seed, remote);
  return remote;
}

function post(server: Served, path: string, body: unknown = {}) {
  return httpRequest(server.port, "POST", path, {
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
  });
}

describe.skipIf(!HAS_POSTGRES)("team mode: intent across two servers", () => {
  let cluster: PgCluster;
  let remote: string;
  let roots: string[];
  let url: string;
  let servers: Served[] = [];
  /** The server whose apply met the conflict, in the first test. */
  let loser = 0;

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.database("intent");
    remote = exampleRemote();
    roots = ["a", "b"].map((name) => checkout(remote, name));
    migrateStore(roots[0] as string, url);
    servers = await Promise.all(
      roots.map((root) =>
        startServe(root, ["--as", "human:maria"], { KEEL_STORE_URL: url, KEEL_TEAM_FETCH_MS: "200" }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await cluster?.stop();
    if (remote) rmSync(join(remote, ".."), { recursive: true, force: true });
  });

  // @verifies TEAM-10
  it("applies one of two overlapping changes sent to two servers at once, and records the other as a conflict", async () => {
    const [a, b] = servers as [Served, Served];
    const replies = await Promise.all([
      post(a, "/api/changes/add-partial-payments/apply"),
      post(b, "/api/changes/add-invoice-disputes/apply"),
    ]);
    expect(replies.map((r) => r.status).sort()).toEqual([200, 409]);
    const refused = replies.find((r) => r.status === 409);
    expect(refused?.json.error.message).toContain("INV-5");
    loser = replies[0]?.status === 409 ? 0 : 1;
    // Exactly one apply reached the remote, as a commit of the server that made it.
    const log = git(remote, "log", "--format=%s", "main");
    expect(log.split("\n").filter((s) => s.startsWith("keel: applyChange"))).toHaveLength(1);
    // And both checkouts end on it: the one that wrote it, and the other, by its fetch.
    const head = git(remote, "rev-parse", "main").trim();
    for (const root of roots)
      await expect.poll(() => git(root, "rev-parse", "HEAD").trim(), { timeout: 20_000 }).toBe(head);
  });

  // @verifies TEAM-10
  it("carries a spec edit made through one server to the other server's answers", async () => {
    const [a, b] = servers as [Served, Served];
    const shown = await httpRequest(b.port, "GET", "/api/requirements/PAY-1");
    expect(shown.status).toBe(200);
    const requirement = shown.json.item;
    const text = "The system SHALL record every payment with its amount, currency, date and payer reference.";
    const edited = await post(b, "/api/requirements/PAY-1/edit", { base: requirement.fingerprint, text });
    expect(edited.status, edited.text).toBe(200);
    await expect
      .poll(async () => JSON.stringify((await httpRequest(a.port, "GET", "/api/requirements/PAY-1")).json), {
        timeout: 20_000,
      })
      .toContain("payer reference");
    expect(git(remote, "log", "-1", "--format=%s", "main")).toContain("keel: editRequirement");
  });

  // @verifies TEAM-12, TEAM-4
  it("keeps one audit log: a server's writes and a command's are in the team chain, and reach every server's feed", async () => {
    const [a] = servers as [Served, Served];
    // A person's own checkout, beside the servers' (a command there leaves the servers' checkouts alone).
    const own = checkout(remote, "c");
    const team = (...args: string[]) => keelWith({ KEEL_STORE_URL: url }, own, ...args);
    // The apply made through server A (first test), read from a checkout that never saw it happen.
    const applied = jsonOut(team("audit", "log", "--action", "change.apply", "--json")).events;
    expect(applied).toHaveLength(1);
    expect(applied[0].data.origin.store).toMatch(/^[0-9a-f]{16}$/);
    // A command run on that checkout: its event reaches server A's live feed through the team chain.
    const feed = await subscribeEvents(a.port);
    try {
      const made = team("change", "new", "add-late-fees", "--why", "late fees", "--as", "human:maria");
      expect(made.code, made.stderr).toBe(0);
      const seen = await feed.next((e) => e.type === "change.proposed" && e.data.target === "add-late-fees");
      expect(seen.data.actor).toBe("human:maria");
    } finally {
      feed.close();
    }
    const verify = team("audit", "verify", "--json");
    expect(verify.code, verify.stdout).toBe(0);
    // The export is the same chain as the log: every event, the checkout's own and every server's.
    const logged = jsonOut(team("audit", "log", "--json")).events;
    const exported = jsonOut(team("audit", "export", "--json", "--output", "log.jsonl"));
    expect(exported.events).toBe(logged.length);
    expect(logged.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(["change.apply", "change.new"]),
    );
  });

  // @verifies TEAM-10
  it("carries a change an agent proposes through MCP on one server to the remote and the other server", async () => {
    const [a, b] = servers as [Served, Served];
    const client = new Client({ name: "keel-team-test", version: "1.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${a.port}/mcp`)));
    try {
      const r = (await client.callTool({
        name: "keel_propose_change",
        arguments: { name: "add-payment-reminders", why: "remind payers before the due date" },
      })) as CallToolResult;
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    } finally {
      await client.close();
    }
    expect(git(remote, "log", "-1", "--format=%s", "main")).toContain(
      "keel: keel_propose_change add-payment-reminders",
    );
    await expect
      .poll(async () => (await httpRequest(b.port, "GET", "/api/changes/add-payment-reminders")).status, {
        timeout: 20_000,
      })
      .toBe(200);
  });

  // @verifies TEAM-14
  it("resolves a conflict recorded through one server through the other, and every checkout sees it resolved", async () => {
    const recordedBy = servers[loser] as Served;
    const other = servers[1 - loser] as Served;
    // The other server never met the conflict: it lists it from the team's records.
    const listed = await httpRequest(other.port, "GET", "/api/conflicts");
    expect(listed.status).toBe(200);
    const conflict = listed.json.conflicts.find((c: { requirement: string }) => c.requirement === "INV-5");
    expect(conflict).toBeDefined();
    const resolved = await post(other, `/api/conflicts/${conflict.id}/resolve`, { take: "ours" });
    expect(resolved.status, resolved.text).toBe(200);
    // The server that recorded it sees it resolved, and so does a person's checkout.
    const there = await httpRequest(recordedBy.port, "GET", `/api/conflicts/${conflict.id}`);
    expect(there.json.conflict.status).toBe("resolved");
    const own = checkout(remote, "d");
    const all = jsonOut(keelWith({ KEEL_STORE_URL: url }, own, "conflicts", "--all", "--json"));
    const mine = all.conflicts.find((c: { id: string }) => c.id === conflict.id);
    expect(mine.status).toBe("resolved");
  });
});
