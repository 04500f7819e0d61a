// Fuzzing the parsers: random strings, random Markdown-like line soups and mutated corpus files go through
// parseSpec, parseDeltaSpec, parseChange and parseConstitution. None may throw; every position must lie in the
// text with its line and column agreeing with its offset; every raw slice must equal the text at its span; and
// specs and delta specs must still render back byte for byte.
// @verifies FMT-16
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseChange } from "../src/format/change.js";
import { parseConstitution } from "../src/format/constitution.js";
import { parseDeltaSpec } from "../src/format/delta.js";
import { renderDeltaSpec, renderSpec } from "../src/format/render.js";
import { parseSpec } from "../src/format/spec.js";
import { checkSpans, loadCorpus } from "./format-support.js";

/** Runs every parser on the text and returns what is wrong; throws only if a parser throws. */
function problems(text: string): string[] {
  const out: string[] = [];
  const spec = parseSpec(text, "s.md", "cap");
  out.push(...checkSpans(text, spec.spec, "spec"), ...checkSpans(text, spec.diagnostics, "spec.diagnostics"));
  if (renderSpec(spec) !== text) out.push("spec does not render back");

  const delta = parseDeltaSpec(text, "d.md", "cap");
  out.push(
    ...checkSpans(text, delta.delta, "delta"),
    ...checkSpans(text, delta.diagnostics, "delta.diagnostics"),
  );
  if (renderDeltaSpec(delta) !== text) out.push("delta spec does not render back");

  const con = parseConstitution(text, "c.md");
  out.push(
    ...checkSpans(text, con.constitution, "constitution"),
    ...checkSpans(text, con.diagnostics, "constitution"),
  );

  const change = parseChange({
    id: "c",
    dir: "changes/c",
    archived: false,
    layout: "keel",
    proposal: { file: "p.md", text },
    tasks: { file: "t.md", text },
    meta: { file: "m.yaml", text },
    deltas: [{ file: "d.md", capability: "cap", text }],
  });
  const files = new Map([
    ["p.md", text],
    ["t.md", text],
    ["m.yaml", text],
    ["d.md", text],
  ]);
  out.push(
    ...checkSpans(files, change.change, "change"),
    ...checkSpans(files, change.diagnostics, "change.diagnostics"),
  );
  const { total, done } = change.change.tasks;
  if (!(done >= 0 && done <= total)) out.push(`task counts ${done}/${total}`);
  return out;
}

const TRICKY = [
  "\n",
  "\r\n",
  "\r",
  "\t",
  " ",
  "#",
  "##",
  "###",
  "####",
  "`",
  "```",
  "~~~",
  "<!--",
  "-->",
  ">",
  "-",
  "*",
  "_",
  "**",
  "[[",
  "]]",
  "{#",
  "}",
  ":",
  "·",
  "|",
  ";",
  "\uFEFF",
  "\u2028",
  "\u00a0",
  "\uD800",
  "\uDC00",
  "\u0000",
  "é",
  "e\u0301",
  "😀",
  "Requirement:",
  "Scenario:",
  "Principle:",
  "Gate:",
  "FROM:",
  "TO:",
  "SHALL",
  "[ ]",
  "[x]",
];
const trickyChar = fc.constantFrom(...TRICKY);

const LINES = [
  "",
  "   ",
  "---",
  "...",
  "# Title",
  "## Purpose",
  "## Requirements",
  "## ADDED Requirements",
  "## MODIFIED Requirements",
  "## REMOVED Requirements",
  "## RENAMED Requirements",
  "## Principles",
  "## Open Questions",
  "## Why",
  "## What Changes",
  "### Requirement: A",
  "### Requirement: B {#B-1}",
  "###Requirement: Tight",
  "### Requirement:",
  "### Requirement: Bad {#4X}",
  "### Principle: P {#P-1}",
  "#### Scenario: S",
  "####Scenario: T",
  "##### Deep",
  "> status: approved · origin: agent · inferred",
  "> status: nope | origin: robot; by: x",
  "> Note: a quote",
  "The system SHALL do it. See [[B-1]].",
  "When x, the system shall y.",
  "If a then the system MUST b.",
  "- **GIVEN** g",
  "- WHEN w",
  "* then t",
  "1. AND a",
  "- [ ] open",
  "- [x] done",
  "- FROM: `### Requirement: A`",
  "- TO: `### Requirement: C`",
  "FROM: ### Requirement: D",
  "- `### Requirement: A`",
  "Gate: `npm test`",
  "```",
  "```js",
  "````",
  "~~~",
  "<!--",
  "-->",
  "<!-- c -->",
  "<!-->",
  "status: [",
  "title: x",
  "  - nested",
  "\ttab",
  "a: &a [1]",
];
const mdLine = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...LINES) },
  { weight: 1, arbitrary: fc.string({ unit: trickyChar, maxLength: 8 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
);
const eol = fc.constantFrom("\n", "\r\n", "\r");
const mdDoc = fc
  .tuple(fc.array(fc.tuple(mdLine, eol), { maxLength: 40 }), fc.boolean())
  .map(([lines, bom]) => (bom ? "\uFEFF" : "") + lines.map(([l, e]) => l + e).join(""));

const corpus = loadCorpus();
const seeds =
  corpus.markdown.length > 0
    ? corpus.markdown.map((f) => f.text)
    : ["## Requirements\n### Requirement: A\nx\n"];

type Mutation =
  | { kind: "flip"; at: number; with: string }
  | {
      kind: "delete-line" | "duplicate-line" | "fence" | "comment" | "heading-up" | "heading-down";
      at: number;
    }
  | { kind: "huge"; at: number; unit: string }
  | { kind: "truncate"; at: number }
  | { kind: "crlf" | "bom" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), with: trickyChar }),
  fc.record({
    kind: fc.constantFrom(
      "delete-line" as const,
      "duplicate-line" as const,
      "fence" as const,
      "comment" as const,
      "heading-up" as const,
      "heading-down" as const,
    ),
    at: fc.nat(),
  }),
  fc.record({ kind: fc.constant("huge" as const), at: fc.nat(), unit: trickyChar }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constantFrom("crlf" as const, "bom" as const) }),
);

