// keel.yaml `roots:`: several spec roots in one git repository, read as one project with namespaced IDs.
import { existsSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { keel } from "./support/cli.js";
import { tempProjects, treeDigests, writeFile } from "./support/files.js";
import { commitAll, gitInit } from "./support/git.js";

const project = tempProjects("keel-monorepo-");

const ROOTS_YAML = "version: 1\nroots:\n  payments: services/payments\n  web: apps/web\n";

/** web's AUTH-1 naming a requirement payments does not have: a cross-root reference to nothing. */
function unknownCrossRoot(): Record<string, string> {
  return {
    "apps/web/openspec/specs/login/spec.md": spec(
      "Login",
      requirement("Sign in", "AUTH-1", "The web app SHALL sign a person in; see [[payments:NOPE-1]].", false),
    ),
  };
}

/** One requirement block as Keel and OpenSpec write it; `marker` false for OpenSpec's plain form. */
function requirement(title: string, id: string, text: string, marker = true): string {
  return [
    `### Requirement: ${title} {#${id}}`,
    ...(marker ? ["> status: approved · origin: human · explicit"] : []),
    text,
    "",
    "#### Scenario: It happens",
    "- **WHEN** it is asked for",
    "- **THEN** it is done",
    "",
  ].join("\n");
}

function spec(title: string, ...requirements: string[]): string {
  return `# ${title}\n\n## Purpose\nWhat ${title} is for, said in enough words for the purpose rule to pass.\n\n## Requirements\n\n${requirements.join("\n")}`;
}

/**
 * A repository whose top level has its own keel/ (one requirement, TOP-1) and two roots: payments (Keel) and
 * web (OpenSpec), both defining AUTH-1. Code in each root and at the top level carries `@req` links.
 */
function monorepo(extra: Record<string, string> = {}): string {
  const root = project({
    "keel/keel.yaml": ROOTS_YAML,
    "keel/specs/core/spec.md": spec("Core", requirement("Top level", "TOP-1", "The product SHALL start.")),
    "services/payments/keel/specs/billing/spec.md": spec(
      "Billing",
      requirement("Sign in before paying", "AUTH-1", "The payments service SHALL refuse anonymous charges."),
      requirement("Refunds", "PAY-1", "The payments service SHALL refund within the window."),
    ),
    "services/payments/keel/specs/billing/tasks.md":
      "# Tasks\n\n- [ ] 1.1 Write the refund job\n  - Requirements: PAY-1\n",
    "apps/web/openspec/specs/login/spec.md": spec(
      "Login",
      requirement(
        "Sign in",
        "AUTH-1",
        "The web app SHALL sign a person in; charges follow [[payments:PAY-1]].",
        false,
      ),
    ),
    "services/payments/src/charge.ts": "// @req AUTH-1\nexport const charge = 1;\n",
    "apps/web/src/login.ts":
      "// @req payments:PAY-1, AUTH-1\n// @req payments:NOPE-9\nexport const login = 1;\n",
    "src/main.ts": "// @req TOP-1\nexport const main = 1;\n",
    ...extra,
  });
  gitInit(root);
  commitAll(root, "init");
  return root;
}

function json<T>(root: string, ...args: string[]): T {
  const r = keel(root, ...args, "--json");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as T;
}

interface Link {
  file: string;
  target: string;
  root?: string | null;
}
interface Traced {
  requirements: Array<{ id: string; file: string; implementations: Link[] }>;
  dangling: Link[];
}

const ids = (root: string, ...args: string[]) =>
  json<{ requirements: Array<{ id: string }> }>(root, ...args, "list", "requirements")
    .requirements.map((r) => r.id)
    .sort();

// @verifies MONO-1, MONO-3
describe("several spec roots read as one project", () => {
  it("lists every root's requirements and specs namespaced, the top level's as they are", () => {
    const root = monorepo();
    expect(ids(root)).toEqual(["TOP-1", "payments:AUTH-1", "payments:PAY-1", "web:AUTH-1"]);
    const specs = json<{ specs: Array<{ capability: string; file: string }> }>(root, "list", "specs").specs;
    expect(specs.map((s) => [s.capability, s.file]).sort()).toEqual([
      ["core", "keel/specs/core/spec.md"],
      ["payments:billing", "services/payments/keel/specs/billing/spec.md"],
      ["web:login", "apps/web/openspec/specs/login/spec.md"],
    ]);
    const text = keel(root, "list", "requirements").stdout;
    expect(text).toContain("payments:AUTH-1");
    expect(text).toContain("web:AUTH-1");
  });

  it("validates across roots: a qualified reference to another root resolves, an unknown one is reported", () => {
    const clean = monorepo();
    const ok = keel(clean, "validate", "--json");
    expect(ok.code).toBe(0);
    const findings = JSON.parse(ok.stdout).findings as Finding[];
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);

    const broken = monorepo(unknownCrossRoot());
    const bad = keel(broken, "validate", "--json");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).findings).toContainEqual(
      expect.objectContaining({
        rule: "xref/unknown-reference",
        file: "apps/web/openspec/specs/login/spec.md",
        target: "payments:NOPE-1",
      }),
    );
  });

  it("reads a root's tasks with namespaced keys and covers", () => {
    const root = monorepo();
    const tasks = json<{ tasks: Array<{ key: string; covers: string[] }> }>(root, "tasks", "list").tasks;
    expect(tasks).toEqual([
      expect.objectContaining({ key: "payments:billing/1.1", covers: ["payments:PAY-1"] }),
    ]);
    expect(json<{ tasks: unknown[] }>(root, "--root", "web", "tasks", "list").tasks).toEqual([]);
  });
});

