// `keel context` on other toolkits' projects, through the real CLI on copies of the layout fixtures: Kiro's
// steering as the pack's guidance (always, fileMatch against the task's files, manual only by name) and a
// feature folder's plan artifacts as its design notes. Expected texts are read from the fixture files.
import { appendFileSync, cpSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "layouts");
const KIRO = join(FIXTURES, "kiro");
const SPECKIT = join(FIXTURES, "speckit");
/** Large enough that nothing is trimmed: these tests are about what is gathered, not about the budget. */
const BUDGET = "200000";

interface PackSection {
  kind: string;
  ref: string;
  text: string;
}

function pack(root: string, key: string): { sections: PackSection[]; text: string } {
  const json = jsonOut(keel(root, "--json", "context", key, "--budget", BUDGET));
  const text = keel(root, "context", key, "--budget", BUDGET).stdout;
  return { sections: json.sections, text };
}

const refsOf = (sections: PackSection[], kind: string) =>
  sections.filter((s) => s.kind === kind).map((s) => s.ref);

/** A steering file's body as Kiro reads it: the text after its front matter. */
function steeringBody(name: string): string {
  return readFileSync(join(KIRO, ".kiro/steering", name), "utf8").replace(/^---\n[\s\S]*?\n---\n/, "");
}

/** The last line of a text, one that appears nowhere else in the fixtures. */
function lastLine(text: string): string {
  return text.trim().split("\n").at(-1) as string;
}

const STEERING = ".kiro/steering";
const steeringFiles = readdirSync(join(KIRO, STEERING)).sort();
const inclusionOf = (name: string) =>
  /^inclusion:\s*(\S+)/m.exec(readFileSync(join(KIRO, STEERING, name), "utf8"))?.[1] ?? "always";
const ALWAYS = steeringFiles.filter((f) => inclusionOf(f) === "always").map((f) => `${STEERING}/${f}`);
const FILE_MATCH = `${STEERING}/api-standards.md`;
const MANUAL = `${STEERING}/release-checklist.md`;

