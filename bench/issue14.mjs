// Issue 14 (speed where agents feel it): the figures of the table, each beside its target and, where
// there is one, the peer's figure from the same run. Built from the rows bench/run.mjs measured (100k corpus:
// cold, warm without a server, warm through `keel daemon`) and from the serve phase (bench/issue6.mjs: 32 MCP
// clients, claim-next through `keel serve`, the server's peak RSS). Also the daemon's own measurement helper.
import { spawnSync } from "node:child_process";

export const SPEED_TARGETS = {
  coldSpeedup: 3, // cold keel validate at least 3× faster than openspec validate --all, 100k requirements
  coldRssMb: 250,
  warmDaemonMs: 150, // warm keel validate answered by a running daemon
  warmAloneMs: 250, // warm keel validate with no server running
  mcpP99Ms: 50,
  mcpCallsPerSecond: 2000,
  claimsPerSecond: 2000,
  serverRssMb: 200,
};

/** Starts `keel daemon` in `cwd` for the rows measured through it; returns a stop function. */
export function startDaemon(node, keel, cwd, env) {
  const r = spawnSync(node, [keel, "daemon", "start", "--json"], { cwd, env, encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(`keel daemon start failed: ${(r.stderr || r.stdout).trim().split("\n")[0]}`);
  return () => spawnSync(node, [keel, "daemon", "stop"], { cwd, env, encoding: "utf8" });
}

/** The table: [{ figure, measured, target, peer, verdict }]. */
export function speedFigures(rows, serve, corpusLabel) {
  const t = SPEED_TARGETS;
  const row = (tool, layout, mode) =>
    rows.find((r) => r.corpus === corpusLabel && r.tool === tool && r.layout === layout && r.mode === mode);
  const peer = rows.find((r) => r.corpus === corpusLabel && r.tool === "openspec" && !r.error);
  const out = [];
  const add = (figure, measured, target, pass, peerText = "") =>
    out.push({
      figure,
      measured,
      target,
      peer: peerText,
      verdict: measured === null ? "n/a" : pass ? "PASS" : "FAIL",
    });
  const ms = (v) => (v === null || v === undefined ? null : `${Math.round(v)} ms`);
  const peerMs = peer ? `openspec ${Math.round(peer.wallMedianMs)} ms` : "";

  const cold = row("keel validate", "openspec", "cold");
  const speedup = cold && peer && !cold.error ? peer.wallMedianMs / cold.wallMedianMs : null;
  add(
    "keel validate, cold (no .keel/), openspec layout",
    speedup === null ? null : `${Math.round(cold.wallMedianMs)} ms = ${speedup.toFixed(2)}× openspec`,
    `≥ ${t.coldSpeedup}× faster`,
    speedup !== null && speedup >= t.coldSpeedup,
    peerMs,
  );
  add(
    "  its peak RSS",
    cold && !cold.error ? `${cold.peakRssMb.toFixed(0)} MB` : null,
    `< ${t.coldRssMb} MB`,
    cold && cold.peakRssMb < t.coldRssMb,
    peer ? `openspec ${peer.peakRssMb.toFixed(0)} MB` : "",
  );
  const daemon = row("keel validate", "openspec", "warm, daemon");
  add(
    "keel validate, warm, answered by keel daemon",
    daemon && !daemon.error ? ms(daemon.wallMedianMs) : null,
    `< ${t.warmDaemonMs} ms`,
    daemon && daemon.wallMedianMs < t.warmDaemonMs,
    startupNote(rows),
  );
  const alone = row("keel validate", "openspec", "warm");
  add(
    "keel validate, warm, no server running",
    alone && !alone.error ? ms(alone.wallMedianMs) : null,
    `< ${t.warmAloneMs} ms`,
    alone && alone.wallMedianMs < t.warmAloneMs,
    startupNote(rows),
  );
  if (serve?.load) {
    const l = serve.load;
    add(
      `${l.clients} MCP clients, mixed reads and claims: calls/s`,
      `${l.perSecond.toFixed(0)} calls/s`,
      `≥ ${t.mcpCallsPerSecond}`,
      l.perSecond >= t.mcpCallsPerSecond,
    );
    add("  their p99", ms(l.overall.p99), `< ${t.mcpP99Ms} ms`, l.overall.p99 < t.mcpP99Ms);
    const req = l.byOp.keel_requirement;
    if (req)
      out.push({
        figure: "  keel_requirement p50",
        measured: ms(req.p50),
        target: "-",
        peer: "",
        verdict: "info",
      });
  }
  if (serve?.claims) {
    const c = serve.claims;
    add(
      `claim-next through keel serve, ${c.clients} clients`,
      `${c.perSecond.toFixed(0)} claims/s, ${c.doubleGrants} double grants`,
      `≥ ${t.claimsPerSecond} claims/s, exactly one winner`,
      c.perSecond >= t.claimsPerSecond && c.doubleGrants === 0,
    );
  }
  if (serve?.server) {
    const rss = serve.server.peakRssMb;
    add(
      "server peak RSS under that load",
      rss === null ? null : `${rss.toFixed(0)} MB`,
      `< ${t.serverRssMb} MB`,
      rss < t.serverRssMb,
    );
  }
  return out;
}

function startupNote(rows) {
  const node = rows.find((r) => r.tool === "node -e 0" && !r.error);
  return node ? `node -e 0: ${Math.round(node.wallMedianMs)} ms` : "";
}

export function printSpeed(figures) {
  console.log("\nSpeed (issue #14, 100,000 requirements in 10,000 files; 32 clients on keel serve):");
  const w = Math.max(...figures.map((f) => f.figure.length));
  const wm = Math.max(...figures.map((f) => String(f.measured ?? "-").length));
  const wt = Math.max(...figures.map((f) => f.target.length));
  for (const f of figures)
    console.log(
      `  ${f.verdict.padEnd(4)}  ${f.figure.padEnd(w)}  ${String(f.measured ?? "not measured").padEnd(wm)}  target ${f.target.padEnd(wt)}  ${f.peer}`.trimEnd(),
    );
}
