// The Spec Kit reader against fixtures modelled on github/spec-kit's templates (current and pre-0.0.29 layouts).
// Every count is checked against a regular expression over the fixture's own text, every span against the text it
// points at, and mutated fixtures must still parse without throwing and with every span inside the text.
// @verifies LAY-2, LAY-3, LAY-7, LAY-10
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSpeckitConstitution, parseSpeckitSpec } from "../src/format/layouts/speckit.js";
import type { Diagnostic, Requirement, Span } from "../src/model/types.js";
import { checkSpans } from "./format-support.js";

const FIXTURES = join(import.meta.dirname, "fixtures", "layouts");
const ROOTS = { current: join(FIXTURES, "speckit"), legacy: join(FIXTURES, "speckit-legacy") };

interface FixtureSpec {
  root: string;
  feature: string;
  file: string;
  text: string;
}

const SPECS: FixtureSpec[] = Object.values(ROOTS).flatMap((root) =>
  readdirSync(join(root, "specs"))
    .sort()
    .map((feature) => {
      const file = `specs/${feature}/spec.md`;
      return { root, feature, file, text: readFileSync(join(root, file), "utf8") };
    }),
);

const slice = (text: string, span: Span) => text.slice(span.start.offset, span.end.offset);
const count = (text: string, re: RegExp) => [...text.matchAll(re)].length;
/** The text with fenced code blocks removed: markers inside code are examples, not markers. */
const outsideCode = (text: string) => text.replace(/^```[^\n]*\n[\s\S]*?^```[ \t]*$/gm, "");
/** Top-level bullets between a `### <name>` heading and the next heading. */
function bulletsUnder(text: string, name: string): string[] {
  const m = new RegExp(`^### ${name}[^\\n]*\\n([\\s\\S]*?)(?=^#|(?![\\s\\S]))`, "m").exec(text);
  return m ? [...(m[1] as string).matchAll(/^- (.*)$/gm)].map((x) => x[1] as string) : [];
}
const kinds = (r: Requirement) => r.written?.replace(/\d.*$/, "") ?? "story";

// @verifies LAY-3, LAY-2
describe("Spec Kit fixtures", () => {
  it("are the two layouts, each with at least two features", () => {
    expect(SPECS.filter((s) => s.root === ROOTS.current).length).toBeGreaterThanOrEqual(2);
    expect(SPECS.filter((s) => s.root === ROOTS.legacy).length).toBeGreaterThanOrEqual(2);
  });

  it("hold the current layout's JSON state files in the shapes Spec Kit writes", () => {
    const read = (rel: string) => JSON.parse(readFileSync(join(ROOTS.current, rel), "utf8"));
    const feature = read(".specify/feature.json");
    expect(statSync(join(ROOTS.current, feature.feature_directory, "spec.md")).isFile()).toBe(true);
    expect(read(".specify/init-options.json")).toMatchObject({
      feature_numbering: "sequential",
      script: "sh",
    });
  });
});

