// Gate evidence in team mode: a gate run by `keel verify` on one machine (a person's or an agent's checkout) is
// forwarded into the team store, so a team server on another checkout of the same commit lets the task be done;
// while the gate has run nowhere on that commit, the server refuses, as the backpressure does on one machine.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOut, keelWith } from "./support/cli.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";
import { checkout, migrateStore, removeTeamRemotes, teamRemote } from "./support/team.js";

describe.skipIf(!HAS_POSTGRES)("team mode: gate evidence from any machine", () => {
  let cluster: PgCluster;
  let url: string;
  let server: Served;
  let agent: string;
  const team = (...args: string[]) => keelWith({ KEEL_STORE_URL: url }, agent, ...args);

  beforeAll(async () => {
    cluster = await startPostgres();
    url = await cluster.database("evidence");
    // One project gate, which every task's backpressure requires.
    const remote = teamRemote(2, 'gates:\n  unit: "test -f keel/keel.yaml"\n');
    const serverRoot = checkout(remote, "server");
    agent = checkout(remote, "agent");
    migrateStore(serverRoot, url);
    server = await startServe(serverRoot, ["--as", "agent:codex"], { KEEL_STORE_URL: url });
  });

  afterAll(async () => {
    await server?.stop();
    await cluster?.stop();
    removeTeamRemotes();
  });

  const done = (task: string, token: number) =>
    httpRequest(server.port, "POST", `/api/tasks/${encodeURIComponent(task)}/done`, {
      body: JSON.stringify({ token }),
      headers: { "content-type": "application/json" },
    });

  // @verifies TEAM-13
  it("refuses done while the gate ran nowhere on the commit, and takes it once another machine's run is forwarded", async () => {
    const claim = jsonOut(team("tasks", "claim", "f1/T1", "--as", "agent:codex", "--json")).claim;
    const refused = await done("f1/T1", claim.token);
    expect(refused.status).toBe(409);
    expect(refused.json.error.code).toBe("gates-not-passing");
    // The agent runs the gate on its own machine (the same commit, a clean tree); the command forwards its evidence.
    const verified = team("verify", "--task", "f1/T1", "--as", "agent:runner", "--json");
    expect(verified.code, verified.stderr).toBe(0);
    const accepted = await done("f1/T1", claim.token);
    expect(accepted.status, JSON.stringify(accepted.json)).toBe(200);
    const gate = accepted.json.gates.gates.find((g: { name: string }) => g.name === "unit");
    expect(gate.state).toBe("passed");
  });
});
