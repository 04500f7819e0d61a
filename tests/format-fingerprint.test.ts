// The fingerprint: insensitive to formatting that does not change the meaning, sensitive to every word of the
// normative text and the scenarios, blind to the title, the ID and the marker line.
// @verifies FMT-12, FMT-13
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseSpec } from "../src/format/spec.js";
import { normaliseProse, requirementFingerprint, stripEmphasis } from "../src/model/fingerprint.js";
import type { Requirement } from "../src/model/types.js";
import { REPO } from "./format-support.js";

const BASE = `## Requirements

### Requirement: Refunds are idempotent {#PAY-4}
> status: approved · origin: human · explicit
The system SHALL process at most one refund per refund key within 30 days.

#### Scenario: Duplicate refund request
- **GIVEN** a refund with key K was processed
- **WHEN** a second request with key K arrives
- **THEN** the original refund result is returned
- **AND** no money moves
`;

function fingerprint(text: string): string {
  const reqs = parseSpec(text, "spec.md", "payments").spec.requirements;
  expect(reqs).toHaveLength(1);
  return (reqs[0] as { fingerprint: string }).fingerprint;
}

const base = fingerprint(BASE);

describe("fingerprint", () => {
  it("is 16 lowercase hex characters and deterministic", () => {
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(BASE)).toBe(base);
  });

  const same: Array<[string, (t: string) => string]> = [
    ["CRLF line endings", (t) => t.replace(/\n/g, "\r\n")],
    ["CR line endings inside the block", (t) => t.replace("result is returned\n", "result is returned\r")],
    ["a byte order mark", (t) => `\uFEFF${t}`],
    ["indentation and trailing spaces", (t) => t.replace(/^- /gm, "  -   ").replace(/\n/g, "  \n")],
    ["tabs and runs of spaces", (t) => t.replace("at most one", "at\tmost   one")],
    ["extra blank lines", (t) => t.replace(/\n/g, "\n\n")],
    ["no blank line before the scenario", (t) => t.replace("30 days.\n\n####", "30 days.\n####")],
    ["step keywords without bold", (t) => t.replace(/\*\*(GIVEN|WHEN|THEN|AND)\*\*/g, "$1")],
    [
      "step keywords in lower case with a colon",
      (t) => t.replace(/\*\*(GIVEN|WHEN|THEN|AND)\*\*/g, (_m, k: string) => `${k.toLowerCase()}:`),
    ],
    ["step keywords in __bold__", (t) => t.replace(/\*\*(GIVEN|WHEN|THEN|AND)\*\*/g, "__$1__")],
    ["* list markers", (t) => t.replace(/^- /gm, "* ")],
    ["+ list markers", (t) => t.replace(/^- /gm, "+ ")],
    ["numbered list markers", (t) => t.replace(/^- /gm, "1. ")],
    ["numbered list markers with )", (t) => t.replace(/^- /gm, "2) ")],
    [
      "an HTML comment in the text",
      (t) => t.replace("within 30 days.", "within <!-- per legal --> 30 days."),
    ],
    [
      "a multi-line HTML comment in a scenario",
      (t) => t.replace("- **AND** no money", "<!--\nreviewed\n-->\n- **AND** no money"),
    ],
    [
      "bold and italic in the text",
      (t) => t.replace("SHALL process at most one", "**SHALL** process *at most* _one_"),
    ],
    ["inline code backticks", (t) => t.replace("refund key", "`refund key`")],
    ["a re-wrapped paragraph", (t) => t.replace("refund per refund key", "refund per\nrefund key")],
    ["a re-wrapped step", (t) => t.replace("key K arrives", "key K\n  arrives")],
    ["a different title", (t) => t.replace("Refunds are idempotent", "Idempotent refunds")],
    ["a different explicit ID", (t) => t.replace("{#PAY-4}", "{#PAY-99}")],
    ["no explicit ID", (t) => t.replace(" {#PAY-4}", "")],
    [
      "a different marker line",
      (t) =>
        t.replace(
          "> status: approved · origin: human · explicit",
          "> status: draft · origin: agent · inferred · tool: x",
        ),
    ],
    ["no marker line", (t) => t.replace("> status: approved · origin: human · explicit\n", "")],
  ];

  it.each(same)("does not change with %s", (_name, change) => {
    const changed = change(BASE);
    expect(changed).not.toBe(BASE);
    expect(fingerprint(changed)).toBe(base);
  });

  it("does not change between composed (NFC) and decomposed (NFD) Unicode", () => {
    const composed = BASE.replace("refund key", "caf\u00e9 key");
    const decomposed = BASE.replace("refund key", "cafe\u0301 key");
    expect(composed).not.toBe(decomposed);
    expect(fingerprint(decomposed)).toBe(fingerprint(composed));
    expect(fingerprint(composed)).not.toBe(base);
  });

  const different: Array<[string, (t: string) => string]> = [
    ["a word in the text", (t) => t.replace("30 days", "31 days")],
    ["SHALL becoming SHOULD", (t) => t.replace("SHALL", "SHOULD")],
    ["a word in a step", (t) => t.replace("no money moves", "no money is moved")],
    ["a step keyword", (t) => t.replace("**AND** no money", "**BUT** no money")],
    ["a scenario name", (t) => t.replace("Duplicate refund request", "Repeated refund request")],
    ["a removed step", (t) => t.replace("- **AND** no money moves\n", "")],
    ["an added scenario", (t) => `${t}\n#### Scenario: Another\n- **THEN** it holds\n`],
    ["the order of two steps", (t) => t.replace(/(- \*\*THEN\*\*.*\n)(- \*\*AND\*\*.*\n)/, "$2$1")],
    ["a paragraph turned into a list item", (t) => t.replace("The system SHALL", "- The system SHALL")],
    [
      "text moved from the requirement into its scenario",
      (t) => t.replace(" within 30 days.", ".").replace("no money moves", "no money moves within 30 days"),
    ],
  ];

  it.each(different)("changes with %s", (_name, change) => {
    const changed = change(BASE);
    expect(changed).not.toBe(BASE);
    expect(fingerprint(changed)).not.toBe(base);
  });
});

