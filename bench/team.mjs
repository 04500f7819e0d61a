// Team mode (issue 16): `node bench/run.mjs --only team`. In one run, on one throwaway PostgreSQL cluster
// (scripts/pg-cluster.mjs), three configurations each get a fresh project of 2,000 independent tasks: one server on
// the embedded SQLite store, one server on PostgreSQL, three servers on PostgreSQL (each on its own checkout of one
// bare remote, all on one database). 64 clients race `POST /api/tasks/claim-next` round-robin over the servers
// until each hears that nothing is ready; every task must be granted exactly once. Then the event fan-out: an SSE
// subscriber on server A, claims made one at a time through server C, and the delay from a claim's answer to its
// event on A. Servers, PostgreSQL and the clients share this machine's cores.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HAS_POSTGRES, NO_POSTGRES, startPostgres } from "../scripts/pg-cluster.mjs";
import { writeTeamProject } from "../scripts/team-project.mjs";
import { startServe } from "./issue6.mjs";

const TASKS = 2000;
const CLIENTS = 64;
const FANOUT_CLAIMS = 200;
export const TEAM_TARGET = { claimsPerSecond: 1000, p99Ms: 100 };

const git = (cwd, ...args) => execFileSync("git", args, { cwd, stdio: ["ignore", "pipe", "pipe"] });

/** A bare remote holding a project of `tasks` independent tasks (scripts/team-project.mjs). */
function remoteProject(base, tasks) {
  const seed = join(base, "seed");
  writeTeamProject(seed, tasks, "team-bench");
  git(seed, "init", "-q", "-b", "main");
  git(seed, "add", "-A");
  git(seed, "-c", "user.name=Bench", "-c", "user.email=bench@example.org", "commit", "-qm", "team bench");
  const remote = join(base, "remote.git");
  git(base, "clone", "-q", "--bare", seed, remote);
  return remote;
}

function checkout(remote, base, name) {
  const dir = join(base, name);
  git(base, "clone", "-q", remote, dir);
  return dir;
}

const quantile = (sorted, q) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0;

/** 64 clients claim-next round-robin until each hears "nothing ready"; a 503 is retried after its Retry-After. */
async function race(servers) {
  const latencies = [];
  const grants = [];
  let retried = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, client) => {
      for (let turn = client; ; turn++) {
        const server = servers[turn % servers.length];
        const t = performance.now();
        const res = await fetch(`${server.url}/api/tasks/claim-next`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        });
        const body = await res.json();
        latencies.push(performance.now() - t);
        if (res.status === 503) {
          retried++;
          await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
          continue;
        }
        if (res.status !== 200) throw new Error(`claim-next answered ${res.status}: ${JSON.stringify(body)}`);
        if (body.result === null) return;
        grants.push(body.result);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const ids = new Set(grants.map((g) => g.taskId));
  const tokens = new Set(grants.map((g) => g.token));
  if (grants.length !== TASKS || ids.size !== TASKS || tokens.size !== TASKS)
    throw new Error(
      `${grants.length} grants for ${ids.size} tasks with ${tokens.size} tokens: expected ${TASKS} of each`,
    );
  latencies.sort((a, b) => a - b);
  return {
    claims: grants.length,
    seconds,
    perSecond: grants.length / seconds,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    retried,
  };
}

/** The events of `/events` on `url`, as they arrive. */
async function subscribe(url) {
  const res = await fetch(`${url}/events`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const waiting = new Map();
  const seen = new Map();
  let buffer = "";
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let end = buffer.indexOf("\n\n");
      while (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const type = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (type !== "task.claimed" || !data) continue;
        const target = JSON.parse(data).target;
        const at = performance.now();
        seen.set(target, at);
        waiting.get(target)?.(at);
      }
    }
  })();
  return {
    /** When the claim of `target` arrived (now or later). */
    arrival: (target) =>
      seen.has(target) ? Promise.resolve(seen.get(target)) : new Promise((r) => waiting.set(target, r)),
    close: () => reader.cancel().catch(() => {}),
  };
}

/**
 * Claims one at a time through `via`; for each, when its event reached `feedOf`'s stream, measured from the moment
 * the claim was sent (an upper bound on the fan-out: it includes the claim itself) and from its answer (the event
 * often arrives first: NOTIFY is delivered at commit, before the answer is written).
 */
