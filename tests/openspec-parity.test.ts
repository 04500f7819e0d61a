// Runs the real OpenSpec CLI and Keel's OpenSpec rules on OpenSpec's own corpus and compares the verdict
// (valid / invalid) item by item, in normal and in strict mode. The only differences allowed are the ones
// listed between the parity markers of docs/openspec-compat.md, and every listed one must still occur.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProject } from "../src/core/project.js";
import {
  OPENSPEC_RULES,
  openspecChangeRules,
  openspecSpecRules,
  openspecTaskRules,
} from "../src/core/validate/openspec-rules.js";
import type { Change, Finding, Severity, Spec } from "../src/model/types.js";

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const CORPUS = resolve(REPO, "../shared/corpora/openspec");
const DOC = join(REPO, "docs/openspec-compat.md");
const HAVE_CORPUS = existsSync(join(CORPUS, "openspec"));

if (!HAVE_CORPUS) {
  console.warn(`openspec-parity: SKIPPED, the OpenSpec corpus is missing (expected ${CORPUS})`);
}

type Mode = "normal" | "strict";
const MODES: Mode[] = ["normal", "strict"];

interface OpenSpecItem {
  id: string;
  type: "spec" | "change";
  valid: boolean;
  issues: { level: string; path: string; message: string }[];
}

interface AllowedDifference {
  key: string;
  mode: Mode;
  openspec: "valid" | "invalid";
  keel: "valid" | "invalid";
}