// @verifies MONO-4
describe("IDs given on the command line", () => {
  it("refuses an unqualified ID two roots have, naming both", () => {
    const root = monorepo();
    const r = keel(root, "show", "AUTH-1");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ambiguous");
    expect(r.stderr).toContain("payments:AUTH-1");
    expect(r.stderr).toContain("web:AUTH-1");
  });

  it("shows a qualified ID, an unqualified one only one root has, and one the --root scope has", () => {
    const root = monorepo();
    const shown = (...args: string[]) => json<{ item: { id: string } }>(root, ...args).item.id;
    expect(shown("show", "payments:AUTH-1")).toBe("payments:AUTH-1");
    expect(shown("show", "PAY-1")).toBe("payments:PAY-1");
    expect(shown("show", "TOP-1")).toBe("TOP-1");
    expect(shown("--root", "web", "show", "AUTH-1")).toBe("web:AUTH-1");
    const billing = json<{ kind: string; item: { capability: string } }>(root, "show", "billing");
    expect([billing.kind, billing.item.capability]).toEqual(["spec", "payments:billing"]);
  });
});

/** Every file outside the payments root (and git's own), by digest: what a payments change must leave as it was. */
function outsidePayments(root: string): Map<string, string> {
  return new Map(
    [...treeDigests(root)].filter(
      ([rel]) => !rel.startsWith("services/payments/") && !rel.startsWith(".git/"),
    ),
  );
}

