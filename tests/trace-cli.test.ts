// @verifies TRC-3, TRC-4, TRC-8, TRC-9, TRC-10
// `keel trace`, `trace ack`, `drift`, `coverage` and `check` end to end, on real git repositories with real
// commits: editing a requirement turns its links suspect and an acknowledgement clears them; a typo dangles;
// a task's commit outside its boundaries is reported; evidence goes stale when linked code changes.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { jsonOut, keel, keelWith } from "./support/cli.js";
import { tempProjects, writeFile } from "./support/files.js";
import { requirementLines } from "./support/fixtures.js";
import { commitAll, git, gitInit } from "./support/git.js";

const project = tempProjects("keel-trace-cli-");
const HUMAN = { KEEL_ACTOR: "human:alice" };

function spec(pay1: string): string {
  const req = requirementLines;
  return [
    "# Payments",
    "",
    "## Purpose",
    "Refunds and receipts for paid invoices.",
    "",
    "## Requirements",
    "",
    ...req("PAY-1", "Refunds are idempotent", pay1),
    ...req("PAY-2", "Receipts", "email a receipt for every payment"),
  ].join("\n");
}

function repo(extra: Record<string, string> = {}): string {
  const root = project({
    ".gitignore": ".keel/\n",
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/pay/spec.md": spec("process at most one refund per key"),
    "src/refund.ts": "export function refund() {}\n// @req PAY-1\n",
    "tests/refund.test.ts": "// @verifies PAY-1\nit('refunds once', () => {});\n",
    ...extra,
  });
  gitInit(root);
  commitAll(root, "payments");
  return root;
}

function states(root: string, id: string): string[] {
  const [r] = jsonOut(keel(root, "trace", id, "--json")).requirements;
  return [...r.implementations, ...r.tests].map(
    (l: { file: string; state: string }) => `${l.file} ${l.state}`,
  );
}

function drift(root: string): { code: number | null; findings: Finding[] } {
  const run = keel(root, "drift", "--json");
  return { code: run.code, findings: jsonOut(run).findings };
}

describe("suspect links and acknowledgements", () => {
  it("edit → suspect → ack clears → the next edit makes them suspect again", () => {
    const root = repo();
    expect(states(root, "PAY-1")).toEqual(["src/refund.ts ok", "tests/refund.test.ts ok"]);
    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per key and day"));
    commitAll(root, "tighten PAY-1");
    expect(states(root, "PAY-1")).toEqual(["src/refund.ts suspect", "tests/refund.test.ts suspect"]);
    const before = drift(root);
    expect(before.code).toBe(1);
    expect(before.findings.filter((f) => f.target === "PAY-1").map((f) => f.rule)).toEqual([
      "drift/only-suspect",
      "drift/suspect-link",
      "drift/suspect-link",
    ]);

    const agent = keelWith({ KEEL_ACTOR: "agent:codex" }, root, "trace", "ack", "PAY-1", "--reason", "fine");
    expect(agent.code).toBe(5);
    expect(() => readFileSync(join(root, "keel/trace-acks.yaml"))).toThrow();
    // The refusal is audited, one event per link the agent named, as a refused approval is.
    const refusals = jsonOut(keel(root, "--json", "audit", "log", "--action", "trace.ack.refused")).events;
    expect(refusals.length).toBeGreaterThan(0);
    expect(
      refusals.every(
        (e: { actor: string; target: string }) => e.actor === "agent:codex" && e.target.startsWith("PAY-1 "),
      ),
    ).toBe(true);

    const ack = keelWith(
      HUMAN,
      root,
      "trace",
      "ack",
      "PAY-1@src/refund.ts",
      "--reason",
      "keyed by day already",
    );
    expect(ack.code).toBe(0);
    expect(states(root, "PAY-1")).toEqual(["src/refund.ts ok", "tests/refund.test.ts suspect"]);
    expect(keelWith(HUMAN, root, "trace", "ack", "PAY-1", "--reason", "the test covers days").code).toBe(0);
    expect(states(root, "PAY-1")).toEqual(["src/refund.ts ok", "tests/refund.test.ts ok"]);
    const acks = readFileSync(join(root, "keel/trace-acks.yaml"), "utf8");
    expect(acks).toContain("by: human:alice");
    expect(acks).toContain("reason: keyed by day already");
    const audit = jsonOut(keel(root, "audit", "log", "--json"));
    expect(JSON.stringify(audit)).toContain("trace.ack");

    writeFile(root, "keel/specs/pay/spec.md", spec("process at most one refund per key and week"));
    expect(states(root, "PAY-1")).toEqual(["src/refund.ts suspect", "tests/refund.test.ts suspect"]);
  });

  it("refuses an ack without a reason, or of a requirement with nothing suspect", () => {
    const root = repo();
    expect(keelWith(HUMAN, root, "trace", "ack", "PAY-1").code).toBe(2);
    const none = keelWith(HUMAN, root, "trace", "ack", "PAY-1", "--reason", "x");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no suspect link matches PAY-1");
  });
});