/** Rows of the table between `<!-- parity:begin -->` and `<!-- parity:end -->` in the compat doc. */
function allowedDifferences(): AllowedDifference[] {
  const doc = readFileSync(DOC, "utf8");
  const begin = doc.indexOf("<!-- parity:begin -->");
  const end = doc.indexOf("<!-- parity:end -->");
  expect(begin, "docs/openspec-compat.md lacks the parity markers").toBeGreaterThan(-1);
  expect(end).toBeGreaterThan(begin);
  const rows: AllowedDifference[] = [];
  for (const line of doc.slice(begin, end).split("\n")) {
    const cells = line.split("|").map((c) => c.trim().replace(/^`|`$/g, ""));
    // | item | mode | OpenSpec | Keel | reason |
    const [, key, modes, openspec, keel] = cells;
    if (!key || !/^(spec|change)\//.test(key)) continue;
    for (const mode of (modes ?? "").split(/[ ,]+/)) {
      if (mode !== "normal" && mode !== "strict")
        throw new Error(`bad mode "${mode}" in parity row: ${line}`);
      if ((openspec !== "valid" && openspec !== "invalid") || (keel !== "valid" && keel !== "invalid")) {
        throw new Error(`bad verdict in parity row: ${line}`);
      }
      rows.push({ key, mode, openspec, keel });
    }
  }
  return rows;
}

function makeWritable(path: string): void {
  const st = statSync(path);
  chmodSync(path, st.mode | 0o200);
  if (st.isDirectory()) for (const name of readdirSync(path)) makeWritable(join(path, name));
}

function runOpenSpec(cwd: string, home: string, strict: boolean): OpenSpecItem[] {
  const pkgMain = createRequire(import.meta.url).resolve("@fission-ai/openspec");
  const bin = join(dirname(pkgMain), "..", "bin", "openspec.js");
  const args = [bin, "validate", "--all", "--json", "--no-interactive", ...(strict ? ["--strict"] : [])];
  const r = spawnSync(process.execPath, args, {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    env: {
      ...process.env,
      OPENSPEC_TELEMETRY: "0",
      DO_NOT_TRACK: "1",
      NO_COLOR: "1",
      CI: "1",
      XDG_CONFIG_HOME: home,
      XDG_DATA_HOME: home,
    },
  });
  if (r.error) throw r.error;
  // Exit code 1 only means "some item is invalid"; anything else, or no JSON, is a broken run.
  expect([0, 1], `openspec exited ${r.status}: ${r.stderr}`).toContain(r.status);
  const out = JSON.parse(r.stdout) as { items: OpenSpecItem[] };
  return out.items;
}

function verdict(findings: Finding[], mode: Mode): "valid" | "invalid" {
  const failing: Severity[] = mode === "strict" ? ["error", "warning"] : ["error"];
  return findings.some((f) => failing.includes(f.severity)) ? "invalid" : "valid";
}

// @verifies VAL-2, VAL-3, VAL-4
describe.skipIf(!HAVE_CORPUS)("OpenSpec parity on ../shared/corpora/openspec", () => {
  let work = "";
  const openspec = new Map<Mode, Map<string, OpenSpecItem>>();
  const keel = new Map<string, Finding[]>();

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "keel-openspec-parity-"));
    const project = join(work, "project");
    cpSync(CORPUS, project, { recursive: true });
    makeWritable(project);
    const home = join(work, "home");
    for (const mode of MODES) {
      const items = runOpenSpec(project, home, mode === "strict");
      openspec.set(mode, new Map(items.map((i) => [`${i.type}/${i.id}`, i])));
    }

    const loaded = loadProject(project, { explicitRoot: true });
    const specs: Spec[] = loaded.specs.filter((s) => s.layout === "openspec");
    const living = new Map(specs.map((s) => [s.capability, s]));
    // Parse diagnostics count against the item whose file they are in, as they do in `keel validate`.
    const diagnosticsIn = (owns: (file: string) => boolean): Finding[] =>
      loaded.diagnostics
        .filter((d) => owns(d.span.file))
        .map((d) => ({
          rule: d.rule,
          severity: d.severity,
          file: d.span.file,
          line: d.span.start.line,
          col: d.span.start.col,
          message: d.message,
          hint: d.hint ?? "",
        }));
    for (const spec of specs) {
      keel.set(`spec/${spec.capability}`, [
        ...openspecSpecRules(spec),
        ...diagnosticsIn((f) => f === spec.file),
      ]);
    }
    const schemasDir = join(project, "openspec", "schemas");
    const projectSchemas = existsSync(schemasDir) ? readdirSync(schemasDir) : [];
    const open: Change[] = loaded.changes.filter((c) => c.layout === "openspec" && !c.archived);
    for (const change of open) {
      const tasks = change.tasksFile ? readFileSync(join(project, change.tasksFile), "utf8") : null;
      keel.set(`change/${change.id}`, [
        ...openspecChangeRules(change, living, { projectSchemas }),
        ...(tasks === null ? [] : openspecTaskRules(change, tasks)),
        ...diagnosticsIn((f) => f.startsWith(`${change.dir}/`)),
      ]);
    }
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  // @verifies OSC-2, OSC-3
  it("sees the same specs and open changes as OpenSpec", () => {
    const theirs = [...(openspec.get("normal")?.keys() ?? [])].sort();
    expect(theirs.length).toBeGreaterThan(0);
    expect([...keel.keys()].sort()).toEqual(theirs);
  });

  for (const mode of MODES) {
    it(`gives the same verdict per item in ${mode} mode, except the documented differences`, () => {
      const allowed = allowedDifferences().filter((d) => d.mode === mode);
      const mismatches: string[] = [];
      const seen = new Set<string>();
      for (const [key, item] of openspec.get(mode) ?? []) {
        const theirs = item.valid ? "valid" : "invalid";
        const ours = verdict(keel.get(key) ?? [], mode);
        if (theirs === ours) continue;
        const documented = allowed.find((d) => d.key === key && d.openspec === theirs && d.keel === ours);
        if (documented) {
          seen.add(key);
          continue;
        }
        const why = (
          item.issues.length > 0 ? item.issues : [{ level: "-", path: "-", message: "(no issues)" }]
        )
          .map((i) => `    openspec ${i.level} ${i.path}: ${i.message.slice(0, 160)}`)
          .concat(
            (keel.get(key) ?? []).map(
              (f) => `    keel ${f.severity} ${f.rule} ${f.file}:${f.line}: ${f.message}`,
            ),
          );
        mismatches.push(`${key}: OpenSpec says ${theirs}, Keel says ${ours}\n${why.join("\n")}`);
      }
      expect(mismatches, mismatches.join("\n")).toEqual([]);
      const stale = allowed.filter((d) => !seen.has(d.key)).map((d) => d.key);
      expect(stale, "documented differences that no longer occur; remove them from the doc").toEqual([]);
    });
  }
});

// @verifies VAL-4
describe("OpenSpec rule documentation", () => {
  it("documents every rule id the OpenSpec rules can emit, with its severity", () => {
    const doc = readFileSync(DOC, "utf8");
    const missing = Object.entries(OPENSPEC_RULES)
      .filter(([id, severity]) => !new RegExp(`\\|\\s*\`${id}\`\\s*\\|\\s*${severity}\\s*\\|`).test(doc))
      .map(([id, severity]) => `${id} (${severity})`);
    expect(missing).toEqual([]);
  });
});
