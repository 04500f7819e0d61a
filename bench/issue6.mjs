// Issue 6 benchmarks (`node bench/run.mjs --only serve`, or `node bench/issue6.mjs [--quick] [--seconds S]`):
//   - load: 32 MCP clients (the official SDK client over Streamable HTTP), each a distinct agent, run a mixed
//     read and claim workload against one `keel serve --port 0` for 30 s (8 s with --quick). Reports p50/p99
//     latency per operation and overall, calls per second, errors (must be 0; legitimate refusals are counted
//     apart), and double claims (must be 0), checked twice: from the audit log in .keel/state.db (read-only)
//     and from the clients' own records of their grants. Also the server's peak RSS.
//   - fan-out: 100 subscribers on GET /events of the same server; claims and completions over MCP and spec
//     files saved on disk; reports the delay from each change to its delivery at every subscriber, and that
//     every subscriber received every event.
//   - for reference, keel_ready_tasks on an idle server against one `task-master next` CLI call on the same
//     graph (task-master-ai from the bench cache, as in bench/issue4.mjs; skipped with a message if missing).
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { buildCorpus, writeCorpus } from "./gen.mjs";
import { writeTaskmasterTasks } from "./gen-tasks.mjs";
import { TASKMASTER_VERSION, taskmaster } from "./issue4.mjs";
import { commitTree } from "./issue5.mjs";
import { measure } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const ENV = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0" };

export const SERVE_DEFAULTS = { clients: 32, seconds: 30, quickSeconds: 8, subscribers: 100 };
/** An event not delivered within this long counts as lost (the issue asks for edits visible within 1 s). */
const DELIVERY_TIMEOUT_MS = 5_000;

// ---------------------------------------------------------------------------------------------------------
// The project: a generated spec corpus (bench/gen.mjs) plus a task graph whose tasks cover its requirements.

const CAPS = 40;
const REQS = 10;
const FEATURES = 6;
const PER_FEATURE = 200;
/** Within a feature, tasks come in chains of this length: the first of each chain is ready at the start. */
const CHAIN = 3;

/**
 * Tasks in the shape of bench/gen-tasks.mjs (id, feature, title, deps, done, priority) plus `covers`. Nothing
 * is done at the start; completing a task makes the next one of its chain ready, so the queue keeps moving.
 */
function buildServeGraph() {
  const tasks = [];
  const priorities = ["high", "medium", "medium", "low"];
  for (let id = 1; id <= FEATURES * PER_FEATURE; id++) {
    const inFeature = (id - 1) % PER_FEATURE;
    const cap = 1 + (id % CAPS);
    tasks.push({
      id,
      feature: `feature-${String(Math.ceil(id / PER_FEATURE)).padStart(3, "0")}`,
      title: `Implement step ${id} of the rollout`,
      deps: inFeature % CHAIN === 0 ? [] : [id - 1],
      done: false,
      priority: priorities[id % priorities.length],
      covers: [`CAP${cap}-${1 + (id % REQS)}`],
    });
  }
  return tasks;
}

function writeFile(root, rel, text) {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), text);
}

