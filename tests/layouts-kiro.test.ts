// Kiro's requirements.md and steering files read into Keel's model: criteria counted and their text extracted by
// a separate line-by-line reading of the fixture text, IDs and spans checked against the text, steering inclusion
// against the front matter as written, fileMatch against picomatch, and mutated fixtures against exceptions and
// stray spans.
// @verifies LAY-2, LAY-4
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import picomatch from "picomatch";
import { describe, expect, it } from "vitest";
import { earsPattern } from "../src/format/ears.js";
import {
  parseKiroRequirements,
  parseSteering,
  STEERING_INCLUSIONS,
  type Steering,
  steeringApplies,
} from "../src/format/layouts/kiro.js";
import { requirementFingerprint } from "../src/model/fingerprint.js";
import type { Span } from "../src/model/types.js";
import { checkSpans, REPO } from "./format-support.js";

const ROOT = resolve(REPO, "tests/fixtures/layouts/kiro");
const SPECS_DIR = join(ROOT, ".kiro/specs");
const STEERING_REL = ".kiro/steering";
const STEERING_DIR = join(ROOT, STEERING_REL);
const FEATURES = readdirSync(SPECS_DIR).sort();
const requirementsOf = (feature: string) => readFileSync(join(SPECS_DIR, feature, "requirements.md"), "utf8");
const fileOf = (feature: string) => `.kiro/specs/${feature}/requirements.md`;
const STEERING_FILES = readdirSync(STEERING_DIR).sort();
const steeringText = (name: string) => readFileSync(join(STEERING_DIR, name), "utf8");

const slice = (text: string, span: Span) => text.slice(span.start.offset, span.end.offset);

interface ExpectedCriterion {
  id: string;
  text: string;
  line: number;
}

/**
 * The numbered criteria under `#### Acceptance Criteria` headings, read line by line with regexes of its own:
 * the group number from the last `### Requirement N` heading, continuation lines (indented) appended.
 */
function expectedCriteria(feature: string, text: string): ExpectedCriterion[] {
  const out: ExpectedCriterion[] = [];
  let group = "";
  let inCriteria = false;
  let current: ExpectedCriterion | null = null;
  text.split("\n").forEach((line, k) => {
    if (/^#{1,6} /.test(line)) {
      current = null;
      inCriteria = /^#### Acceptance Criteria\s*$/.test(line);
      const m = /^### Requirement (\d+)/.exec(line);
      if (m) group = m[1] as string;
      return;
    }
    const item = inCriteria ? /^(\d+)\. (.*)$/.exec(line) : null;
    if (item) {
      current = { id: `${feature}/${group}.${item[1]}`, text: (item[2] as string).trim(), line: k + 1 };
      out.push(current);
    } else if (current && /^ {3}\S/.test(line)) {
      current.text += `\n${line.trimEnd()}`;
    } else {
      current = null;
    }
  });
  return out;
}

