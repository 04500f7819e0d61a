// The oversight views in real Chromium against a real `keel serve --auth` on the bundled example: a test and a file
// of code linked to PAY-1, which is then reworded, make two suspect links (and a typo a dangling one); a reviewer
// acknowledges one with a reason in the trace view, an agent is shown no control and refused by the API; the audit
// view filters the log and shows the chain verified; search finds a requirement and opens its spec; runs shows its
// empty state, then a real `keel run` of a task whose gate fails once, live; metrics draws that run's charts.
// @verifies WEB-11
import { appendFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
import { keelAsync } from "./support/cli.js";
import { writeFiles } from "./support/files.js";
import { commitAll } from "./support/git.js";
import { RUN_AGENT } from "./support/run-project.js";
import { httpRequest, type Reply, type Served, startServe } from "./support/serve.js";

const PAY_1 = "The system SHALL let an accountant record a bank transfer against an invoice";
const TEST_LINK = "PAY-1 tests/transfers.test.ts verifies";
const CODE_LINK = "PAY-1 src/payments/transfers.ts implements";

let root: string;
let served: Served;
let browser: Browser;
let reviewer: BrowserContext;
let page: Page;
let errors: string[];
let agentToken: string;

/** The example with links to PAY-1 committed, PAY-1 reworded after them, and a task for `keel run` to work. */
function oversightProject(): string {
  const dir = exampleProject("keel-web-oversight-");
  writeFiles(dir, {
    "src/payments/transfers.ts": "// @req PAY-1\nexport const recordTransfer = () => 1;\n",
    "src/payments/typo.ts": "// @req PAY-99\nexport const typo = 1;\n",
    "tests/transfers.test.ts": "// @verifies PAY-1\nexport const transferTest = 1;\n",
    "keel/specs/work/spec.md":
      "# Work\n\n## Purpose\nWork for the loop.\n\n## Requirements\n\n### Requirement: Ledger {#WRK-1}\nThe system SHALL keep a ledger.\n\n#### Scenario: Ledger\n- **WHEN** work lands\n- **THEN** the ledger has it\n",
    "keel/specs/work/tasks.md":
      "## 1. Work\n\n- [ ] 1.1 Write the ledger\n  - covers: WRK-1\n  - boundaries: src/**\n  - verify: `cat src/ledger.ok`\n",
    // The test agent's script: the first attempt forgets the file the gate reads, the second writes it.
    "agent-script.json": JSON.stringify({
      "1.1": [{ write: { "src/ledger.wip": "wip" } }, { write: { "src/ledger.ok": "ok" } }],
    }),
  });
  appendFileSync(join(dir, "keel/keel.yaml"), `agents:\n  test:\n    command: node ${RUN_AGENT}\n`);
  commitAll(dir, "links to PAY-1, and work for the loop");
  const spec = join(dir, "keel/specs/payments/spec.md");
  writeFileSync(spec, readFileSync(spec, "utf8").replace(PAY_1, `${PAY_1} or a card refund`));
  commitAll(dir, "PAY-1 covers card refunds too");
  return dir;
}

function api(method: string, path: string, token: string, body?: unknown): Promise<Reply> {
  return httpRequest(served.port, method, path, {
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

let readerToken: string;

beforeAll(async () => {
  root = oversightProject();
  const rita = createToken(root, "reviewer", "rita");
  agentToken = createToken(root, "agent", "codex");
  readerToken = createToken(root, "read", "reader");
  served = await startServe(root, ["--auth"]);
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
  reviewer = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  page = await reviewer.newPage();
  await signIn(page, served.base, rita);
  // Watched from the first of these views on: before, a signed-out page's event stream is refused (401), and the
  // overview sign-in lands on is another area's.
  await page.goto(`${served.base}/trace`);
  errors = watchErrors(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  expect(await served?.stop()).toBe(0);
  rmSync(root, { recursive: true, force: true });
});

async function suspectIds(): Promise<string[]> {
  const r = await api("GET", "/api/trace/links?state=suspect", readerToken);
  expect(r.status, r.text).toBe(200);
  return r.json.links.map((l: { id: string }) => l.id);
}

describe.skipIf(!HAS_CHROMIUM)("the oversight views", () => {
  it("trace: a human acknowledges a suspect link with a reason, shown with both fingerprints", async () => {
    const links = (await api("GET", "/api/trace/links", readerToken)).json.links;
    const test = links.find((l: { id: string }) => l.id === TEST_LINK);
    expect(test).toMatchObject({ state: "suspect", requirement: { id: "PAY-1" } });
    expect(test.baseline).not.toBe(test.current);
    expect(links.find((l: { target: string }) => l.target === "PAY-99")).toMatchObject({ state: "dangling" });

    await page.goto(`${served.base}/trace`);
    const item = page.locator(".trace-link", { hasText: "tests/transfers.test.ts" });
    await item.waitFor();
    await expect
      .poll(() => item.locator(".fingerprint").allTextContents())
      .toEqual([test.baseline.slice(0, 12), test.current.slice(0, 12)]);
    await page.locator(".trace-link", { hasText: "PAY-99" }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "trace");

    await item
      .getByLabel("Reason the link still holds")
      .fill("the test records card refunds as transfers too");
    await item.getByRole("button", { name: "Acknowledge" }).click();
    await item.waitFor({ state: "detached" });
    expect(await suspectIds()).toEqual([CODE_LINK]);
    const log = await api("GET", "/api/audit?action=trace.ack", readerToken);
    expect(log.json.events).toHaveLength(1);
    expect(log.json.events[0]).toMatchObject({
      actor: "human:rita",
      target: TEST_LINK,
      after: test.current,
      reason: "the test records card refunds as transfers too",
    });
  });

  it("trace: an agent is shown no Acknowledge control, and the API refuses its acknowledgement", async () => {
    const context = await browser.newContext();
    const agentPage = await context.newPage();
    await signIn(agentPage, served.base, agentToken);
    await agentPage.goto(`${served.base}/trace?state=suspect`);
    await agentPage.locator(".trace-link", { hasText: "src/payments/transfers.ts" }).waitFor();
    expect(await agentPage.getByRole("button", { name: "Acknowledge" }).count()).toBe(0);
    await context.close();
    const refused = await api("POST", "/api/trace/ack", agentToken, {
      link: CODE_LINK,
      reason: "fine by me",
    });
    expect(refused.status, refused.text).toBe(403);
    expect(refused.json.error.code).toBe("ack-refused");
    expect(await suspectIds()).toEqual([CODE_LINK]);
  });

  it("audit: the log filtered by actor and action in the URL, and the chain verified", async () => {
    await page.goto(`${served.base}/audit`);
    await page.getByText("chain ok").waitFor();
    await page.getByLabel("Actor").fill("rita");
    await page.getByLabel("Action").fill("trace.ack");
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(
      (u) => u.searchParams.get("actor") === "rita" && u.searchParams.get("action") === "trace.ack",
    );
    const rows = page.locator("table.events tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    await expect
      .poll(() => rows.first().textContent())
      .toContain("the test records card refunds as transfers too");
    expect(await rows.first().textContent()).toContain("human:rita");
    // The whole log again has more than the one event, newest first.
    await page.getByRole("link", { name: "Clear" }).click();
    await expect.poll(() => rows.count()).toBeGreaterThan(1);
    const seqs = (await page.locator("table.events tbody th").allTextContents()).map(Number);
    expect(seqs).toEqual([...seqs].sort((a, b) => b - a));
    await page.goto(`${served.base}/audit?actor=rita&action=trace.ack`);
    await expect.poll(() => rows.count()).toBe(1);
    expect(await page.getByLabel("Actor").inputValue()).toBe("rita");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "audit");
  });

  it("search: the / key opens it focused, and a requirement's hit opens its spec", async () => {
    await page.goto(`${served.base}/runs`);
    await page.getByRole("heading", { name: "Runs" }).waitFor();
    await page.keyboard.press("/");
    await page.waitForURL((u) => u.pathname === "/search");
    const box = page.getByLabel("Search requirements and specs");
    await expect.poll(() => box.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.keyboard.type("bank transfer");
    const hit = page.getByRole("link", { name: /PAY-1 Record a bank transfer/ });
    await hit.waitFor();
    expect(new URL(page.url()).searchParams.get("q")).toBe("bank transfer");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "search");
    await hit.click();
    await page.waitForURL((u) => u.pathname === "/specs/payments");
  });

  it("runs and metrics: empty before any run, then a real run live, and its charts", async () => {
    await page.goto(`${served.base}/runs`);
    await page.getByRole("heading", { name: "No run yet" }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await page.goto(`${served.base}/metrics`);
    await page.getByRole("heading", { name: "Nothing to measure yet" }).waitFor();

    await page.goto(`${served.base}/runs`);
    await page.getByRole("heading", { name: "No run yet" }).waitFor();
    const run = await keelAsync(root, ["run", "--task", "work/1.1", "--sandbox", "none", "--agent", "test"]);
    expect(run.code, run.stderr).toBe(0);
    // The page follows the run from the event stream, without a reload.
    await page.getByRole("heading", { name: /^Run / }).waitFor({ timeout: 15_000 });
    const attempts = page.locator(".attempt");
    await expect.poll(() => attempts.count(), { timeout: 15_000 }).toBe(2);
    await expect.poll(() => page.locator(".run-counts").textContent()).toContain("1 landed");
    const tail = attempts.filter({ hasText: "gate-failed" }).locator("pre.tail");
    expect(await tail.textContent()).toContain("src/ledger.ok");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "runs");

    await page.goto(`${served.base}/metrics`);
    const outcomes = page.getByRole("img", { name: /Attempt outcomes/ });
    await outcomes.waitFor();
    expect(await outcomes.locator("desc").textContent()).toBe("green: 1 attempt; gate-failed: 1 attempt");
    expect(
      await page
        .getByRole("img", { name: /First-pass gate rate by agent/ })
        .locator("desc")
        .textContent(),
    ).toBe("test: 0% (0 of 1 tasks)");
    expect(await page.locator("svg.chart rect.chart-bar").count()).toBeGreaterThan(2);
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "metrics");
    expect(errors).toEqual([]);
  }, 120_000);
});
