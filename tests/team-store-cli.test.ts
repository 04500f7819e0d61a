// The team store from the command line, as a user moves a project onto it and back: `keel store copy` both ways
// (the chain still verifies, tokens keep growing), a copy refused into a store that holds state, and a lease
// granted by a server that was SIGKILLed expiring so that its task can be claimed again.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonOut, keelWith } from "./support/cli.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { httpRequest, startServe } from "./support/serve.js";
import { checkout, migrateStore, removeTeamRemotes, teamRemote } from "./support/team.js";

describe.skipIf(!HAS_POSTGRES)("keel store copy and the team store's leases", () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
    removeTeamRemotes();
  });

  // @verifies TEAM-6, TEAM-7
  it("copies a project's state to PostgreSQL and back, and the chain verifies at each end", async () => {
    const url = await cluster.database("copy");
    const root = checkout(teamRemote(8), "copy");
    const local = (...args: string[]) => keelWith({}, root, ...args);
    const team = (...args: string[]) => keelWith({ KEEL_STORE_URL: url }, root, ...args);
    // On the embedded store: two claims and a note.
    const first = jsonOut(local("tasks", "claim", "--next", "--as", "agent:a", "--json"));
    jsonOut(local("tasks", "claim", "--next", "--as", "agent:b", "--json"));
    expect(
      local("tasks", "note", first.claim.taskId, "start from the fixtures", "--as", "agent:a").code,
    ).toBe(0);
    migrateStore(root, url);
    const there = jsonOut(
      team("store", "copy", "--from", "sqlite", "--to", "postgres", "--as", "human:ann", "--json"),
    );
    expect(there).toMatchObject({
      events: 3,
      claims: 2,
      notes: 1,
      fencing: 2,
      verified: { ok: true, events: 4 },
    });
    expect(there.to).not.toContain(cluster.password);
    // A copy never merges two histories: the team store now holds state.
    const again = team("store", "copy", "--from", "sqlite", "--to", "postgres", "--as", "human:ann");
    expect(again.code).toBe(4);
    expect(again.stderr).toContain("already holds");
    // Work goes on in the team store: the next claim's token follows the copied counter.
    const third = jsonOut(team("tasks", "claim", "--next", "--as", "agent:c", "--json"));
    expect(third.claim.token).toBe(3);
    // A token made in team mode lives in the team store, and comes back with the copy.
    const made = team("token", "create", "--role", "agent", "--name", "codex", "--as", "human:ann");
    expect(made.code, made.stderr).toBe(0);
    const status = jsonOut(team("store", "status", "--json"));
    expect(status).toMatchObject({ kind: "postgres", schema: 4, current: true, events: 6, claims: 3 });
    // And back into this checkout's embedded store (the old file moved aside, not deleted).
    const back = jsonOut(
      team(
        "store",
        "copy",
        "--from",
        "postgres",
        "--to",
        "sqlite",
        "--replace",
        "--as",
        "human:ann",
        "--json",
      ),
    );
    expect(back).toMatchObject({
      events: 6,
      claims: 3,
      notes: 1,
      tokens: 1,
      fencing: 3,
      verified: { ok: true, events: 7 },
    });
    const verify = local("audit", "verify", "--json");
    expect(verify.code, verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, events: 7 });
    const tokens = jsonOut(local("token", "list", "--json")).tokens;
    expect(tokens.map((t: { name: string; revokedAt: string | null }) => [t.name, t.revokedAt])).toEqual([
      ["codex", null],
    ]);
    const fourth = jsonOut(local("tasks", "claim", "--next", "--as", "agent:d", "--json"));
    expect(fourth.claim.token).toBe(4);
    const actions = jsonOut(local("audit", "log", "--json")).events.map((e: { action: string }) => e.action);
    expect(actions).toEqual([
      "task.claim",
      "task.claim",
      "task.note",
      "store.copy",
      "task.claim",
      "token.create",
      "store.copy",
      "task.claim",
    ]);
  });

  // @verifies TEAM-9
  it("lets a lease granted through a SIGKILLed server expire, so the task can be claimed again", async () => {
    const url = await cluster.database("lease");
    const root = checkout(teamRemote(4), "lease");
    migrateStore(root, url);
    const server = await startServe(root, [], { KEEL_STORE_URL: url });
    const granted = await httpRequest(server.port, "POST", "/api/tasks/claim-next", {
      // Long enough that the first claim below, a command starting on a loaded machine, comes within it.
      body: JSON.stringify({ ttl: "5s" }),
      headers: { "content-type": "application/json" },
    });
    expect(granted.status).toBe(200);
    const { taskId, token } = granted.json.result;
    server.child.kill("SIGKILL");
    // Held until the lease ends, whichever machine asks; then free, with a larger token.
    const claim = () =>
      keelWith({ KEEL_STORE_URL: url }, root, "tasks", "claim", taskId, "--as", "agent:z", "--json");
    const refused = claim();
    expect(refused.code).toBe(6);
    expect(`${refused.stdout}${refused.stderr}`).toContain("already claimed");
    let won: ReturnType<typeof claim> | null = null;
    await expect
      .poll(
        () => {
          const r = claim();
          if (r.code === 0) won = r;
          return r.code;
        },
        { timeout: 20_000, interval: 200 },
      )
      .toBe(0);
    expect(jsonOut(won as unknown as ReturnType<typeof claim>).claim.token).toBeGreaterThan(token);
  });
});