/** Writes the Keel project (specs, constitution, tasks, annotated code; one commit) and returns what the workload needs to name. */
export function writeServeProject(root) {
  const corpus = buildCorpus({ caps: CAPS, reqs: REQS, seed: 6, changes: 0 });
  writeCorpus(corpus, "keel", root);
  writeFile(
    root,
    "keel/constitution.md",
    "# Constitution\n\n## Principles\n\n### Principle: Every requirement is tested {#P-1}\n" +
      "Each requirement names at least one test that verifies it.\n\n" +
      "### Principle: Refunds never move money twice {#P-2}\nIdempotency keys are honoured everywhere.\n",
  );
  const graph = buildServeGraph();
  const byFeature = new Map();
  for (const t of graph) byFeature.set(t.feature, [...(byFeature.get(t.feature) ?? []), t]);
  for (const [feature, list] of byFeature) {
    const lines = [`# Tasks: ${feature}`, ""];
    for (const t of list) {
      lines.push(`- [ ] T${t.id} ${t.title}`);
      if (t.deps.length > 0) lines.push(`  - depends-on: ${t.deps.map((d) => `T${d}`).join(", ")}`);
      lines.push(`  - priority: ${t.priority}`);
      lines.push(`  - covers: ${t.covers.join(", ")}`);
    }
    writeFile(root, `keel/changes/${feature}/tasks.md`, `${lines.join("\n")}\n`);
  }
  // Code annotated with the requirements it implements, all committed: keel_requirement traces a real
  // repository (scan cache, blame baselines), as it would in a user's project.
  for (const cap of corpus.caps)
    writeFile(
      root,
      `src/${cap.name}.ts`,
      cap.requirements.map((r, i) => `// @req ${r.id}\nexport const r${i} = ${i};\n`).join("\n"),
    );
  writeFile(root, ".gitignore", ".keel/\n");
  commitTree(root, "Generated project");
  return {
    graph,
    capabilities: corpus.caps.map((c) => c.name),
    requirements: corpus.caps.flatMap((c) => c.requirements.map((r) => r.id)),
    taskKeys: graph.map((t) => `${t.feature}/T${t.id}`),
    words: ["reconciled", "refund", "retry", "audit", "export", "session", "invoice", "quota"],
  };
}

// ---------------------------------------------------------------------------------------------------------
// The server

let ticks = null;
function clockTicks() {
  ticks ??= Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
  return ticks;
}

/**
 * Node options for the servers the bench starts, e.g. KEEL_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=prof" to
 * profile them (NODE_OPTIONS refuses --cpu-prof); summarise with bench/profile-summary.mjs.
 */
