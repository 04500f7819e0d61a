// The throwaway PostgreSQL of tests/support/postgres.ts, checked with the real `pg` driver: the store's tests and
// the team bench trust it to authenticate, to restart the way a real server does, and to isolate test files.
import { existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HAS_POSTGRES, type PgCluster, startPostgres } from "./support/postgres.js";

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  // A restart cuts the connection between queries too, which pg reports as an "error" event: unheard, it would
  // end the process. Queries on such a client still fail, and the tests assert that.
  client.on("error", () => {});
  await client.connect();
  return client;
}

async function scalar(url: string, sql: string): Promise<unknown> {
  const client = await connect(url);
  try {
    return (await client.query(sql)).rows[0]?.value;
  } finally {
    await client.end();
  }
}

describe.skipIf(!HAS_POSTGRES)("a throwaway PostgreSQL", () => {
  let pgc: PgCluster;
  beforeAll(async () => {
    pgc = await startPostgres();
  });
  afterAll(() => pgc?.stop());

  it("listens on loopback and its own socket folder, and lets keel in with its password, over SCRAM", async () => {
    expect(pgc.url).toBe(`postgres://keel:${pgc.password}@127.0.0.1:${pgc.port}/postgres`);
    expect(await scalar(pgc.url, "SELECT current_user AS value")).toBe("keel");
    expect(await scalar(pgc.url, "SELECT current_setting('listen_addresses') AS value")).toBe("127.0.0.1");
    expect(existsSync(join(pgc.dir, `.s.PGSQL.${pgc.port}`))).toBe(true);
    const methods = "SELECT string_agg(DISTINCT auth_method, ',') AS value FROM pg_hba_file_rules";
    expect(await scalar(pgc.url, methods)).toBe("scram-sha-256");
    expect(await scalar(pgc.url, "SELECT current_setting('max_connections') AS value")).toBe("200");
    expect(await scalar(pgc.url, "SELECT current_setting('fsync') AS value")).toBe("on");
  });

  it("refuses a wrong password", async () => {
    const wrong = pgc.url.replace(pgc.password, "not-the-password");
    await expect(connect(wrong)).rejects.toMatchObject({ code: "28P01" });
  });

  it("restart() cuts the connections in flight, keeps the data, and takes new clients", async () => {
    await scalar(pgc.url, "CREATE TABLE kept AS SELECT 42 AS n");
    const old = await connect(pgc.url);
    // Its failure is taken as a value at once: the rejection lands while the test still awaits the restart.
    const sleeping = old.query("SELECT pg_sleep(60)").then(
      () => "finished",
      (e: unknown) => e,
    );
    // The query must be running on the server, not merely sent, for the restart to cut it mid-flight.
    await expect
      .poll(() =>
        scalar(
          pgc.url,
          "SELECT count(*)::int AS value FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep%'",
        ),
      )
      .toBe(1);
    await pgc.restart();
    expect(await sleeping).toMatchObject({ code: "57P01" });
    await expect(old.query("SELECT 1")).rejects.toThrow();
    expect(await scalar(pgc.url, "SELECT n AS value FROM kept")).toBe(42);
  });

  it("halt() takes the server down until resume() brings it back on the same port", async () => {
    await pgc.halt();
    await expect(connect(pgc.url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await pgc.resume();
    expect(await scalar(pgc.url, "SELECT 1 AS value")).toBe(1);
  });

  it("database() gives each caller a database of its own", async () => {
    const a = await pgc.database("harness");
    const b = await pgc.database("harness");
    expect(a).not.toBe(b);
    const name = (url: string) => new URL(url).pathname.slice(1);
    expect(await scalar(a, "SELECT current_database() AS value")).toBe(name(a));
    expect(await scalar(b, "SELECT current_database() AS value")).toBe(name(b));
    await scalar(a, "CREATE TABLE only_in_a (n int)");
    expect(await scalar(a, "SELECT to_regclass('only_in_a')::text AS value")).toBe("only_in_a");
    expect(await scalar(b, "SELECT to_regclass('only_in_a')::text AS value")).toBeNull();
  });

  it("stop() stops the server and removes its folder, and may be called again", async () => {
    await pgc.stop();
    expect(existsSync(pgc.dir)).toBe(false);
    await expect(connect(pgc.url)).rejects.toMatchObject({ code: "ECONNREFUSED" });
    await expect(pgc.stop()).resolves.toBeUndefined();
  });
});
