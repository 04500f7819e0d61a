// The web app in a real browser: Chromium from Debian's package (`apt-get install chromium`, which .ci/run does),
// driven by playwright-core, against a real `keel serve` on a copy of the bundled example project. Tests skip,
// saying so, where the browser is absent. Screenshots go to .test-results/screenshots/, or to the folder
// KEEL_SCREENSHOTS names (`npm run screenshots` writes docs/web/ with it).
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { keel } from "./cli.js";
import { commitAll, gitInit } from "./git.js";

export const CHROMIUM = process.env.KEEL_CHROMIUM ?? "/usr/bin/chromium";
export const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM)
  console.warn(`browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const REPO = join(import.meta.dirname, "..", "..");
const SCREENSHOTS = process.env.KEEL_SCREENSHOTS
  ? join(REPO, process.env.KEEL_SCREENSHOTS)
  : join(REPO, ".test-results", "screenshots");

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
}

/** A fresh copy of examples/acme-invoicing, as a git repository with one commit. */
export function exampleProject(prefix = "keel-web-"): string {
  const root = mkdtempSync(join(tmpdir(), prefix));
  cpSync(join(REPO, "examples", "acme-invoicing"), root, { recursive: true });
  gitInit(root);
  commitAll(root, "the example project");
  return root;
}

/** A token for `--auth` servers: `keel token create`, as the test's owner. */
export function createToken(
  root: string,
  role: "owner" | "reviewer" | "agent" | "read",
  name: string,
): string {
  const run = keel(root, "token", "create", "--role", role, "--name", name, "--as", "human:owner");
  if (run.code !== 0) throw new Error(`keel token create failed: ${run.stderr}`);
  return run.stdout.trim();
}

/** Page errors and console errors, collected so a test can assert there were none. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  return errors;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, base: string, token: string): Promise<void> {
  await page.goto(`${base}/signin`);
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL((url) => !url.pathname.startsWith("/signin"));
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/**
 * axe-core's serious and critical violations on the page as it is now. axe is evaluated through the DevTools
 * protocol, which the page's Content-Security-Policy does not govern, so the policy under test stays on.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  const source = readFileSync(join(REPO, "node_modules", "axe-core", "axe.min.js"), "utf8");
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    // biome-ignore lint/suspicious/noExplicitAny: axe and document are the page's globals (this runs in the page)
    const page = globalThis as any;
    const axe = page.axe;
    const r = await axe.run(page.document, { resultTypes: ["violations"] });
    return r.violations as AxeViolation[];
  });
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

export type { Browser, BrowserContext, Page };