describe("keel drift", () => {
  it("reports a dangling annotation where it is written, and untraced approved requirements", () => {
    const root = repo({ "src/typo.ts": "export const x = 1;\n// @req PAY-99\n" });
    const { code, findings } = drift(root);
    expect(code).toBe(1);
    expect(findings).toContainEqual(
      expect.objectContaining({
        rule: "drift/dangling-link",
        file: "src/typo.ts",
        line: 2,
        severity: "error",
      }),
    );
    const pay2 = findings.filter((f) => f.target === "PAY-2").map((f) => f.rule);
    expect(pay2).toEqual(["drift/unimplemented", "drift/untested"]);
  });

  it("reports files a task's commit changed outside the task's boundaries", () => {
    const root = repo({
      "keel/specs/pay/tasks.md":
        "- [ ] 1.1 Refund handler\n  - covers: PAY-1\n  - boundaries: src/refund.ts\n",
    });
    writeFile(root, "src/refund.ts", "export function refund() { return 1; }\n// @req PAY-1\n");
    writeFile(root, "src/auth.ts", "export const login = 1;\n");
    git(root, "add", "-A");
    git(root, "commit", "-q", "-m", "refund handler\n\nTask: 1.1");
    const out = drift(root).findings.filter((f) => f.rule === "drift/out-of-bounds");
    expect(out.map((f) => [f.file, f.target])).toEqual([["src/auth.ts", "pay/1.1"]]);
  });
});

describe("coverage and check", () => {
  it("coverage counts implemented, tested and verified per capability, as JSON and Markdown", () => {
    const root = repo({ "keel/keel.yaml": 'version: 1\ngates:\n  test: "true"\n' });
    expect(jsonOut(keel(root, "coverage", "--json")).capabilities).toEqual([
      { capability: "pay", approved: 2, implemented: 1, tested: 1, verified: 0 },
    ]);
    expect(keel(root, "verify").code).toBe(0);
    expect(jsonOut(keel(root, "coverage", "--json")).capabilities[0].verified).toBe(2);
    const md = keel(root, "coverage").stdout;
    expect(md).toContain("| capability | approved | implemented | tested | verified |");
    expect(md).toContain("| `pay` | 2 | 1/2 (50%) | 1/2 (50%) | 2/2 (100%) |");
    // Linked code changed after the evidence: the link and the requirement's evidence are stale.
    writeFile(root, "src/refund.ts", "export function refund() { return 2; }\n// @req PAY-1\n");
    const [pay1] = jsonOut(keel(root, "trace", "PAY-1", "--json")).requirements;
    expect(pay1.implementations[0].state).toBe("stale");
    expect(pay1.evidenceStatus).toBe("stale");
  });

  it("check fails on a failed gate and names it, passes once it is green", () => {
    const root = repo({
      "keel/keel.yaml": 'version: 1\ngates:\n  test: "test -f green"\n',
      "tests/pay2.test.ts": "// @verifies PAY-2\n",
      "src/receipt.ts": "// @req PAY-2\n",
    });
    const notRun = jsonOut(keel(root, "check", "--json"));
    expect(notRun.gates.map((g: { state: string }) => g.state)).toEqual(["missing"]);
    expect(notRun.ok).toBe(true);
    expect(keel(root, "verify").code).toBe(1);
    const failed = keel(root, "check");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("gate test (`test -f green`) failed with exit 1");
    writeFile(root, "green", "");
    writeFile(root, ".gitignore", ".keel/\ngreen\n");
    commitAll(root, "ignore the marker");
    writeFile(root, "green", "");
    expect(keel(root, "verify").code).toBe(0);
    const ok = jsonOut(keel(root, "check", "--json"));
    expect(ok.ok).toBe(true);
    expect(ok.summary.gates).toEqual({ passed: 1, failed: 0, missing: 0 });
  });
});
