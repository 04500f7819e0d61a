// The work loop in team mode: `keel run` on a team store claims through PostgreSQL, as every server does, so its
// workers and the servers' agents never hold one task at once; its tasks land as on one machine, and its events
// reach the team's one chain.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { keel, runProject } from "./support/run-project.js";
import { migrateStore } from "./support/team.js";

describe.skipIf(!HAS_POSTGRES)("keel run on a team store", () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPostgres();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  // @verifies TEAM-15, TEAM-3
  it("claims through the team store: a task held there is left alone, the rest land, and the chain has them", async () => {
    const url = await cluster.database("run");
    const p = runProject(
      "## 1. Work\n\n- [ ] 1.1 Write a\n  - boundaries: src/a/**\n- [ ] 1.2 Write b\n  - boundaries: src/b/**\n- [ ] 1.3 Write c\n  - boundaries: src/c/**\n",
      {
        "1.1": [{ write: { "src/a/a.txt": "a" } }],
        "1.2": [{ write: { "src/b/b.txt": "b" } }],
        "1.3": [{ write: { "src/c/c.txt": "c" } }],
      },
    );
    migrateStore(p.root, url);
    const team = { KEEL_STORE_URL: url };
    // An agent elsewhere holds 1.2 in the team store.
    const held = keel(p, ["tasks", "claim", "work/1.2", "--as", "agent:elsewhere", "--json"], team);
    expect(held.code, held.stderr).toBe(0);
    const r = keel(p, ["run", "--sandbox", "none", "--workers", "2", "--json"], team);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).landed.sort()).toEqual(["work/1.1", "work/1.3"]);
    // The team store decided every claim: 1.2 was granted once, to the other agent, and never to the run.
    const claims = JSON.parse(
      keel(p, ["audit", "log", "--action", "task.claim", "--json"], team).stdout,
    ).events;
    expect(
      claims
        .filter((e: { target: string }) => e.target === "work/1.2")
        .map((e: { actor: string }) => e.actor),
    ).toEqual(["agent:elsewhere"]);
    expect(claims).toHaveLength(3);
    // This checkout's embedded store granted nothing.
    const local = JSON.parse(keel(p, ["audit", "log", "--action", "task.claim", "--json"]).stdout);
    expect(local.events).toEqual([]);
    // The run's steps and its claims are in the team's chain, which verifies.
    const actions = JSON.parse(keel(p, ["audit", "log", "--json"], team).stdout).events.map(
      (e: { action: string }) => e.action,
    );
    expect(actions.filter((a: string) => a === "task.done")).toHaveLength(2);
    expect(actions).toEqual(expect.arrayContaining(["run.start", "run.task.landed", "run.end"]));
    expect(keel(p, ["audit", "verify", "--json"], team).code).toBe(0);
  });
});
