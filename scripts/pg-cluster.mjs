// A throwaway PostgreSQL cluster, for the tests (tests/support/postgres.ts re-exports it with its types) and the
// team bench (bench/team.mjs): Debian's server binaries (`apt-get install postgresql`, which .ci/run does),
// `initdb` into a temp folder and `pg_ctl` on a free loopback port. Callers skip, saying so, where the binaries
// are absent. Each caller starts its own cluster, or takes its own database of a shared one.
// Plain JavaScript so that a bench run by `node` can use it as it is; scripts/pg-cluster.d.mts gives the types.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

/** @typedef {import("./pg-cluster.d.mts").PgCluster} PgCluster */
/** @typedef {{ name: string, uid: number, gid: number }} Owner */
/** @typedef {(tool: string, args: string[]) => [string, string[]]} Command */

const run = promisify(execFile);

/**
 * The newest `/usr/lib/postgresql/<version>/bin` holding initdb (Debian installs versions side by side).
 * @returns {string | undefined}
 */
function findPgBin() {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

const FROM_ENV = process.env.KEEL_PG_BIN;
/** @type {string | undefined} */
export const PG_BIN =
  FROM_ENV === undefined ? findPgBin() : existsSync(join(FROM_ENV, "initdb")) ? FROM_ENV : undefined;
export const HAS_POSTGRES = PG_BIN !== undefined;
/** Why there is no cluster to start, for the caller's skip message; undefined when there is one. */
export const NO_POSTGRES = HAS_POSTGRES
  ? undefined
  : `no initdb ${FROM_ENV === undefined ? "under /usr/lib/postgresql/*/bin" : `in KEEL_PG_BIN (${FROM_ENV})`} (apt-get install postgresql)`;

const USER = "keel";

/**
 * A port free now: the OS picks it for a listener we close at once (a tiny race we accept, as serve.ts does).
 * @returns {Promise<number>}
 */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}

/**
 * PostgreSQL refuses to run as root, so as root every binary runs as the `postgres` user Debian's package creates
 * (or `nobody`), which must then own the temp folder.
 * @returns {Owner | undefined}
 */
function runAs() {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      /** @param {string} flag */
      const id = (flag) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
      return { name, uid: id("-u"), gid: id("-g") };
    } catch {
      // No such user: try the next one.
    }
  }
  throw new Error("running as root, but neither a postgres nor a nobody user exists to run PostgreSQL as");
}

/**
 * The clean-ups of the clusters still up, run when the process ends, so a caller that crashes leaves no server
 * behind (postgres detaches from us and would outlive us). They must be synchronous. Vitest ends its workers with
 * SIGTERM, which skips "exit" handlers: the signal is caught, the clusters stopped, and the signal raised again so
 * that it still ends the process.
 * @type {Set<() => void>}
 */
const live = new Set();
let listening = false;
/** @param {() => void} cleanUp */
function atExit(cleanUp) {
  live.add(cleanUp);
  if (listening) return;
  listening = true;
  process.once("exit", cleanUpAll);
  for (const signal of /** @type {const} */ (["SIGTERM", "SIGINT"]))
    process.once(signal, () => {
      cleanUpAll();
      process.kill(process.pid, signal);
    });
}
function cleanUpAll() {
  for (const cleanUp of live) cleanUp();
  live.clear();
}

/**
 * initdb with the `keel` superuser and its password, then the settings every start of the cluster uses.
 * @param {{ dir: string, data: string, password: string, port: number, owner: Owner | undefined, command: Command }} c
 */