// @verifies MONO-8
describe("keel change in a spec root", () => {
  const changes = (root: string, ...args: string[]) =>
    json<{ changes: Array<{ id: string; dir: string }> }>(root, ...args, "change", "list").changes;

  it("scaffolds with --root into the root's folder, lists and shows it qualified, and applies it there alone", () => {
    const root = monorepo();
    const before = outsidePayments(root);
    const made = json<{ change: string; dir: string; files: string[] }>(
      root,
      "--root",
      "payments",
      "change",
      "new",
      "add-refunds",
      "--modify",
      "PAY-1",
      "--as",
      "human:alice",
    );
    expect([made.change, made.dir]).toEqual([
      "payments:add-refunds",
      "services/payments/keel/changes/add-refunds",
    ]);
    const delta = join(root, made.dir, "specs/billing/spec.md");
    expect(readFileSync(delta, "utf8")).toContain("refund within the window");

    expect(changes(root)).toEqual([expect.objectContaining({ id: "payments:add-refunds", dir: made.dir })]);
    expect(changes(root, "--root", "web")).toEqual([]);
    const shown = (id: string) => json<{ id: string; dir: string }>(root, "change", "show", id);
    expect(shown("payments:add-refunds")).toMatchObject({ id: "payments:add-refunds", dir: made.dir });
    expect(shown("add-refunds")).toMatchObject({ id: "payments:add-refunds", dir: made.dir });

    writeFile(
      root,
      `${made.dir}/specs/billing/spec.md`,
      readFileSync(delta, "utf8").replace("refund within the window", "refund within 30 days"),
    );
    expect(keel(root, "change", "approve", "add-refunds", "--as", "human:bob").code).toBe(0);
    const applied = keel(root, "change", "apply", "payments:add-refunds", "--as", "human:bob", "--json");
    expect(applied.stderr).toBe("");
    expect(applied.code).toBe(0);
    const living = readFileSync(join(root, "services/payments/keel/specs/billing/spec.md"), "utf8");
    expect(living).toContain("SHALL refund within 30 days");
    const archive = readdirSync(join(root, "services/payments/keel/changes/archive"));
    expect(archive).toEqual([expect.stringMatching(/^\d{4}-\d{2}-\d{2}-add-refunds$/)]);
    expect(existsSync(join(root, made.dir))).toBe(false);
    expect(existsSync(join(root, "keel/changes"))).toBe(false);
    expect(changes(root)).toEqual([]);
    const reverted = json<{ change: string; dir: string }>(
      root,
      "change",
      "revert",
      "add-refunds",
      "--as",
      "human:bob",
    );
    expect(reverted).toMatchObject({
      change: "payments:revert-add-refunds",
      dir: "services/payments/keel/changes/revert-add-refunds",
    });
    expect(outsidePayments(root)).toEqual(before);
  });

  it("refuses an unqualified change ID two roots have, naming both", () => {
    const proposal = "## Why\nRefunds are needed for the reason given here.\n\n## What Changes\n- Refunds\n";
    const root = monorepo({
      "services/payments/keel/changes/add-refunds/proposal.md": proposal,
      "apps/web/openspec/changes/add-refunds/proposal.md": proposal,
    });
    const r = keel(root, "change", "show", "add-refunds");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("ambiguous");
    expect(r.stderr).toContain("payments:add-refunds");
    expect(r.stderr).toContain("web:add-refunds");
    expect(json<{ id: string }>(root, "--root", "web", "change", "show", "add-refunds").id).toBe(
      "web:add-refunds",
    );
    expect(changes(root).map((c) => c.id)).toEqual(["payments:add-refunds", "web:add-refunds"]);
  });
});

// @verifies MONO-2
describe("--root NAME keeps a command to one root", () => {
  it("scopes list, validate and trace; --root <dir> keeps naming the project folder", () => {
    const root = monorepo(unknownCrossRoot());
    expect(ids(root, "--root", "payments")).toEqual(["payments:AUTH-1", "payments:PAY-1"]);

    // The unknown reference is web's: payments validates clean, web does not.
    expect(keel(root, "--root", "payments", "validate").code).toBe(0);
    const web = keel(root, "--root", "web", "validate", "--json");
    expect(web.code).toBe(1);
    const files = (JSON.parse(web.stdout).findings as Finding[]).map((f) => f.file);
    expect(files.every((f) => f.startsWith("apps/web/"))).toBe(true);

    const traced = json<Traced>(root, "--root", "payments", "trace");
    expect(traced.requirements.map((r) => r.id).sort()).toEqual(["payments:AUTH-1", "payments:PAY-1"]);
    expect(traced.dangling).toEqual([]);

    // From outside: -C names the repository, then --root the root in it; a folder is still a folder.
    const outside = dirname(root);
    expect(ids(outside, "-C", root, "--root", "payments")).toEqual(["payments:AUTH-1", "payments:PAY-1"]);
    expect(ids(outside, "--root", root)).toHaveLength(4);
    const searched = json<{ results: Array<{ id: string }> }>(root, "--root", "web", "search", "sign");
    expect(searched.results.map((h) => h.id)).toContain("web:AUTH-1");
    expect(searched.results.every((h) => h.id.startsWith("web:"))).toBe(true);
  });
});

// @verifies MONO-5, MONO-6
describe("the trace across roots", () => {
  it("resolves @req in the root owning the file, qualified IDs anywhere, and reports unknown ones", () => {
    const root = monorepo();
    const traced = json<Traced>(root, "trace");
    const implementations = (id: string) =>
      (traced.requirements.find((r) => r.id === id)?.implementations ?? []).map((l) => [l.file, l.root]);
    expect(implementations("payments:AUTH-1")).toEqual([["services/payments/src/charge.ts", "payments"]]);
    expect(implementations("web:AUTH-1")).toEqual([["apps/web/src/login.ts", "web"]]);
    expect(implementations("payments:PAY-1")).toEqual([["apps/web/src/login.ts", "web"]]);
    expect(implementations("TOP-1")).toEqual([["src/main.ts", null]]);
    expect(traced.dangling).toEqual([
      expect.objectContaining({ file: "apps/web/src/login.ts", target: "payments:NOPE-9", root: "web" }),
    ]);
    const text = keel(root, "trace").stdout;
    expect(text).toContain("services/payments/src/charge.ts:1:9 (payments)");
    expect(text).toContain("src/main.ts:1:9 (top level)");

    const scanned = json<{ links: Link[]; filesWithLinks: number }>(
      root,
      "--root",
      "payments",
      "trace",
      "scan",
    );
    expect(scanned.filesWithLinks).toBe(1);
    expect(scanned.links.map((l) => [l.file, l.target, l.root])).toEqual([
      ["services/payments/src/charge.ts", "AUTH-1", "payments"],
    ]);
  });
});

