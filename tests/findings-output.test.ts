// @verifies RPT-1, RPT-2, RPT-3, RPT-4, RPT-5, RPT-6, RPT-7, RPT-8, RPT-9
// How `keel check`, `keel validate` and `keel drift` list findings, on real projects in git: the grouped text,
// `--quiet`, `--max` and `--format summary` against the `--json` findings of the same project, and the drift
// baseline from its first write to a new finding, a shifted line, a fixed finding and a broken file.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding, Severity } from "../src/model/types.js";
import { jsonOut, keel, type Run } from "./support/cli.js";
import { tempProjects, treeDigests, writeFile } from "./support/files.js";
import { requirementLines } from "./support/fixtures.js";
import { commitAll, gitInit } from "./support/git.js";

const project = tempProjects("keel-findings-output-");
const BASELINE = "keel/drift-baseline.json";

const SPEC = [
  "# Payments",
  "",
  "## Purpose",
  "Refunds and receipts for paid invoices, handled the same way every time.",
  "",
  "## Requirements",
  "",
  ...requirementLines("PAY-1", "Refunds", "process at most one refund per key"),
  ...requirementLines("PAY-2", "Receipts", "email a receipt for every payment"),
  ...requirementLines("PAY-3", "Statements", "send a statement every month"),
].join("\n");

/**
 * Drift of three rules and two severities: dangling links (errors) in two files, PAY-2 and PAY-3 with no
 * test and PAY-3 with no implementation (warnings). The specs themselves validate clean.
 */
function driftingRepo(): string {
  const root = project({
    ".gitignore": ".keel/\n",
    "keel/keel.yaml": "version: 1\n",
    "keel/specs/pay/spec.md": SPEC,
    "src/refund.ts": "export function refund() {}\n// @req PAY-1\n// @req PAY-9\n",
    "src/receipt.ts": "export function receipt() {}\n// @req PAY-2\n// @req PAY-8\n// @req PAY-7\n",
    "tests/refund.test.ts": "// @verifies PAY-1\nit('refunds once', () => {});\n",
  });
  gitInit(root);
  commitAll(root, "payments");
  return root;
}

interface Group {
  rule: string;
  counts: Record<Severity, number>;
  files: Map<string, Finding[]>;
}

/** The groups the text output should show, worked out from JSON findings the way docs/cli.md describes. */
function expectedGroups(findings: readonly Finding[]): Group[] {
  const byRule = new Map<string, Group>();
  for (const f of findings) {
    const g = byRule.get(f.rule) ?? {
      rule: f.rule,
      counts: { error: 0, warning: 0, info: 0 },
      files: new Map(),
    };
    g.counts[f.severity]++;
    g.files.set(f.file, [...(g.files.get(f.file) ?? []), f]);
    byRule.set(f.rule, g);
  }
  const worst = (g: Group) => (g.counts.error > 0 ? 0 : g.counts.warning > 0 ? 1 : 2);
  const size = (g: Group) => g.counts.error + g.counts.warning + g.counts.info;
  return [...byRule.values()].sort(
    (a, b) => worst(a) - worst(b) || size(b) - size(a) || (a.rule < b.rule ? -1 : 1),
  );
}

function header(g: Group): string {
  const words = { error: ["error", "errors"], warning: ["warning", "warnings"], info: ["info", "info"] };
  const counts = (["error", "warning", "info"] as const)
    .filter((s) => g.counts[s] > 0)
    .map((s) => `${g.counts[s]} ${words[s][g.counts[s] === 1 ? 0 : 1]}`);
  return `${g.rule}: ${counts.join(", ")} in ${g.files.size} file${g.files.size === 1 ? "" : "s"}`;
}

/** Lines of a run that are group headers (or summary rows): unindented `rule: … in N file(s)`. */
function headers(run: Run): string[] {
  return run.stdout.split("\n").filter((l) => /^\S+: .+ in \d+ files?$/.test(l));
}

