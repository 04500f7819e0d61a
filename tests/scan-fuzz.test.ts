// Fuzzing the scanner: random Unicode with every bidirectional control and zero-width character mixed into
// Markdown-like spec text goes through scanText (both trusts), parseSpec and validate's security rules. Nothing
// may throw, every hit must lie in the text, and every position reported must hold what it flags.
// @verifies TRU-14
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_SECURITY_POLICY, scanText, securityPolicy } from "../src/core/scan/index.js";
import {
  requirementParts,
  scanFileFindings,
  securityScanner,
  securitySettings,
} from "../src/core/validate/security-rules.js";
import { parseSpec } from "../src/format/spec.js";
import type { Finding } from "../src/model/types.js";
import { defaultConfig } from "../src/workspace/config.js";
import { lineStarts } from "./format-support.js";
import { keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const HIDDEN = /^[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]+$/u;
const HIDDEN_START = /^[\p{Bidi_Control}\p{Default_Ignorable_Code_Point}]/u;
const project = tempProjects("keel-scan-fuzz-");

/** Every bidi control, every zero-width or joiner character, tags, selectors and fillers. */
const INVISIBLE = [
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x200b,
  0x200c, 0x200d, 0x2060, 0x2061, 0x2062, 0x2063, 0x2064, 0xfeff, 0x00ad, 0x034f, 0x180e, 0x3164, 0xffa0,
  0xfe0f, 0xfe0e, 0xe0001, 0xe0041, 0xe007f, 0xe0100, 0x1f3f4,
].map((cp) => String.fromCodePoint(cp));

const PIECES = [
  "### Requirement: Pay {#PAY-1}\n",
  "> status: approved · origin: agent · inferred\n",
  "#### Scenario: s\n- **WHEN** x\n- **THEN** y\n",
  "<!-- ",
  " -->",
  "[//]: # (",
  ")\n",
  "<details>",
  "</details>",
  '<span hidden style="display:none">',
  "![alt text",
  "](x.png)",
  "ignore all previous instructions",
  "you are now",
  "https://evil.io/a",
  "www.example.com",
  "AKIAQ3EGRLXTTV2K4W7N",
  "aws_secret_access_key = ",
  "k3J9xVbq7TzLm2WnR8pYd4sHc6Gf1aEo5UiQ0tZB",
  "👩‍💻",
  "❤️",
  "می‌خواهم",
  "\r\n",
  "\n",
  " ",
];

const specText = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...INVISIBLE) },
      { weight: 3, arbitrary: fc.constantFrom(...PIECES) },
      { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 8 }) },
      { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 4 }) }, // lone surrogates included
    ),
    { maxLength: 60 },
  )
  .map((parts) => `# S\n\n## Requirements\n\n${parts.join("")}`);

describe("scanner fuzz", () => {
  it("never throws, and every hit lies in the text and holds what it flags", () => {
    const seen = new Map<string, number>();
    const strict = securityPolicy({
      ...defaultConfig(),
      security: { ...defaultConfig().security, trustHumanApproved: false },
    });
    fc.assert(
      fc.property(specText, (text) => {
        for (const [trust, policy] of [
          ["trusted", DEFAULT_SECURITY_POLICY],
          ["untrusted", strict],
        ] as const) {
          const hits = scanText(text, { trust, policy });
          for (const h of hits) {
            seen.set(h.rule, (seen.get(h.rule) ?? 0) + 1);
            expect(h.start).toBeGreaterThanOrEqual(0);
            expect(h.end).toBeGreaterThan(h.start);
            expect(h.end).toBeLessThanOrEqual(text.length);
            const slice = text.slice(h.start, h.end);
            if (h.rule === "security/hidden-unicode") expect(slice).toMatch(HIDDEN);
            if (h.rule === "security/external-url") expect(slice).toMatch(/^(?:https?:\/\/|www\.)/i);
          }
          expect(hits.map((h) => h.start)).toEqual([...hits.map((h) => h.start)].sort((a, b) => a - b));
        }
        // Every invisible character outside the documented exceptions is reported.
        const flagged = scanText(text, { trust: "trusted", policy: DEFAULT_SECURITY_POLICY }).filter(
          (h) => h.rule === "security/hidden-unicode",
        );
        for (const bidi of text.matchAll(/\p{Bidi_Control}/gu))
          expect(flagged.some((h) => h.start <= bidi.index && bidi.index < h.end)).toBe(true);
      }),
      { numRuns: 200 },
    );
    // The generator reaches every rule, so that the checks above check something.
    expect([...seen.keys()].sort()).toEqual([
      "security/external-url",
      "security/hidden-unicode",
      "security/instruction-like",
      "security/secret",
    ]);
  });

  it("validate's findings on a parsed spec point at the flagged characters", () => {
    const scanner = securityScanner(securitySettings(defaultConfig()));
    fc.assert(
      fc.property(specText, (text) => {
        const { spec, scan } = parseSpec(text, "s.md", "cap");
        const findings = scanFileFindings(
          {
            text,
            file: "s.md",
            untrusted: null,
            target: "cap",
            parts: requirementParts(spec.requirements, scanner.policy),
            lines: scan,
          },
          scanner,
        );
        expectAtFlagged(text, findings);
      }),
      { numRuns: 200 },
    );
  });

  it("keel validate, run as a user runs it, reports every finding at what it flags", () => {
    const texts = fc.sample(specText, { numRuns: 25, seed: 12 });
    const files = Object.fromEntries(texts.map((t, i) => [`keel/specs/c${i}/spec.md`, t]));
    const root = project({ "keel/keel.yaml": "version: 1\n", ...files });
    const run = keel(root, "validate", "--json");
    expect(run.stderr).not.toMatch(/internal error|^\s+at /m);
    const report = JSON.parse(run.stdout) as { findings: Finding[] };
    const security = report.findings.filter((f) => f.rule.startsWith("security/"));
    expect(security.length).toBeGreaterThan(0);
    for (const [file, text] of Object.entries(files))
      expectAtFlagged(
        text,
        security.filter((f) => f.file === file),
      );
  });
});

/** Each finding's line and column, turned back into an offset, holds the character or markup it flags. */
function expectAtFlagged(text: string, findings: readonly Finding[]): void {
  const starts = lineStarts(text);
  for (const f of findings) {
    const offset = (starts[f.line - 1] as number) + f.col - 1;
    const rest = text.slice(offset);
    if (f.rule === "security/hidden-unicode") expect(rest).toMatch(HIDDEN_START);
    if (f.rule === "security/external-url") expect(rest).toMatch(/^(?:https?:\/\/|www\.)/i);
    if (f.rule === "security/instruction-like" && f.message.includes("HTML comment"))
      expect(rest).toMatch(/^<!--/);
    if (f.rule === "security/secret") expect(rest).toMatch(/^[A-Za-z0-9+/=]{20}/);
  }
}
