// Issue 15 benchmark (`node bench/run.mjs --only web`, or `node bench/web.mjs [--quick]` alone): the web app in
// headless Chromium (playwright-core, /usr/bin/chromium or KEEL_CHROMIUM) against real `keel serve` processes.
//   - first screen: the bundled example (examples/acme-invoicing, copied to a temporary git repository), loaded
//     in a fresh browser context each time (an empty cache): first contentful paint (the page's paint entry),
//     median of the loads, bytes transferred (CDP Network.loadingFinished encodedDataLength), and the gzip size of
//     the JavaScript the first screen loads. Targets: FCP < 500 ms, first-screen JavaScript < 150 KB gzip.
//   - board: a project whose one tasks.md holds 10,000 tasks (bench/gen-tasks.mjs); the time from navigation to
//     the board's columns showing counts that add up to 10,000, and how many cards were rendered.
//   - live: 20 pages on the example's board, each in its own context (a page holds one event stream); claims and
//     releases made over REST; per page and write, the time from the write to the page's DOM showing the card in
//     its new column, taken in the page by a MutationObserver. Target: p99 < 1 s.
// Each server's peak RSS is reported. Skipped, saying why, without Chromium or without a build.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { buildTaskGraph, writeKeelTasks } from "./gen-tasks.mjs";
import { startServe } from "./issue6.mjs";
import { median } from "./measure.mjs";

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH, "..");
const CHROMIUM = process.env.KEEL_CHROMIUM ?? "/usr/bin/chromium";
export const WEB_TARGETS = { fcpMs: 500, firstScreenJsKb: 150, eventToDomP99Ms: 1000 };
const BOARD_TASKS = 10_000;
const PAGES = 20;