// @verifies LAY-4, LAY-2
describe("Kiro requirements.md", () => {
  it("has two fixture specs, each with the three files of a spec folder", () => {
    expect(FEATURES).toEqual(["expiry-alerts", "pantry-inventory"]);
    for (const feature of FEATURES) {
      expect(readdirSync(join(SPECS_DIR, feature)).sort()).toEqual([
        "design.md",
        "requirements.md",
        "tasks.md",
      ]);
    }
  });

  for (const feature of FEATURES) {
    describe(feature, () => {
      const text = requirementsOf(feature);
      const parsed = parseKiroRequirements(text, fileOf(feature), feature);
      const { spec } = parsed;
      const expected = expectedCriteria(feature, text);

      it("reads with no diagnostics", () => {
        expect(parsed.diagnostics).toEqual([]);
      });

      it("makes one requirement of every numbered acceptance criterion, with the ID feature/N.M", () => {
        expect(expected.length).toBeGreaterThan(10);
        expect(spec.requirements.length).toBe(expected.length);
        expect(spec.requirements.map((r) => r.id)).toEqual(expected.map((c) => c.id));
        for (const r of spec.requirements) {
          expect(r.explicitId).toBe(true);
          expect(r.id).toBe(`${feature}/${r.written}`);
          expect(r.capability).toBe(feature);
          expect(r.scenarios).toEqual([]);
          expect(r.markers).toBeNull();
        }
      });

      it("keeps each criterion's text exactly, where its spans point", () => {
        spec.requirements.forEach((r, k) => {
          const want = expected[k] as ExpectedCriterion;
          expect(r.text).toBe(want.text);
          expect(slice(text, r.textSpan as Span)).toBe(r.text);
          expect(slice(text, r.span)).toBe(r.raw);
          expect(r.span.start.line).toBe(want.line);
          expect(r.headingSpan.start.line).toBe(want.line);
          expect(r.raw.startsWith(`${(r.written as string).split(".")[1]}. `)).toBe(true);
        });
        expect(checkSpans(text, { spec, diagnostics: parsed.diagnostics, groups: parsed.groups })).toEqual(
          [],
        );
      });

      it("classifies each criterion with earsPattern and fingerprints its text", () => {
        for (const r of spec.requirements) {
          expect(r.ears).toBe(earsPattern(r.text));
          expect(r.fingerprint).toBe(requirementFingerprint({ text: r.text, scenarios: [] }));
          expect(r.fingerprint).toMatch(/^[0-9a-f]{16}$/);
        }
        const bare = parseKiroRequirements(text, fileOf(feature), feature, { fingerprints: false });
        expect(bare.spec.requirements.every((r) => r.fingerprint === "")).toBe(true);
      });

      it("reads the title, the introduction and every ## section", () => {
        expect(spec.layout).toBe("kiro");
        expect(spec.capability).toBe(feature);
        expect(spec.title).toBe(/^# (.*)$/m.exec(text)?.[1]);
        expect(spec.sections.map((s) => s.title)).toEqual([...text.matchAll(/^## (.*)$/gm)].map((m) => m[1]));
        const intro = /## Introduction\n\n([\s\S]*?)\n\n## /.exec(text)?.[1];
        expect(spec.purpose).toBe(intro);
        expect(slice(text, spec.purposeSpan as Span)).toBe(intro);
        expect(spec.notes?.filter((n) => n.kind === "introduction").map((n) => n.text)).toEqual([intro]);
      });

      it("keeps each requirement's user story as a note naming its group", () => {
        const stories = [...text.matchAll(/^### Requirement (\d+).*\n\n\*\*User Story:\*\* (.*)$/gm)];
        const notes = spec.notes?.filter((n) => n.kind === "user-story") ?? [];
        expect(notes.map((n) => [n.requirement, n.text])).toEqual(
          stories.map((m) => [`${feature}/${m[1]}`, m[2]]),
        );
        for (const n of notes) expect(slice(text, n.span)).toBe(n.text);
        expect(parsed.groups.map((g) => g.story)).toEqual(notes);
      });

      it("groups the criteria under their requirement heading, with its title", () => {
        const headings = [...text.matchAll(/^### Requirement (\d+)(?:: (.*))?$/gm)];
        expect(parsed.groups.map((g) => [g.id, g.title])).toEqual(
          headings.map((m) => [`${feature}/${m[1]}`, m[2] ?? null]),
        );
        for (const g of parsed.groups) {
          for (const id of g.criteria) {
            const r = spec.requirements.find((x) => x.id === id);
            expect(r?.title).toBe(`${g.title ?? `Requirement ${g.number}`} — ${r?.written}`);
          }
        }
        expect(parsed.groups.flatMap((g) => g.criteria)).toEqual(spec.requirements.map((r) => r.id));
      });
    });
  }

  it("leaves the criterion that is not in EARS form unclassified, without a diagnostic", () => {
    const { spec, diagnostics } = parseKiroRequirements(
      requirementsOf("pantry-inventory"),
      fileOf("pantry-inventory"),
      "pantry-inventory",
    );
    const notEars = spec.requirements.filter((r) => r.ears === null);
    expect(notEars.map((r) => [r.id, r.text])).toEqual([
      ["pantry-inventory/2.4", "Barcode lookups use the Open Food Facts database"],
    ]);
    expect(diagnostics).toEqual([]);
  });

  it("reads Kiro's comma forms of EARS as their patterns", () => {
    const { spec } = parseKiroRequirements(
      requirementsOf("expiry-alerts"),
      fileOf("expiry-alerts"),
      "expiry-alerts",
    );
    const ears = Object.fromEntries(spec.requirements.map((r) => [r.written, r.ears]));
    expect(ears).toMatchObject({
      "1.1": "ubiquitous",
      "1.2": "event",
      "1.3": "unwanted",
      "2.1": "optional",
      "2.3": "state",
      "2.4": "unwanted",
      "3.3": "ubiquitous",
    });
  });
});

/** A small requirements document around the given Requirements section body. */
const doc = (body: string) =>
  `# Requirements Document\n\n## Introduction\n\nA feature.\n\n## Requirements\n\n${body}`;
const STORY = "**User Story:** As a user, I want it, so that it works.\n\n";

/** The 1-based line of the first line of `text` that starts with `prefix`. */
const lineOf = (text: string, prefix: string) => text.split("\n").findIndex((l) => l.startsWith(prefix)) + 1;

describe("Kiro requirements.md diagnostics", () => {
  it("reports a requirement with no acceptance criteria at its heading", () => {
    const text = doc(
      `### Requirement 1\n\n${STORY}### Requirement 2\n\n${STORY}#### Acceptance Criteria\n\n1. THE system SHALL work\n`,
    );
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["kiro/no-acceptance-criteria", lineOf(text, "### Requirement 1")],
    ]);
    expect(spec.requirements.map((r) => r.id)).toEqual(["f/2.1"]);
  });

  it("reports an Acceptance Criteria heading with nothing numbered under it", () => {
    const text = doc(`### Requirement 1\n\n${STORY}#### Acceptance Criteria\n\nThe system works.\n`);
    const { diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => d.rule)).toEqual(["kiro/no-acceptance-criteria"]);
    expect(diagnostics[0]?.message).toContain("no numbered criterion");
  });

  it("reports a criterion that has no number and keeps the numbered ones", () => {
    const text = doc(
      `### Requirement 1\n\n${STORY}#### Acceptance Criteria\n\n1. THE system SHALL a\n- WHEN b THEN the system SHALL c\n2. THE system SHALL d\n`,
    );
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["kiro/unnumbered-criterion", lineOf(text, "- WHEN b")],
    ]);
    expect(spec.requirements.map((r) => [r.id, r.text])).toEqual([
      ["f/1.1", "THE system SHALL a"],
      ["f/1.2", "THE system SHALL d"],
    ]);
  });

  it("reports a requirement number used twice at both headings and drops neither", () => {
    const group = (n: number, crit: string) =>
      `### Requirement ${n}\n\n${STORY}#### Acceptance Criteria\n\n1. THE system SHALL ${crit}\n\n`;
    const text = doc(group(1, "a") + group(2, "b") + group(1, "c"));
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    const lines = text.split("\n").flatMap((l, k) => (l === "### Requirement 1" ? [k + 1] : []));
    expect(lines).toHaveLength(2);
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual(
      lines.map((l) => ["kiro/duplicate-requirement", l]),
    );
    expect(diagnostics[0]?.message).toContain(`lines ${lines.join(", ")}`);
    expect(spec.requirements.map((r) => [r.id, r.text])).toEqual([
      ["f/1.1", "THE system SHALL a"],
      ["f/2.1", "THE system SHALL b"],
      ["f/1.1", "THE system SHALL c"],
    ]);
  });

  it("reports a criterion number used twice in one requirement at both lines", () => {
    const text = doc(
      `### Requirement 1\n\n${STORY}#### Acceptance Criteria\n\n1. THE system SHALL a\n1. THE system SHALL b\n`,
    );
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["kiro/duplicate-criterion", lineOf(text, "1. THE system SHALL a")],
      ["kiro/duplicate-criterion", lineOf(text, "1. THE system SHALL b")],
    ]);
    expect(spec.requirements).toHaveLength(2);
  });

  it("reports a requirement with no user story, and still reads its criteria", () => {
    const text = doc("### Requirement 1\n\n#### Acceptance Criteria\n\n1. THE system SHALL a\n");
    const { spec, diagnostics, groups } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => [d.rule, d.severity, d.span.start.line])).toEqual([
      ["kiro/missing-user-story", "warning", lineOf(text, "### Requirement 1")],
    ]);
    expect(groups[0]?.story).toBeNull();
    expect(spec.requirements.map((r) => r.id)).toEqual(["f/1.1"]);
  });

  it("reports a requirement heading with no number", () => {
    const text = doc(`### Requirement: Login\n\n${STORY}#### Acceptance Criteria\n\n1. THE system SHALL a\n`);
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics.map((d) => [d.rule, d.span.start.line])).toEqual([
      ["kiro/unnumbered-requirement", lineOf(text, "### Requirement: Login")],
    ]);
    expect(spec.requirements).toEqual([]);
  });

  it("does not report a criterion that is not in EARS form", () => {
    const text = doc(
      `### Requirement 1\n\n${STORY}#### Acceptance Criteria\n\n1. Lookups use the public API\n`,
    );
    const { spec, diagnostics } = parseKiroRequirements(text, "r.md", "f");
    expect(diagnostics).toEqual([]);
    expect(spec.requirements.map((r) => r.ears)).toEqual([null]);
  });

  it("reads the other ways people write headings, stories and criteria labels", () => {
    const text = doc(
      [
        "### Requirement 1 - Sign in",
        "",
        "**User Story**: As a member, I want to sign in, so that my data is mine.",
        "",
        "**Acceptance Criteria**",
        "",
        "1) WHEN the password is wrong THEN the system SHALL refuse",
        "",
        "### Requirement 2. Sign out",
        "",
        "#### User Story",
        "",
        "As a member, I want to sign out,",
        "so that nobody else uses my session.",
        "",
        "#### Acceptance Criteria",
        "",
        "1. WHEN the member signs out THEN the system SHALL end the session",
        "",
        "   - on every device",
        "",
        "Notes after the list belong to no criterion.",
        "",
      ].join("\n"),
    );
    const parsed = parseKiroRequirements(text, "r.md", "f");
    expect(parsed.diagnostics).toEqual([]);
    expect(parsed.groups.map((g) => [g.number, g.title, g.story?.text])).toEqual([
      ["1", "Sign in", "As a member, I want to sign in, so that my data is mine."],
      ["2", "Sign out", "As a member, I want to sign out,\nso that nobody else uses my session."],
    ]);
    expect(parsed.spec.requirements.map((r) => [r.id, r.text])).toEqual([
      ["f/1.1", "WHEN the password is wrong THEN the system SHALL refuse"],
      ["f/2.1", "WHEN the member signs out THEN the system SHALL end the session\n\n   - on every device"],
    ]);
    expect(checkSpans(text, parsed.spec)).toEqual([]);
  });
});

