// Round trip: parsing and re-rendering with no edit gives back the file byte for byte, for awkward
// hand-written files and for every spec and delta spec of the real corpora (also re-line-ended and BOM-prefixed).
// @verifies FMT-14
import { describe, expect, it } from "vitest";
import { parseDeltaSpec } from "../src/format/delta.js";
import {
  deltaDocument,
  renderDeltaSpec,
  renderDocument,
  renderSpec,
  type SourceDocument,
  specDocument,
} from "../src/format/render.js";
import { parseSpec } from "../src/format/spec.js";
import { checkSpans, loadCorpus, toCrlf } from "./format-support.js";

const AWKWARD = [
  "---",
  "title: Awkward\t# a comment",
  "status: draft   ",
  "---",
  "# Awkward Specification  ",
  "",
  "## Purpose",
  "\tTabs\tand trailing spaces.   ",
  "",
  "## Requirements",
  "",
  "### Requirement: Fenced {#AWK-1}",
  "> status: approved · origin: human",
  "The system SHALL keep this:",
  "",
  "```markdown",
  "### Requirement: not a heading",
  "## Requirements",
  "```",
  "",
  "<!-- ### Requirement: not a heading either",
  "-->",
  "",
  "#### Scenario: S  ",
  "- **WHEN** x\t",
  "- **THEN** y",
  "",
  "### Requirement: Second",
  "The system SHALL z.",
  "",
  "## Out of Scope",
  "- Nothing.",
].join("\n");

function roundTrip(text: string): void {
  const parsed = parseSpec(text, "spec.md", "awk");
  expect(renderSpec(parsed)).toBe(text);
  expect(checkSpans(text, parsed.spec)).toEqual([]);
  expect(checkSpans(text, parsed.diagnostics)).toEqual([]);
  expectPiecesMatch(specDocument(parsed), parsed.spec.requirements, parsed.spec.frontMatter?.raw ?? null);
}

function expectPiecesMatch(
  doc: SourceDocument,
  requirements: ReadonlyArray<{ id: string; raw: string }>,
  frontMatter: string | null,
): void {
  const reqPieces = doc.pieces.filter((p) => p.kind === "requirement");
  expect(reqPieces.map((p) => p.raw)).toEqual(requirements.map((r) => r.raw));
  expect(reqPieces.map((p) => (p.kind === "requirement" ? p.id : ""))).toEqual(requirements.map((r) => r.id));
  expect(doc.pieces.filter((p) => p.kind === "front-matter").map((p) => p.raw)).toEqual(
    frontMatter === null ? [] : [frontMatter],
  );
  expect(doc.pieces.every((p) => p.raw.length > 0)).toBe(true);
}