function mutate(text: string, m: Mutation): string {
  const lines = text.split("\n");
  const k = "at" in m ? m.at % Math.max(lines.length, 1) : 0;
  switch (m.kind) {
    case "flip": {
      const at = m.at % Math.max(text.length, 1);
      return text.slice(0, at) + m.with + text.slice(at + 1);
    }
    case "delete-line":
      lines.splice(k, 1);
      return lines.join("\n");
    case "duplicate-line":
      lines.splice(k, 0, lines[k] ?? "");
      return lines.join("\n");
    case "fence":
      lines.splice(k, 0, m.at % 2 === 0 ? "```" : "~~~~");
      return lines.join("\n");
    case "comment":
      lines.splice(k, 0, "<!--");
      return lines.join("\n");
    case "heading-up":
    case "heading-down": {
      const headings = lines.flatMap((l, i) => (/^ {0,3}#/.test(l) ? [i] : []));
      const h = headings[m.at % Math.max(headings.length, 1)];
      if (h === undefined) return text;
      const line = lines[h] as string;
      lines[h] = m.kind === "heading-up" ? line.replace("#", "") : line.replace("#", "##");
      return lines.join("\n");
    }
    case "huge":
      lines.splice(
        k,
        0,
        (m.at % 3 === 0 ? "### Requirement: " : m.at % 3 === 1 ? "- FROM: " : "") + m.unit.repeat(20_000),
      );
      return lines.join("\n");
    case "truncate":
      return text.slice(0, m.at % (text.length + 1));
    case "crlf":
      return text.replace(/\r?\n/g, "\r\n");
    case "bom":
      return `\uFEFF${text}`;
  }
}

describe("parser fuzzing", () => {
  it("survives random strings", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: "binary", maxLength: 200 }),
          fc.string({ unit: trickyChar, maxLength: 60 }),
        ),
        (text) => {
          expect(problems(text)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("survives Markdown-like line soups", () => {
    fc.assert(
      fc.property(mdDoc, (text) => {
        expect(problems(text)).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it("survives mutated corpus files", () => {
    fc.assert(
      fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 5 }), (pick, mutations) => {
        const text = mutations.reduce(mutate, seeds[pick % seeds.length] as string);
        expect(problems(text)).toEqual([]);
      }),
      { numRuns: 120 },
    );
  });

  // Each of these lines made some pattern of the parser backtrack quadratically (minutes for a line of a few
  // hundred thousand characters). In linear time the whole test takes well under a second; the timeout
  // catches a regression without timing anything finely.
  it("parses pathological huge lines in linear time", { timeout: 20_000 }, () => {
    const n = 40_000;
    const units = [" ", "\t", "\u2028", "\r", " \r", "<!--", "If ", "while ", "{#", "[[a", "**", "_a ", "`"];
    const prefixes = [
      "",
      "### Requirement: ",
      "#### Scenario: ",
      "### Principle: ",
      "- FROM: `### Requirement: ",
      "- ### Requirement: ",
      "> status: draft · ",
      "- **WHEN** ",
      "- [ ] ",
      "The system SHALL ",
      "```",
      "~~~",
    ];
    for (const unit of units) {
      for (const prefix of prefixes) {
        const line = `${prefix}${unit.repeat(Math.ceil(n / unit.length))}x\u2028y`;
        const text = `## Requirements\n### Requirement: X\n${line}\n#### Scenario: S\n${line}\n## REMOVED Requirements\n${line}\n## RENAMED Requirements\n${line}\n## Principles\n### Principle: P\nGate: \`x\`\n${line}\n`;
        expect(problems(text)).toEqual([]);
      }
    }
  });
});
