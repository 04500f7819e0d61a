// The web app's shell, served by a real `keel serve` and driven in real Chromium: the page and its policy, the
// overview of the bundled example, sign-in to an HttpOnly session, and the refusal of forged writes.
// @verifies WEB-1, WEB-2, WEB-3, WEB-4
import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  type Browser,
  createToken,
  exampleProject,
  HAS_CHROMIUM,
  launchBrowser,
  screenshot,
  signIn,
  watchErrors,
} from "./support/browser.js";
import { keel } from "./support/cli.js";
import { httpRequest, type Served, startServe } from "./support/serve.js";

let root: string;
let single: Served;
let authed: Served;
let browser: Browser;
let reviewer: string;
let agentToken: string;

beforeAll(async () => {
  root = exampleProject();
  reviewer = createToken(root, "reviewer", "rita");
  agentToken = createToken(root, "agent", "codex");
  single = await startServe(root, ["--as", "human:alice"]);
  authed = await startServe(root, ["--auth"]);
  if (HAS_CHROMIUM) browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  expect(await single?.stop()).toBe(0);
  expect(await authed?.stop()).toBe(0);
  rmSync(root, { recursive: true, force: true });
});

describe("the page", () => {
  it("is served at / and at every view's URL with a strict policy and no inline script", async () => {
    for (const path of ["/", "/specs", "/tasks/add-invoice-disputes/1.1", "/signin"]) {
      const r = await httpRequest(single.port, "GET", path);
      expect(r.status, path).toBe(200);
      expect(r.headers["content-type"]).toBe("text/html; charset=utf-8");
      const csp = String(r.headers["content-security-policy"]);
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).not.toContain("unsafe-inline");
      const scripts = [...r.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      for (const [, attrs, body] of scripts) {
        expect(attrs).toMatch(/\bsrc="\/assets\/[\w-]+\.js"/);
        expect(body?.trim()).toBe("");
      }
    }
    // Assets are served by name, compressed when asked, and kept by browsers (their names change with them).
    const page = await httpRequest(single.port, "GET", "/");
    const script = /src="(\/assets\/[\w-]+\.js)"/.exec(page.text)?.[1] as string;
    const asset = await httpRequest(single.port, "GET", script, { headers: { "accept-encoding": "gzip" } });
    expect(asset.headers["content-encoding"]).toBe("gzip");
    expect(asset.headers["cache-control"]).toContain("immutable");
    // Paths that are neither a view nor an asset are not the app.
    for (const path of ["/api/nothing", "/assets/nothing.js", "/openapi.yaml", "/specs/../../etc/passwd"]) {
      const r = await httpRequest(single.port, "GET", path);
      expect(r.status, path).toBe(404);
    }
  });

  it.skipIf(!HAS_CHROMIUM)("shows the example's overview, live and accessible, with no error", async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(single.base);
    await page.getByRole("heading", { name: "acme-invoicing" }).waitFor();
    const status = (await httpRequest(single.port, "GET", "/api/status")).json;
    const reqs = page.locator("section", { has: page.getByRole("heading", { name: "Requirements" }) });
    await expect.poll(() => reqs.locator(".big").textContent()).toBe(String(status.specs.requirements));
    await page.getByRole("status").filter({ hasText: "live" }).waitFor();
    // Each open change awaiting review links to its page.
    for (const c of status.changes.items) await page.getByRole("link", { name: c.id }).waitFor();
    expect(await axeViolations(page)).toEqual([]);
    await screenshot(page, "overview");
    // Every view's header searches: its box opens the search view on the query.
    await page.getByLabel("Search requirements").fill("bank transfer");
    await page.getByLabel("Search requirements").press("Enter");
    await page.waitForURL((u) => u.pathname === "/search" && u.searchParams.get("q") === "bank transfer");
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe("sign-in", () => {
  it.skipIf(!HAS_CHROMIUM)("exchanges a token for an HttpOnly, SameSite=Strict session cookie", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(authed.base);
    await page.waitForURL(/\/signin\?next=/);
    await screenshot(page, "signin");
    await signIn(page, authed.base, reviewer);
    await page.getByText("rita (reviewer)").waitFor();
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "keel_session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    // Page scripts cannot read it.
    expect(
      await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie),
    ).not.toContain("keel_session");
    // Signing out forgets the session: the cookie no longer admits anyone.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL(/\/signin/);
    const after = await httpRequest(authed.port, "GET", "/api/status", {
      headers: { cookie: `keel_session=${session?.value}` },
    });
    expect(after.status).toBe(401);
    await context.close();
  });

  it("refuses a bad token at sign-in, and a request with no session", async () => {
    const bad = await httpRequest(authed.port, "POST", "/api/session", {
      body: JSON.stringify({ token: "keel_000000000000_nope" }),
      headers: { "content-type": "application/json", origin: authed.base },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers["set-cookie"]).toBeUndefined();
    const anonymous = await httpRequest(authed.port, "GET", "/api/session");
    expect(anonymous.json).toMatchObject({ mode: "signed-out", principal: null, csrf: null });
  });
});

describe("forged writes", () => {
  async function sessionOf(token: string): Promise<{ cookie: string; csrf: string }> {
    const r = await httpRequest(authed.port, "POST", "/api/session", {
      body: JSON.stringify({ token }),
      headers: { "content-type": "application/json", origin: authed.base },
    });
    expect(r.status, r.text).toBe(200);
    const cookie = String(r.headers["set-cookie"]).split(";")[0] as string;
    return { cookie, csrf: r.json.csrf };
  }

  it("refuses a cookie-borne write without the session's CSRF token, and one from another origin", async () => {
    const { cookie, csrf } = await sessionOf(reviewer);
    const before = keel(root, "--json", "change", "show", "add-invoice-disputes").stdout;
    const approve = (headers: Record<string, string>) =>
      httpRequest(authed.port, "POST", "/api/changes/add-invoice-disputes/approve", {
        body: "{}",
        headers: { "content-type": "application/json", cookie, ...headers },
      });
    const noToken = await approve({ origin: authed.base });
    expect(noToken.status).toBe(403);
    expect(noToken.json.error.code).toBe("csrf_token");
    const wrongToken = await approve({ origin: authed.base, "x-keel-csrf": `${csrf}x` });
    expect(wrongToken.status).toBe(403);
    const elsewhere = await approve({ origin: "http://evil.example", "x-keel-csrf": csrf });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.error.code).toBe("cross_origin");
    expect(keel(root, "--json", "change", "show", "add-invoice-disputes").stdout).toBe(before);
    // With its token, from its own origin, the same request is the reviewer's and is carried out.
    const ok = await approve({ origin: authed.base, "x-keel-csrf": csrf });
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json.status).toBe("approved");
    expect(ok.json.approvals.at(-1)).toMatchObject({ by: "human:rita" });
  });

  it("refuses a single-user server's writes from a browser page that lacks its CSRF token", async () => {
    const forged = await httpRequest(single.port, "POST", "/api/tasks/claim-next", {
      headers: { origin: single.base, "sec-fetch-site": "same-origin" },
    });
    expect(forged.status).toBe(403);
    const page = await httpRequest(single.port, "GET", "/api/session");
    const claimed = await httpRequest(single.port, "POST", "/api/tasks/claim-next", {
      headers: { origin: single.base, "x-keel-csrf": page.json.csrf },
    });
    expect(claimed.status, claimed.text).toBe(200);
    // The page acts as the person at the machine (the server runs --as human:alice).
    expect(claimed.json.result.holder).toBe("human:alice");
  });

  it("takes MCP from its own origin without a CSRF token, and refuses it from another origin", async () => {
    const init = (origin: string) =>
      httpRequest(single.port, "POST", "/mcp", {
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "web-test", version: "1" },
          },
        }),
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          origin,
        },
      });
    expect((await init(single.base)).status).toBe(200);
    const elsewhere = await init("http://evil.example");
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.error.code).toBe("cross_origin");
  });

  it("gives an agent's session no approval", async () => {
    const { cookie, csrf } = await sessionOf(agentToken);
    const s = await httpRequest(authed.port, "GET", "/api/session", { headers: { cookie } });
    expect(s.json).toMatchObject({ mode: "signed-in", canApprove: false, principal: { kind: "agent" } });
    const r = await httpRequest(authed.port, "POST", "/api/changes/add-partial-payments/approve", {
      body: "{}",
      headers: { "content-type": "application/json", cookie, origin: authed.base, "x-keel-csrf": csrf },
    });
    expect(r.status).toBe(403);
  });
});