async function initCluster(c) {
  const pwfile = join(c.dir, "pwfile");
  writeFileSync(pwfile, `${c.password}\n`, { mode: 0o600 });
  if (c.owner) {
    chownSync(c.dir, c.owner.uid, c.owner.gid);
    chownSync(pwfile, c.owner.uid, c.owner.gid);
  }
  const help = await run(...c.command("initdb", ["--help"]), { cwd: c.dir });
  const args = ["-D", c.data, "-U", USER, `--pwfile=${pwfile}`, "--auth=scram-sha-256", "-E", "UTF8"];
  // The C locale: initdb then never fails on a machine whose locale lacks UTF-8, and text sorts by bytes.
  // --no-sync skips initdb's closing fsync of the fresh files (a second of each start), which guards nothing a
  // throwaway needs; the server's fsync, which commits rely on, stays on.
  args.push("--locale=C", "--no-sync");
  if (help.stdout.includes("--no-instructions")) args.push("--no-instructions");
  await run(...c.command("initdb", args), { cwd: c.dir });
  rmSync(pwfile);
  // In postgresql.conf rather than `pg_ctl -o`, so restart and resume keep the same port and socket by themselves.
  // fsync stays on: the bench measures real commits.
  const settings = {
    listen_addresses: "127.0.0.1",
    port: String(c.port),
    unix_socket_directories: c.dir,
    max_connections: "200",
  };
  const lines = Object.entries(settings).map(([key, value]) => `${key} = '${value}'`);
  writeFileSync(join(c.data, "postgresql.conf"), `\n${lines.join("\n")}\n`, { flag: "a" });
}

/** @returns {Promise<PgCluster>} */
export async function startPostgres() {
  if (PG_BIN === undefined) throw new Error("no PostgreSQL binaries (see HAS_POSTGRES)");
  const bin = PG_BIN;
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), "keel-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  const password = randomBytes(18).toString("hex");
  const port = await freePort();

  /** @type {Command} */
  const command = (tool, args) => {
    const path = join(bin, tool);
    return owner ? ["runuser", ["-u", owner.name, "--", path, ...args]] : [path, args];
  };
  /**
   * Always run in the temp folder: as root, the current directory may be one the postgres user cannot enter.
   * @param {string[]} args
   */
  const pgCtl = async (...args) => {
    const [file, argv] = command("pg_ctl", ["-D", data, "-w", ...args]);
    try {
      await run(file, argv, { cwd: dir });
    } catch (e) {
      // pg_ctl only says "examine the log output": the reason is in the server's log.
      const tail = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "";
      throw new Error(`pg_ctl ${args[0]} failed: ${/** @type {Error} */ (e).message}\n${tail}`);
    }
  };

  let running = false;
  // spawnSync, which does not throw: a server that already died must not keep its folder from being removed.
  const onExit = () => {
    if (running) spawnSync(...command("pg_ctl", ["-D", data, "-w", "-m", "immediate", "stop"]), { cwd: dir });
    rmSync(dir, { recursive: true, force: true });
  };
  atExit(onExit);
  const start = async () => {
    await pgCtl("-l", log, "start");
    running = true;
  };
  const halt = async () => {
    if (!running) return;
    await pgCtl("-m", "fast", "stop");
    running = false;
  };

  try {
    await initCluster({ dir, data, password, port, owner, command });
    await start();
  } catch (e) {
    live.delete(onExit);
    onExit();
    throw e;
  }

  const url = `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`;
  let databases = 0;
  /** @type {Promise<void> | undefined} */
  let stopping;
  return {
    url,
    host: "127.0.0.1",
    port,
    user: USER,
    password,
    dir,
    async database(name = "keel") {
      databases += 1;
      // Short enough that PostgreSQL never truncates the name (63 bytes), which would break the URL.
      const prefix = name
        .toLowerCase()
        .replace(/[^a-z0-9_]/g, "_")
        .slice(0, 40);
      const db = `${prefix}_${databases}_${randomBytes(4).toString("hex")}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return `postgres://${USER}:${password}@127.0.0.1:${port}/${db}`;
    },
    stop() {
      stopping ??= halt().finally(() => {
        live.delete(onExit);
        rmSync(dir, { recursive: true, force: true });
      });
      return stopping;
    },
    // -l again: without it the restarted server would write to pg_ctl's stdout, which this process then waits on.
    async restart() {
      await pgCtl("-m", "fast", "-l", log, "restart");
      running = true;
    },
    halt,
    resume: start,
  };
}