describe("round trip of awkward files", () => {
  const variants: Array<[string, string]> = [
    ["LF", AWKWARD],
    ["LF with a final newline", `${AWKWARD}\n`],
    ["CRLF", toCrlf(AWKWARD)],
    ["CRLF with a final newline", `${toCrlf(AWKWARD)}\r\n`],
    ["BOM + LF", `\uFEFF${AWKWARD}\n`],
    ["BOM + CRLF", `\uFEFF${toCrlf(AWKWARD)}\r\n`],
    ["mixed line endings", AWKWARD.replace(/\n/g, (_m, i: number) => (i % 3 === 0 ? "\r\n" : "\n"))],
    ["lone CR line endings", AWKWARD.replace(/\n/g, "\r")],
    ["a final lone CR", `${AWKWARD}\r`],
    ["trailing blank lines", `${AWKWARD}\n\n\n   \n`],
    ["an unclosed fence", `${AWKWARD}\n\`\`\`\n### Requirement: swallowed\n`],
    ["an unclosed HTML comment", `${AWKWARD}\n<!--\n### Requirement: swallowed\n`],
    ["empty", ""],
    ["only a BOM", "\uFEFF"],
    ["only newlines", "\n\r\n\n"],
    ["headings only", "# A\n## Requirements\n### Requirement: B\n#### Scenario: C\n### Requirement: D"],
    ["front matter only, unclosed", "---\nstatus: draft\n"],
    ["invalid front matter", "---\nstatus: [\n---\n## Requirements\n### Requirement: A\ntext"],
  ];

  it.each(variants)("%s", (_name, text) => {
    roundTrip(text);
  });

  it("reads the awkward file as two requirements, the fenced and commented headings as text", () => {
    const parsed = parseSpec(AWKWARD, "spec.md", "awk");
    expect(parsed.spec.requirements.map((r) => r.id)).toEqual(["AWK-1", "awk/second"]);
    expect(parsed.spec.requirements[0]?.text).toContain("### Requirement: not a heading\n## Requirements");
    expect(parsed.spec.sections.map((s) => s.title)).toEqual(["Purpose", "Requirements", "Out of Scope"]);
    expect(checkSpans(AWKWARD, parsed.spec)).toEqual([]);
  });

  it("splits a file into pieces whose requirement pieces can be replaced one by one", () => {
    const text = toCrlf(AWKWARD);
    const parsed = parseSpec(text, "spec.md", "awk");
    const doc = specDocument(parsed);
    expect(doc.pieces.map((p) => p.kind)).toEqual([
      "front-matter",
      "text",
      "requirement",
      "requirement",
      "text",
    ]);
    const replaced = renderDocument({
      pieces: doc.pieces.map((p) =>
        p.kind === "requirement" && p.id === "AWK-1" ? { ...p, raw: "X\r\n" } : p,
      ),
    });
    const start = parsed.spec.requirements[0]?.span.start.offset as number;
    const end = parsed.spec.requirements[0]?.span.end.offset as number;
    expect(replaced).toBe(`${text.slice(0, start)}X\r\n${text.slice(end)}`);
  });

  it("round-trips delta specs", () => {
    const text =
      "\uFEFF## ADDED Requirements\r\n### Requirement: A\r\nThe system SHALL a.\r\n\r\n## REMOVED Requirements\r\n### Requirement: B\r\n\r\n## RENAMED Requirements\r\n- FROM: `### Requirement: C`\r\n- TO: `### Requirement: D`";
    const parsed = parseDeltaSpec(text, "d.md", "cap");
    expect(renderDeltaSpec(parsed)).toBe(text);
    const doc = deltaDocument(parsed);
    expect(doc.pieces.map((p) => p.kind)).toEqual([
      "bom",
      "text",
      "requirement",
      "text",
      "requirement",
      "text",
    ]);
  });
});

// @verifies OSC-6
describe("round trip of the corpora", () => {
  const corpus = loadCorpus();

  it("covers every spec and delta spec found", () => {
    if (corpus.roots.includes("openspec")) {
      expect(corpus.specs.length).toBeGreaterThanOrEqual(30);
      expect(corpus.deltas.length).toBeGreaterThanOrEqual(100);
    }
    if (corpus.roots.includes("keel"))
      expect(corpus.specs.some((f) => f.file.startsWith("keel/"))).toBe(true);
    console.log(
      `[format tests] round trip over ${corpus.specs.length} specs, ${corpus.deltas.length} delta specs, ${corpus.markdown.length} Markdown files (${corpus.roots.join(", ")})`,
    );
  });

  const variants: Array<[string, (t: string) => string]> = [
    ["as is", (t) => t],
    ["CRLF", (t) => toCrlf(t)],
    ["BOM + CRLF, no final newline", (t) => `\uFEFF${toCrlf(t).replace(/(\r\n)+$/, "")}`],
  ];

  it.each(variants)("every capability spec, %s", (_name, variant) => {
    let requirements = 0;
    for (const f of corpus.specs) {
      const text = variant(f.text);
      const parsed = parseSpec(text, f.file, f.capability);
      expect(renderSpec(parsed), f.file).toBe(text);
      expectPiecesMatch(specDocument(parsed), parsed.spec.requirements, parsed.spec.frontMatter?.raw ?? null);
      expect(checkSpans(text, parsed.spec), f.file).toEqual([]);
      requirements += parsed.spec.requirements.length;
    }
    if (corpus.specs.length > 0) expect(requirements).toBeGreaterThan(corpus.specs.length);
  });

  it.each(variants)("every delta spec, %s", (_name, variant) => {
    let blocks = 0;
    for (const f of corpus.deltas) {
      const text = variant(f.text);
      const parsed = parseDeltaSpec(text, f.file, f.capability);
      expect(renderDeltaSpec(parsed), f.file).toBe(text);
      expect(checkSpans(text, parsed.delta), f.file).toEqual([]);
      blocks += parsed.delta.sections.reduce((n, s) => n + s.requirements.length, 0);
    }
    if (corpus.deltas.length > 0) expect(blocks).toBeGreaterThan(corpus.deltas.length);
  });

  it("every other Markdown file, read as a spec", () => {
    for (const f of corpus.markdown) {
      const parsed = parseSpec(f.text, f.file, f.capability || "x");
      expect(renderSpec(parsed), f.file).toBe(f.text);
    }
  });
});
