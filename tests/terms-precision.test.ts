// The inconsistent-term check on real sentences: a hyphenated compound modifier ("a transitory-entity lookup",
// also when the noun is on the next line of the paragraph; one of a series, "context-file, reference, and root
// fields"; an adjective such as "config-only") and the open noun phrase ("a transitory entity") are the same
// term written correctly, not two spellings. A hyphenated compound standing as a noun ("a duplicate
// refund-key") still is. Sentences from OpenSpec's own changes, and the `keel analyze` counts on its corpus.
// @verifies TSK-11
import { cpSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Finding } from "../src/model/types.js";
import { OPENSPEC_CORPUS as CORPUS, hasOpenSpecCorpus } from "./format-support.js";
import { jsonOut, keel } from "./support/cli.js";
import { tempProjects } from "./support/files.js";

const HAVE_CORPUS = hasOpenSpecCorpus("terms-precision");

const project = tempProjects("keel-terms-");
const RULE = "analyze/inconsistent-term";

function spec(body: string): string {
  return [
    "# Resolver",
    "",
    "## Purpose",
    "Entity lookups.",
    "",
    "## Requirements",
    "",
    "### Requirement: Lookups {#RES-1}",
    "> status: draft",
    body,
    "",
  ].join("\n");
}

function terms(files: Record<string, string>): Finding[] {
  const root = project({ "keel/keel.yaml": "version: 1\n", ...files });
  return (jsonOut(keel(root, "analyze", "--json")).findings as Finding[]).filter((f) => f.rule === RULE);
}

describe("hyphenated compound modifiers are not a second spelling", () => {
  it("before the noun, on the same line or wrapped onto the next one", () => {
    const found = terms({
      "keel/specs/resolver/spec.md": spec(
        [
          "The resolver SHALL answer a transitory entity from the request cache. A transitory entity",
          "lives for one request. The resolver SHALL keep transitory-entity",
          "state apart from durable state.",
        ].join("\n"),
      ),
      "keel/specs/resolver/tasks.md": [
        "- [ ] 1.1 Add a transitory-entity lookup to the resolver",
        "- [ ] 1.2 Cache every transitory-entity",
        "  lookup for the length of one request",
        "",
      ].join("\n"),
    });
    expect(found).toEqual([]);
  });

  it("one of a series of modifiers, and compounds that are adjectives (OpenSpec's own tasks)", () => {
    const found = terms({
      "keel/specs/config/spec.md": spec(
        [
          "The system SHALL read context files once per run, and SHALL create config only when the",
          "config creation conditions are met.",
        ].join("\n"),
      ),
      "keel/specs/config/tasks.md": [
        "- [ ] 1.1 Preserve existing apply state, task, progress, context-file, reference, and root fields",
        "- [ ] 1.2 Update global config on confirmation (config-only, no file regeneration)",
        "",
      ].join("\n"),
    });
    expect(found).toEqual([]);
  });
});

describe("real inconsistencies are still found", () => {
  it("a hyphenated compound standing as a noun: at the end of a task, of a sentence, before a preposition", () => {
    const tasks = [
      "- [ ] 1.1 Reject a duplicate refund-key",
      "  - covers: RES-1",
      "- [ ] 1.2 Store the refund-key",
      "  in the ledger, once",
      "- [ ] 1.3 Log it. Then drop the refund-key.",
      "",
    ].join("\n");
    const found = terms({
      "keel/specs/pay/spec.md": spec("The system SHALL process at most one refund per refund key."),
      "keel/specs/pay/tasks.md": tasks,
    });
    expect(found.map((f) => [f.target, f.file])).toEqual([
      ["refund key", "keel/specs/pay/spec.md"],
      ["refund key", "keel/specs/pay/tasks.md"],
    ]);
    // Every hyphenated occurrence is a noun here: the message counts all three.
    const hyphenated = tasks.match(/refund-key/g) ?? [];
    expect(found[1]?.message).toContain(`"refund-key" (hyphenated, ${hyphenated.length} times)`);
  });

  it("a wrapped paragraph ends at a list item: the hyphenated word before it is not a modifier", () => {
    const found = terms({
      "keel/specs/pay/spec.md": spec("Each refund key is unique."),
      "keel/specs/pay/tasks.md": "- [ ] 1.1 Validate the refund-key\n- [ ] 1.2 Lookup tables\n",
    });
    expect(found.map((f) => f.target)).toEqual(["refund key", "refund key"]);
  });
});

describe.skipIf(!HAVE_CORPUS)("the OpenSpec corpus", () => {
  it("none of its hyphenated modifiers is reported; the labels written as nouns still are", () => {
    const root = project({});
    cpSync(join(CORPUS, "openspec"), join(root, "openspec"), { recursive: true });
    const found = (jsonOut(keel(root, "analyze", "--json")).findings as Finding[]).filter(
      (f) => f.rule === RULE,
    );
    const targets = new Set(found.map((f) => f.target));
    // "planning-artifacts-only with a hand-off", "context-file, reference, and root fields", "(config-only, …)".
    for (const modifier of ["planning artifacts only", "context file", "config only"])
      expect(targets, modifier).not.toContain(modifier);
    // "body-keyword not flagged" names a case: a noun, still a second spelling of "body keyword".
    expect(targets).toContain("body keyword");
  });
});
