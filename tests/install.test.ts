// Keel installed the way a user installs it: this checkout packed with `npm pack`, the tarball installed with
// npm into a fresh project, and nothing else — no global keel, no `keel` on PATH, no path into the checkout.
// From there: `npx keel init`, `npx keel validate`, a real `git merge` through Keel's merge driver,
// `npx keel run` with a `command:` agent, the web app served by `npx keel serve`, and `npx keel mcp` listed by
// the MCP Inspector.
//
// The install is real, so where better-sqlite3 (a native addon) cannot download its prebuilt binary it
// compiles from source, as it does for a user without access to GitHub: about 1.5 minutes on two cores.
// npm's cache (--prefer-offline) saves the downloads, not the compile.
// @verifies TRU-13, TRU-11
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DRIVER_ARGS } from "../src/core/changes/driver-command.js";
import { type Run, runProcess } from "./support/cli.js";
import { writeFile } from "./support/files.js";
import { CORE_TOOLS, PAYMENTS_SPEC } from "./support/fixtures.js";
import { envWithoutKeel, keelFoundBy } from "./support/install.js";
import { binOf, HAS_NODE22, NODE22, REPO } from "./support/node22.js";

const SPEC = "keel/specs/payments/spec.md";

let work: string;
/** The fresh project Keel is installed into. */
let app: string;
/** A shell's environment: no `keel` on PATH, nothing from the npm that runs the tests. */
let env: NodeJS.ProcessEnv;

