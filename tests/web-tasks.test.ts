// The tasks view in real Chromium against real `keel serve` processes: the example's board in its columns, an
// agent's claim moving a card live with its holder and a ticking lease, a board of 10,000 tasks that renders only
// the cards in view, the dependency graph of a change, and a task's page with its context pack and handoff notes.
// @verifies WEB-9, WEB-10
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  type Browser,
  type BrowserContext,
  createToken,
  exampleProject,
  HAS_CHROMIUM,
  launchBrowser,
  type Page,
  screenshot,
  signIn,
  watchErrors,
} from "./support/browser.js";
import { jsonOut, keel } from "./support/cli.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";

/** Past the first 4,000 (done), even tasks stand alone (ready) and odd ones wait on the even one before them. */
const BIG = 10_000;
const BIG_DONE = 4000;

function bigProject(): string {
  const root = mkdtempSync(join(tmpdir(), "keel-web-big-"));
  mkdirSync(join(root, "keel", "specs", "rollout"), { recursive: true });
  writeFileSync(join(root, "keel", "keel.yaml"), "version: 1\n");
  const lines = ["## 1. Rollout", ""];
  for (let i = 1; i <= BIG; i++) {
    lines.push(`- [${i <= BIG_DONE ? "x" : " "}] T${i} Roll out step ${i}`);
    if (i > BIG_DONE && i % 2 === 1) lines.push(`  - depends-on: T${i - 1}`);
  }
  writeFileSync(join(root, "keel", "specs", "rollout", "tasks.md"), `${lines.join("\n")}\n`);
  return root;
}

let root: string;
let bigRoot: string;
let served: Served;
let big: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
let agentToken: string;

beforeAll(async () => {
  root = exampleProject();
  bigRoot = bigProject();
  const reviewer = createToken(root, "reviewer", "rita");
  agentToken = createToken(root, "agent", "codex");
  served = await startServe(root, ["--auth"]);
  big = await startServe(bigRoot);
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Signed in on a page of its own: the overview it lands on is another view's, with its own requests.
  const signing = await context.newPage();
  await signIn(signing, served.base, reviewer);
  await signing.close();
  page = await context.newPage();
  errors = watchErrors(page);
});

afterAll(async () => {
  await browser?.close();
  expect(await served?.stop()).toBe(0);
  expect(await big?.stop()).toBe(0);
  rmSync(root, { recursive: true, force: true });
  rmSync(bigRoot, { recursive: true, force: true });
});

/** The keys of the cards a column shows now. */
function cardsIn(p: Page, column: string): Promise<string[]> {
  return p
    .locator(`[data-column="${column}"] .task-card`)
    .evaluateAll((cards) => cards.map((c) => c.getAttribute("data-key") ?? ""));
}

function seconds(countdown: string): number {
  const m = /lease (?:(\d+):)?(\d+):(\d\d)/.exec(countdown);
  if (!m) throw new Error(`not a countdown: ${countdown}`);
  return Number(m[1] ?? 0) * 3600 + Number(m[2]) * 60 + Number(m[3]);
}

describe.skipIf(!HAS_CHROMIUM)("the board", () => {
  it("shows the example's tasks in their columns", async () => {
    await page.goto(`${served.base}/tasks`);
    await page.getByRole("heading", { name: "Tasks", level: 1 }).waitFor();
    await page.locator(".task-card").first().waitFor();
    // What `keel tasks list --json` says of each task decides its column: done, ready, or waiting on another.
    const tasks = jsonOut(keel(root, "--json", "tasks", "list")).tasks as Array<{
      key: string;
      status: string;
      ready: boolean;
    }>;
    const expected = (column: string) =>
      tasks
        .filter((t) => (t.status === "done" ? "done" : t.ready ? "ready" : "waiting") === column)
        .map((t) => t.key)
        .sort();
    for (const column of ["ready", "waiting", "done"]) {
      expect((await cardsIn(page, column)).sort(), column).toEqual(expected(column));
      const count = await page.locator(`[data-column="${column}"] .col-count`).textContent();
      expect(count, column).toBe(String(expected(column).length));
    }
    expect(expected("done")).toContain("add-partial-payments/1.1");
    expect(expected("waiting")).toContain("add-partial-payments/1.4");
    expect(await cardsIn(page, "claimed")).toEqual([]);
  });

  it("moves a card an agent claims to claimed, with its holder, within a second, and counts its lease down", async () => {
    const key = "add-invoice-disputes/1.1";
    const card = page.locator(`[data-column="claimed"] .task-card[data-key="${key}"]`);
    const started = Date.now();
    const claim = await httpRequest(served.port, "POST", `/api/tasks/${encodeURIComponent(key)}/claim`, {
      body: JSON.stringify({ ttl: "10m" }),
      headers: { "content-type": "application/json", authorization: `Bearer ${agentToken}` },
    });
    expect(claim.status, claim.text).toBe(200);
    await card.waitFor({ timeout: Math.max(1, 1000 - (Date.now() - started)) });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await card.locator(".card-holder").textContent()).toContain("agent:codex");
    expect(await cardsIn(page, "ready")).not.toContain(key);
    const countdown = card.locator(".countdown");
    const first = seconds((await countdown.textContent()) ?? "");
    expect(first).toBeGreaterThan(9 * 60);
    expect(first).toBeLessThanOrEqual(10 * 60);
    await expect.poll(async () => seconds((await countdown.textContent()) ?? "")).toBeLessThan(first);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "tasks");
  });

  it("keeps 10,000 tasks to the cards in view, with each column's count, and renders later cards on scroll", async () => {
    const p = await context.newPage();
    const bigErrors = watchErrors(p);
    await p.goto(`${big.base}/tasks`);
    const counts = { done: BIG_DONE, ready: (BIG - BIG_DONE) / 2 + 1, waiting: (BIG - BIG_DONE) / 2 - 1 };
    for (const [column, n] of Object.entries(counts))
      await p
        .locator(`[data-column="${column}"] .col-count`)
        .filter({ hasText: new RegExp(`^${n.toLocaleString("en")}$`) })
        .waitFor();
    const rendered = await p.locator(".task-card").count();
    expect(rendered).toBeGreaterThan(10);
    expect(rendered).toBeLessThan(200);
    expect(await cardsIn(p, "done")).toContain("rollout/T1");
    expect(await cardsIn(p, "done")).not.toContain("rollout/T3000");
    // Scroll the done column to its 3,000th card: that card is drawn, the first ones are not any more.
    await p.locator('[data-column="done"] .col-scroll').evaluate((el, cards) => {
      el.scrollTop = (2999 * el.scrollHeight) / cards;
    }, BIG_DONE);
    await p.locator('[data-column="done"] .task-card[data-key="rollout/T3000"]').waitFor();
    expect(await cardsIn(p, "done")).not.toContain("rollout/T1");
    expect(await p.locator(".task-card").count()).toBeLessThan(200);
    expect(bigErrors).toEqual([]);
    await p.close();
  });
});