describe("normaliseProse", () => {
  it("applies the documented normalisation", () => {
    expect(
      normaliseProse("  The  **system**\r\nSHALL `work`.\n\n<!-- c -->\n* __given__: a\n2. then b\n"),
    ).toBe("The system SHALL work.\n- GIVEN a\n- THEN b");
    expect(normaliseProse("")).toBe("");
    expect(normaliseProse("\n\n  \n")).toBe("");
    expect(normaliseProse("- ``")).toBe("");
  });

  it("separates text from scenarios and scenarios from each other", () => {
    const a = requirementFingerprint({ text: "x", scenarios: [{ name: "s", body: "- WHEN y" }] });
    const b = requirementFingerprint({ text: "x", scenarios: [{ name: "s - WHEN y", body: "" }] });
    const c = requirementFingerprint({ text: "x - WHEN y", scenarios: [] });
    expect(new Set([a, b, c]).size).toBe(3);
  });
});

describe("emphasis removal", () => {
  // The specification of stripEmphasis: up to three passes of this regex, which is quadratic on long lines and
  // so is not what the code runs.
  const EMPHASIS = /(\*\*|__)(?=\S)([\s\S]*?\S)\1|(^|[^\w*])[*_](?=\S)([^*_\n]*?\S)[*_](?=[^\w*]|$)/g;
  function reference(line: string): string {
    let prev = "";
    let cur = line;
    for (let pass = 0; pass < 3 && prev !== cur; pass++) {
      prev = cur;
      cur = cur.replace(
        EMPHASIS,
        (_m, d: string | undefined, inner: string | undefined, lead: string, inner2: string) =>
          d ? (inner as string) : `${lead}${inner2}`,
      );
    }
    return cur;
  }

  it("strips strong and emphasis markers around words, not inside them", () => {
    expect(stripEmphasis("**WHEN** a *b* _c_ __d__ snake_case 2*3 ***e***")).toBe(
      "WHEN a b c d snake_case 2*3 e",
    );
  });

  it("matches the reference regex on random strings", () => {
    const unit = fc.constantFrom("*", "_", "**", "__", "a", "b", "1", " ", "\n", ".", "é", "\u00a0", "`");
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 24 }), (line) => {
        expect(stripEmphasis(line)).toBe(reference(line));
      }),
      { numRuns: 3000 },
    );
  });

  it("takes linear time on unclosed markers", { timeout: 10_000 }, () => {
    for (const unit of [" **a", " __a", "**", "*a ", " _a", "a* "]) {
      const line = unit.repeat(100_000 / unit.length);
      expect(stripEmphasis(line).length).toBeLessThanOrEqual(line.length);
    }
  });
});

describe("the worked example in docs/format.md", () => {
  it("normalises and hashes as the documentation says", () => {
    const doc = readFileSync(join(REPO, "docs/format.md"), "utf8").replace(/\r\n/g, "\n");
    const block = (marker: string) => {
      const at = doc.indexOf(`<!-- fingerprint-example:${marker} -->`);
      expect(at, marker).toBeGreaterThan(-1);
      const m = /```[a-z]*\n([\s\S]*?)\n```/.exec(doc.slice(at));
      return (m?.[1] as string) ?? "";
    };
    const requirement = parseSpec(`## Requirements\n\n${block("input")}\n`, "spec.md", "payments").spec
      .requirements[0] as Requirement;
    const material = [
      "T",
      normaliseProse(requirement.text),
      ...requirement.scenarios.flatMap((s) => [
        `S ${normaliseProse(s.name)}`,
        normaliseProse(s.raw.slice(s.raw.indexOf("\n") + 1)),
      ]),
    ].join("\n");
    expect(material).toBe(block("material"));
    const stated = /fingerprint `([0-9a-f]{16})`/.exec(
      doc.slice(doc.indexOf("<!-- fingerprint-example:fingerprint -->")),
    );
    expect(requirement.fingerprint).toBe(stated?.[1]);
    expect(createHash("sha256").update(material).digest("hex").slice(0, 16)).toBe(requirement.fingerprint);
  });
});