const SERVER_NODE_ARGS = (process.env.KEEL_BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");

/** `keel serve --port 0 …args` in `cwd` (with `env` added); resolves once it printed its URL. Shared with bench/web.mjs and bench/team.mjs. */
export async function startServe(keel, cwd, args = [], env = {}) {
  const child = spawn(process.execPath, [...SERVER_NODE_ARGS, keel, "serve", "--port", "0", ...args], {
    cwd,
    env: { ...ENV, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const first = await new Promise((resolveLine, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once("line", resolveLine);
    child.once("exit", (code) =>
      reject(new Error(`keel serve exited with ${code}: ${stderr.trim().split("\n")[0] ?? ""}`)),
    );
  });
  const m = /^keel serve: (http:\/\/[^\s]+)$/.exec(first);
  if (!m) {
    child.kill("SIGTERM");
    throw new Error(`keel serve printed "${first}", not its URL`);
  }
  return {
    child,
    url: m[1],
    port: Number(new URL(m[1]).port),
    /** CPU seconds the server used so far (user + system, from /proc); null where /proc is absent. */
    cpuSeconds() {
      try {
        const stat = readFileSync(`/proc/${child.pid}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        return (Number(fields[11]) + Number(fields[12])) / clockTicks();
      } catch {
        return null;
      }
    },
    /** The kernel's high-water mark of the server's resident set (VmHWM), in MB; null where /proc is absent. */
    peakRssMb() {
      try {
        const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
        const kb = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
        return kb ? Number(kb[1]) / 1024 : null;
      } catch {
        return null;
      }
    },
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((done) => child.once("exit", (code) => done(code)));
      child.kill("SIGTERM");
      return exited;
    },
    stderr: () => stderr,
  };
}

// ---------------------------------------------------------------------------------------------------------
// MCP clients

async function loadSdk() {
  const [{ Client }, { StreamableHTTPClientTransport }, { StdioClientTransport }] = await Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
  ]);
  return { Client, StreamableHTTPClientTransport, StdioClientTransport };
}

async function connectClient(sdk, url, name) {
  const client = new sdk.Client({ name, version: "1.0.0" });
  await client.connect(new sdk.StreamableHTTPClientTransport(new URL("/mcp", url)));
  return client;
}

function textOf(result) {
  return (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("\n");
}

/**
 * A refusal the core is entitled to make under contention (another agent got there first, nothing is ready):
 * counted apart from errors. Anything else an `isError` result says is an error.
 */
const LEGITIMATE_REFUSALS = new Set(["claim-held", "claim-closed"]);

function refusalCode(result) {
  return /^error \[([^\]]+)\]/.exec(textOf(result))?.[1] ?? null;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summarize(values) {
  const s = values.slice().sort((a, b) => a - b);
  return {
    n: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    max: s.length > 0 ? s[s.length - 1] : null,
  };
}

const READS = ["ready", "search", "requirement", "context", "resource"];

/** One agent's loop: reads in between a claim → heartbeat → complete cycle, until the deadline. */
async function agentLoop({ client, index, project, deadline, record }) {
  const as = `agent:bench-${index}`;
  let step = index; // clients start at different points of the cycle
  let held = null;
  const pick = (list, n) => list[(index * 7919 + n * 104729) % list.length];
  const call = async (kind, fn) => {
    const t0 = performance.now();
    try {
      const r = await fn();
      record(kind, performance.now() - t0, r);
      return r;
    } catch (e) {
      record(kind, performance.now() - t0, null, e);
      return null;
    }
  };
  const tool = (name, args) => call(name, () => client.callTool({ name, arguments: args }));
  const read = async (kind, n) => {
    switch (kind) {
      case "ready":
        return tool("keel_ready_tasks", { limit: 20 });
      case "search":
        return tool("keel_search", { query: pick(project.words, n), limit: 10 });
      case "requirement":
        return tool("keel_requirement", { id: pick(project.requirements, n) });
      case "context":
        return tool("keel_context", { task: pick(project.taskKeys, n), budget: 4000 });
      default: {
        const uris = [
          "keel://constitution",
          `keel://spec/${pick(project.capabilities, n)}`,
          `keel://requirement/${pick(project.requirements, n)}`,
          `keel://task/${pick(project.taskKeys, n)}`,
        ];
        return call("resources/read", () => client.readResource({ uri: uris[n % uris.length] }));
      }
    }
  };
  // The cycle: 8 calls, 5 reads and 3 claim operations.
  for (let n = 0; ; n++) {
    const phase = step++ % 8;
    if (performance.now() >= deadline && held === null) break;
    if (phase === 1 && performance.now() < deadline) {
      const sent = performance.now();
      const r = await tool("keel_claim_task", { next: true, as, ttl: "10m" });
      const s = r?.structuredContent;
      if (s?.claimed) {
        held = { task: s.task, token: s.token, holder: s.holder, sent, granted: performance.now(), as };
        record.grant(held);
      }
    } else if (phase === 3 && held) {
      await tool("keel_heartbeat", { task: held.task, token: held.token, ttl: "10m" });
    } else if (phase === 6 && held) {
      const sent = performance.now();
      const r = await tool("keel_complete_task", {
        task: held.task,
        token: held.token,
      });
      held.endSent = sent;
      held.ended = r && !r.isError ? performance.now() : null;
      held = null;
    } else if (performance.now() < deadline) {
      await read(READS[(phase + n) % READS.length], n);
    } else if (held) {
      // Past the deadline: finish the cycle (heartbeat and complete) and stop.
      step = phase < 3 ? 3 : 6;
    }
  }
}

/**
 * Replays the audit log in commit order (seq): a task.claim while the task's previous claim is neither ended
 * (done, release, block) nor past its lease, as of the new claim's own time, is a double claim; a heartbeat or
 * an end under a token that is not the task's current one is a fencing failure.
 */
async function auditDoubleClaims(root) {
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(join(root, ".keel", "state.db"), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        "SELECT seq, at, actor, action, target, data FROM events WHERE action LIKE 'task.%' ORDER BY seq",
      )
      .all();
    const current = new Map();
    let claims = 0;
    let doubleClaims = 0;
    let fencingFailures = 0;
    const tokens = new Set();
    let duplicateTokens = 0;
    const examples = [];
    for (const r of rows) {
      const data = r.data ? JSON.parse(r.data) : {};
      const held = current.get(r.target);
      if (r.action === "task.claim") {
        claims++;
        if (tokens.has(data.token)) duplicateTokens++;
        tokens.add(data.token);
        if (held && !held.ended && held.until > Date.parse(r.at)) {
          doubleClaims++;
          if (examples.length < 3)
            examples.push(
              `${r.target}: ${held.holder} (token ${held.token}) and ${r.actor} (token ${data.token})`,
            );
        }
        current.set(r.target, {
          holder: r.actor,
          token: data.token,
          until: Date.parse(data.leaseUntil),
          ended: false,
        });
      } else if (["task.heartbeat", "task.done", "task.release", "task.block"].includes(r.action)) {
        if (!held || held.token !== data.token || held.ended) {
          fencingFailures++;
          continue;
        }
        if (r.action === "task.heartbeat") held.until = Date.parse(data.leaseUntil);
        else held.ended = true;
      }
    }
    const claimRows = db.prepare("SELECT count(*) AS n FROM claims WHERE status = 'claimed'").get().n;
    return { claims, doubleClaims, fencingFailures, duplicateTokens, stillClaimed: claimRows, examples };
  } finally {
    db.close();
  }
}

/** The clients' own records: grants of one task, by token; a later grant before the earlier one ended overlaps. */
function clientDoubleClaims(grants) {
  const byTask = new Map();
  for (const g of grants) byTask.set(g.task, [...(byTask.get(g.task) ?? []), g]);
  let overlapping = 0;
  let tasksGrantedTwice = 0;
  for (const list of byTask.values()) {
    if (list.length > 1) tasksGrantedTwice++;
    list.sort((a, b) => a.token - b.token);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      // The earlier grant was live at least until its complete was sent (forever, if it never completed).
      const prevEnd =
        prev.ended === null || prev.ended === undefined ? Number.POSITIVE_INFINITY : prev.endSent;
      if (list[i].granted < prevEnd) overlapping++;
    }
  }
  const tokens = new Set(grants.map((g) => g.token));
  return { overlapping, tasksGrantedTwice, duplicateTokens: grants.length - tokens.size };
}

async function runLoad({ sdk, server, project, root, clients, seconds, log }) {
  log(`  load: ${clients} MCP clients for ${seconds} s`);
  const connected = await Promise.all(
    Array.from({ length: clients }, (_, i) => connectClient(sdk, server.url, `bench-${i}`)),
  );
  // Warm-up, not timed: one of each call builds the index and the ready cache as any first caller would.
  const warm = connected[0];
  await warm.callTool({ name: "keel_ready_tasks", arguments: {} });
  await warm.callTool({ name: "keel_search", arguments: { query: "refund" } });
  await warm.callTool({ name: "keel_requirement", arguments: { id: project.requirements[0] } });
  await warm.callTool({ name: "keel_context", arguments: { task: project.taskKeys[0] } });
  await warm.readResource({ uri: "keel://constitution" });

  const latencies = new Map();
  const errors = new Map();
  const refusals = new Map();
  const grants = [];
  let calls = 0;
  const record = (kind, ms, result, thrown) => {
    calls++;
    if (!latencies.has(kind)) latencies.set(kind, []);
    latencies.get(kind).push(ms);
    if (thrown) {
      const line = `${kind}: ${thrown.message.split("\n")[0]}`;
      errors.set(line, (errors.get(line) ?? 0) + 1);
    } else if (result?.isError) {
      const code = refusalCode(result);
      const line = `${kind}: ${textOf(result).split("\n")[0]}`;
      if (code && LEGITIMATE_REFUSALS.has(code)) refusals.set(line, (refusals.get(line) ?? 0) + 1);
      else errors.set(line, (errors.get(line) ?? 0) + 1);
    } else if (kind === "keel_claim_task" && result?.structuredContent?.claimed === false) {
      const line = `${kind}: no task is ready`;
      refusals.set(line, (refusals.get(line) ?? 0) + 1);
    }
  };
  record.grant = (g) => grants.push(g);
  const cpuBefore = server.cpuSeconds();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    connected.map((client, index) => agentLoop({ client, index, project, deadline, record })),
  );
  const elapsed = (performance.now() - started) / 1000;
  const cpuAfter = server.cpuSeconds();
  await Promise.all(connected.map((c) => c.close()));

  const byOp = {};
  const all = [];
  for (const [kind, list] of [...latencies].sort(([a], [b]) => a.localeCompare(b))) {
    byOp[kind] = summarize(list);
    all.push(...list);
  }
  const audit = await auditDoubleClaims(root);
  const own = clientDoubleClaims(grants);
  const errorCount = [...errors.values()].reduce((a, b) => a + b, 0);
  const refusalCount = [...refusals.values()].reduce((a, b) => a + b, 0);
  const completed = grants.filter((g) => g.ended).length;
  const result = {
    what: `${clients} MCP clients (SDK, Streamable HTTP), mixed reads and claims, ${seconds} s`,
    clients,
    seconds: elapsed,
    calls,
    perSecond: calls / elapsed,
    overall: summarize(all),
    byOp,
    errors: errorCount,
    errorLines: [...errors].map(([l, n]) => `${n} × ${l}`),
    refusals: refusalCount,
    refusalLines: [...refusals].map(([l, n]) => `${n} × ${l}`),
    /** The server's CPU time over the wall time of the run: near 1 means its one thread was saturated. */
    serverCpuShare: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / elapsed,
    grants: grants.length,
    completed,
    doubleClaims: audit.doubleClaims + own.overlapping,
    audit,
    clientRecords: own,
    pass:
      errorCount === 0 &&
      audit.doubleClaims === 0 &&
      audit.duplicateTokens === 0 &&
      audit.fencingFailures === 0 &&
      own.overlapping === 0 &&
      own.duplicateTokens === 0 &&
      audit.claims === grants.length,
  };
  log(
    `  load: ${calls} calls in ${elapsed.toFixed(1)} s (${result.perSecond.toFixed(0)}/s), p50 ` +
      `${result.overall.p50?.toFixed(1)} ms, p99 ${result.overall.p99?.toFixed(1)} ms, ${grants.length} claims ` +
      `(${completed} completed), ${errorCount} errors, ${refusalCount} refusals, ${result.doubleClaims} double claims`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// SSE fan-out

/** A GET /events stream parsed as it arrives; `events` holds { type, data, receivedAt } (Date.now() ms). */
function subscribe(port) {
  return new Promise((resolveSub, reject) => {
    const events = [];
    const sub = { events, onEvent: null, close: null };
    const req = request({ host: "127.0.0.1", port, path: "/events", agent: false }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`GET /events answered ${res.statusCode}`));
        res.resume();
        return;
      }
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        const receivedAt = Date.now();
        buf += d;
        for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let type = null;
          let data = null;
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data = line.slice(6);
          }
          if (type === null || data === null) continue;
          const e = { type, data: JSON.parse(data), receivedAt };
          events.push(e);
          sub.onEvent?.(e);
        }
      });
      sub.close = () => req.destroy();
      resolveSub(sub);
    });
    req.on("error", (e) => (sub.close ? undefined : reject(e)));
    req.end();
  });
}

