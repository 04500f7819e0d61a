// The official MCP conformance suite (`@modelcontextprotocol/conformance server --suite all`, from
// tools/mcp-clients), run on Node 22 against `keel serve`, must give exactly the results of the baseline in
// tests/fixtures/mcp-conformance-baseline.json: a scenario outside the baseline that fails, a baselined failure
// that starts passing or fails for another reason, and a scenario added to or gone from the suite all fail
// this test. docs/mcp-conformance.md shows the same baseline as a table, checked here too.
// @verifies SRF-4
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Run } from "./support/cli.js";
import { tempProjects } from "./support/files.js";
import { PAYMENTS_SPEC } from "./support/fixtures.js";
import { binOf, HAS_NODE22, NODE22, node22, REPO } from "./support/node22.js";
import { type Served, startServe } from "./support/serve.js";

if (!HAS_NODE22)
  console.warn(
    `mcp-conformance.test.ts: skipped the suite run, no Node 22 at ${NODE22} (run npm install --prefix tools/mcp-clients)`,
  );

interface Entry {
  scenario: string;
  /** Whether the scenario tests something Keel serves, rather than the reference server's test fixtures. */
  applies: boolean;
  expected: "pass" | "fail";
  reason: string;
  /** For an expected failure: a regular expression the failing checks' messages match. */
  failure?: string;
}

interface Baseline {
  suite: string;
  scenarios: Entry[];
}

const BASELINE_FILE = "tests/fixtures/mcp-conformance-baseline.json";
const DOC_FILE = "docs/mcp-conformance.md";
const START = "<!-- conformance-baseline:start -->";
const END = "<!-- conformance-baseline:end -->";

const baseline = JSON.parse(readFileSync(join(REPO, BASELINE_FILE), "utf8")) as Baseline;

/** The baseline as the Markdown table docs/mcp-conformance.md shows between its markers. */
function table(entries: Entry[]): string {
  const rows = entries.map(
    (e) => `| \`${e.scenario}\` | ${e.applies ? "yes" : "no"} | ${e.expected} | ${e.reason} |`,
  );
  return ["| Scenario | Applies to Keel | Expected | Reason |", "| --- | --- | --- | --- |", ...rows].join(
    "\n",
  );
}

describe("the conformance baseline", () => {
  it("names each scenario once, with a reason, and a failure pattern exactly for expected failures", () => {
    const names = baseline.scenarios.map((e) => e.scenario);
    expect(new Set(names).size).toBe(names.length);
    for (const e of baseline.scenarios) {
      expect(["pass", "fail"], e.scenario).toContain(e.expected);
      expect(e.reason.length, e.scenario).toBeGreaterThan(10);
      expect(e.reason, e.scenario).not.toContain("|");
      if (e.expected === "fail") expect(() => new RegExp(e.failure ?? ""), e.scenario).not.toThrow();
      expect(e.failure !== undefined && e.failure !== "", e.scenario).toBe(e.expected === "fail");
    }
  });

  it(`is the table ${DOC_FILE} shows`, () => {
    const doc = readFileSync(join(REPO, DOC_FILE), "utf8");
    const start = doc.indexOf(START);
    const end = doc.indexOf(END);
    expect(start, `${DOC_FILE} has no ${START}`).toBeGreaterThanOrEqual(0);
    expect(end, `${DOC_FILE} has no ${END}`).toBeGreaterThan(start);
    expect(doc.slice(start + START.length, end).trim()).toBe(table(baseline.scenarios));
  });
});

const project = tempProjects("keel-conformance-");

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | string;
  errorMessage?: string;
}

/** A result folder's name: `server-<scenario>-<timestamp>`. */
const RESULT_DIR = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/;

describe.skipIf(!HAS_NODE22)("the official MCP conformance suite against keel serve", () => {
  let served: Served;
  let work: string;
  let run: Run;
  /** Each scenario's checks, from the checks.json the runner wrote. */
  const results = new Map<string, Check[]>();

  beforeAll(async () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/constitution.md": "# Constitution\n\n## Principles\n\n### Principle: Tests first {#P-1}\nTest.\n",
      "keel/specs/payments/spec.md": PAYMENTS_SPEC,
      "keel/specs/payments/tasks.md": "## 1. Refunds\n- [ ] 1.1 Make refunds idempotent\n  - covers: PAY-1\n",
    });
    // The runner's working folder, its output folder and its expected-failures file, apart from the project.
    work = project({
      "expected-failures.yml": `server:\n${baseline.scenarios
        .filter((e) => e.expected === "fail")
        .map((e) => `  - ${e.scenario}\n`)
        .join("")}`,
    });
    mkdirSync(join(work, "cwd"));
    served = await startServe(root);
    run = await node22(
      [
        binOf("@modelcontextprotocol/conformance", "conformance"),
        "server",
        "--url",
        `${served.base}/mcp`,
        "--suite",
        baseline.suite,
        "--output-dir",
        join(work, "results"),
        "--expected-failures",
        join(work, "expected-failures.yml"),
      ],
      join(work, "cwd"),
    );
    for (const dir of readdirSync(join(work, "results"))) {
      const m = dir.match(RESULT_DIR);
      if (!m) throw new Error(`unexpected result folder ${dir}`);
      results.set(
        m[1] as string,
        JSON.parse(readFileSync(join(work, "results", dir, "checks.json"), "utf8")),
      );
    }
  });

  afterAll(async () => {
    if (served) expect(await served.stop()).toBe(0);
  });

  it("runs exactly the scenarios the baseline lists", () => {
    expect([...results.keys()].sort(), run.stdout).toEqual(baseline.scenarios.map((e) => e.scenario).sort());
  });

  it("passes and fails each scenario as the baseline says, each failure for the documented reason", () => {
    const failures = (checks: Check[]) => checks.filter((c) => c.status === "FAILURE");
    const got = Object.fromEntries(
      [...results].map(([name, checks]) => [name, failures(checks).length > 0 ? "fail" : "pass"]),
    );
    const want = Object.fromEntries(baseline.scenarios.map((e) => [e.scenario, e.expected]));
    expect(got).toEqual(want);
    for (const e of baseline.scenarios) {
      if (e.expected !== "fail") continue;
      const messages = failures(results.get(e.scenario) ?? []).map((c) => `${c.id}: ${c.errorMessage ?? ""}`);
      expect(messages.join("\n"), e.scenario).toMatch(new RegExp(e.failure ?? ""));
    }
  });

  it("gets the same verdict from the runner itself: with the baseline's failures expected, it exits 0", () => {
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).toContain("=== SUMMARY ===");
  });

  it("writes its results only into the output folder it was given", () => {
    expect(readdirSync(join(work, "cwd"))).toEqual([]);
    expect(readdirSync(work).sort()).toEqual(["cwd", "expected-failures.yml", "results"]);
  });
});