/** The front matter's `key: value` lines, read with a regex rather than YAML. */
function frontMatterOf(text: string): Record<string, string> | null {
  const m = /^---\n([\s\S]*?)\n---\n/.exec(text);
  if (!m) return null;
  return Object.fromEntries(
    (m[1] as string).split("\n").map((l) => {
      const [k, ...v] = l.split(":");
      return [
        k as string,
        v
          .join(":")
          .trim()
          .replace(/^"(.*)"$/, "$1"),
      ];
    }),
  );
}

describe("Kiro steering", () => {
  it("has the four fixture files: always, fileMatch, manual and one with no front matter", () => {
    expect(STEERING_FILES).toEqual(["api-standards.md", "product.md", "release-checklist.md", "tech.md"]);
    const modes = STEERING_FILES.map((f) => frontMatterOf(steeringText(f))?.inclusion ?? null);
    expect(modes.sort()).toEqual(["always", "fileMatch", "manual", null].sort());
  });

  for (const name of STEERING_FILES) {
    it(`reads ${name} as written`, () => {
      const text = steeringText(name);
      const file = `${STEERING_REL}/${name}`;
      const { steering, diagnostics } = parseSteering(text, file);
      const fm = frontMatterOf(text);
      expect(diagnostics).toEqual([]);
      expect(steering.file).toBe(file);
      // Kiro includes a steering file with no front matter always.
      expect(steering.inclusion).toBe(fm?.inclusion ?? "always");
      expect(steering.fileMatchPattern).toBe(fm?.fileMatchPattern ?? null);
      expect(steering.fileMatchPatterns).toEqual(fm?.fileMatchPattern ? [fm.fileMatchPattern] : []);
      expect(steering.title).toBe(/^# (.*)$/m.exec(text)?.[1]);
      const body = text.replace(/^---\n[\s\S]*?\n---\n/, "");
      expect(steering.body).toBe(body);
      expect(slice(text, steering.bodySpan)).toBe(body);
      expect(steering.frontMatter === null).toBe(fm === null);
      expect(checkSpans(text, steering)).toEqual([]);
    });
  }

  const load = (name: string) => parseSteering(steeringText(name), `${STEERING_REL}/${name}`).steering;

  it("includes always-files for any work, even with no file in context", () => {
    for (const name of ["product.md", "tech.md"]) {
      expect(steeringApplies(load(name), [])).toBe(true);
      expect(steeringApplies(load(name), ["README.md"])).toBe(true);
    }
  });

  it("includes a fileMatch file exactly when picomatch matches a file in context", () => {
    const api = load("api-standards.md");
    const files = [
      "src/api/items/routes.ts",
      "src/api/index.ts",
      "src/api/items/routes.tsx",
      "src/web/api/client.ts",
      "api/items.ts",
      "src/api/.internal/secret.ts",
    ];
    const isMatch = picomatch(api.fileMatchPattern as string, { dot: true });
    for (const f of files) expect([f, steeringApplies(api, [f])]).toEqual([f, isMatch(f)]);
    expect(files.filter((f) => steeringApplies(api, [f]))).toEqual([
      "src/api/items/routes.ts",
      "src/api/index.ts",
      "src/api/.internal/secret.ts",
    ]);
    expect(steeringApplies(api, ["README.md", "src/api/index.ts"])).toBe(true);
    expect(steeringApplies(api, [])).toBe(false);
  });

  it("includes a manual file only when it is asked for by name", () => {
    const manual = load("release-checklist.md");
    expect(steeringApplies(manual, ["src/api/index.ts"])).toBe(false);
    expect(steeringApplies(manual, [], ["release-checklist"])).toBe(true);
    expect(steeringApplies(manual, [], ["release-checklist.md"])).toBe(true);
    expect(steeringApplies(manual, [], ["api-standards"])).toBe(false);
  });

  const steer = (front: string, body = "# Title\n") => parseSteering(`---\n${front}\n---\n${body}`, "s.md");

  it("reads the list form of fileMatchPattern and matches any of its globs", () => {
    const { steering, diagnostics } = steer(
      'inclusion: fileMatch\nfileMatchPattern: ["**/*.ts", "**/*.tsx"]',
    );
    expect(diagnostics).toEqual([]);
    expect(steering.fileMatchPattern).toBeNull();
    expect(steering.fileMatchPatterns).toEqual(["**/*.ts", "**/*.tsx"]);
    expect(steeringApplies(steering, ["a/b.tsx"])).toBe(true);
    expect(steeringApplies(steering, ["a/b.css"])).toBe(false);
  });

  it("warns of a comma-separated pattern, which is one glob matching nothing, but not of a brace list", () => {
    const comma = steer('inclusion: fileMatch\nfileMatchPattern: "src/**/*.ts,tests/**/*.ts"');
    expect(comma.diagnostics.map((d) => [d.rule, d.severity])).toEqual([
      ["kiro/steering-pattern", "warning"],
    ]);
    expect(steeringApplies(comma.steering, ["src/a.ts", "tests/a.ts"])).toBe(false);
    const braces = steer('inclusion: fileMatch\nfileMatchPattern: "**/*.{ts,tsx}"');
    expect(braces.diagnostics).toEqual([]);
    expect(steeringApplies(braces.steering, ["src/a.tsx"])).toBe(true);
  });

  it("reports a fileMatch file with no pattern, or a pattern that is not a glob", () => {
    const none = steer("inclusion: fileMatch");
    expect(none.diagnostics.map((d) => [d.rule, d.severity, d.span.start.line])).toEqual([
      ["kiro/steering-pattern", "error", 1],
    ]);
    expect(steeringApplies(none.steering, ["anything.ts"])).toBe(false);
    const bad = steer("inclusion: fileMatch\nfileMatchPattern: 42");
    expect(bad.diagnostics.map((d) => d.rule)).toEqual(["kiro/steering-pattern", "kiro/steering-pattern"]);
  });

  it("reads an unknown inclusion as manual, with a diagnostic", () => {
    const { steering, diagnostics } = steer("inclusion: sometimes");
    expect(steering.inclusion).toBe("manual");
    expect(diagnostics.map((d) => [d.rule, d.severity])).toEqual([["kiro/steering-inclusion", "error"]]);
    expect(diagnostics[0]?.hint).toContain(STEERING_INCLUSIONS.join(", "));
  });

  it("reads auto as asked-for only, and front matter with no inclusion as always", () => {
    const auto = steer("inclusion: auto\nname: api-design\ndescription: REST conventions").steering;
    expect(auto.inclusion).toBe("auto");
    expect(steeringApplies(auto, ["src/api/x.ts"])).toBe(false);
    expect(steeringApplies(auto, [], ["s"])).toBe(true);
    expect(steer("description: no inclusion key").steering.inclusion).toBe("always");
  });

  it("reads front matter that is not YAML as manual, reporting where it fails", () => {
    const { steering, diagnostics } = steer("inclusion: fileMatch\nfileMatchPattern: *.py");
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(diagnostics.every((d) => d.rule === "format/front-matter")).toBe(true);
    expect(steering.inclusion).toBe("manual");
    expect(steering.body).toBe("# Title\n");
  });
});

const TOKENS = [
  "\n",
  "\r\n",
  "\r",
  " ",
  "   ",
  "\t",
  "#",
  "### Requirement 1",
  "### Requirement 1: T",
  "### Requirement:",
  "#### Acceptance Criteria",
  "**Acceptance Criteria**",
  "**User Story:**",
  "#### User Story",
  "1. ",
  "2) ",
  "- ",
  "---",
  "inclusion: ",
  "fileMatchPattern: ",
  "[",
  "]",
  "*",
  "```",
  "<!--",
  "WHEN x THEN the system SHALL y",
  "\uFEFF",
  "\u2028",
  "\u00a0",
  "\uD800",
  "é",
];

type Mutation = {
  kind: "delete-line" | "duplicate-line" | "insert-line" | "insert";
  at: number;
  token: string;
};
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom("delete-line", "duplicate-line", "insert-line", "insert"),
  at: fc.nat(),
  token: fc.constantFrom(...TOKENS),
});