/**
 * Waits until every subscriber has an event matching `pred` among those it received after `marks[i]` events
 * (its count when the change was made), or `timeoutMs` passes; returns the receive time per subscriber (null
 * where none came).
 */
function deliveries(subs, marks, pred, timeoutMs) {
  return new Promise((done) => {
    const got = subs.map((s, i) => s.events.slice(marks[i]).find(pred)?.receivedAt ?? null);
    let left = got.filter((t) => t === null).length;
    const finish = () => {
      clearTimeout(timer);
      for (const s of subs) s.onEvent = null;
      done(got);
    };
    const timer = setTimeout(finish, timeoutMs);
    if (left === 0) {
      finish();
      return;
    }
    subs.forEach((s, i) => {
      s.onEvent = (e) => {
        if (got[i] === null && pred(e)) {
          got[i] = e.receivedAt;
          if (--left === 0) finish();
        }
      };
    });
  });
}

async function runFanOut({ sdk, server, project, root, subscribers, rounds, log }) {
  log(`  fan-out: ${subscribers} subscribers on GET /events, ${rounds} rounds of changes`);
  const subs = await Promise.all(Array.from({ length: subscribers }, () => subscribe(server.port)));
  const client = await connectClient(sdk, server.url, "bench-fanout");
  const delays = { "task.claimed": [], "task.done": [], "spec.edited": [] };
  let expected = 0;
  let delivered = 0;
  const missing = [];
  /**
   * Waits for `pred` at every subscriber; the delay is counted from `changedAt`, or, for an audit event, from
   * the event's own timestamp (the moment the change was committed, on the same clock).
   */
  const track = async (label, marks, type, pred, changedAt = null) => {
    const match = (e) => e.type === type && pred(e);
    const got = await deliveries(subs, marks, match, DELIVERY_TIMEOUT_MS);
    const seen = subs.flatMap((s, i) => s.events.slice(marks[i])).find(match);
    const from = changedAt ?? (seen ? Date.parse(seen.data.at) : null);
    for (const t of got) {
      expected++;
      if (t === null || from === null) continue;
      delivered++;
      delays[type].push(t - from);
    }
    const lost = got.filter((t) => t === null).length;
    if (lost > 0) missing.push(`${label}: ${lost} of ${subs.length} subscribers did not get ${type}`);
  };
  const specs = project.capabilities;
  const mark = () => subs.map((s) => s.events.length);
  for (let r = 0; r < rounds; r++) {
    let marks = mark();
    const claimed = await client.callTool({
      name: "keel_claim_task",
      arguments: { next: true, as: "agent:bench-fanout" },
    });
    const grant = claimed.structuredContent;
    if (!grant?.claimed) throw new Error(`fan-out: the claim was refused: ${textOf(claimed)}`);
    const audit = (action) => (e) =>
      e.data.action === action && e.data.target === grant.task && e.data.data?.token === grant.token;
    await track(`claim ${grant.task}`, marks, "task.claimed", audit("task.claim"));
    marks = mark();
    // Completing it: a task.done event (and the checkbox written into its tasks.md).
    const completed = await client.callTool({
      name: "keel_complete_task",
      arguments: { task: grant.task, token: grant.token },
    });
    if (completed.isError) throw new Error(`fan-out: complete was refused: ${textOf(completed)}`);
    await track(`done ${grant.task}`, marks, "task.done", audit("task.done"));
    // A person saves a spec in an editor, twice: first as many editors do by default ("safe write": a temporary
    // file renamed over the spec), then in place. Each delay is counted from the write.
    const file = `keel/specs/${specs[r % specs.length]}/spec.md`;
    const abs = join(root, file);
    for (const how of ["by rename", "in place"]) {
      const text = readFileSync(abs, "utf8");
      marks = mark();
      const savedAt = Date.now();
      if (how === "in place") writeFileSync(abs, `${text}\n`);
      else {
        const tmp = join(dirname(abs), `.spec.md.${process.pid}.tmp`);
        writeFileSync(tmp, `${text}\n`);
        renameSync(tmp, abs);
      }
      await track(`save ${how} ${file}`, marks, "spec.edited", (e) => e.data.file === file, savedAt);
    }
  }
  await client.close();
  // Every subscriber should have seen the same events, in the same order (the watcher's and the audit log's).
  const signature = (sub) => sub.events.map((e) => `${e.type} ${e.data.seq ?? e.data.file}`).join("\n");
  const counts = subs.map((sub) => sub.events.length);
  const reference = signature(subs[counts.indexOf(Math.max(...counts))]);
  const identical = subs.filter((sub) => signature(sub) === reference).length;
  for (const s of subs) s.close();
  const all = Object.values(delays).flat();
  const result = {
    what: `${subscribers} SSE subscribers, ${rounds} claims + ${rounds} completions over MCP + ${2 * rounds} spec saves`,
    subscribers,
    changes: rounds * 4,
    expected,
    delivered,
    missing,
    eventsPerSubscriber: { min: Math.min(...counts), max: Math.max(...counts) },
    identicalStreams: identical,
    overall: summarize(all),
    byType: Object.fromEntries(Object.entries(delays).map(([k, v]) => [k, summarize(v)])),
    pass: delivered === expected && missing.length === 0 && identical === subs.length,
  };
  log(
    `  fan-out: ${delivered}/${expected} deliveries, delay p50 ${result.overall.p50} ms, p99 ` +
      `${result.overall.p99} ms, max ${result.overall.max} ms; ${identical}/${subs.length} subscribers saw the ` +
      `same ${result.eventsPerSubscriber.max} events`,
  );
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Claim throughput: a fresh copy of the project on its own server, and 32 clients claiming the next ready task
// through REST (POST /api/tasks/claim-next) as fast as they are answered, until no task is ready. Every grant
// must name a task no other grant named.

async function runClaimBurst({ keel, tmp, clients, log }) {
  const root = join(tmp, "claims");
  const project = writeServeProject(root);
  const ready = project.graph.filter((t) => t.deps.length === 0).length;
  // The files were just written: wait out the racy window, as a project edited a while ago would be.
  await new Promise((done) => setTimeout(done, 2100));
  const server = await startServe(keel, root);
  try {
    const latencies = [];
    const granted = new Map();
    let errors = 0;
    const claimer = async () => {
      for (;;) {
        const sent = performance.now();
        const res = await fetch(`${server.url}/api/tasks/claim-next`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ ttl: "1h" }),
        });
        const body = await res.json();
        latencies.push(performance.now() - sent);
        if (!res.ok) {
          errors++;
          if (errors > 100) return;
          continue;
        }
        if (body.result === null) return;
        granted.set(body.result.taskId, (granted.get(body.result.taskId) ?? 0) + 1);
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, claimer));
    const seconds = (performance.now() - started) / 1000;
    const grants = [...granted.values()].reduce((a, b) => a + b, 0);
    const doubles = [...granted.values()].filter((n) => n > 1).length;
    const result = {
      what: `${clients} REST clients claiming the next ready task until none is left (${ready} ready)`,
      clients,
      ready,
      grants,
      doubleGrants: doubles,
      errors,
      seconds,
      perSecond: grants / seconds,
      latency: summarize(latencies),
      pass: errors === 0 && doubles === 0 && grants === ready,
    };
    log(
      `  claims: ${grants}/${ready} ready tasks claimed by ${clients} clients in ${seconds.toFixed(1)} s ` +
        `(${result.perSecond.toFixed(0)} claims/s), p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms; ` +
        `${errors} errors, ${doubles} tasks granted twice`,
    );
    return result;
  } finally {
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------
// What the tool list costs an agent's context: Keel's tools (the core set, and with --tools all) against
// Taskmaster's MCP server (its default core set, and all 44 tools), as the JSON of tools/list counted with the
// cl100k_base tokenizer.

async function toolListTokens(sdk, command, args, cwd, env) {
  const { encode } = await import("gpt-tokenizer/encoding/cl100k_base");
  const client = new sdk.Client({ name: "bench-tools", version: "1.0.0" });
  await client.connect(new sdk.StdioClientTransport({ command, args, cwd, env, stderr: "ignore" }));
  try {
    const { tools } = await client.listTools();
    const json = JSON.stringify(tools);
    return {
      tools: tools.length,
      tokens: encode(json).length,
      withOutputSchema: tools.filter((t) => t.outputSchema).length,
    };
  } finally {
    await client.close();
  }
}

async function runToolListComparison({ sdk, keel, root, log }) {
  const out = {
    keel: {
      core: await toolListTokens(sdk, process.execPath, [keel, "mcp"], root, ENV),
      all: await toolListTokens(sdk, process.execPath, [keel, "mcp", "--tools", "all"], root, ENV),
    },
    taskmaster: null,
  };
  const bin = taskmaster(log, { install: false });
  if (bin) {
    // The package's MCP server sits beside its CLI; TASK_MASTER_TOOLS picks the tool set.
    const server = join(dirname(realpathSync(bin)), "mcp-server.js");
    const tmp = mkdtempSync(join(tmpdir(), "keel-bench-serve-tm-mcp-"));
    try {
      out.taskmaster = {
        version: TASKMASTER_VERSION,
        core: await toolListTokens(sdk, process.execPath, [server], tmp, ENV),
        all: await toolListTokens(sdk, process.execPath, [server], tmp, { ...ENV, TASK_MASTER_TOOLS: "all" }),
      };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const k = out.keel;
  const tm = out.taskmaster;
  log(
    `  tool list: keel ${k.core.tools} tools ${k.core.tokens} tokens (default), ${k.all.tools} tools ${k.all.tokens} tokens (--tools all), ${k.all.withOutputSchema} with output schemas` +
      (tm
        ? `; task-master ${tm.core.tools} tools ${tm.core.tokens} tokens (default), ${tm.all.tools} tools ${tm.all.tokens} tokens (all)`
        : ""),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// keel_ready_tasks on an idle server, against `task-master next` on the same graph

async function runReadyComparison({ sdk, server, project, log, runs }) {
  const client = await connectClient(sdk, server.url, "bench-ready");
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = await client.callTool({ name: "keel_ready_tasks", arguments: { limit: 1 } });
    ms.push(performance.now() - t0);
    if (r.isError) throw new Error(`keel_ready_tasks failed: ${textOf(r)}`);
  }
  await client.close();
  const keel = summarize(ms);
  const out = { keelReadyMs: keel.p50, runs, taskmaster: null };
  const bin = taskmaster(log, { install: false });
  if (bin) {
    const tmp = mkdtempSync(join(tmpdir(), "keel-bench-serve-tm-"));
    try {
      writeTaskmasterTasks(tmp, project.graph);
      const tm = measure({ argv: [bin, "next"], cwd: tmp, env: ENV, runs: 5, warmup: 1 });
      out.taskmaster = {
        version: TASKMASTER_VERSION,
        ms: tm.wallMedianMs,
        peakRssMb: tm.peakRssMb,
        failed: tm.failed,
      };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  log(
    `  keel_ready_tasks idle: ${keel.p50?.toFixed(1)} ms median` +
      (out.taskmaster
        ? `; task-master next: ${out.taskmaster.ms?.toFixed(0)} ms${out.taskmaster.failed ? ` (failed: ${out.taskmaster.failed})` : ""}`
        : ""),
  );
  return out;
}

// ---------------------------------------------------------------------------------------------------------

export async function runServeBench({
  keel,
  log = console.error,
  quick = false,
  seconds,
  clients = SERVE_DEFAULTS.clients,
  subscribers = SERVE_DEFAULTS.subscribers,
} = {}) {
  const secs = seconds ?? (quick ? SERVE_DEFAULTS.quickSeconds : SERVE_DEFAULTS.seconds);
  log("serve (issue 6): MCP load over HTTP, SSE fan-out");
  const sdk = await loadSdk();
  const tmp = mkdtempSync(join(tmpdir(), "keel-bench-serve-"));
  let server = null;
  try {
    const root = join(tmp, "project");
    const project = writeServeProject(root);
    log(
      `  project: ${project.graph.length.toLocaleString("en")} tasks (${project.graph.filter((t) => t.deps.length === 0).length} ready at the start), ` +
        `${CAPS} specs × ${REQS} requirements`,
    );
    server = await startServe(keel, root);
    const load = await runLoad({ sdk, server, project, root, clients, seconds: secs, log });
    const ready = await runReadyComparison({ sdk, server, project, log, runs: quick ? 10 : 30 });
    const toolList = await runToolListComparison({ sdk, keel, root, log });
    const fanOut = await runFanOut({ sdk, server, project, root, subscribers, rounds: quick ? 3 : 10, log });
    const peakRssMb = server.peakRssMb();
    const code = await server.stop();
    server = null;
    log(`  server peak RSS ${peakRssMb === null ? "not measured (no /proc)" : `${peakRssMb.toFixed(1)} MB`}`);
    const claims = await runClaimBurst({ keel, tmp, clients, log });
    return { load, fanOut, ready, toolList, claims, server: { peakRssMb, exitCode: code } };
  } finally {
    if (server) await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  const num = (flag) => {
    const at = process.argv.indexOf(flag);
    return at > 0 ? Number(process.argv[at + 1]) : undefined;
  };
  const seconds = num("--seconds");
  const clients = num("--clients");
  const subscribers = num("--subscribers");
  if (!existsSync(keel)) {
    console.error("bench: dist/keel.mjs not found (run npm run build)");
    process.exitCode = 2;
  } else
    runServeBench({ keel, quick: process.argv.includes("--quick"), seconds, clients, subscribers }).then(
      (r) => console.log(JSON.stringify(r, null, 2)),
      (e) => {
        console.error(`bench: ${e.message}`);
        process.exitCode = 2;
      },
    );
}
