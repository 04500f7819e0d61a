// What `keel store migrate` and `keel store status` do to a team store: they work on a database whatever its
// schema (none yet, older, current), which is why they connect on their own instead of through PgStore.open.
// @req TEAM-5, TEAM-7
import type { StoreStatus } from "../coordination.js";
import { type Connection, connect } from "./connection.js";
import { type MigrateResult, migrate, PG_SCHEMA_VERSION, schemaVersion } from "./schema.js";

async function withConnection<T>(url: string, fn: (conn: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(url, { max: 1 });
  try {
    return await fn(conn);
  } catch (e) {
    throw conn.explain(e);
  } finally {
    await conn.pool.end().catch(() => {});
  }
}

export function migrateTeamStore(url: string): Promise<MigrateResult & { where: string }> {
  return withConnection(url, async (conn) => ({ ...(await migrate(conn)), where: conn.where }));
}

export function inspectTeamStore(url: string): Promise<StoreStatus> {
  return withConnection(url, async (conn) => {
    // The first query opens the connection; the round trip is timed on the second.
    const schema = await schemaVersion(conn.pool);
    const started = performance.now();
    await conn.pool.query("SELECT 1");
    const latencyMs = performance.now() - started;
    const counts =
      schema === 0
        ? { events: 0, claims: 0 }
        : ((
            await conn.pool.query(
              "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM claims WHERE token IS NOT NULL) AS claims",
            )
          ).rows[0] as { events: number; claims: number });
    return { kind: "postgres", where: conn.where, schema, latest: PG_SCHEMA_VERSION, latencyMs, ...counts };
  });
}
