// An oracle for the hand-written scanner: its ATX heading detection must agree with markdown-it (a CommonMark
// parser) line for line, level for level and text for text, on the real corpora and on random documents made of
// the constructs the scanner handles (headings, fenced code, HTML comments, paragraphs).
//
// Intentional divergences, documented in docs/format.md ("Headings and the scanner"), are excluded here:
//  - `###Requirement:` and `####Scenario:` with no space after the hashes are headings for Keel (OpenSpec
//    accepts them), not for CommonMark;
//  - YAML front matter is opaque to Keel; markdown-it does not know front matter, so those lines are blanked;
//  - headings inside containers (block quotes, list items) are not headings for Keel unless the line itself
//    starts with at most three spaces and `#`; only such lines are compared;
//  - setext headings (`Title` over `===`) are not recognised by Keel.
import fc from "fast-check";
import MarkdownIt from "markdown-it";
import { describe, expect, it } from "vitest";
import { scan } from "../src/format/scan.js";
import { loadCorpus } from "./format-support.js";

const md = new MarkdownIt({ html: true });
const NO_SPACE_FORM = /^ {0,3}#{1,6}(?:Requirement|Scenario):/i;

type HeadingMap = Map<number, string>;

/** Headings as `level text` by 0-based line, from both parsers, for comparable lines only. */
function headings(text: string): { keel: HeadingMap; commonmark: HeadingMap } {
  const s = scan(text, "x.md");
  const lines = text.split("\n").map((l) => l.replace(/\r$/, ""));
  if (s.frontMatter) for (let i = 0; i <= s.frontMatter.closeLine; i++) lines[i] = "";
  if (s.contentStart > 0) lines[0] = (lines[0] as string).slice(1);
  const comparable = (i: number) => /^ {0,3}#/.test(lines[i] ?? "") && !NO_SPACE_FORM.test(lines[i] ?? "");

  const keel: HeadingMap = new Map();
  for (const h of s.headings) if (comparable(h.lineIndex)) keel.set(h.lineIndex, `${h.level} ${h.text}`);

  const commonmark: HeadingMap = new Map();
  const tokens = md.parse(lines.join("\n"), {});
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k] as (typeof tokens)[number];
    if (t.type !== "heading_open" || !t.markup.startsWith("#") || !t.map) continue;
    const line = t.map[0];
    if (comparable(line)) commonmark.set(line, `${t.markup.length} ${tokens[k + 1]?.content ?? ""}`);
  }
  return { keel, commonmark };
}

function disagreements(text: string): string[] {
  const { keel, commonmark } = headings(text);
  const out: string[] = [];
  for (const [line, h] of commonmark)
    if (keel.get(line) !== h)
      out.push(`line ${line + 1}: markdown-it "${h}", Keel "${keel.get(line) ?? "-"}"`);
  for (const [line, h] of keel)
    if (!commonmark.has(line)) out.push(`line ${line + 1}: Keel "${h}", markdown-it none`);
  return out;
}

describe("scan headings agree with markdown-it", () => {
  const corpus = loadCorpus();

  it("on every Markdown file of the corpora", () => {
    let compared = 0;
    for (const f of corpus.markdown) {
      expect(disagreements(f.text), f.file).toEqual([]);
      compared += headings(f.text).keel.size;
    }
    if (corpus.markdown.length > 0) expect(compared).toBeGreaterThan(corpus.markdown.length);
  });

  it("on the same files with CRLF line endings", () => {
    for (const f of corpus.markdown)
      expect(disagreements(f.text.replace(/\r?\n/g, "\r\n")), f.file).toEqual([]);
  });

  it("on random documents of headings, fences, comments and paragraphs", () => {
    const line = fc.constantFrom(
      "",
      "text",
      "more text",
      "# a",
      "## b",
      "### c",
      "#### d ##",
      "##### e #####",
      "###### f",
      "####### seven",
      "#",
      "##",
      "# #",
      "#no space",
      "#\ttab",
      "  ## two spaces",
      "   ### three spaces",
      "## trailing \\#",
      "## x#",
      "## `code` and *em*",
      "```",
      "```js",
      "````",
      "``` a`b",
      "~~~",
      "~~~ info `x`",
      "~~~~",
      "  ```",
      "<!--",
      "-->",
      "<!-- c -->",
      "<!-- a --> b",
      "<!-->",
      "<!--->",
      "x <!-- not a block",
      "  <!--",
      "--> after",
      "## Requirements",
      "### Requirement: A {#A-1}",
      "#### Scenario: S",
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), fc.boolean(), (lines, crlf) => {
        const text = lines.join(crlf ? "\r\n" : "\n");
        expect(disagreements(text)).toEqual([]);
      }),
      { numRuns: 1500 },
    );
  });

  it("diverges on purpose for the OpenSpec no-space form, which Keel reads as a heading", () => {
    const text = "## Requirements\n###Requirement: Tight\n####Scenario: S\n";
    const s = scan(text, "x.md");
    expect(s.headings.map((h) => [h.level, h.text])).toEqual([
      [2, "Requirements"],
      [3, "Requirement: Tight"],
      [4, "Scenario: S"],
    ]);
    const tokens = md.parse(text, {});
    expect(tokens.filter((t) => t.type === "heading_open")).toHaveLength(1);
  });
});
