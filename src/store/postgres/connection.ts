// The connection to a team store: node-postgres (`pg`), loaded only when a project names a PostgreSQL store, so
// the embedded path never pays for it. Chosen over `postgres` (porsager) for its separate pool and client (LISTEN
// needs one connection of its own that outlives queries), its plain parameterised queries without a template-tag
// DSL, its long record (the most used Node driver), and no native code. docs/team.md#the-driver says more.
//
// The URL's password never leaves this module: `where` is the URL without it, and every error that reaches a user
// names that and has any occurrence of the password replaced.
// @req TEAM-2, TEAM-9
import type { Pool, PoolClient, PoolConfig } from "pg";
import { EXIT, KeelError } from "../../workspace/errors.js";
import { STORE_UNAVAILABLE } from "../coordination.js";

type PgModule = typeof import("pg");
let driver: Promise<PgModule> | null = null;

export function pgDriver(): Promise<PgModule> {
  // pg is CommonJS: its exports arrive as the default export.
  driver ??= import("pg").then((m) => (m.default ?? m) as unknown as PgModule);
  return driver;
}

/** The URL as it may be shown: without its password (and without the query, which may hold one too). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = "";
    u.search = "";
    return u.toString();
  } catch {
    return "postgres://(unreadable URL)";
  }
}

/** SQLSTATE classes and socket errors that mean "the server is not there now", not "the request was wrong". */
export function isUnavailable(e: unknown): boolean {
  const code = String((e as { code?: unknown }).code ?? "");
  const message = String((e as Error).message ?? "");
  return (
    /^(08|57P0|53300)/.test(code) ||
    ["ECONNREFUSED", "ECONNRESET", "ENOTFOUND", "EAI_AGAIN", "ETIMEDOUT", "EPIPE", "EHOSTUNREACH"].includes(
      code,
    ) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      message,
    )
  );
}

export interface Connection {
  pool: Pool;
  where: string;
  /** A KeelError for anything the driver threw: unreachable (retryable) or a failed statement, password scrubbed. */
  explain(e: unknown): KeelError;
}

export async function connect(url: string, options: { max?: number } = {}): Promise<Connection> {
  const pg = await pgDriver();
  const where = redactUrl(url);
  const password = safePassword(url);
  const scrub = (text: string) => (password ? text.split(password).join("***") : text);
  const explain = (e: unknown): KeelError => {
    if (e instanceof KeelError) return e;
    const message = scrub(String((e as Error).message ?? e));
    if (isUnavailable(e)) {
      return new KeelError(
        `the team store at ${where} cannot be reached: ${message}`,
        EXIT.unreadable,
        "check that PostgreSQL is running and reachable, then try again (nothing was changed)",
        undefined,
        STORE_UNAVAILABLE,
      );
    }
    return new KeelError(
      `the team store at ${where} refused a statement: ${message}`,
      EXIT.unreadable,
      "run `keel store status` to see the schema and connection",
      undefined,
      "store-failed",
    );
  };
  const config: PoolConfig = {
    connectionString: url,
    max: options.max ?? 8,
    // A command-line process ends once its work is done, without waiting for idle connections to time out.
    allowExitOnIdle: true,
    connectionTimeoutMillis: 10_000,
    // BIGINT columns (sequence numbers, tokens, lease ends in ms) are well inside 2^53: numbers, not strings.
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format as "text")) as never,
    },
  };
  const pool = new pg.Pool(config);
  // A connection cut while idle (a restart of PostgreSQL) is dropped by the pool; it must not end the process.
  pool.on("error", () => {});
  return { pool, where, explain };
}

function safePassword(url: string): string {
  try {
    return decodeURIComponent(new URL(url).password);
  } catch {
    return "";
  }
}

/** Runs `fn` in one transaction on a client of its own, rolled back when it throws. */
export async function inTransaction<T>(conn: Connection, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await conn.pool.connect();
  } catch (e) {
    throw conn.explain(e);
  }
  let broken = false;
  // A connection cut mid-transaction (PostgreSQL restarting) is also reported as an event: without a listener it
  // would end the process. The query in flight fails, and the connection is not given back.
  const cut = () => {
    broken = true;
  };
  client.on("error", cut);
  try {
    await client.query("BEGIN");
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (e) {
    broken ||= isUnavailable(e);
    if (!broken) await client.query("ROLLBACK").catch(() => {});
    throw conn.explain(e);
  } finally {
    client.off("error", cut);
    // A connection that failed is not given back to be used again.
    client.release(broken);
  }
}