async function fanout(feedOf, via) {
  const feed = await subscribe(feedOf.url);
  const fromSend = [];
  const fromAnswer = [];
  try {
    for (let i = 0; i < FANOUT_CLAIMS; i++) {
      const sent = performance.now();
      const res = await fetch(`${via.url}/api/tasks/claim-next`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const answered = performance.now();
      const { result } = await res.json();
      if (!result) break;
      const arrived = await feed.arrival(result.taskId);
      fromSend.push(arrived - sent);
      fromAnswer.push(arrived - answered);
    }
  } finally {
    feed.close();
  }
  fromSend.sort((a, b) => a - b);
  fromAnswer.sort((a, b) => a - b);
  return {
    events: fromSend.length,
    p50: quantile(fromSend, 0.5),
    p99: quantile(fromSend, 0.99),
    afterAnswerP50: quantile(fromAnswer, 0.5),
    afterAnswerP99: quantile(fromAnswer, 0.99),
  };
}

async function configuration(keel, cluster, name, count, team, log) {
  const base = mkdtempSync(join(tmpdir(), `keel-bench-team-${name}-`));
  try {
    const remote = remoteProject(base, TASKS);
    const roots = Array.from({ length: count }, (_, i) => checkout(remote, base, `s${i}`));
    const env = team ? { KEEL_STORE_URL: await cluster.database(`bench_${name}`) } : {};
    if (team)
      execFileSync(process.execPath, [keel, "store", "migrate"], {
        cwd: roots[0],
        env: { ...process.env, ...env },
      });
    const servers = await Promise.all(roots.map((root) => startServe(keel, root, [], env)));
    try {
      const claims = await race(servers);
      log(
        `team: ${name}: ${claims.perSecond.toFixed(0)} claims/s, p50 ${claims.p50.toFixed(0)} ms, p99 ${claims.p99.toFixed(0)} ms`,
      );
      const rssMb = Math.max(...servers.map((s) => s.peakRssMb() ?? 0));
      return {
        name,
        servers: count,
        store: team ? "postgres" : "sqlite",
        ...claims,
        rssMb,
      };
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

/** The fan-out on a fresh 3-server project of its own (the race left none of the first one's tasks free). */
async function fanoutRun(keel, cluster) {
  const base = mkdtempSync(join(tmpdir(), "keel-bench-team-fanout-"));
  try {
    const remote = remoteProject(base, FANOUT_CLAIMS);
    const roots = ["a", "b", "c"].map((n) => checkout(remote, base, n));
    const env = { KEEL_STORE_URL: await cluster.database("bench_fanout") };
    execFileSync(process.execPath, [keel, "store", "migrate"], {
      cwd: roots[0],
      env: { ...process.env, ...env },
    });
    const servers = await Promise.all(roots.map((root) => startServe(keel, root, [], env)));
    try {
      return await fanout(servers[0], servers[2]);
    } finally {
      await Promise.all(servers.map((s) => s.stop()));
    }
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

export async function runTeamBench({ keel, log }) {
  if (!HAS_POSTGRES) {
    log(`team: skipped, ${NO_POSTGRES}`);
    return null;
  }
  const cluster = await startPostgres();
  try {
    const sqlite = await configuration(keel, cluster, "sqlite-1", 1, false, log);
    const pg1 = await configuration(keel, cluster, "postgres-1", 1, true, log);
    const pg3 = await configuration(keel, cluster, "postgres-3", 3, true, log);
    const fan = await fanoutRun(keel, cluster);
    log(
      `team: fan-out A←C: p50 ${fan.p50.toFixed(0)} ms, p99 ${fan.p99.toFixed(0)} ms over ${fan.events} events`,
    );
    return { runs: [sqlite, pg1, pg3], fanout: fan };
  } finally {
    await cluster.stop();
  }
}

export function printTeam(r) {
  const base = r.runs[0].perSecond;
  console.log(`\nTeam mode (issue #16): ${CLIENTS} clients racing claim-next over ${TASKS} tasks`);
  console.log("configuration        claims/s  ratio   p50 ms   p99 ms  503s  server peak RSS");
  for (const run of r.runs)
    console.log(
      `${`${run.servers} × ${run.store}`.padEnd(20)} ${run.perSecond.toFixed(0).padStart(8)}  ${(run.perSecond / base).toFixed(2).padStart(5)}×  ${run.p50.toFixed(0).padStart(7)}  ${run.p99.toFixed(0).padStart(7)}  ${String(run.retried).padStart(4)}  ${run.rssMb.toFixed(0)} MB`,
    );
  const pg3 = r.runs[2];
  const met = pg3.perSecond >= TEAM_TARGET.claimsPerSecond && pg3.p99 < TEAM_TARGET.p99Ms;
  console.log(
    `target: ≥ ${TEAM_TARGET.claimsPerSecond} claims/s with 3 servers, p99 < ${TEAM_TARGET.p99Ms} ms: ${met ? "met" : `MISSED (${pg3.perSecond.toFixed(0)} claims/s, p99 ${pg3.p99.toFixed(0)} ms)`}`,
  );
  const f = r.fanout;
  console.log(
    `event fan-out, claim sent to C until its event on A's SSE: p50 ${f.p50.toFixed(1)} ms, p99 ${f.p99.toFixed(1)} ms (${f.events} events); after C's answer: p50 ${f.afterAnswerP50.toFixed(1)} ms, p99 ${f.afterAnswerP99.toFixed(1)} ms`,
  );
}
