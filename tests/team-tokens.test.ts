// Tokens in team mode: three `keel serve --auth` processes, each on its own checkout, on one PostgreSQL. A token
// created from one checkout authenticates on another server at its first request; revoked from a third checkout,
// it is refused everywhere once the revocation's event has arrived; and every server audits into the one chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOut, keelWith } from "./support/cli.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";
import { checkout, migrateStore, removeTeamRemotes, teamRemote } from "./support/team.js";

describe.skipIf(!HAS_POSTGRES)("team mode: one set of tokens for three servers", () => {
  let cluster: PgCluster;
  let url: string;
  let roots: string[];
  let servers: Served[] = [];
  const team = (root: string, ...args: string[]) => keelWith({ KEEL_STORE_URL: url }, root, ...args);
  const asBearer = (server: Served, token: string) =>
    httpRequest(server.port, "GET", "/api/tasks", { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.database("tokens");
    const remote = teamRemote(4);
    roots = ["a", "b", "c"].map((name) => checkout(remote, name));
    migrateStore(roots[0] as string, url);
    servers = await Promise.all(roots.map((root) => startServe(root, ["--auth"], { KEEL_STORE_URL: url })));
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await cluster?.stop();
    removeTeamRemotes();
  });

  // @verifies TEAM-11, SRF-11
  it("authenticates a token made from checkout A on server B at once, and refuses it everywhere once revoked from C", async () => {
    const [a, , c] = roots as [string, string, string];
    const [, serverB, serverC] = servers as [Served, Served, Served];
    const made = team(a, "token", "create", "--role", "agent", "--name", "codex", "--as", "human:ann");
    expect(made.code, made.stderr).toBe(0);
    const token = made.stdout.trim();
    // Its first request, on a server that has not seen it yet.
    const first = await asBearer(serverB, token);
    expect(first.status, JSON.stringify(first.json)).toBe(200);
    expect((await asBearer(serverC, token)).status).toBe(200);
    // Every checkout lists the team's tokens; none holds one of its own.
    expect(jsonOut(team(c, "token", "list", "--json")).tokens.map((t: { name: string }) => t.name)).toEqual([
      "codex",
    ]);
    expect(jsonOut(keelWith({}, c, "token", "list", "--json")).tokens).toEqual([]);
    const revoked = team(c, "token", "revoke", "codex", "--as", "human:ann");
    expect(revoked.code, revoked.stderr).toBe(0);
    // The revocation reaches every server by its event (NOTIFY): refused there without any restart.
    for (const server of servers)
      await expect
        .poll(async () => (await asBearer(server, token)).json?.error?.code, { timeout: 10_000 })
        .toBe("token_revoked");
  });

  // @verifies TEAM-11, TEAM-4
  it("audits token writes and a server's refusals in the team chain, which verifies from any checkout", async () => {
    const [, b] = roots as [string, string];
    const refused = await asBearer(
      servers[1] as Served,
      "keel_000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    );
    expect(refused.status).toBe(401);
    // A server writes its tally of refusals when it stops (or when its window ends).
    await (servers[1] as Served).stop();
    servers = servers.filter((_, i) => i !== 1);
    for (const root of roots) {
      const verify = team(root, "audit", "verify", "--json");
      expect(verify.code, verify.stdout).toBe(0);
    }
    const actions = jsonOut(team(b, "audit", "log", "--json")).events.map(
      (e: { action: string }) => e.action,
    );
    expect(actions).toEqual(expect.arrayContaining(["token.create", "token.revoke", "auth.refused"]));
  });
});