// @verifies LAY-4, LAY-3
describe("keel context on Kiro and Spec Kit projects", () => {
  const project = tempProjects("keel-context-layouts-");

  const kiroCopy = (): string => {
    const root = project({});
    cpSync(KIRO, root, { recursive: true });
    // Two tasks that touch the API, one by a boundary and one by a path in its details, and one that does not.
    appendFileSync(
      join(root, ".kiro/specs/pantry-inventory/tasks.md"),
      [
        "",
        "- [ ] 6. Expose the inventory over HTTP",
        "  - [ ] 6.1 Add the items route",
        "    - Files: src/api/items.ts",
        "  - [ ] 6.2 Add the households route in `src/api/households.ts`",
        "  - [ ] 6.3 Write the web client's item list",
        "    - Files: web/src/items/**",
        "",
      ].join("\n"),
    );
    return root;
  };

  it("has the fixture's steering modes the tests rely on", () => {
    expect(steeringFiles.map(inclusionOf).sort()).toEqual(["always", "always", "fileMatch", "manual"]);
    expect(inclusionOf("api-standards.md")).toBe("fileMatch");
    expect(inclusionOf("release-checklist.md")).toBe("manual");
  });

  it("includes the always steering files in every Kiro task's pack, as guidance, and never the manual one", () => {
    const root = kiroCopy();
    for (const key of ["pantry-inventory/1", "expiry-alerts/1", "pantry-inventory/6.3"]) {
      const { sections, text } = pack(root, key);
      expect(refsOf(sections, "guidance"), key).toEqual(ALWAYS);
      expect(text).toContain("## Guidance");
      for (const f of ALWAYS) expect(text).toContain(lastLine(steeringBody(f.slice(STEERING.length + 1))));
      expect(text).not.toContain(lastLine(steeringBody("release-checklist.md")));
    }
  });

  it("includes the fileMatch steering file only for a task whose boundaries or mentioned paths match", () => {
    const root = kiroCopy();
    const apiRule = lastLine(steeringBody("api-standards.md"));
    for (const key of ["pantry-inventory/6.1", "pantry-inventory/6.2"]) {
      const { sections, text } = pack(root, key);
      expect(refsOf(sections, "guidance"), key).toEqual([FILE_MATCH, ...ALWAYS].sort());
      expect(text).toContain(apiRule);
      expect(text).toContain("matches `src/api/**/*.ts`");
    }
    for (const key of ["pantry-inventory/6.3", "pantry-inventory/1"]) {
      const { sections, text } = pack(root, key);
      expect(refsOf(sections, "guidance"), key).not.toContain(FILE_MATCH);
      expect(text).not.toContain(apiRule);
    }
  });

  it("includes the manual steering file when asked for by name (--steering)", () => {
    const root = kiroCopy();
    for (const name of ["release-checklist", "release-checklist.md"]) {
      const json = jsonOut(
        keel(root, "--json", "context", "pantry-inventory/1", "--steering", name, "--budget", BUDGET),
      );
      expect(refsOf(json.sections, "guidance")).toEqual([...ALWAYS, MANUAL].sort());
      const text = keel(root, "context", "pantry-inventory/1", "--steering", name, "--budget", BUDGET).stdout;
      expect(text).toContain(lastLine(steeringBody("release-checklist.md")));
    }
  });

  it("ranks guidance after the requirements and the constitution, and before design notes", () => {
    const root = kiroCopy();
    const kinds = pack(root, "pantry-inventory/2.2").sections.map((s) => s.kind);
    const last = (k: string) => kinds.lastIndexOf(k);
    expect(kinds.indexOf("guidance")).toBeGreaterThan(last("requirement"));
    expect(last("guidance")).toBeLessThan(kinds.indexOf("design"));
  });

  it("holds a Kiro task's own feature design.md, not another feature's", () => {
    const root = kiroCopy();
    const { sections, text } = pack(root, "pantry-inventory/2.2");
    expect(refsOf(sections, "design")).toEqual([".kiro/specs/pantry-inventory/design.md"]);
    const own = readFileSync(join(KIRO, ".kiro/specs/pantry-inventory/design.md"), "utf8");
    const other = readFileSync(join(KIRO, ".kiro/specs/expiry-alerts/design.md"), "utf8");
    expect(text).toContain(/^## Overview\n\n(.+)$/m.exec(own)?.[1]);
    expect(text).not.toContain(/^## Overview\n\n(.+)$/m.exec(other)?.[1]);
  });

  it("gives a task of another layout the project's steering too", () => {
    const root = project({
      "keel/keel.yaml": "version: 1\n",
      "keel/specs/app/tasks.md": "- [ ] 1. Ship it\n",
    });
    cpSync(join(KIRO, STEERING), join(root, STEERING), { recursive: true });
    expect(refsOf(pack(root, "app/1").sections, "guidance")).toEqual(ALWAYS);
  });

  it("holds a Spec Kit task's feature plan artifacts and contracts, and none of the other feature's", () => {
    const root = project({});
    cpSync(SPECKIT, root, { recursive: true });
    const feature = "specs/001-photo-albums";
    const { sections, text } = pack(root, "001-photo-albums/T001");
    const design = refsOf(sections, "design");
    // Discovery's design roles: the four plan files, then everything under contracts/ (not checklists/).
    const expected = [
      ...["data-model.md", "plan.md", "quickstart.md", "research.md"].map((f) => `${feature}/${f}`),
      ...readdirSync(join(SPECKIT, feature, "contracts")).map((f) => `${feature}/contracts/${f}`),
    ];
    expect(design).toEqual(expected);
    expect(design.some((d) => d.startsWith("specs/002-album-sharing/"))).toBe(false);
    const plan = readFileSync(join(SPECKIT, feature, "plan.md"), "utf8");
    const contract = readFileSync(join(SPECKIT, feature, "contracts/albums-api.yaml"), "utf8");
    const otherPlan = readFileSync(join(SPECKIT, "specs/002-album-sharing/plan.md"), "utf8");
    const titleOf = (yaml: string) => (/^ {2}title: (.+)$/m.exec(yaml) as RegExpExecArray)[1] as string;
    expect(text).toContain((/^# (.+)$/m.exec(plan) as RegExpExecArray)[0]);
    expect(text).toContain(titleOf(contract));
    expect(text).not.toContain((/^# (.+)$/m.exec(otherPlan) as RegExpExecArray)[0]);
    expect(text).not.toContain(
      titleOf(readFileSync(join(SPECKIT, "specs/002-album-sharing/contracts/sharing-api.yaml"), "utf8")),
    );
    expect(refsOf(sections, "guidance")).toEqual([]);
  });
});
