// The review views in real Chromium against a real `keel serve --auth` on the bundled example: an agent proposes
// a change over MCP and a reviewer reads its diff, comments, approves and applies it; an agent's session sees no
// approve control and its forged approve is refused; two changes to one requirement conflict, and the reviewer
// resolves the conflict in the page.
// @verifies WEB-7, WEB-8, WEB-12
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  type Browser,
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

const CUSTOMERS = "keel/specs/customers/spec.md";

let root: string;
let served: Served;
let browser: Browser;
let reviewer: string;
let agentToken: string;
/** The reviewer's page, reused by the tests that act as the reviewer. */
let page: Page;
let errors: string[];
/** The reviewer's page's requests that were refused (a browser logs each one as a console error). */
const refused: string[] = [];

/** No script error on the reviewer's page, and no request refused but those the test expects. */
function expectClean(expected: string[]): void {
  expect(errors.filter((e) => !e.startsWith("console: Failed to load resource"))).toEqual([]);
  expect(refused).toEqual(expected);
}

/** A MODIFIED delta of the customers spec: one requirement block, without its marker line. */
function modified(heading: string, text: string, scenario: string[]): string {
  return ["## MODIFIED Requirements", "", `### Requirement: ${heading}`, text, "", ...scenario, ""].join(
    "\n",
  );
}

const ARCHIVED_SCENARIO = [
  "#### Scenario: Invoice for an archived customer",
  '- **GIVEN** customer "Litware Inc." is archived',
  "- **WHEN** an accountant creates a draft invoice for Litware",
  "- **THEN** the request fails with error code `customer_archived`",
  "",
  "#### Scenario: History stays visible",
  '- **GIVEN** customer "Litware Inc." is archived and has three paid invoices',
  "- **WHEN** an accountant opens Litware's page",
  "- **THEN** the three invoices are listed with their payments",
];
const CONTACTS_SCENARIO = [
  "#### Scenario: Invoice email goes to flagged contacts",
  "- **GIVEN** Fabrikam has contacts Jo (receives invoices) and Kim (does not)",
  "- **WHEN** invoice INV-2026-0042 for Fabrikam is sent",
  "- **THEN** the invoice email is addressed to Jo only",
];

function contacts(limit: number): string {
  return modified(
    "Billing contacts {#CUS-5}",
    `The system SHALL let a customer have up to ${limit} billing contacts, each with a name, an email\naddress and a flag saying whether they receive invoice emails.`,
    CONTACTS_SCENARIO,
  );
}

function auditEvents(): Array<{ action: string; actor: string; target: string; data: unknown }> {
  return jsonOut(keel(root, "audit", "log", "--json")).events;
}