// @verifies MONO-1
describe("a wrong roots: is an error at its keel.yaml line", () => {
  const cases: Array<[string, string, string]> = [
    ["a missing folder", "roots:\n  payments: services/nowhere\n", "not found"],
    ["a path out of the repository", "roots:\n  payments: ../elsewhere\n", "relative to the repository root"],
    ["an absolute path", "roots:\n  payments: /etc\n", "relative to the repository root"],
    [
      "a folder given twice",
      "roots:\n  payments: services/payments\n  pay: services/payments/\n",
      "same folder",
    ],
    ["a name not in kebab-case", "roots:\n  Payments: services/payments\n", "kebab-case"],
    ["a folder holding no layout", "roots:\n  payments: services\n", "holds no layout"],
    ["a name given twice", "roots:\n  payments: services/payments\n  payments: apps/web\n", "unique"],
  ];
  for (const [what, yaml, message] of cases) {
    it(what, () => {
      const root = monorepo({ "keel/keel.yaml": `version: 1\n${yaml}` });
      const line = yaml.split("\n").length;
      const r = keel(root, "list");
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`keel/keel.yaml:${line}`);
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("hint:");
    });
  }

  it("a root inside another", () => {
    const root = monorepo({
      "keel/keel.yaml":
        "version: 1\nroots:\n  payments: services/payments\n  tools: services/payments/tools\n",
      "services/payments/tools/keel/keel.yaml": "version: 1\n",
    });
    const r = keel(root, "list");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("keel/keel.yaml:4");
    expect(r.stderr).toContain("overlaps `roots.payments`");
  });

  it("a folder reached through a symbolic link out of the repository", () => {
    const outside = project({ "keel/specs/x/spec.md": spec("X", requirement("X", "X-1", "It SHALL be.")) });
    const root = monorepo({ "keel/keel.yaml": "version: 1\nroots:\n  out: linked\n" });
    symlinkSync(outside, join(root, "linked"));
    const r = keel(root, "list");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("keel/keel.yaml:3");
    expect(r.stderr).toContain("out of the repository");
  });

  it("leaves a project without roots as it was: no namespace, --root a folder", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/core/spec.md": spec("Core", requirement("Top level", "TOP-1", "The product SHALL start.")),
    });
    writeFile(root, "src/main.ts", "// @req TOP-1\n");
    expect(ids(dirname(root), "--root", root)).toEqual(["TOP-1"]);
    const r = keel(root, "--root", "payments", "list");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("payments");
  });
});

// @verifies MONO-7
describe("roots: auto", () => {
  const openspec = (id: string) => spec("Vendored", requirement("Vendored", id, "It SHALL be there.", false));

  it("finds the nested layouts, named by folder, leaving out ignored folders and node_modules", () => {
    const root = monorepo({
      "keel/keel.yaml": "version: 1\nroots: auto\n",
      ".gitignore": "vendor/\n",
      "vendor/lib/openspec/specs/v/spec.md": openspec("VEN-1"),
      "node_modules/pkg/openspec/specs/n/spec.md": openspec("NOD-1"),
    });
    expect(ids(root)).toEqual(["TOP-1", "payments:AUTH-1", "payments:PAY-1", "web:AUTH-1"]);
    const status = json<{ project: { roots: Array<{ name: string; dir: string }> } }>(root, "status");
    expect(status.project.roots.map((r) => [r.name, r.dir])).toEqual([
      ["web", "apps/web"],
      ["payments", "services/payments"],
    ]);
  });

  it("refuses two folders of one name, at the roots: line", () => {
    const root = monorepo({
      "keel/keel.yaml": "version: 1\nroots: auto\n",
      "services/web/openspec/specs/api/spec.md": openspec("API-1"),
    });
    const r = keel(root, "list");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("keel/keel.yaml:2");
    expect(r.stderr).toContain("two folders");
  });
});