function mutate(text: string, m: Mutation): string {
  if (m.kind === "insert") {
    const at = m.at % (text.length + 1);
    return text.slice(0, at) + m.token + text.slice(at);
  }
  const lines = text.split("\n");
  const k = m.at % lines.length;
  if (m.kind === "delete-line") lines.splice(k, 1);
  else if (m.kind === "duplicate-line") lines.splice(k, 0, lines[k] as string);
  else lines.splice(k, 0, m.token);
  return lines.join("\n");
}

/** What is wrong with the spans of a parse: out of the text, or not pointing at the text they carry. */
function requirementsProblems(text: string): string[] {
  const parsed = parseKiroRequirements(text, "r.md", "f");
  const problems = checkSpans(text, {
    spec: parsed.spec,
    diagnostics: parsed.diagnostics,
    groups: parsed.groups,
  });
  for (const r of parsed.spec.requirements) {
    if (!r.textSpan || slice(text, r.textSpan) !== r.text)
      problems.push(`${r.id}: text differs from its span`);
  }
  for (const n of parsed.spec.notes ?? []) {
    if (slice(text, n.span) !== n.text) problems.push(`${n.kind} note differs from its span`);
  }
  return problems;
}

function steeringProblems(text: string): string[] {
  const { steering, diagnostics } = parseSteering(text, "s.md");
  const problems = checkSpans(text, { steering, diagnostics } as {
    steering: Steering;
    diagnostics: unknown;
  });
  if (slice(text, steering.bodySpan) !== steering.body) problems.push("body differs from its span");
  return problems;
}

describe("Kiro readers on mutated input", () => {
  const seeds = [...FEATURES.map(requirementsOf), ...STEERING_FILES.map(steeringText)];

  it("never throw on mutated fixtures, and every span stays in the text and points at its text", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...seeds),
        fc.array(mutation, { minLength: 1, maxLength: 6 }),
        (seed, ms) => {
          const text = ms.reduce(mutate, seed);
          expect(requirementsProblems(text)).toEqual([]);
          expect(steeringProblems(text)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never throw on token soup", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...TOKENS, "a", "1", ".") }), (text) => {
        expect(requirementsProblems(text)).toEqual([]);
        expect(steeringProblems(text)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});
