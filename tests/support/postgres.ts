// A throwaway PostgreSQL cluster for tests: Debian's server binaries (`apt-get install postgresql`, which .ci/run
// does), `initdb` into a temp folder and `pg_ctl` on a free loopback port. Tests skip, saying so, where the binaries
// are absent. Each test file starts its own cluster, or takes its own database of a shared one.
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

const run = promisify(execFile);

/** The newest `/usr/lib/postgresql/<version>/bin` holding initdb (Debian installs versions side by side). */
function findPgBin(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+(\.\d+)?$/.test(v) && existsSync(join(root, v, "bin", "initdb")))
    .sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  return versions[0] === undefined ? undefined : join(root, versions[0], "bin");
}

const FROM_ENV = process.env.KEEL_PG_BIN;
export const PG_BIN: string | undefined =
  FROM_ENV === undefined ? findPgBin() : existsSync(join(FROM_ENV, "initdb")) ? FROM_ENV : undefined;
export const HAS_POSTGRES = PG_BIN !== undefined;
if (!HAS_POSTGRES)
  console.warn(
    `postgres tests skipped: no initdb ${FROM_ENV === undefined ? "under /usr/lib/postgresql/*/bin" : `in KEEL_PG_BIN (${FROM_ENV})`} (apt-get install postgresql)`,
  );

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

const USER = "keel";

/** A port free now: the OS picks it for a listener we close at once (a tiny race we accept, as serve.ts does). */
function freePort(): Promise<number> {
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
 */
function runAs(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ["postgres", "nobody"]) {
    try {
      const id = (flag: string) => Number(execFileSync("id", [flag, name], { encoding: "utf8" }).trim());
      return { name, uid: id("-u"), gid: id("-g") };
    } catch {
      // No such user: try the next one.
    }
  }
  throw new Error("running as root, but neither a postgres nor a nobody user exists to run PostgreSQL as");
}

/**
 * The clean-ups of the clusters still up, run when the process ends, so a test that crashes leaves no server behind
 * (postgres detaches from us and would outlive us). They must be synchronous. Vitest ends its
 * workers with SIGTERM, which skips "exit" handlers: the signal is caught, the clusters stopped, and the signal
 * raised again so that it still ends the process.
 */
const live = new Set<() => void>();
let listening = false;
function atExit(cleanUp: () => void): void {
  live.add(cleanUp);
  if (listening) return;
  listening = true;
  process.once("exit", cleanUpAll);
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.once(signal, () => {
      cleanUpAll();
      process.kill(process.pid, signal);
    });
}
function cleanUpAll(): void {
  for (const cleanUp of live) cleanUp();
  live.clear();
}

type Command = (tool: string, args: string[]) => [string, string[]];

/** initdb with the `keel` superuser and its password, then the settings every start of the cluster uses. */
async function initCluster(c: {
  dir: string;
  data: string;
  password: string;
  port: number;
  owner: ReturnType<typeof runAs>;
  command: Command;
}): Promise<void> {
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

export async function startPostgres(): Promise<PgCluster> {
  if (PG_BIN === undefined) throw new Error("no PostgreSQL binaries (see HAS_POSTGRES)");
  const bin = PG_BIN;
  const owner = runAs();
  const dir = mkdtempSync(join(tmpdir(), "keel-pg-"));
  const data = join(dir, "data");
  const log = join(dir, "server.log");
  const password = randomBytes(18).toString("hex");
  const port = await freePort();

  const command: Command = (tool, args) => {
    const path = join(bin, tool);
    return owner ? ["runuser", ["-u", owner.name, "--", path, ...args]] : [path, args];
  };
  // Always run in the temp folder: as root, the current directory may be one the postgres user cannot enter.
  const pgCtl = async (...args: string[]) => {
    const [file, argv] = command("pg_ctl", ["-D", data, "-w", ...args]);
    try {
      await run(file, argv, { cwd: dir });
    } catch (e) {
      // pg_ctl only says "examine the log output": the reason is in the server's log.
      const tail = existsSync(log) ? readFileSync(log, "utf8").slice(-2000) : "";
      throw new Error(`pg_ctl ${args[0]} failed: ${(e as Error).message}\n${tail}`);
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
  let stopping: Promise<void> | undefined;
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