/** A request as the reviewer's token, with no browser in it. */
function asReviewer(method: string, path: string, body?: unknown) {
  return httpRequest(served.port, method, path, {
    headers: { authorization: `Bearer ${reviewer}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

beforeAll(async () => {
  root = exampleProject("keel-web-review-");
  reviewer = createToken(root, "reviewer", "rita");
  agentToken = createToken(root, "agent", "codex");
  served = await startServe(root, ["--auth"]);
  if (HAS_CHROMIUM) {
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(page, served.base, reviewer);
    await page.goto(`${served.base}/changes`);
    errors = watchErrors(page);
    page.on("response", (r) => {
      if (r.status() >= 400) refused.push(`${r.status()} ${new URL(r.url()).pathname}`);
    });
  }
});

afterAll(async () => {
  await browser?.close();
  expect(await served?.stop()).toBe(0);
});

describe.skipIf(!HAS_CHROMIUM)("review", () => {
  it("an agent proposes over MCP; the reviewer reads the diff, comments, approves and applies it", async () => {
    const mcp = new Client({ name: "keel-web-review-test", version: "1.0.0" });
    await mcp.connect(
      new StreamableHTTPClientTransport(new URL(`${served.base}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${agentToken}` } },
      }),
    );
    const proposed = await mcp.callTool({
      name: "keel_propose_change",
      arguments: {
        name: "archive grace period",
        proposal:
          "## Why\nAccountants finish **last month's** invoices after archiving a customer.\n\n## What Changes\n- CUS-4 allows drafts for 7 days after archiving.\n",
        deltas: [
          {
            capability: "customers",
            markdown: modified(
              "Archived customers {#CUS-4}",
              "While a customer is archived, the system SHALL refuse to create new invoices for that customer\nmore than 7 days after it was archived, and it keeps the customer's existing invoices and payments readable.",
              ARCHIVED_SCENARIO,
            ),
          },
        ],
      },
    });
    await mcp.close();
    expect(proposed.isError, JSON.stringify(proposed.content)).toBeFalsy();
    expect(proposed.structuredContent).toMatchObject({ change: "archive-grace-period" });

    // The queue lists it with its author, marked as an agent.
    await page.goto(`${served.base}/changes`);
    const row = page.getByRole("row", { name: /archive-grace-period/ });
    await row.waitFor();
    await expect.poll(() => row.textContent()).toContain("agent · codex");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "changes");

    // One change: the rationale, the diff against the living requirement, its base still current.
    await row.getByRole("link", { name: "archive-grace-period" }).click();
    await page.getByRole("heading", { name: "Change archive-grace-period" }).waitFor();
    await page.getByText("last month's").waitFor();
    const delta = page.getByRole("article", { name: /CUS-4/ });
    await delta.getByText("base matches the living requirement").waitFor();
    expect(await delta.locator("ins").allTextContents()).toContainEqual(expect.stringContaining("7"));

    await page.getByRole("textbox", { name: "Your comment" }).fill("Seven days matches the month-end close.");
    await page.getByRole("button", { name: "Add comment" }).click();
    const comment = page.getByRole("listitem").filter({ hasText: "Seven days matches" });
    await comment.waitFor();
    expect(await comment.textContent()).toContain("human · rita");
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "change");

    await page.getByRole("button", { name: "Approve" }).click();
    await page.getByRole("status").filter({ hasText: "Approved" }).waitFor();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("status").filter({ hasText: "Applied:" }).waitFor();
    await page.getByText("This change is applied.").waitFor();
    expect(readFileSync(join(root, CUSTOMERS), "utf8")).toContain("more than 7 days after it was archived");

    const events = auditEvents().filter((e) => e.target === "archive-grace-period");
    const actorOf = (action: string) => events.find((e) => e.action === action)?.actor;
    expect(actorOf("change.new")).toBe("agent:codex");
    expect(actorOf("change.comment")).toBe("human:rita");
    expect(actorOf("change.approve")).toBe("human:rita");
    expect(actorOf("change.apply")).toBe("human:rita");
    expect(events.find((e) => e.action === "change.comment")?.data).toMatchObject({
      text: "Seven days matches the month-end close.",
    });
    expectClean([]);
  });
});

describe.skipIf(!HAS_CHROMIUM)("roles", () => {
  it("an agent's session sees no approve control, and its forged approve is refused, approving nothing", async () => {
    const context = await browser.newContext();
    const agentPage = await context.newPage();
    await signIn(agentPage, served.base, agentToken);
    await agentPage.goto(`${served.base}/changes/add-partial-payments`);
    await agentPage.getByRole("heading", { name: "Change add-partial-payments" }).waitFor();
    await agentPage.getByText("Your role does not review changes here").waitFor();
    expect(await agentPage.getByRole("button", { name: "Approve" }).count()).toBe(0);

    const meta = join(root, "keel/changes/add-partial-payments/change.yaml");
    const before = existsSync(meta) ? readFileSync(meta, "utf8") : null;
    const csrf = await agentPage.evaluate(async () => {
      const r = await fetch("/api/session");
      return ((await r.json()) as { csrf: string }).csrf;
    });
    const cookie = (await context.cookies()).find((c) => c.name === "keel_session");
    const forged = await httpRequest(served.port, "POST", "/api/changes/add-partial-payments/approve", {
      body: "{}",
      headers: {
        "content-type": "application/json",
        origin: served.base,
        cookie: `keel_session=${cookie?.value}`,
        "x-keel-csrf": csrf,
      },
    });
    expect(forged.status, forged.text).toBe(403);
    expect(forged.json.error.code).toBe("refused");
    expect(existsSync(meta) ? readFileSync(meta, "utf8") : null).toBe(before);
    // The refusal is audited; nothing was approved.
    const events = auditEvents().filter((e) => e.target === "add-partial-payments");
    expect(events.map((e) => e.action)).not.toContain("change.approve");
    expect(events.find((e) => e.action === "change.approve.refused")?.actor).toBe("agent:codex");
    await context.close();
  });
});

describe.skipIf(!HAS_CHROMIUM)("conflicts", () => {
  it("two changes to one requirement: the second apply shows the conflict, resolved in the page", async () => {
    for (const [name, limit] of [
      ["more contacts", 20],
      ["fewer contacts", 5],
    ] as const) {
      const r = await asReviewer("POST", "/api/changes", {
        name,
        why: `Customers asked for ${limit} billing contacts.`,
        deltas: [{ capability: "customers", markdown: contacts(limit) }],
      });
      expect(r.status, r.text).toBe(201);
    }
    // Open side by side, each is flagged as overlapping the other.
    await page.goto(`${served.base}/changes`);
    const overlapping = page.getByRole("row", { name: /fewer-contacts/ });
    await expect.poll(() => overlapping.textContent()).toContain("1 overlap(s)");
    const first = await asReviewer("POST", "/api/changes/more-contacts/apply", {});
    expect(first.status, first.text).toBe(200);

    await page.goto(`${served.base}/changes/fewer-contacts`);
    await page.getByRole("heading", { name: "Change fewer-contacts" }).waitFor();
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("alert").filter({ hasText: "changed on both sides" }).waitFor();
    await page.getByRole("link", { name: "Resolve CUS-5 (customers)" }).waitFor();
    const spec = readFileSync(join(root, CUSTOMERS), "utf8");
    expect(spec).toContain("up to 20 billing contacts");

    await page.goto(`${served.base}/conflicts`);
    await page.getByRole("link", { name: /CUS-5/ }).click();
    await page.getByRole("heading", { name: /Conflict on CUS-5/ }).waitFor();
    for (const side of ["Base", "Ours", "Theirs"]) await page.getByRole("heading", { name: side }).waitFor();
    const ours = page.getByRole("region", { name: /Ours/ });
    expect(await ours.locator("ins").allTextContents()).toContain("20");
    expect(await page.getByRole("textbox", { name: "Merged text" }).inputValue()).toContain(
      "up to 5 billing contacts",
    );
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "conflicts");

    await page.getByLabel("Take theirs: the change's version").check();
    await page.getByRole("button", { name: "Resolve" }).click();
    await page.getByText("by human:rita").waitFor();
    expect(readFileSync(join(root, CUSTOMERS), "utf8")).toBe(spec);
    await page.getByRole("button", { name: "Apply fewer-contacts" }).click();
    await page.getByRole("status").filter({ hasText: "now holds the resolution" }).waitFor();
    const after = readFileSync(join(root, CUSTOMERS), "utf8");
    expect(after).toContain("up to 5 billing contacts");
    expect(after).not.toContain("up to 20 billing contacts");
    const resolved = auditEvents().find((e) => e.action === "conflict.resolve");
    expect(resolved).toMatchObject({ actor: "human:rita", target: "CUS-5" });
    expectClean(["409 /api/changes/fewer-contacts/apply"]);
  });
});
