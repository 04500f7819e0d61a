// A Keel spec written as a Spec Kit `spec.md`, in the structure of Spec Kit's spec template: user stories with
// numbered Given/When/Then acceptance scenarios, `FR-###` functional requirements, `SC-###` success criteria,
// edge cases and key entities in their places. What the template has no place for is said, never dropped
// silently: see `losses`.
// @req LAY-12
import { parseSpeckitSpec } from "../../format/layouts/speckit.js";
import { derivedRequirementId } from "../../model/ids.js";
import type { Requirement, RequirementStatus, Section, Spec } from "../../model/types.js";
import { projectError } from "../../workspace/errors.js";
import { IMPORTED_FROM, PRIORITY_KEY } from "./keel-spec.js";
import type { ConversionLoss } from "./plan.js";
import { lf } from "./text.js";

const STORY_ID = /^US(\d+)$/;
const PRIMARY_STORY = /^Primary User Story$/i;
const ITEM_ID = /^(FR|SC)-(\d{3,})[a-z]?$/;
const NOTE_SECTION = { "edge cases": "Edge Cases", "key entities": "Key Entities" } as const;
/** Sections of a Keel spec that the Spec Kit file rebuilds rather than copies. */
const REBUILT = new Set(["purpose", "requirements", ...Object.keys(NOTE_SECTION)]);
/** Marker fields Spec Kit can hold: the spec's status (when all agree) and a story's priority. */
const HELD_MARKERS = new Set(["status", PRIORITY_KEY, IMPORTED_FROM]);

/** A story is numbered, except the older template's one `### Primary User Story` (its ID is derived). */
type Slot = { kind: "story"; number: number | null } | { kind: "FR" | "SC"; written: string };

export interface SpeckitExport {
  text: string;
  losses: ConversionLoss[];
}

/** The Spec Kit text of `spec`, a spec of feature folder `feature`. */
export function speckitSpecText(spec: Spec, feature: string): SpeckitExport {
  const losses: ConversionLoss[] = [];
  const lose = (message: string) => losses.push({ file: spec.file, message });
  const slots = assignSlots(spec, lose);
  const stories = spec.requirements.filter((r) => slots.get(r)?.kind === "story");
  const items = (k: "FR" | "SC") => spec.requirements.filter((r) => slots.get(r)?.kind === k);
  const status = specStatus(spec, lose);
  reportUnheld(spec, slots, lose);

  const parts = [`# Feature Specification: ${spec.title ?? feature}`];
  const purpose = spec.purpose ?? "";
  if (purpose !== "") parts.push(purpose);
  if (status && !/^\s*\*\*Status:?\*\*/im.test(purpose)) parts.push(`**Status**: ${capitalised(status)}`);
  parts.push("## User Scenarios & Testing *(mandatory)*");
  for (const r of stories) parts.push(storyBlock(r, slots.get(r) as Slot & { kind: "story" }), "---");
  const edge = noteSection(spec, "edge cases");
  if (edge) parts.push("### Edge Cases", edge);
  parts.push("## Requirements *(mandatory)*", "### Functional Requirements");
  if (items("FR").length > 0)
    parts.push(
      items("FR")
        .map((r) => itemLine(r, slots))
        .join("\n"),
    );
  const entities = noteSection(spec, "key entities");
  if (entities) parts.push("### Key Entities *(include if feature involves data)*", entities);
  if (items("SC").length > 0) {
    parts.push("## Success Criteria *(mandatory)*", "### Measurable Outcomes");
    parts.push(
      items("SC")
        .map((r) => itemLine(r, slots))
        .join("\n"),
    );
  }
  for (const sec of spec.sections)
    if (!REBUILT.has(sec.title.toLowerCase())) parts.push(lf(sec.raw).trimEnd());
  const text = `${parts.join("\n\n")}\n`;
  expectReadBack(spec, feature, text, slots);
  return { text, losses };
}

/**
 * Where each requirement goes. An ID Spec Kit can hold (`<feature>/US1`, `<feature>/FR-001`) keeps its place;
 * any other is numbered after the highest one written: a requirement with scenarios becomes a user story (the
 * only place for scenarios), one without an FR item.
 */
function assignSlots(spec: Spec, lose: (m: string) => void): Map<Requirement, Slot> {
  const slots = new Map<Requirement, Slot>();
  let story = 0;
  let fr = 0;
  const free: Requirement[] = [];
  for (const r of spec.requirements) {
    const written = r.id.startsWith(`${spec.capability}/`) ? r.id.slice(spec.capability.length + 1) : null;
    const s = written === null ? null : STORY_ID.exec(written);
    const item = written === null ? null : ITEM_ID.exec(written);
    if (r.id === derivedRequirementId(spec.capability, r.title) && PRIMARY_STORY.test(r.title)) {
      slots.set(r, { kind: "story", number: null });
    } else if (s) {
      slots.set(r, { kind: "story", number: Number(s[1]) });
      story = Math.max(story, Number(s[1]));
    } else if (item) {
      slots.set(r, { kind: item[1] as "FR" | "SC", written: written as string });
      if (item[1] === "FR") fr = Math.max(fr, Number(item[2]));
    } else free.push(r);
  }
  for (const r of free) {
    const slot: Slot =
      r.scenarios.length > 0
        ? { kind: "story", number: ++story }
        : { kind: "FR", written: `FR-${String(++fr).padStart(3, "0")}` };
    slots.set(r, slot);
    const as = slot.kind === "story" ? `US${slot.number}` : slot.written;
    lose(`${r.id} is written as ${as}: Spec Kit numbers its own IDs (US#, FR-###, SC-###)`);
  }
  return slots;
}