describe("parseSpeckitSpec on the fixtures", () => {
  for (const fx of SPECS) {
    describe(`${relative(FIXTURES, fx.root)}/${fx.file}`, () => {
      const parsed = parseSpeckitSpec(fx.text, fx.file, fx.feature);
      const { spec } = parsed;
      const reqs = spec.requirements;

      it("counts user stories, FR and SC items as the text has them", () => {
        const stories = count(fx.text, /^### (?:User Story \d+ |Primary User Story)/gm);
        expect(reqs.filter((r) => kinds(r) === "US" || kinds(r) === "story")).toHaveLength(stories);
        expect(reqs.filter((r) => kinds(r) === "FR-")).toHaveLength(count(fx.text, /^- \*\*FR-\d{3}\*\*:/gm));
        expect(reqs.filter((r) => kinds(r) === "SC-")).toHaveLength(count(fx.text, /^- \*\*SC-\d{3}\*\*:/gm));
      });

      it("keeps every ID exactly as written, qualified by the feature folder", () => {
        const written = [...fx.text.matchAll(/^- \*\*((?:FR|SC)-\d{3})\*\*:|^### User Story (\d+)/gm)].map(
          (m) => m[1] ?? `US${m[2]}`,
        );
        const read = reqs.filter((r) => r.written !== undefined);
        expect(read.map((r) => r.written)).toEqual(written);
        for (const r of read) {
          expect(r.id).toBe(`${fx.feature}/${r.written}`);
          expect(r.explicitId).toBe(true);
          expect(r.capability).toBe(fx.feature);
        }
      });

      it("reads each acceptance scenario with its Given/When/Then steps", () => {
        const scenarioLines = [...fx.text.matchAll(/^\d+\. (\*\*Given\*\*.*)$/gm)].map((m) => m[1] as string);
        const scenarios = reqs.flatMap((r) => r.scenarios);
        expect(scenarios).toHaveLength(scenarioLines.length);
        scenarios.forEach((sc, k) => {
          const keywords = [...(scenarioLines[k] as string).matchAll(/\*\*(Given|When|Then|And|But)\*\*/g)];
          expect(sc.steps.map((st) => st.keyword)).toEqual(
            keywords.map((m) => (m[1] as string).toUpperCase()),
          );
          expect(sc.name).toMatch(/^Scenario \d+$/);
          for (const st of sc.steps) {
            const at = slice(fx.text, st.span);
            expect(at).toMatch(/^\*\*(Given|When|Then|And|But)\*\*/);
            expect(at.endsWith(st.text)).toBe(true);
            expect(st.text).not.toMatch(/^\s|[\s,]$/);
          }
        });
      });

      it("reads edge cases, key entities and clarification markers as notes", () => {
        const notes = spec.notes ?? [];
        expect(notes.filter((n) => n.kind === "edge-case").map((n) => n.text.split("\n")[0])).toEqual(
          bulletsUnder(fx.text, "Edge Cases"),
        );
        expect(notes.filter((n) => n.kind === "entity").map((n) => n.text)).toEqual(
          bulletsUnder(fx.text, "Key Entities"),
        );
        const markers = [...outsideCode(fx.text).matchAll(/\[NEEDS CLARIFICATION: ([^\]]*)\]/g)];
        const clarifications = notes.filter((n) => n.kind === "clarification");
        expect(clarifications.map((n) => n.text)).toEqual(markers.map((m) => m[1]));
        const open = spec.openQuestions.filter((q) => !q.resolved);
        expect(open.map((q) => q.text)).toEqual(markers.map((m) => m[1]));
      });

      it("points every span at the exact text it stands for", () => {
        expect(checkSpans(fx.text, parsed)).toEqual([]);
        for (const r of reqs) {
          expect(slice(fx.text, r.span)).toBe(r.raw);
          if (r.textSpan) expect(slice(fx.text, r.textSpan)).toBe(r.text);
          for (const sc of r.scenarios) expect(slice(fx.text, sc.span)).toBe(sc.raw);
        }
        for (const n of spec.notes ?? []) {
          if (n.kind === "clarification")
            expect(slice(fx.text, n.span)).toBe(`[NEEDS CLARIFICATION: ${n.text}]`);
          else expect(slice(fx.text, n.span)).toBe(n.text);
        }
        for (const r of reqs.filter((x) => x.written?.match(/^(FR|SC)-/))) {
          expect(slice(fx.text, r.headingSpan)).toMatch(new RegExp(`^- \\*\\*${r.written}\\*\\*: `));
          expect(r.title).toBe(r.text);
        }
      });

      it("takes the title from the heading and the sections as written", () => {
        expect(spec.title).toBe(/^# Feature Specification: (.*)$/m.exec(fx.text)?.[1]);
        expect(spec.sections.map((s) => s.title)).toEqual(
          [...outsideCode(fx.text).matchAll(/^## (.*)$/gm)].map((m) => (m[1] as string).trim()),
        );
        expect(spec.layout).toBe("speckit");
        expect(spec.capability).toBe(fx.feature);
      });
    });
  }
});

describe("parseSpeckitSpec, what the fixtures show", () => {
  const byFeature = (feature: string) => {
    const fx = SPECS.find((s) => s.feature === feature)!;
    return { fx, ...parseSpeckitSpec(fx.text, fx.file, feature) };
  };
  const lineOf = (text: string, needle: string, nth = 0) => {
    const lines = text.split("\n");
    return lines.map((l, i) => (l.startsWith(needle) ? i + 1 : 0)).filter((n) => n > 0)[nth];
  };

  it("reads a user story's priority, title, prose and scenarios", () => {
    const { fx, spec } = byFeature("001-photo-albums");
    const us2 = spec.requirements.find((r) => r.written === "US2")!;
    expect(us2.priority).toBe("P2");
    expect(us2.title).toBe("Reorganize albums by drag and drop");
    expect(us2.text.startsWith("On the main page, albums are grouped by date.")).toBe(true);
    expect(us2.text.endsWith("first position and reloading the page.")).toBe(true);
    expect(us2.text).not.toContain("Acceptance Scenarios");
    expect(us2.scenarios[0]?.steps.map((s) => [s.keyword, s.text])).toEqual([
      ["GIVEN", "five albums dated March 2026"],
      ["WHEN", "the user drags the fifth album before the first"],
      ["THEN", "it is shown first"],
      ["AND", "the new order survives a reload"],
    ]);
    expect(us2.headingSpan.start.line).toBe(lineOf(fx.text, "### User Story 2 "));
  });

  it("reads the spec's status when Keel knows it, and says so when not", () => {
    expect(byFeature("001-photo-albums").spec.status).toBe("draft");
    expect(byFeature("002-album-sharing").spec.status).toBe("approved");
    const legacy = byFeature("002-task-comments");
    expect(legacy.spec.status).toBeNull();
    const info = legacy.diagnostics.filter((d) => d.rule === "speckit/status");
    expect(info).toHaveLength(1);
    expect(info[0]?.severity).toBe("info");
    expect(slice(legacy.fx.text, info[0]!.span)).toBe("In Progress");
  });

  it("keeps both requirements of a duplicated ID and reports it at both positions", () => {
    const { fx, spec, diagnostics } = byFeature("002-album-sharing");
    const dupes = spec.requirements.filter((r) => r.written === "FR-003");
    expect(dupes).toHaveLength(2);
    expect(dupes[0]?.text).not.toBe(dupes[1]?.text);
    const found = diagnostics.filter((d) => d.rule === "speckit/duplicate-id");
    expect(found.map((d) => d.span.start.line)).toEqual([
      lineOf(fx.text, "- **FR-003**", 0),
      lineOf(fx.text, "- **FR-003**", 1),
    ]);
    expect(found.every((d) => d.severity === "error")).toBe(true);
  });

  it("reads the older template's primary user story with the scenarios under their own heading", () => {
    const { fx, spec } = byFeature("001-kanban-board");
    const story = spec.requirements[0]!;
    expect(story.id).toBe("001-kanban-board/primary-user-story");
    expect(story.explicitId).toBe(false);
    expect(story.written).toBeUndefined();
    expect(story.text.startsWith("A team member opens Taskify")).toBe(true);
    expect(story.scenarios).toHaveLength(count(bulletsBlock(fx.text, "Acceptance Scenarios"), /^\d+\. /gm));
    expect(story.raw).toContain("### Acceptance Scenarios");
  });

  it("reports an FR item whose ID is malformed, and does not read it", () => {
    const { fx, spec, diagnostics } = byFeature("001-kanban-board");
    const bad = diagnostics.filter((d) => d.rule === "speckit/requirement-id");
    expect(bad).toHaveLength(1);
    expect(slice(fx.text, bad[0]!.span)).toBe("**FR-07**");
    expect(bad[0]?.span.start.line).toBe(lineOf(fx.text, "- **FR-07**"));
    expect(spec.requirements.some((r) => r.written === "FR-07")).toBe(false);
    expect(spec.strayHeadings.map((h) => h.span.start.line)).toEqual([bad[0]?.span.start.line]);
  });

  it("ties a marker inside a requirement to that requirement", () => {
    const { spec } = byFeature("001-photo-albums");
    const notes = (spec.notes ?? []).filter((n) => n.kind === "clarification");
    expect(notes.map((n) => n.requirement)).toEqual([undefined, "001-photo-albums/FR-009"]);
  });

  it("reads /speckit.clarify's answered questions as resolved", () => {
    const { fx, spec } = byFeature("002-album-sharing");
    const answered = spec.openQuestions.filter((q) => q.resolved);
    expect(answered.map((q) => q.text)).toEqual(
      [...fx.text.matchAll(/^- (Q: .* → A: .*)$/gm)].map((m) => m[1]),
    );
  });

  it("fingerprints requirements unless told not to", () => {
    const { fx, spec } = byFeature("001-photo-albums");
    for (const r of spec.requirements) expect(r.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(new Set(spec.requirements.map((r) => r.fingerprint)).size).toBe(spec.requirements.length);
    const bare = parseSpeckitSpec(fx.text, fx.file, fx.feature, { fingerprints: false });
    expect(bare.spec.requirements.every((r) => r.fingerprint === "")).toBe(true);
  });
});

/** The body of a `### <name>` block, up to the next heading. */
function bulletsBlock(text: string, name: string): string {
  return new RegExp(`^### ${name}\\n([\\s\\S]*?)(?=^#)`, "m").exec(text)?.[1] ?? "";
}

describe("parseSpeckitSpec on what it cannot read", () => {
  const parse = (text: string) => parseSpeckitSpec(text, "spec.md", "009-x");
  const rules = (ds: Diagnostic[]) => ds.map((d) => [d.rule, d.severity, d.span.start.line]);

  it("warns on a user story without priority, and still reads it", () => {
    const p = parse("## User Scenarios\n\n### User Story 4 - Export\n\nAs a user I export.\n");
    expect(p.spec.requirements.map((r) => [r.id, r.priority])).toEqual([["009-x/US4", undefined]]);
    expect(rules(p.diagnostics)).toEqual([["speckit/user-story-priority", "warning", 3]]);
  });

  it("warns on a priority that is not P<n>", () => {
    const p = parse("### User Story 1 - Export (Priority: High)\n");
    expect(p.spec.requirements[0]?.priority).toBeUndefined();
    expect(slice("### User Story 1 - Export (Priority: High)\n", p.diagnostics[0]!.span)).toBe(
      "(Priority: High)",
    );
  });

  it("does not read a user story without a number, and says where it is", () => {
    const p = parse("### User Story - Export (Priority: P1)\n\n1. **Given** a, **When** b, **Then** c\n");
    expect(p.spec.requirements).toEqual([]);
    expect(rules(p.diagnostics)).toEqual([["speckit/user-story-id", "error", 1]]);
    expect(p.spec.strayHeadings).toHaveLength(1);
  });

  it("reports acceptance scenarios that follow no story", () => {
    const p = parse("### Edge Cases\n\n### Acceptance Scenarios\n1. **Given** a, **When** b, **Then** c\n");
    expect(p.spec.requirements).toEqual([]);
    expect(rules(p.diagnostics)).toEqual([["speckit/orphan-scenarios", "warning", 3]]);
    expect(p.spec.strayHeadings.map((h) => h.text)).toEqual(["Acceptance Scenarios"]);
  });

  it("reads [[id]] references outside code, each at its text", () => {
    const text = "- **FR-001**: System MUST follow [[photo-albums/FR-002]], not `[[quoted]]`\n";
    const refs = parse(text).spec.references;
    expect(refs.map((r) => [r.id, slice(text, r.span)])).toEqual([
      ["photo-albums/FR-002", "[[photo-albums/FR-002]]"],
    ]);
  });

  it("reports an unclosed clarification marker", () => {
    const p = parse("- **FR-001**: System MUST [NEEDS CLARIFICATION: which one?\n");
    expect(rules(p.diagnostics)).toEqual([["speckit/clarification-unclosed", "warning", 1]]);
    expect(p.spec.notes).toEqual([]);
  });

  it("ignores markers quoted in code, and reads nested brackets inside one", () => {
    const text = "- `[NEEDS CLARIFICATION: quoted]` and [NEEDS CLARIFICATION: [A] or [B]?]\n";
    const notes = parse(text).spec.notes ?? [];
    expect(notes.map((n) => [n.kind, n.text, slice(text, n.span)])).toEqual([
      ["clarification", "[A] or [B]?", "[NEEDS CLARIFICATION: [A] or [B]?]"],
    ]);
  });

  it("reads a wrapped FR item whole, and an FR with a nested list", () => {
    const text =
      "- **FR-001**: System MUST do a\n  and b.\n- **FR-002**: System MUST accept:\n  - JPEG\n  - PNG\n";
    const reqs = parse(text).spec.requirements;
    expect(reqs.map((r) => r.text)).toEqual([
      "System MUST do a\n  and b.",
      "System MUST accept:\n  - JPEG\n  - PNG",
    ]);
  });
});

describe("parseSpeckitSpec on mutated fixtures", () => {
  const LINES = [
    "",
    "---",
    "```",
    "<!--",
    "### User Story 9 - Extra (Priority: P9)",
    "### User Story - Unnumbered",
    "### Primary User Story",
    "### Acceptance Scenarios",
    "**Acceptance Scenarios**:",
    "1. **Given** a, **When** b, **Then** c",
    "2. Given a, when b, then c",
    "- **FR-001**: System MUST duplicate.",
    "- **FR-1**: malformed",
    "- **SC-001:** colon inside",
    "- **FR-002**:",
    "[NEEDS CLARIFICATION: open",
    "[NEEDS CLARIFICATION: closed]",
    "### Edge Cases",
    "### Key Entities",
    "## Clarifications",
    "- Q: why? → A: because",
    "**Status**: Deprecated",
    "  - nested",
    "\t**When** tabbed",
  ];
  const mutation = fc.oneof(
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat(),
      line: fc.oneof(fc.constantFrom(...LINES), fc.string({ maxLength: 40 })),
    }),
  );
  type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;
  const apply = (text: string, m: Mutation) => {
    const lines = text.split("\n");
    const k = m.at % Math.max(lines.length, 1);
    if (m.kind === "delete") lines.splice(k, 1);
    else if (m.kind === "duplicate") lines.splice(k, 0, lines[k] ?? "");
    else lines.splice(k, 0, m.line);
    return lines.join("\n");
  };

  it("never throws, and every span stays in the text and matches its raw text", () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 8 }),
        fc.boolean(),
        (pick, ms, crlf) => {
          const fx = SPECS[pick % SPECS.length]!;
          const mutated = ms.reduce(apply, fx.text);
          const text = crlf ? mutated.replace(/\n/g, "\r\n") : mutated;
          const parsed = parseSpeckitSpec(text, fx.file, fx.feature);
          expect(checkSpans(text, parsed)).toEqual([]);
          for (const r of parsed.spec.requirements) {
            if (r.textSpan) expect(slice(text, r.textSpan)).toBe(r.text);
          }
          for (const n of parsed.spec.notes ?? []) {
            if (n.kind !== "clarification") expect(slice(text, n.span)).toBe(n.text);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("stays linear on pathological lines", () => {
    const n = 100_000;
    const lines = [
      `**Status**: ${" ".repeat(n)}x`,
      `### User Story 1 - (Priority:${" ".repeat(n)}`,
      `1. ${"**Given** ".repeat(n / 10)}`,
      `${"[NEEDS CLARIFICATION: ".repeat(n / 20)}`,
      `- **FR-001**: ${"[".repeat(n)}`,
      Array.from({ length: n / 10 }, () => "- **FR-001**: x").join("\n"),
    ];
    const started = performance.now();
    for (const line of lines) {
      const text = `# Feature Specification: X\n${line}\n`;
      expect(checkSpans(text, parseSpeckitSpec(text, "s.md", "f", { fingerprints: false }))).toEqual([]);
    }
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe("parseSpeckitConstitution", () => {
  const constitutions = [
    join(ROOTS.current, ".specify", "memory", "constitution.md"),
    join(ROOTS.legacy, "memory", "constitution.md"),
  ];
  for (const path of constitutions) {
    it(`reads the principles of ${relative(FIXTURES, path)}`, () => {
      const text = readFileSync(path, "utf8");
      const { constitution, diagnostics } = parseSpeckitConstitution(text, "constitution.md");
      const core = /^## Core Principles\n([\s\S]*?)(?=^## )/m.exec(text)?.[1] ?? "";
      const headings = [...core.matchAll(/^### ([IVX]+)\. (.*)$/gm)];
      expect(constitution.principles.map((p) => [p.id, p.title])).toEqual(
        headings.map((m) => [`principle/${m[1]}`, m[2]]),
      );
      expect(constitution.principles.some((p) => /Governance/.test(p.title))).toBe(false);
      expect(diagnostics).toEqual([]);
      expect(checkSpans(text, constitution)).toEqual([]);
      for (const p of constitution.principles) {
        expect(p.raw.startsWith(`### ${p.id.slice("principle/".length)}. ${p.title}`)).toBe(true);
        expect(p.raw).toContain(p.text);
        expect(p.text).not.toMatch(/^\s|\s$/);
        expect(p.gate).toBeNull();
      }
    });
  }

  it("does not take the template's placeholders for principles", () => {
    const text =
      "# [PROJECT_NAME] Constitution\n\n## Core Principles\n\n### [PRINCIPLE_1_NAME]\n[PRINCIPLE_1_DESCRIPTION]\n\n## Governance\n";
    const { constitution, diagnostics } = parseSpeckitConstitution(text, "c.md");
    expect(constitution.principles).toEqual([]);
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["speckit/constitution-placeholder", 5],
    ]);
  });

  it("reports duplicated numerals at both headings, and a constitution without principles", () => {
    const text = "## Core Principles\n### I. A\nx\n### I. B\ny\n";
    const dup = parseSpeckitConstitution(text, "c.md");
    expect(dup.constitution.principles).toHaveLength(2);
    expect(dup.diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["speckit/duplicate-principle", 2],
      ["speckit/duplicate-principle", 4],
    ]);
    const none = parseSpeckitConstitution("# C\n\n## Governance\n", "c.md");
    expect(none.diagnostics.map((d) => d.rule)).toEqual(["speckit/constitution-principles"]);
  });

  it("never throws on mutated constitutions", () => {
    const text = readFileSync(constitutions[0]!, "utf8");
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.string({ maxLength: 20 })), { maxLength: 6 }), (edits) => {
        const lines = text.split("\n");
        for (const [at, s] of edits) lines.splice(at % lines.length, at % 3, s);
        const mutated = lines.join("\n");
        expect(checkSpans(mutated, parseSpeckitConstitution(mutated, "c.md"))).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
