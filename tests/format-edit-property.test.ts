// Property-based tests of the edit API over the real corpora (OpenSpec's specs, this repository's examples and
// dogfood specs), each file also re-line-ended to CRLF, BOM-prefixed and stripped of its final newline:
//  (a) the bytes before the edited block's start and after its end are the original bytes;
//  (b) parsing the result shows the intended change, and every other requirement keeps its ID and fingerprint;
//  (c) the line-ending style and the BOM are kept.
// @verifies FMT-15
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyEdit,
  EditError,
  type NewScenario,
  type ProvenancePatch,
  type SpecEdit,
} from "../src/format/edit.js";
import { renderSpec } from "../src/format/render.js";
import { parseSpec } from "../src/format/spec.js";
import { derivedRequirementId } from "../src/model/ids.js";
import type { Requirement, RequirementStatus, StepKeyword } from "../src/model/types.js";
import { loadCorpus, toCrlf } from "./format-support.js";

const corpus = loadCorpus();
const files = corpus.specs.filter(
  (f) => parseSpec(f.text, f.file, f.capability).spec.requirements.length > 0,
);

interface Variant {
  crlf: boolean;
  bom: boolean;
  dropFinalNewline: boolean;
}

function applyVariant(text: string, v: Variant): string {
  let t = v.crlf ? toCrlf(text) : text;
  if (v.dropFinalNewline) t = t.replace(/(\r?\n)+$/, "");
  return v.bom ? `\uFEFF${t}` : t;
}

const variantArb: fc.Arbitrary<Variant> = fc.record({
  crlf: fc.boolean(),
  bom: fc.boolean(),
  dropFinalNewline: fc.boolean(),
});

const WORDS = [
  "The",
  "system",
  "SHALL",
  "MUST",
  "refund",
  "a",
  "payment",
  "within",
  "30",
  "days",
  "when",
  "if",
  "then",
  "**bold**",
  "_it_",
  "`code`",
  "élevé",
  "[[PAY-1]]",
  "<!-- note -->",
  "x#",
  "->",
  "|",
  "1.",
  "€",
];
const sentence = fc.array(fc.constantFrom(...WORDS), { minLength: 1, maxLength: 10 }).map((w) => w.join(" "));
const safeText = fc.array(sentence, { minLength: 1, maxLength: 3 }).map((s) => s.join("\n"));
const name = fc
  .array(fc.constantFrom("Refund", "twice", "élevé", "(edge)", "case", "42", "a/b"), {
    minLength: 1,
    maxLength: 4,
  })
  .map((w) => w.join(" "));
const keyword = fc.constantFrom<StepKeyword>("GIVEN", "WHEN", "THEN", "AND", "BUT");
const scenarioArb: fc.Arbitrary<NewScenario> = fc.record({
  name,
  steps: fc.array(fc.record({ keyword, text: sentence }), { maxLength: 4 }),
});
const statusArb = fc.constantFrom<RequirementStatus | null>(
  "draft",
  "proposed",
  "approved",
  "deprecated",
  null,
);
const value = fc.constantFrom(
  "codex-7",
  "ana",
  "gpt-5",
  "add-refunds",
  "2026-11-20",
  "tool x",
  null,
  undefined,
);
const provenanceArb: fc.Arbitrary<ProvenancePatch> = fc.record(
  {
    origin: fc.constantFrom("human", "agent", "system", null, undefined),
    basis: fc.constantFrom("explicit", "inferred", null, undefined),
    actor: value,
    tool: value,
    model: value,
    change: value,
    at: value,
  },
  { requiredKeys: [] },
) as fc.Arbitrary<ProvenancePatch>;

type EditPlan =
  | { op: "replace-text"; text: string }
  | { op: "add-scenario"; scenario: NewScenario }
  | { op: "remove-scenario"; pick: number }
  | { op: "add-requirement"; title: string; text: string; id: boolean; status: RequirementStatus | null }
  | { op: "remove-requirement" }
  | { op: "set-status"; status: RequirementStatus | null }
  | { op: "set-provenance"; provenance: ProvenancePatch };

function planArb(text: fc.Arbitrary<string>): fc.Arbitrary<EditPlan> {
  return fc.oneof(
    fc.record({ op: fc.constant("replace-text" as const), text }),
    fc.record({ op: fc.constant("add-scenario" as const), scenario: scenarioArb }),
    fc.record({ op: fc.constant("remove-scenario" as const), pick: fc.nat() }),
    fc.record({
      op: fc.constant("add-requirement" as const),
      title: name,
      text,
      id: fc.boolean(),
      status: statusArb,
    }),
    fc.record({ op: fc.constant("remove-requirement" as const) }),
    fc.record({ op: fc.constant("set-status" as const), status: statusArb }),
    fc.record({ op: fc.constant("set-provenance" as const), provenance: provenanceArb }),
  );
}