function git(cwd, ...args) {
  const r = spawnSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@keel.invalid", ...args], {
    cwd,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr.trim()}`);
}

function exampleProject() {
  const root = mkdtempSync(join(tmpdir(), "keel-bench-web-"));
  cpSync(join(ROOT, "examples", "acme-invoicing"), root, { recursive: true });
  git(root, "init", "-q", "-b", "main");
  git(root, "add", "-A");
  git(root, "commit", "-qm", "the example project");
  return root;
}

function post(port, path, body) {
  return new Promise((done, fail) => {
    const text = JSON.stringify(body);
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(text) },
      },
      (res) => {
        let out = "";
        res.on("data", (d) => {
          out += d;
        });
        res.on("end", () =>
          res.statusCode === 200
            ? done(JSON.parse(out))
            : fail(new Error(`${path}: ${res.statusCode} ${out}`)),
        );
      },
    );
    req.on("error", fail);
    req.end(text);
  });
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

async function newPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  return { context, page: await context.newPage() };
}

/** One load of the first screen in a fresh context: FCP, bytes on the wire, and the scripts it loaded. */
async function firstScreenLoad(browser, base) {
  const { context, page } = await newPage(browser);
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  let bytes = 0;
  cdp.on("Network.loadingFinished", (e) => {
    bytes += e.encodedDataLength;
  });
  const scripts = new Set();
  page.on("response", (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith("/assets/") && path.endsWith(".js")) scripts.add(path.slice("/assets/".length));
  });
  await page.goto(base);
  await page.locator("main h1").first().waitFor();
  await page.waitForLoadState("networkidle");
  const fcp = await page.evaluate(
    () => performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? null,
  );
  await context.close();
  return { fcp, bytes, scripts: [...scripts] };
}

async function firstScreen(browser, keel, loads) {
  const root = exampleProject();
  const server = await startServe(keel, root, ["--as", "agent:bench"]);
  try {
    await firstScreenLoad(browser, server.url); // the server's first answers build its caches
    const runs = [];
    for (let i = 0; i < loads; i++) runs.push(await firstScreenLoad(browser, server.url));
    const scripts = [...new Set(runs.flatMap((r) => r.scripts))];
    const jsGzipBytes = scripts.reduce(
      (n, s) => n + gzipSync(readFileSync(join(ROOT, "dist", "web", "assets", s))).length,
      0,
    );
    const fcpMs = median(runs.map((r) => r.fcp).filter((v) => v !== null));
    return {
      loads,
      fcpMs,
      fcpMaxMs: Math.max(...runs.map((r) => r.fcp ?? 0)),
      bytes: median(runs.map((r) => r.bytes)),
      scripts: scripts.length,
      jsGzipKb: jsGzipBytes / 1024,
      serverPeakRssMb: server.peakRssMb(),
      pass: fcpMs !== null && fcpMs < WEB_TARGETS.fcpMs && jsGzipBytes / 1024 < WEB_TARGETS.firstScreenJsKb,
    };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/** Navigation to the board until its column counts add up to every task; cards rendered then. */
async function boardLoad(browser, base) {
  const { context, page } = await newPage(browser);
  const started = Date.now();
  await page.goto(`${base}/tasks`);
  await page.waitForFunction(
    (total) =>
      [...document.querySelectorAll(".board-col .col-count")].reduce(
        (n, e) => n + Number((e.textContent ?? "").replace(/,/g, "")),
        0,
      ) === total,
    BOARD_TASKS,
    { polling: "raf", timeout: 60_000 },
  );
  const ms = Date.now() - started;
  const cards = await page.locator(".task-card").count();
  await context.close();
  return { ms, cards };
}

async function board(browser, keel, loads) {
  const root = mkdtempSync(join(tmpdir(), "keel-bench-board-"));
  writeKeelTasks(root, buildTaskGraph(BOARD_TASKS, { perFeature: BOARD_TASKS }));
  const server = await startServe(keel, root, ["--as", "agent:bench"]);
  try {
    const first = await boardLoad(browser, server.url);
    const runs = [];
    for (let i = 0; i < loads; i++) runs.push(await boardLoad(browser, server.url));
    return {
      tasks: BOARD_TASKS,
      firstMs: first.ms,
      medianMs: median(runs.map((r) => r.ms)),
      cards: Math.max(first.cards, ...runs.map((r) => r.cards)),
      serverPeakRssMb: server.peakRssMb(),
    };
  } finally {
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Starts watching, in the page, for `selector` to match (a MutationObserver), and resolves once the watcher is
 * in place with a function that waits for the match and gives the page's clock at that moment.
 */
async function watchFor(page, selector) {
  await page.evaluate((sel) => {
    globalThis.__keelShown = new Promise((done) => {
      const check = () => {
        if (!document.querySelector(sel)) return;
        watcher.disconnect();
        done(Date.now());
      };
      const watcher = new MutationObserver(check);
      watcher.observe(document.body, { subtree: true, childList: true, characterData: true });
      check();
    });
  }, selector);
  return () => page.evaluate(() => globalThis.__keelShown);
}

async function live(browser, keel, writes) {
  const root = exampleProject();
  const server = await startServe(keel, root, ["--as", "agent:bench"]);
  const pages = [];
  try {
    for (let i = 0; i < PAGES; i++) {
      const p = await newPage(browser);
      await p.page.goto(`${server.url}/tasks`);
      await p.page.locator(".task-card").first().waitFor();
      await p.page.getByRole("status").filter({ hasText: "live" }).waitFor();
      pages.push(p);
    }
    const ready = (await (await fetch(`${server.url}/api/tasks/ready`)).json()).ready.map((t) => t.key);
    const delays = [];
    let token = null;
    for (let w = 0; w < writes; w++) {
      const key = ready[Math.floor(w / 2) % ready.length];
      const claiming = w % 2 === 0;
      const column = claiming ? "claimed" : "ready";
      const selector = `[data-column="${column}"] .task-card[data-key="${key}"]`;
      const shown = await Promise.all(pages.map((p) => watchFor(p.page, selector)));
      const path = `/api/tasks/${encodeURIComponent(key)}`;
      const at = Date.now();
      if (claiming) token = (await post(server.port, `${path}/claim`, { ttl: "10m" })).result.token;
      else await post(server.port, `${path}/release`, { token });
      for (const t of await Promise.all(shown.map((wait) => wait()))) delays.push(t - at);
    }
    const sorted = delays.sort((a, b) => a - b);
    const p99 = percentile(sorted, 99);
    return {
      pages: PAGES,
      writes,
      samples: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: p99,
      maxMs: sorted.at(-1) ?? null,
      serverPeakRssMb: server.peakRssMb(),
      pass: p99 !== null && p99 < WEB_TARGETS.eventToDomP99Ms,
    };
  } finally {
    for (const p of pages) await p.context.close();
    await server.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

export async function runWebBench({ keel, log, quick }) {
  if (!existsSync(CHROMIUM)) {
    const reason = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set KEEL_CHROMIUM)`;
    log(`web: skipped, ${reason}`);
    return { skipped: reason };
  }
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  try {
    log("web: first screen of the example in headless Chromium");
    const screen = await firstScreen(browser, keel, quick ? 3 : 7);
    log(`web: the board with ${BOARD_TASKS.toLocaleString("en")} tasks`);
    const big = await board(browser, keel, quick ? 1 : 3);
    log(`web: event to DOM on ${PAGES} open pages`);
    const events = await live(browser, keel, quick ? 6 : 20);
    // Timings on a shared machine move with its load: the figure says what the run competed with.
    const load = loadavg()[0];
    return { targets: WEB_TARGETS, cpus: cpus().length, load, screen, board: big, live: events };
  } finally {
    await browser.close();
  }
}