function run(command: string, args: string[], cwd = app, extra: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(command, args, { cwd, env: { ...env, ...extra }, encoding: "utf8" });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: Run): string {
  expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

const git = (...args: string[]) => ok(run("git", args));
const read = (rel: string) => readFileSync(join(app, rel), "utf8");
const npx = (...args: string[]) => run("npx", args);

beforeAll(() => {
  work = realpathSync(mkdtempSync(join(tmpdir(), "keel-install-")));
  app = join(work, "app");
  env = envWithoutKeel();
  // dist/ is built by the test setup (tests/setup/build.ts); `prepare` would build it again and also install
  // tools/mcp-clients, the test-only MCP clients, so the pack skips scripts.
  const packed = ok(run("npm", ["pack", "--ignore-scripts", "--pack-destination", work, REPO], work));
  const tarball = join(work, packed.trim().split("\n").at(-1) as string);
  ok(run("git", ["init", "-q", "-b", "main", app], work));
  writeFile(app, ".gitignore", "node_modules/\n");
  ok(run("npm", ["init", "-y"]));
  ok(run("npm", ["install", "--save-dev", tarball, "--prefer-offline", "--no-audit", "--no-fund"]));
  git("config", "user.name", "tester");
  git("config", "user.email", "tester@example.com");
  git("config", "commit.gpgsign", "false");
}, 900_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("Keel installed from its packed tarball, with no global keel", () => {
  it("is a real install of the package, and no keel is on PATH", () => {
    expect(keelFoundBy(env, app)).toBeNull();
    // The package's own files, extracted into node_modules, not a link back into this checkout.
    const installed = realpathSync(join(app, "node_modules", "keel"));
    expect(installed).toBe(join(app, "node_modules", "keel"));
    expect(readdirSync(installed).sort()).toEqual(["README.md", "dist", "docs", "package.json"]);
    // The package's bin: the CommonJS launcher (src/cli/bin.ts), which loads dist/keel.mjs.
    expect(realpathSync(join(app, "node_modules", ".bin", "keel"))).toBe(join(installed, "dist", "keel.cjs"));
  });

  it("runs npx keel init and npx keel validate", () => {
    const init = npx("keel", "init");
    expect(init.code, init.stderr).toBe(0);
    expect(init.stderr).toBe("");
    expect(init.stdout).toContain("created  keel/keel.yaml");
    expect(init.stdout).toContain(
      `updated  git config merge.keel (driver: node_modules/.bin/keel ${DRIVER_ARGS})`,
    );
    expect(git("config", "--get", "merge.keel.driver").trim()).toBe(`node_modules/.bin/keel ${DRIVER_ARGS}`);
    writeFile(app, SPEC, PAYMENTS_SPEC);
    const validate = npx("keel", "validate");
    expect(validate.code, validate.stdout + validate.stderr).toBe(0);
    expect(validate.stdout).toMatch(/\b0 errors\b/);
    const check = npx("keel", "--json", "check");
    expect(JSON.parse(check.stdout).mergeDriver).toEqual({
      command: `node_modules/.bin/keel ${DRIVER_ARGS}`,
      problem: null,
    });
  });

  it("merges two branches that edited different requirements of one spec through Keel's driver", () => {
    git("add", "-A");
    git("commit", "-q", "-m", "keel init");
    git("checkout", "-q", "-b", "refunds");
    writeFile(
      app,
      SPEC,
      read(SPEC).replace("the original result is returned", "the first refund is returned"),
    );
    git("commit", "-q", "-am", "refunds");
    git("checkout", "-q", "main");
    writeFile(app, SPEC, read(SPEC).replace("for every payment.", "for every completed payment."));
    git("commit", "-q", "-am", "receipts");
    // GIT_TRACE shows the command git ran for the spec: Keel's driver, started as `keel init` registered it.
    const merge = run("git", ["merge", "--no-edit", "refunds"], app, { GIT_TRACE: "1" });
    expect(merge.code, merge.stdout + merge.stderr).toBe(0);
    expect(merge.stderr).toContain("run_command: 'node_modules/.bin/keel merge-driver .merge_file_");
    expect(merge.stderr).not.toMatch(/not found|CONFLICT/);
    const merged = read(SPEC);
    expect(merged).toContain("the first refund is returned");
    expect(merged).toContain("for every completed payment.");
    expect(merged).not.toContain("<<<<<<<");
    expect(git("status", "--porcelain")).toBe("");
    expect(git("log", "-1", "--format=%P").trim().split(" ")).toHaveLength(2);
  });

  // @verifies RUN-1, RUN-5
  it("runs npx keel run: a command: agent's work lands on main as a traced commit", () => {
    writeFile(app, ".gitignore", "node_modules/\n.keel/\n");
    writeFile(
      app,
      "keel/specs/payments/tasks.md",
      "## 1. Work\n\n- [ ] 1.1 Write the receipt\n  - boundaries: src/**\n  - verify: `test -f src/receipt.txt`\n",
    );
    const config = read("keel/keel.yaml");
    writeFile(
      app,
      "keel/keel.yaml",
      `${config}\nagents:\n  shell:\n    command: mkdir -p src && echo ok > src/receipt.txt\n`,
    );
    git("add", "-A");
    git("commit", "-q", "-m", "a task for keel run");
    const r = npx("keel", "run", "--sandbox", "none", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).landed).toEqual(["payments/1.1"]);
    expect(git("log", "-1", "--format=%(trailers:key=Task,valueonly)", "main").trim()).toBe("payments/1.1");
    expect(read("src/receipt.txt")).toBe("ok\n");
  });

  it("serves the web app from the installed package: npx keel serve answers / and its assets", async () => {
    const child = spawn("npx", ["keel", "serve", "--port", "0"], { cwd: app, env });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once("line", resolve);
        child.once("exit", (code) => reject(new Error(`npx keel serve exited with ${code}`)));
      });
      const base = /^keel serve: (\S+)$/.exec(first)?.[1] as string;
      expect(base, first).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const page = await fetch(`${base}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:src|href)="(\/assets\/[\w-]+\.(?:js|css))"/g)].map((m) => m[1]);
      expect(assets).toHaveLength(2);
      for (const asset of assets) expect((await fetch(`${base}${asset}`)).status, asset).toBe(200);
    } finally {
      child.kill("SIGTERM");
    }
  });

  it.skipIf(!HAS_NODE22)("serves npx keel mcp, listed by the MCP Inspector", async () => {
    const home = join(work, "inspector-home");
    // Node 22 runs the Inspector only; the server it starts, `npx keel mcp`, runs on the PATH's Node, the one
    // better-sqlite3 was compiled for.
    const args = ["--cli", "--format", "json", "--quiet", "--cwd", app, "npx", "keel", "mcp"];
    const r = await runProcess(
      NODE22,
      [binOf("@modelcontextprotocol/inspector", "mcp-inspector"), ...args, "--method", "tools/list"],
      app,
      { ...env, HOME: home },
    );
    expect(r.code, r.stderr).toBe(0);
    const { tools } = JSON.parse(r.stdout).result;
    expect(tools.map((t: { name: string }) => t.name).sort()).toEqual(CORE_TOOLS);
  });
});