describe.skipIf(!HAS_CHROMIUM)("the dependency graph and the ready queue", () => {
  it("draws a change's tasks as nodes in layers by depth, with its dependencies as edges", async () => {
    await page.goto(`${served.base}/tasks?tab=graph&scope=add-partial-payments`);
    const nodes = page.locator("svg .graph-node");
    await nodes.first().waitFor();
    const tasks = (
      jsonOut(keel(root, "--json", "tasks", "list")).tasks as Array<{
        key: string;
        scope: string;
        dependsOn: string[];
      }>
    ).filter((t) => t.scope === "add-partial-payments");
    const keys = new Set(tasks.map((t) => t.key));
    const edges = tasks.flatMap((t) => t.dependsOn.filter((d) => keys.has(d)));
    expect(await nodes.count()).toBe(tasks.length);
    expect(edges.length).toBeGreaterThan(3);
    expect(await page.locator("svg .graph-edge").count()).toBe(edges.length);
    // 1.4 depends on 1.3, which depends on 1.2: three layers, left to right.
    const x = async (id: string) =>
      Number(await page.locator(`[data-key="add-partial-payments/${id}"] rect`).getAttribute("x"));
    expect(await x("1.2")).toBeLessThan(await x("1.3"));
    expect(await x("1.3")).toBeLessThan(await x("1.4"));
    expect(await axeViolations(page)).toEqual([]);
  });

  it("lists the ready queue as keel tasks ready does", async () => {
    await page.getByRole("link", { name: "Ready queue" }).click();
    await page.getByRole("heading", { name: /Ready to claim/ }).waitFor();
    const ready = jsonOut(keel(root, "--json", "tasks", "ready")).ready as Array<{ key: string }>;
    const rows = page.locator(".ready-table tbody th a");
    await expect.poll(() => rows.allTextContents()).toEqual(ready.map((t) => t.key));
  });
});

describe.skipIf(!HAS_CHROMIUM)("a task's page", () => {
  it("shows the task, its context pack as an agent receives it, and a handoff note added in the page", async () => {
    const key = "add-partial-payments/1.3";
    await page.goto(`${served.base}/tasks/${key}`);
    await page.getByRole("heading", { name: /Reject allocations whose sum differs/ }).waitFor();
    const pack = page.locator(".pack-text");
    await pack.waitFor();
    expect((await pack.textContent())?.trimEnd()).toBe(keel(root, "context", key).stdout.trimEnd());
    expect(await page.getByRole("link", { name: "add-partial-payments/1.2" }).count()).toBe(1);
    const note = "The sum check belongs in allocations/validate.ts; the contract test is next.";
    await page.getByLabel("Leave a handoff note").fill(note);
    await page.getByRole("button", { name: "Add note" }).click();
    await page.locator(".notes .note-text").filter({ hasText: note }).waitFor();
    expect(await page.locator(".notes .note").first().textContent()).toContain("human:rita");
    // The pack an agent is given next carries the note.
    await expect.poll(() => pack.textContent()).toContain(note);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "task");
    expect(errors).toEqual([]);
  });
});