/** Spec Kit has one status per spec: the requirements' own, when they all have the same. */
function specStatus(spec: Spec, lose: (m: string) => void): RequirementStatus | null {
  const statuses = new Set(spec.requirements.map((r) => r.markers?.status ?? spec.status ?? null));
  if (statuses.size === 1) return [...statuses][0] ?? null;
  if (statuses.size > 1) {
    lose(
      `requirements have different statuses (${[...statuses].map((s) => s ?? "none").join(", ")}): Spec Kit has one status per spec, so none is written`,
    );
  }
  return null;
}

/** What the requirements carry that the Spec Kit file has no place for. */
function reportUnheld(spec: Spec, slots: Map<Requirement, Slot>, lose: (m: string) => void): void {
  const withProvenance = spec.requirements.filter(
    (r) =>
      r.markers &&
      (Object.values(r.markers.provenance).some((v) => v !== undefined) ||
        Object.keys(r.markers.extra).some((k) => !HELD_MARKERS.has(k))),
  );
  if (withProvenance.length > 0) {
    lose(
      `provenance of ${withProvenance.length} requirement(s) (${withProvenance[0]?.id}…): Spec Kit has no provenance`,
    );
  }
  for (const r of spec.requirements) {
    const slot = slots.get(r) as Slot;
    if (slot.kind === "story") {
      r.scenarios.forEach((sc, k) => {
        if (sc.name !== `Scenario ${k + 1}`)
          lose(`scenario "${sc.name}" of ${r.id} is numbered ${k + 1}: Spec Kit's scenarios have no names`);
      });
    } else if (r.title !== slot.written && r.title !== r.text) {
      lose(`the title "${r.title}" of ${r.id}: Spec Kit's ${slot.kind} items have none`);
    }
  }
}

function storyBlock(r: Requirement, slot: { number: number | null }): string {
  const priority = r.priority ?? r.markers?.extra[PRIORITY_KEY];
  const lines = [
    slot.number === null
      ? `### ${r.title}`
      : `### User Story ${slot.number} - ${r.title}${priority ? ` (Priority: ${priority})` : ""}`,
  ];
  if (r.text !== "") lines.push("", lf(r.text));
  if (r.scenarios.length > 0) {
    lines.push("", "**Acceptance Scenarios**:", "");
    r.scenarios.forEach((sc, k) => {
      const steps = sc.steps.map(
        (st) => `**${capitalised((st.keyword ?? "and").toLowerCase())}** ${st.text}`,
      );
      lines.push(`${k + 1}. ${steps.join(", ")}`);
    });
  }
  return lines.join("\n");
}

/** `- **FR-001**: text`, continuation lines kept inside the item (indented where the list would end). */
function itemLine(r: Requirement, slots: Map<Requirement, Slot>): string {
  const slot = slots.get(r) as { written: string };
  const [first = "", ...rest] = lf(r.text).split("\n");
  const out = [`- **${slot.written}**: ${first}`];
  let afterBlank = false;
  for (const line of rest) {
    const breaksOut = afterBlank || /^ {0,3}(?:[-*+]\s|\d+[.)]\s|#|>|```|~~~|<!--)/.test(line);
    out.push(line.trim() === "" || /^ {2}/.test(line) || !breaksOut ? line : `  ${line}`);
    afterBlank = line.trim() === "";
  }
  return out.join("\n");
}

/** The items of a Keel note section (`## Edge Cases`), as written. */
function noteSection(spec: Spec, name: keyof typeof NOTE_SECTION): string | null {
  const sec: Section | undefined = spec.sections.find((s) => s.title.toLowerCase() === name);
  if (!sec) return null;
  const body = lf(sec.raw).split("\n").slice(1).join("\n").trim();
  return body === "" ? null : body;
}

/** The Spec Kit file reads back with every requirement's text and scenario steps as written. */
function expectReadBack(spec: Spec, feature: string, text: string, slots: Map<Requirement, Slot>): void {
  const back = new Map(parseSpeckitSpec(text, spec.file, feature).spec.requirements.map((r) => [r.id, r]));
  for (const r of spec.requirements) {
    const slot = slots.get(r) as Slot;
    const read = back.get(
      slot.kind !== "story"
        ? `${feature}/${slot.written}`
        : slot.number === null
          ? derivedRequirementId(feature, r.title)
          : `${feature}/US${slot.number}`,
    );
    const same =
      read !== undefined &&
      lf(read.text) === lf(r.text) &&
      read.scenarios.length === r.scenarios.length &&
      read.scenarios.every((sc, k) => sc.steps.every((st, j) => st.text === r.scenarios[k]?.steps[j]?.text));
    if (!same) {
      throw projectError(
        `${r.id} (${spec.file}:${r.span.start.line}) would not read back from Spec Kit's format as written; nothing was written`,
        "a list item or a bold Given/When/Then inside its text is the usual cause: reword it, then export again",
        { file: spec.file, line: r.span.start.line, col: r.span.start.col },
      );
    }
  }
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
