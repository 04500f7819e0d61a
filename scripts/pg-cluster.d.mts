// The types of scripts/pg-cluster.mjs, for the TypeScript tests that use it through tests/support/postgres.ts.

/** The newest PostgreSQL server binaries' folder (KEEL_PG_BIN, else Debian's), or undefined if there are none. */
export const PG_BIN: string | undefined;
export const HAS_POSTGRES: boolean;
/** Why there is no cluster to start, for the caller's skip message; undefined when there is one. */
export const NO_POSTGRES: string | undefined;

export interface PgCluster {
  /** `postgres://keel:<password>@127.0.0.1:<port>/postgres`: the superuser on the maintenance database. */
  url: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The temp folder holding the data directory, the socket and the server log. */
  dir: string;
  /** Creates a database of a fresh unique name (`name` is its readable prefix) and resolves to its URL. */
  database(name?: string): Promise<string>;
  /** Stops the server and removes its folder; safe to call twice, and called on process exit. */
  stop(): Promise<void>;
  /** `pg_ctl restart -m fast`: connections in flight are cut, as a real restart does. */
  restart(): Promise<void>;
  /** Stops the server (fast) but keeps its data, so a test can see PostgreSQL down. */
  halt(): Promise<void>;
  /** Starts a halted server again, on the same port. */
  resume(): Promise<void>;
}

/** initdb into a temp folder and pg_ctl start on a free loopback port, as the postgres user when run as root. */
export function startPostgres(): Promise<PgCluster>;
