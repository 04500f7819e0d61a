// The front-matter fast path must never disagree with the `yaml` library: either it returns exactly what
// the library returns, or it declines (null) and the library decides.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseSimpleYaml } from "../src/format/simple-yaml.js";

const word = fc.stringMatching(/^[A-Za-z0-9_./+@() -]{0,12}$/);
const scalarText = fc.oneof(
  word,
  fc.constantFrom(
    "true",
    "false",
    "True",
    "FALSE",
    "null",
    "Null",
    "~",
    "yes",
    "no",
    "0",
    "-7",
    "+3",
    "1.5",
    ".5",
    "1e3",
    "0x1F",
    "0o17",
    "1_000",
    ".inf",
    "NaN",
    "2026-11-20",
    "a: b",
    "a #b",
    "'q'",
    '"q"',
    "*x",
    "&x",
    "!t",
    "%x",
    "@x",
    "`x",
    "|",
    ">",
    "-",
    "- a",
    "?",
    ":",
  ),
);
const key = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,8}$/),
  fc.constantFrom("a b", "1", "-x", "k:"),
);
const value = fc.oneof(
  scalarText,
  fc.array(scalarText, { maxLength: 4 }).map((xs) => `[${xs.join(", ")}]`),
  fc.constantFrom("", "[", "]", "[a, [b]]", "{a: 1}", "[a,]"),
);
const doc = fc
  .array(fc.tuple(key, value, fc.constantFrom("", " ", "\r", "  # c")), { maxLength: 6 })
  .map((lines) => lines.map(([k, v, tail]) => `${k}:${v === "" ? "" : ` ${v}`}${tail}`).join("\n"));

describe("front-matter fast path", () => {
  it("agrees with the yaml library whenever it answers", () => {
    fc.assert(
      fc.property(doc, (text) => {
        const fast = parseSimpleYaml(text);
        if (fast === null) return;
        let lib: unknown;
        try {
          lib = parse(text, { uniqueKeys: true });
        } catch {
          throw new Error(`fast path accepted what the library rejects: ${JSON.stringify(text)}`);
        }
        expect(fast).toEqual(lib ?? {});
      }),
      { numRuns: 3000 },
    );
  });

  it("answers for the front matter the dialect documents, and declines nested or quoted YAML", () => {
    expect(parseSimpleYaml("status: approved\nowners: [payments-team, ops]\ntags: []\nversion: 2")).toEqual({
      status: "approved",
      owners: ["payments-team", "ops"],
      tags: [],
      version: 2,
    });
    expect(parseSimpleYaml("owners:\n  - a")).toBeNull();
    expect(parseSimpleYaml('title: "Quoted"')).toBeNull();
    expect(parseSimpleYaml("a: 1\na: 2")).toBeNull();
  });
});