const CAPS = "ZZ";

function toEdit(
  plan: EditPlan,
  target: Requirement,
  existing: ReadonlySet<string>,
  capability: string,
): SpecEdit {
  switch (plan.op) {
    case "replace-text":
      return { op: "replace-text", id: target.id, text: plan.text };
    case "add-scenario":
      return { op: "add-scenario", id: target.id, scenario: plan.scenario };
    case "remove-scenario":
      return {
        op: "remove-scenario",
        id: target.id,
        scenario:
          target.scenarios.length === 0
            ? plan.pick % 3
            : plan.pick % 2 === 0
              ? plan.pick % target.scenarios.length
              : (target.scenarios[plan.pick % target.scenarios.length]?.name as string),
      };
    case "add-requirement": {
      let title = `${plan.title} new`;
      while (existing.has(derivedRequirementId(capability, title))) title += " more";
      let id = `${CAPS}-1`;
      for (let k = 2; existing.has(id); k++) id = `${CAPS}-${k}`;
      return {
        op: "add-requirement",
        requirement: {
          title,
          text: plan.text,
          ...(plan.id ? { id } : {}),
          ...(plan.status ? { status: plan.status } : {}),
        },
      };
    }
    case "remove-requirement":
      return { op: "remove-requirement", id: target.id };
    case "set-status":
      return { op: "set-status", id: target.id, status: plan.status };
    case "set-provenance":
      return { op: "set-provenance", id: target.id, provenance: plan.provenance };
  }
}

const lf = (t: string) => t.replace(/\r\n?/g, "\n");

function trimBlankLines(t: string): string {
  const lines = lf(t).split("\n");
  while (lines.length > 0 && (lines[0] as string).trim() === "") lines.shift();
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === "") lines.pop();
  return lines.join("\n");
}