/** Lines of a run that list one finding each: `    line:col message`. */
function findingRows(run: Run): string[] {
  return run.stdout.split("\n").filter((l) => /^ {4}\d+:\d+ /.test(l));
}

function lastLine(run: Run): string {
  return run.stdout.trimEnd().split("\n").at(-1) as string;
}

function fresh(findings: Array<Finding & { baselined?: true }>): Finding[] {
  return findings.filter((f) => !f.baselined);
}

describe("grouped text", () => {
  it("drift lists rule groups most severe first, each by file and line, as its JSON findings say", () => {
    const root = driftingRepo();
    const json = jsonOut(keel(root, "drift", "--json"));
    const text = keel(root, "drift");
    expect(text.code).toBe(1);
    const groups = expectedGroups(json.findings);
    expect(groups.map((g) => g.rule)).toEqual([
      "drift/dangling-link",
      "drift/untested",
      "drift/unimplemented",
    ]);
    const expected: string[] = [];
    for (const g of groups) {
      expected.push(header(g));
      for (const [file, list] of [...g.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
        expected.push(`  ${file}`);
        const byLine = [...list].sort((a, b) => a.line - b.line || a.col - b.col);
        for (const f of byLine) expected.push(`    ${f.line}:${f.col} ${f.message}`);
      }
    }
    const listed = text.stdout.split("\n").filter((l) => l !== "" && !/^\s+hint:/.test(l));
    expect(listed.slice(0, expected.length)).toEqual(expected);
  });

  it("writes a hint once per group when every finding of it shares the hint, else under each finding", () => {
    const root = driftingRepo();
    const findings: Finding[] = jsonOut(keel(root, "drift", "--json")).findings;
    const text = keel(root, "drift").stdout;
    const dangling = findings.filter((f) => f.rule === "drift/dangling-link");
    expect(dangling.length).toBe(3);
    expect(new Set(dangling.map((f) => f.hint)).size).toBe(1);
    expect(text.split(`  hint: ${dangling[0]?.hint}\n`).length - 1).toBe(1);
    for (const f of findings.filter((x) => x.rule === "drift/untested"))
      expect(text).toContain(`    ${f.line}:${f.col} ${f.message}\n      hint: ${f.hint}\n`);
  });

  it("validate and check group the same way as their JSON findings", () => {
    const root = driftingRepo();
    writeFile(
      root,
      "keel/specs/cart/spec.md",
      [
        "# Cart",
        "",
        "## Purpose",
        "Shoppers keep the items they choose in a cart until they pay for them.",
        "",
        "## Requirements",
        "",
        ...requirementLines("CART-1", "Fast cart", "add an item fast, see [[CART-9]]"),
        ...requirementLines("CART-2", "Quick cart", "remove an item quickly"),
      ].join("\n"),
    );
    for (const command of ["validate", "check"]) {
      const findings = fresh(jsonOut(keel(root, command, "--json")).findings);
      expect(new Set(findings.map((f) => f.severity)).size).toBeGreaterThan(1);
      expect(headers(keel(root, command))).toEqual(expectedGroups(findings).map(header));
    }
  });
});

describe("--quiet, --max and --format", () => {
  it("--quiet lists errors only; the verdict and the exit code stay those of the full run", () => {
    const root = driftingRepo();
    const findings: Finding[] = jsonOut(keel(root, "drift", "--json")).findings;
    const full = keel(root, "drift");
    const quiet = keel(root, "drift", "--quiet");
    expect(quiet.code).toBe(full.code);
    expect(lastLine(quiet)).toBe(lastLine(full));
    const errors = findings.filter((f) => f.severity === "error");
    expect(findingRows(quiet)).toHaveLength(errors.length);
    expect(headers(quiet)).toEqual(expectedGroups(errors).map(header));
    expect(quiet.stdout).not.toContain("drift/untested");
  });

  it("--max N lists N findings and counts the rest; --max 0 lists them all", () => {
    const root = driftingRepo();
    const total = jsonOut(keel(root, "drift", "--json")).findings.length;
    expect(total).toBeGreaterThan(3);
    const two = keel(root, "drift", "--max", "2");
    expect(findingRows(two)).toHaveLength(2);
    expect(two.stdout).toContain(`… and ${total - 2} more (use --max 0 for all)`);
    expect(two.code).toBe(1);
    const all = keel(root, "drift", "--max", "0");
    expect(findingRows(all)).toHaveLength(total);
    expect(all.stdout).not.toContain("more (use --max 0");
    const checkTotal = fresh(jsonOut(keel(root, "check", "--json")).findings).length;
    const one = keel(root, "check", "--max", "1");
    expect(findingRows(one)).toHaveLength(1);
    expect(one.stdout).toContain(`… and ${checkTotal - 1} more (use --max 0 for all)`);
  });

  it("refuses a --max that is not a whole number, and an unknown --format, with exit 2", () => {
    const root = driftingRepo();
    for (const command of ["check", "validate", "drift"]) {
      for (const bad of ["-1", "many", "1.5", ""]) {
        const run = keel(root, command, `--max=${bad}`);
        expect(run.code, `${command} --max=${bad}`).toBe(2);
        expect(run.stderr).toContain("--max");
        expect(run.stdout).toBe("");
      }
      const format = keel(root, command, "--format", "fancy");
      expect(format.code).toBe(2);
      expect(format.stderr).toContain("--format");
    }
  });

  it("--format summary prints one line per rule whose counts match the JSON, then the verdict", () => {
    const root = driftingRepo();
    for (const command of ["drift", "check", "validate"]) {
      const findings = fresh(jsonOut(keel(root, command, "--json")).findings);
      const full = keel(root, command);
      const summary = keel(root, command, "--format", "summary");
      expect(summary.code).toBe(full.code);
      expect(headers(summary)).toEqual(expectedGroups(findings).map(header));
      expect(findingRows(summary)).toEqual([]);
      expect(lastLine(summary)).toBe(lastLine(full));
    }
  });

  it("no listing flag changes an exit code or the JSON findings", () => {
    const root = driftingRepo();
    const json = jsonOut(keel(root, "drift", "--json"));
    const code = keel(root, "drift").code;
    for (const flags of [["--quiet"], ["--max", "1"], ["--format", "summary"], ["--format", "compact"]]) {
      expect(keel(root, "drift", ...flags).code).toBe(code);
      expect(jsonOut(keel(root, "drift", "--json", ...flags))).toEqual(json);
    }
  });
});

describe("drift baseline", () => {
  it("is stable, sorted JSON with a version and no positions", () => {
    const root = driftingRepo();
    expect(keel(root, "drift", "--baseline").code).toBe(0);
    const first = readFileSync(join(root, BASELINE), "utf8");
    expect(keel(root, "drift", "--baseline").code).toBe(0);
    expect(readFileSync(join(root, BASELINE), "utf8")).toBe(first);
    const doc = JSON.parse(first);
    expect(doc.version).toBe(1);
    const findings: Finding[] = jsonOut(keel(root, "drift", "--json", "--no-baseline")).findings;
    expect(doc.findings.reduce((n: number, e: { count: number }) => n + e.count, 0)).toBe(findings.length);
    const keys = doc.findings.map((e: Finding) => `${e.file}\u0000${e.rule}\u0000${e.message}`);
    expect(keys).toEqual([...keys].sort());
    for (const e of doc.findings) expect(Object.keys(e)).toEqual(["rule", "file", "message", "count"]);
  });

  it("lets check and drift pass, then fails on a new finding alone, and keeps a shifted one baselined", () => {
    const root = driftingRepo();
    const before: Finding[] = jsonOut(keel(root, "drift", "--json")).findings;
    expect(keel(root, "check").code).toBe(1);
    const written = keel(root, "drift", "--baseline");
    expect(written.code).toBe(0);
    expect(written.stdout).toContain(BASELINE);
    const clean = keel(root, "drift");
    expect(clean.code).toBe(0);
    expect(clean.stdout).toContain(`${before.length} baselined findings not listed`);
    expect(findingRows(clean)).toEqual([]);
    expect(keel(root, "check").code).toBe(0);

    // A new dangling link, and lines inserted above the baselined ones in the same file.
    const refund = readFileSync(join(root, "src/refund.ts"), "utf8");
    writeFile(root, "src/refund.ts", `// moved\n// down\n${refund}// @req PAY-6\n`);
    for (const command of ["drift", "check"]) {
      const run = keel(root, command);
      expect(run.code, command).toBe(1);
      expect(findingRows(run)).toEqual([expect.stringMatching(/^ {4}6:\d+ no requirement PAY-6/)]);
      expect(run.stdout).toContain(`${before.length} baselined findings not listed`);
    }
    const judged = jsonOut(keel(root, "drift", "--json"));
    const shifted = judged.findings.find((f: Finding) => f.message.includes("PAY-9"));
    expect(shifted).toMatchObject({ file: "src/refund.ts", line: 5, baselined: true });
    expect(judged.findings.filter((f: { baselined?: true }) => !f.baselined)).toHaveLength(1);
    expect(judged.baseline).toEqual({ file: BASELINE, baselined: before.length, gone: 0 });

    const everything = keel(root, "drift", "--no-baseline");
    expect(everything.code).toBe(1);
    expect(findingRows(everything)).toHaveLength(before.length + 1);
  });

  it("counts a fingerprint as many times as the baseline holds it: a second identical finding is new", () => {
    const root = driftingRepo();
    keel(root, "drift", "--baseline");
    writeFile(
      root,
      "src/refund.ts",
      "export function refund() {}\n// @req PAY-1\n// @req PAY-9\n// @req PAY-9\n",
    );
    const run = keel(root, "drift");
    expect(run.code).toBe(1);
    expect(findingRows(run)).toEqual([expect.stringMatching(/^ {4}4:\d+ no requirement PAY-9/)]);
  });

  it("reports baselined findings that are gone and shrinks only when written again", () => {
    const root = driftingRepo();
    keel(root, "drift", "--baseline");
    const held = readFileSync(join(root, BASELINE), "utf8");
    writeFile(root, "src/receipt.ts", "export function receipt() {}\n// @req PAY-2\n");
    const run = keel(root, "drift");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("2 baselined findings are gone; run keel drift --baseline to shrink it");
    expect(readFileSync(join(root, BASELINE), "utf8")).toBe(held);
    expect(keel(root, "drift", "--baseline").code).toBe(0);
    const shrunk = JSON.parse(readFileSync(join(root, BASELINE), "utf8"));
    expect(shrunk.findings.length).toBe(JSON.parse(held).findings.length - 2);
    expect(keel(root, "drift").stdout).not.toContain("gone");
  });

  it("refuses a malformed baseline with its file and line, exit 3, and writes nothing", () => {
    const root = driftingRepo();
    keel(root, "drift", "--baseline");
    const broken = '{\n  "version": 1,\n  "findings": [\n  }\n';
    writeFileSync(join(root, BASELINE), broken);
    const tree = treeDigests(root);
    for (const args of [["drift"], ["check"], ["drift", "--baseline"]]) {
      const run = keel(root, ...args);
      expect(run.code, args.join(" ")).toBe(3);
      expect(run.stderr).toMatch(/^error: keel\/drift-baseline\.json:4:\d+: /);
      expect(run.stdout).toBe("");
    }
    expect(treeDigests(root)).toEqual(tree);

    const badCount = [
      "{",
      '  "version": 1,',
      '  "findings": [',
      '    { "rule": "drift/untested", "file": "keel/specs/pay/spec.md", "message": "m", "count": 0 }',
      "  ]",
      "}",
      "",
    ].join("\n");
    writeFileSync(join(root, BASELINE), badCount);
    const run = keel(root, "drift");
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: keel\/drift-baseline\.json:4:\d+: .*`count`/);
  });
});