const ms = (v) => (v === null ? "–" : `${Math.round(v)} ms`);
const mb = (v) => (v === null ? "–" : `${v.toFixed(0)} MB`);

export function printWeb(web) {
  console.log("\nWeb app (issue #15):");
  if (web.skipped) {
    console.log(`  skipped: ${web.skipped}`);
    return;
  }
  const { screen: s, board: b, live: l } = web;
  console.log(`        (${web.cpus} CPUs, load average ${web.load.toFixed(1)} when the run ended)`);
  console.log(
    `  ${s.pass ? "PASS" : "FAIL"}  first screen of the example: FCP ${ms(s.fcpMs)} median of ${s.loads} fresh loads ` +
      `(max ${ms(s.fcpMaxMs)}) → target < ${WEB_TARGETS.fcpMs} ms; ${(s.bytes / 1024).toFixed(1)} KB transferred; ` +
      `JavaScript ${s.jsGzipKb.toFixed(1)} KB gzip in ${s.scripts} files → target < ${WEB_TARGETS.firstScreenJsKb} KB; ` +
      `server peak RSS ${mb(s.serverPeakRssMb)}`,
  );
  console.log(
    `        board with ${b.tasks.toLocaleString("en")} tasks: columns counted ${ms(b.medianMs)} after navigation ` +
      `(first load, cold server: ${ms(b.firstMs)}), at most ${b.cards} cards rendered; server peak RSS ${mb(b.serverPeakRssMb)}`,
  );
  console.log(
    `  ${l.pass ? "PASS" : "FAIL"}  event to DOM, ${l.pages} open pages × ${l.writes} claims and releases: ` +
      `p50 ${ms(l.p50Ms)}, p99 ${ms(l.p99Ms)}, max ${ms(l.maxMs)} → target p99 < ${WEB_TARGETS.eventToDomP99Ms} ms; ` +
      `server peak RSS ${mb(l.serverPeakRssMb)}`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const keel = join(ROOT, "dist", "keel.mjs");
  if (!existsSync(keel)) {
    console.error("web: dist/keel.mjs not found (run npm run build)");
    process.exit(1);
  }
  const web = await runWebBench({
    keel,
    log: (line) => console.error(line),
    quick: process.argv.includes("--quick"),
  });
  printWeb(web);
  process.exitCode = web.skipped || (web.screen.pass && web.live.pass) ? 0 : 1;
}