/** Runs one edit and checks (a), (b) and (c). Returns false when the edit was refused with an EditError. */
function check(
  fileIndex: number,
  variant: Variant,
  pick: number,
  plan: EditPlan,
  mayRefuse: boolean,
): boolean {
  const f = files[fileIndex % files.length] as (typeof files)[number];
  const original = applyVariant(f.text, variant);
  const before = parseSpec(original, f.file, f.capability);
  const all = before.spec.requirements;
  const counts = new Map<string, number>();
  for (const r of all) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const unique = all.filter((r) => counts.get(r.id) === 1);
  if (unique.length === 0) return true;
  const target = unique[pick % unique.length] as Requirement;
  const edit = toEdit(plan, target, new Set(counts.keys()), f.capability);

  let result: string;
  try {
    result = applyEdit(original, { capability: f.capability, file: f.file }, edit);
  } catch (e) {
    if (!(e instanceof EditError)) throw e;
    // Only a scenario asked for by a number that does not exist may be refused with safe content.
    if (edit.op === "remove-scenario" && e.code === "scenario-not-found" && target.scenarios.length === 0)
      return false;
    if (mayRefuse && (e.code === "invalid-content" || e.code === "invalid-value")) return false;
    throw e;
  }

  // (a) Bytes outside the edited block are untouched.
  let start = target.span.start.offset;
  let end = target.span.end.offset;
  if (edit.op === "add-requirement") {
    const sections = before.spec.sections;
    const reqSection = [...sections].reverse().find((s) => s.title.toLowerCase() === "requirements");
    const purpose = sections.find((s) => s.title.toLowerCase() === "purpose");
    start = end = reqSection
      ? reqSection.span.end.offset
      : purpose
        ? purpose.span.end.offset
        : original.length;
  }
  expect(result.slice(0, start)).toBe(original.slice(0, start));
  expect(result.length - (original.length - end)).toBeGreaterThanOrEqual(start);
  expect(result.slice(result.length - (original.length - end))).toBe(original.slice(end));

  // (c) Line endings and BOM.
  expect(result.startsWith("\uFEFF")).toBe(original.startsWith("\uFEFF"));
  if (variant.crlf) expect(/(^|[^\r])\n/.test(result)).toBe(false);
  else if (!original.includes("\r")) expect(result.includes("\r")).toBe(false);

  // (b) The intended change, and nothing else.
  const after = parseSpec(result, f.file, f.capability);
  expect(renderSpec(after)).toBe(result);
  const now = after.spec.requirements;
  const others = (list: Requirement[], skip: string | null) =>
    list.filter((r) => r.id !== skip).map((r) => `${r.id} ${r.fingerprint}`);
  const edited = now.find((r) => r.id === target.id);
  switch (edit.op) {
    case "replace-text":
      expect(lf(edited?.text ?? "")).toBe(trimBlankLines(edit.text));
      expect(edited?.scenarios.length).toBe(target.scenarios.length);
      break;
    case "add-scenario": {
      expect(edited?.scenarios.length).toBe(target.scenarios.length + 1);
      const added = edited?.scenarios[edited.scenarios.length - 1];
      expect(added?.name).toBe(edit.scenario.name.trim());
      expect(added?.steps.map((s) => [s.keyword, s.text])).toEqual(
        edit.scenario.steps.map((s) => [s.keyword, s.text.trim()]),
      );
      expect(lf(edited?.text ?? "")).toBe(lf(target.text));
      break;
    }
    case "remove-scenario": {
      expect(edited?.scenarios.length).toBe(target.scenarios.length - 1);
      const gone =
        typeof edit.scenario === "number"
          ? edit.scenario
          : target.scenarios.findIndex((s) => s.name === edit.scenario);
      expect(edited?.scenarios.map((s) => s.name)).toEqual(
        target.scenarios.filter((_, k) => k !== gone).map((s) => s.name),
      );
      break;
    }
    case "add-requirement": {
      const r = edit.requirement;
      const added = now.filter((x) => !all.some((y) => y.id === x.id));
      expect(added).toHaveLength(1);
      expect(added[0]?.title).toBe(r.title);
      expect(added[0]?.explicitId).toBe(r.id !== undefined);
      if (r.id) expect(added[0]?.id).toBe(r.id);
      expect(lf(added[0]?.text ?? "")).toBe(trimBlankLines(r.text));
      expect(added[0]?.markers?.status).toBe(r.status);
      expect(others(now, added[0]?.id ?? null)).toEqual(others(all, null));
      return true;
    }
    case "remove-requirement":
      expect(edited).toBeUndefined();
      expect(now).toHaveLength(all.length - 1);
      break;
    case "set-status":
      expect(edited?.markers?.status).toBe(edit.status ?? undefined);
      expect(edited?.fingerprint).toBe(target.fingerprint);
      expect(edited?.markers?.extra ?? {}).toEqual(target.markers?.extra ?? {});
      break;
    case "set-provenance": {
      const p = edited?.markers?.provenance ?? {};
      for (const [k, v] of Object.entries(edit.provenance)) {
        const want = v === undefined ? target.markers?.provenance[k as keyof typeof p] : (v ?? undefined);
        expect(p[k as keyof typeof p]).toBe(want);
      }
      expect(edited?.markers?.status).toBe(target.markers?.status);
      expect(edited?.fingerprint).toBe(target.fingerprint);
      expect(edited?.markers?.extra ?? {}).toEqual(target.markers?.extra ?? {});
      break;
    }
  }
  if (edit.op !== "remove-requirement") expect(edited?.title).toBe(target.title);
  expect(others(now, target.id)).toEqual(others(all, target.id));
  return true;
}

describe("edit properties over the corpora", () => {
  it("has spec files to edit", () => {
    if (corpus.roots.length === 0) return;
    expect(files.length).toBeGreaterThan(0);
  });

  it("keeps every byte outside the edited block and makes exactly the intended change", () => {
    if (files.length === 0) return;
    let applied = 0;
    fc.assert(
      fc.property(fc.nat(), variantArb, fc.nat(), planArb(safeText), (fileIndex, variant, pick, plan) => {
        if (check(fileIndex, variant, pick, plan, false)) applied++;
      }),
      { numRuns: 400 },
    );
    expect(applied).toBeGreaterThan(300);
  });

  it("either applies content with Markdown structure in it cleanly or refuses it with an EditError", () => {
    if (files.length === 0) return;
    const hostile = fc
      .array(
        fc.oneof(
          sentence,
          fc.constantFrom(
            "### Requirement: Injected",
            "#### Scenario: Injected",
            "## Next section",
            "```",
            "~~~",
            "<!--",
            "-->",
            "> status: draft",
            "> origin: human · explicit",
            "",
            "   ",
            "\t- **THEN** tab",
            "# #",
            "---",
          ),
          fc.string({ maxLength: 20 }),
        ),
        { minLength: 1, maxLength: 6 },
      )
      .map((l) => l.join("\n"));
    let refused = 0;
    fc.assert(
      fc.property(fc.nat(), variantArb, fc.nat(), planArb(hostile), (fileIndex, variant, pick, plan) => {
        if (!check(fileIndex, variant, pick, plan, true)) refused++;
      }),
      { numRuns: 300 },
    );
    // The generator produces structure often enough that some edits must have been refused.
    expect(refused).toBeGreaterThan(0);
  });
});
