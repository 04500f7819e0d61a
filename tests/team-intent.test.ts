// Intent across machines in team mode: two `keel serve` processes, each on its own checkout of one bare remote, on
// one PostgreSQL. Two overlapping changes applied at once through the two servers give one apply and one conflict,
// never two applies; what one server writes is pushed, and the other server's checkout follows it.
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keel } from "./support/cli.js";
import { commitAll, git, gitInit } from "./support/git.js";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";
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
  let servers: Served[] = [];

  beforeAll(async () => {
    cluster = await startPostgres();
    const url = await cluster.database("intent");
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
});
