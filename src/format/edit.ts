// Surgical edits of a capability spec. Each function takes the file's text and returns the new text; it
// changes only the bytes of the block it targets (one requirement, or the insertion point of a new one),
// keeps the file's line-ending style and byte order mark, and checks its own result by parsing it again,
// so that an edit never silently changes the structure of the file. Pure: no file system access.
// See docs/format.md ("Edit API").
// @req FMT-15
import { derivedRequirementId, EXPLICIT_ID, splitExplicitId } from "../model/ids.js";
import {
  ORIGINS,
  type Provenance,
  REQUIREMENT_STATUSES,
  type Requirement,
  type RequirementStatus,
  type StepKeyword,
} from "../model/types.js";
import { isMarkerLine, MARKER_SEPARATOR, renderMarkers } from "./markers.js";
import type { Scan } from "./scan.js";
import { parseSpec, type SpecParse, topSections } from "./spec.js";

export type EditErrorCode =
  | "requirement-not-found"
  | "ambiguous-requirement"
  | "scenario-not-found"
  | "duplicate-id"
  | "invalid-id"
  | "invalid-title"
  | "invalid-value"
  | "invalid-content";

/** A refused edit. The input text is never partially changed: the caller keeps its original. */
export class EditError extends Error {
  readonly code: EditErrorCode;
  constructor(code: EditErrorCode, message: string) {
    super(message);
    this.name = "EditError";
    this.code = code;
  }
}

/** The spec being edited: its capability (needed for derived IDs) and, for messages, its file. */
export interface SpecRef {
  capability: string;
  file?: string;
}

export interface NewStep {
  keyword: StepKeyword;
  text: string;
}

export interface NewScenario {
  name: string;
  steps: ReadonlyArray<NewStep>;
}

/** A provenance change: a value sets the field, `null` removes it, a missing key leaves it as it is. */
export type ProvenancePatch = { [K in keyof Provenance]?: Provenance[K] | null };

export interface NewRequirement {
  title: string;
  /** Explicit stable ID, written as `{#ID}` on the heading. Without it the requirement gets its derived ID. */
  id?: string;
  /** Normative text; may span several lines. */
  text: string;
  scenarios?: ReadonlyArray<NewScenario>;
  /** Marker line fields. No marker line is written when none is given. */
  status?: RequirementStatus;
  provenance?: Provenance;
  extra?: Record<string, string>;
}

export type SpecEdit =
  | { op: "replace-text"; id: string; text: string }
  | { op: "add-scenario"; id: string; scenario: NewScenario }
  | { op: "remove-scenario"; id: string; scenario: string | number }
  | { op: "add-requirement"; requirement: NewRequirement }
  | { op: "remove-requirement"; id: string }
  | { op: "set-status"; id: string; status: RequirementStatus | null }
  | { op: "set-provenance"; id: string; provenance: ProvenancePatch };

export function applyEdit(source: string, spec: SpecRef, edit: SpecEdit): string {
  switch (edit.op) {
    case "replace-text":
      return replaceRequirementText(source, spec, edit.id, edit.text);
    case "add-scenario":
      return addScenario(source, spec, edit.id, edit.scenario);
    case "remove-scenario":
      return removeScenario(source, spec, edit.id, edit.scenario);
    case "add-requirement":
      return addRequirement(source, spec, edit.requirement);
    case "remove-requirement":
      return removeRequirement(source, spec, edit.id);
    case "set-status":
      return setStatus(source, spec, edit.id, edit.status);
    case "set-provenance":
      return setProvenance(source, spec, edit.id, edit.provenance);
  }
}

/** The file's line terminator: the first one it uses, or LF for a file with a single line. */
export function lineEnding(text: string): "\n" | "\r\n" {
  const nl = text.indexOf("\n");
  return nl > 0 && text.charCodeAt(nl - 1) === 13 ? "\r\n" : "\n";
}

// ---------------------------------------------------------------------------------------------------------
// Requirement-level edits

/** Replaces a requirement's normative text (the lines between its heading or marker line and its first sub-heading). */
export function replaceRequirementText(source: string, spec: SpecRef, id: string, text: string): string {
  const ctx = open(source, spec);
  const { req, index } = findRequirement(ctx, id);
  const body = normaliseBlock(text);
  const s = ctx.parsed.scan;
  let result: string;
  if (req.textSpan) {
    if (body === "") {
      const first = req.textSpan.start.line - 1;
      const last = req.textSpan.end.line - 1;
      result = splice(source, lineStart(s, first), lineNext(s, last), "");
    } else {
      result = splice(source, req.textSpan.start.offset, req.textSpan.end.offset, eolize(body, ctx.eol));
    }
  } else {
    if (body === "") return source;
    const anchor = (req.markers ? req.markers.span.start.line : req.headingSpan.start.line) - 1;
    const next = s.lines[anchor + 1];
    const gap = next && source.slice(next.start, next.end).trim() !== "" ? ctx.eol : "";
    result = splice(
      source,
      lineEnd(s, anchor),
      lineEnd(s, anchor),
      `${ctx.eol}${eolize(body, ctx.eol)}${gap}`,
    );
  }
  const after = reopen(ctx, result);
  const edited = sameShape(ctx, after, index, "replace the text");
  expect(lf(edited.text) === body, "the new text would not be read back as the requirement's text");
  expectSameScenarios(req, edited);
  expect(sameMarkers(req, edited), "the new text would change the requirement's marker line");
  return result;
}

/** Appends a scenario at the end of a requirement's block. */
export function addScenario(source: string, spec: SpecRef, id: string, scenario: NewScenario): string {
  const ctx = open(source, spec);
  const { req, index } = findRequirement(ctx, id);
  const lines = scenarioLines(scenario);
  const result = insertBlock(ctx, req.span.end.offset, lines);
  const after = reopen(ctx, result);
  const edited = sameShape(ctx, after, index, "add the scenario");
  expect(edited.scenarios.length === req.scenarios.length + 1, "the scenario would not be read back");
  expectSameScenarios(req, { ...edited, scenarios: edited.scenarios.slice(0, -1) });
  const added = edited.scenarios[edited.scenarios.length - 1];
  expect(
    added !== undefined && matchesScenario(added, scenario),
    "the scenario would not be read back as written",
  );
  return result;
}

/** Removes a scenario, named (first scenario with that name) or by 0-based index. */
export function removeScenario(source: string, spec: SpecRef, id: string, scenario: string | number): string {
  const ctx = open(source, spec);
  const { req, index } = findRequirement(ctx, id);
  const at =
    typeof scenario === "number"
      ? Number.isInteger(scenario) && scenario >= 0 && scenario < req.scenarios.length
        ? scenario
        : -1
      : req.scenarios.findIndex((sc) => sc.name === scenario.trim());
  const target = req.scenarios[at];
  if (!target) {
    const names = req.scenarios.map((sc) => `"${sc.name}"`).join(", ") || "none";
    const what = typeof scenario === "number" ? `number ${scenario} (0-based)` : `"${scenario}"`;
    throw new EditError(
      "scenario-not-found",
      `requirement ${req.id} has no scenario ${what} in ${ctx.file}; its scenarios are: ${names}`,
    );
  }
  const result = splice(source, target.span.start.offset, target.span.end.offset, "");
  const after = reopen(ctx, result);
  const edited = sameShape(ctx, after, index, "remove the scenario");
  expect(edited.scenarios.length === req.scenarios.length - 1, "the scenario would not be removed cleanly");
  expectSameScenarios({ scenarios: req.scenarios.filter((_, k) => k !== at) }, edited);
  return result;
}

/**
 * Adds a requirement at the end of the last `## Requirements` section. Without such a section, one is created
 * after `## Purpose` (or at the end of the file when there is no purpose either).
 */
export function addRequirement(source: string, spec: SpecRef, requirement: NewRequirement): string {
  const ctx = open(source, spec);
  const title = requirement.title.trim();
  if (title === "" || /[\r\n]/.test(title)) {
    throw new EditError("invalid-title", "a requirement title must be one non-empty line");
  }
  if (splitExplicitId(title).id !== null) {
    throw new EditError("invalid-title", `the title "${title}" ends with an ID; pass the ID separately`);
  }
  if (requirement.id !== undefined && !EXPLICIT_ID.test(requirement.id)) {
    throw new EditError(
      "invalid-id",
      `"${requirement.id}" is not a valid requirement ID: it must match [A-Za-z][A-Za-z0-9_.-]*, e.g. PAY-4, or be qualified by its scope, e.g. 001-photo-albums/FR-001 or user-auth/1.2`,
    );
  }
  const id = requirement.id ?? derivedRequirementId(ctx.capability, title);
  const clash = ctx.parsed.spec.requirements.find((r) => r.id === id);
  if (clash) {
    throw new EditError(
      "duplicate-id",
      `${ctx.file} already has a requirement with ID ${id} ("${clash.title}", line ${clash.span.start.line})`,
    );
  }
  const lines = [`### Requirement: ${title}${requirement.id !== undefined ? ` {#${requirement.id}}` : ""}`];
  const marker = newMarkerLine(requirement);
  if (marker !== null) lines.push(marker);
  const body = normaliseBlock(requirement.text);
  if (body !== "") lines.push(...body.split("\n"));
  for (const sc of requirement.scenarios ?? []) lines.push("", ...scenarioLines(sc));

  const s = ctx.parsed.scan;
  const sections = topSections(s).filter((sec) => sec.heading.text.toLowerCase() === "requirements");
  const section = sections[sections.length - 1];
  let result: string;
  if (section) {
    result = insertBlock(ctx, lineStart(s, section.endLine), lines);
  } else {
    const purpose = topSections(s).find((sec) => sec.heading.text.toLowerCase() === "purpose");
    const at = purpose ? lineStart(s, purpose.endLine) : source.length;
    result = insertBlock(ctx, at, ["## Requirements", "", ...lines]);
  }

  const after = reopen(ctx, result);
  const before = ctx.parsed.spec.requirements;
  const now = after.spec.requirements;
  const added = now.find((r) => r.id === id);
  expect(now.length === before.length + 1 && added !== undefined, "the requirement would not be read back");
  const rest = now.filter((r) => r !== added);
  expect(
    rest.every((r, k) => sameRequirement(before[k] as Requirement, r, true)),
    "the edit would change another requirement",
  );
  expect(
    added.title === title && lf(added.text) === body && added.explicitId === (requirement.id !== undefined),
    "the requirement would not be read back as written",
  );
  const scenarios = requirement.scenarios ?? [];
  expect(
    added.scenarios.length === scenarios.length &&
      added.scenarios.every((sc, k) => matchesScenario(sc, scenarios[k] as NewScenario)),
    "the requirement's scenarios would not be read back as written",
  );
  expect((added.markers === null) === (marker === null), "the marker line would not be read back");
  return result;
}

/** Removes a requirement's whole block: its heading up to the next heading of level 3 or less. */
export function removeRequirement(source: string, spec: SpecRef, id: string): string {
  const ctx = open(source, spec);
  const { req, index } = findRequirement(ctx, id);
  const result = splice(source, req.span.start.offset, req.span.end.offset, "");
  const after = reopen(ctx, result);
  const before = ctx.parsed.spec.requirements.filter((_, k) => k !== index);
  expect(
    after.spec.requirements.length === before.length &&
      after.spec.requirements.every((r, k) => sameRequirement(before[k] as Requirement, r, true)),
    "the edit would change another requirement",
  );
  return result;
}

/** Sets the status field of the marker line (`null` removes it), creating the line if needed. */
export function setStatus(
  source: string,
  spec: SpecRef,
  id: string,
  status: RequirementStatus | null,
): string {
  if (status !== null && !(REQUIREMENT_STATUSES as readonly string[]).includes(status)) {
    throw new EditError(
      "invalid-value",
      `unknown status "${status}": use one of ${REQUIREMENT_STATUSES.join(", ")}`,
    );
  }
  return editMarkers(source, spec, id, { status });
}

/** Sets provenance fields of the marker line; unknown fields and fields not in the patch are kept as written. */
export function setProvenance(source: string, spec: SpecRef, id: string, patch: ProvenancePatch): string {
  const fields: FieldPatch = {};
  for (const key of PROVENANCE_KEYS) {
    const value = patch[key];
    if (value === undefined) continue;
    if (value === null) {
      fields[key] = null;
      continue;
    }
    if (key === "origin" && !(ORIGINS as readonly string[]).includes(value)) {
      throw new EditError("invalid-value", `unknown origin "${value}": use one of ${ORIGINS.join(", ")}`);
    }
    if (key === "basis" && value !== "explicit" && value !== "inferred") {
      throw new EditError("invalid-value", `unknown basis "${value}": use explicit or inferred`);
    }
    fields[key] = checkValue(key, value);
  }
  return editMarkers(source, spec, id, fields);
}

// ---------------------------------------------------------------------------------------------------------
// Marker lines

const PROVENANCE_KEYS = ["origin", "basis", "actor", "tool", "model", "change", "at"] as const;
type FieldKey = "status" | (typeof PROVENANCE_KEYS)[number];
type FieldPatch = { [K in FieldKey]?: string | null };
const KNOWN_FIELD_KEYS = new Set<string>(["status", ...PROVENANCE_KEYS]);
const MARKER_PREFIX = /^ {0,3}>\s?/;

function checkValue(key: string, value: string): string {
  const v = String(value).trim();
  if (v === "" || /[\r\n·;|]/.test(v)) {
    throw new EditError(
      "invalid-value",
      `invalid ${key} "${value}": a marker value is one non-empty line without "·", ";" or "|"`,
    );
  }
  return v;
}

/** The canonical key a marker field sets, or null for an unknown field. */
function fieldKey(field: string): FieldKey | null {
  const f = field.trim();
  if (f === "explicit" || f === "inferred") return "basis";
  const colon = f.indexOf(":");
  if (colon <= 0) return null;
  const key = f.slice(0, colon).trim().toLowerCase();
  if (key === "by") return "actor";
  return KNOWN_FIELD_KEYS.has(key) ? (key as FieldKey) : null;
}

function fieldValue(field: string): string {
  const f = field.trim();
  if (f === "explicit" || f === "inferred") return f;
  return f.slice(f.indexOf(":") + 1).trim();
}

function renderField(key: FieldKey, value: string, previous: string | null): string {
  if (key === "basis" && (previous === null || fieldValue(previous) === previous.trim())) return value;
  if (previous !== null) {
    const colon = previous.indexOf(":");
    return `${previous.slice(0, colon).trim()}: ${value}`;
  }
  return `${key}: ${value}`;
}

function editMarkers(source: string, spec: SpecRef, id: string, patch: FieldPatch): string {
  const ctx = open(source, spec);
  const { req, index } = findRequirement(ctx, id);
  const s = ctx.parsed.scan;
  let result: string;
  if (req.markers) {
    const lineIndex = req.markers.span.start.line - 1;
    const line = req.markers.raw;
    const next = rewriteMarkerLine(line, patch, req.id);
    if (next === line) return source;
    result =
      next === null
        ? splice(source, lineStart(s, lineIndex), lineNext(s, lineIndex), "")
        : splice(source, req.markers.span.start.offset, req.markers.span.end.offset, next);
  } else {
    const fields: string[] = [];
    if (patch.status) fields.push(`status: ${patch.status}`);
    for (const key of PROVENANCE_KEYS) {
      const v = patch[key];
      if (v) fields.push(renderField(key, v, null));
    }
    if (fields.length === 0) return source;
    const headLine = req.headingSpan.start.line - 1;
    result = splice(source, lineEnd(s, headLine), lineEnd(s, headLine), `${ctx.eol}> ${fields.join(" · ")}`);
  }
  const after = reopen(ctx, result);
  const edited = sameShape(ctx, after, index, "change the marker line");
  expect(lf(edited.text) === lf(req.text), "the marker line change would alter the normative text");
  expectSameScenarios(req, edited);
  const m = edited.markers;
  const value = (key: FieldKey): string | undefined => (key === "status" ? m?.status : m?.provenance[key]);
  for (const key of Object.keys(patch) as FieldKey[]) {
    const want = patch[key];
    expect(value(key) === (want ?? undefined), `the marker line would not read back ${key} as set`);
  }
  expect(
    JSON.stringify(m?.extra ?? {}) === JSON.stringify(req.markers?.extra ?? {}),
    "the marker line would lose unknown fields",
  );
  return result;
}

/** Applies a patch to a marker line, keeping every untouched field as written. Null: the line goes away. */
function rewriteMarkerLine(line: string, patch: FieldPatch, id: string): string | null {
  const prefix = (MARKER_PREFIX.exec(line) as RegExpExecArray)[0];
  const body = line.slice(prefix.length);
  const lead = (/^\s*/.exec(body) as RegExpExecArray)[0];
  const trail = (/\s*$/.exec(body.slice(lead.length)) as RegExpExecArray)[0];
  const core = body.slice(lead.length, body.length - trail.length);
  const fields: string[] = [];
  const seps: string[] = [];
  let at = 0;
  for (const m of core.matchAll(new RegExp(MARKER_SEPARATOR.source, "g"))) {
    fields.push(core.slice(at, m.index));
    seps.push(m[0]);
    at = m.index + m[0].length;
  }
  fields.push(core.slice(at));
  const sep = seps[0] ?? " · ";
  const remove = (k: number) => {
    fields.splice(k, 1);
    if (k < seps.length) seps.splice(k, 1);
    else if (k > 0) seps.splice(k - 1, 1);
  };

  for (const key of ["status", ...PROVENANCE_KEYS] as FieldKey[]) {
    const want = patch[key];
    if (want === undefined) continue;
    const positions = fields.flatMap((f, k) => (fieldKey(f) === key ? [k] : []));
    if (want === null) {
      for (const k of positions.reverse()) remove(k);
      continue;
    }
    const last = positions[positions.length - 1];
    if (last !== undefined) {
      const field = fields[last] as string;
      if (fieldValue(field) !== want) fields[last] = renderField(key, want, field.trim());
    } else if (key === "status") {
      fields.unshift(renderField(key, want, null));
      if (fields.length > 1) seps.unshift(sep);
    } else {
      if (fields.length === 1 && (fields[0] as string).trim() === "")
        fields[0] = renderField(key, want, null);
      else {
        fields.push(renderField(key, want, null));
        seps.push(sep);
      }
    }
  }
  // Empty fields (`a ·· b`) carry nothing: they stay where they are unless they would lead the line.
  if (fields.every((f) => f.trim() === "")) return null;
  const firstKnown = fields.findIndex((f) => fieldKey(f) !== null);
  if (firstKnown === -1) {
    throw new EditError(
      "invalid-value",
      `the marker line of ${id} would keep only unknown fields (${fields.join(", ")}), which no longer reads as a marker line; keep a known field or edit the line by hand`,
    );
  }
  if (firstKnown > 0) {
    const moved = fields[firstKnown] as string;
    remove(firstKnown);
    fields.unshift(moved);
    seps.unshift(sep);
  }
  let out = fields[0] as string;
  for (let k = 1; k < fields.length; k++) out += (seps[k - 1] ?? sep) + (fields[k] as string);
  return `${prefix}${lead}${out}${trail}`;
}

function newMarkerLine(r: NewRequirement): string | null {
  if (r.status !== undefined && !(REQUIREMENT_STATUSES as readonly string[]).includes(r.status)) {
    throw new EditError(
      "invalid-value",
      `unknown status "${r.status}": use one of ${REQUIREMENT_STATUSES.join(", ")}`,
    );
  }
  const p: Provenance = {};
  for (const key of PROVENANCE_KEYS) {
    const v = r.provenance?.[key];
    if (v === undefined) continue;
    if (key === "origin" && !(ORIGINS as readonly string[]).includes(v)) {
      throw new EditError("invalid-value", `unknown origin "${v}": use one of ${ORIGINS.join(", ")}`);
    }
    if (key === "basis" && v !== "explicit" && v !== "inferred") {
      throw new EditError("invalid-value", `unknown basis "${v}": use explicit or inferred`);
    }
    (p as Record<string, string>)[key] = checkValue(key, v);
  }
  const extra: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.extra ?? {})) {
    if (
      !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(k) ||
      KNOWN_FIELD_KEYS.has(k.toLowerCase()) ||
      k.toLowerCase() === "by"
    ) {
      throw new EditError(
        "invalid-value",
        `"${k}" cannot be an extra marker key: use a new word such as ticket`,
      );
    }
    extra[k] = v === "" ? "" : checkValue(k, v);
  }
  const line = renderMarkers(r.status, p, extra);
  if (line === "> ") return null;
  if (!isMarkerLine(line)) {
    throw new EditError(
      "invalid-value",
      "a marker line needs a status or a provenance field before unknown fields",
    );
  }
  return line;
}

// ---------------------------------------------------------------------------------------------------------
// Shared machinery

interface Ctx {
  source: string;
  capability: string;
  file: string;
  eol: "\n" | "\r\n";
  parsed: SpecParse;
}

function open(source: string, spec: SpecRef): Ctx {
  const file = spec.file ?? "spec.md";
  return {
    source,
    capability: spec.capability,
    file,
    eol: lineEnding(source),
    parsed: parseSpec(source, file, spec.capability),
  };
}

function reopen(ctx: Ctx, text: string): SpecParse {
  return parseSpec(text, ctx.file, ctx.capability);
}

function findRequirement(ctx: Ctx, id: string): { req: Requirement; index: number } {
  const all = ctx.parsed.spec.requirements;
  const matches = all.flatMap((r, index) => (r.id === id ? [{ req: r, index }] : []));
  const first = matches[0];
  if (!first) {
    const known = all.map((r) => r.id);
    const list =
      known.length === 0 ? "it has no requirements" : `its requirements are: ${known.slice(0, 8).join(", ")}`;
    throw new EditError(
      "requirement-not-found",
      `no requirement with ID ${id} in ${ctx.file}; ${list}${known.length > 8 ? ", …" : ""}`,
    );
  }
  if (matches.length > 1) {
    const lines = matches.map((m) => m.req.span.start.line).join(", ");
    throw new EditError(
      "ambiguous-requirement",
      `${ctx.file} has ${matches.length} requirements with ID ${id} (lines ${lines}); give each an explicit {#ID} first`,
    );
  }
  return first;
}

function expect(ok: boolean, what: string): asserts ok {
  if (!ok) {
    throw new EditError(
      "invalid-content",
      `edit refused: ${what}. Check the new content for headings, code fences, HTML comments or a leading "> key:" line, and the requirement for an unclosed code fence or comment`,
    );
  }
}

/** After an edit of requirement `index`: same requirements in the same order, all others untouched. */
function sameShape(ctx: Ctx, after: SpecParse, index: number, what: string): Requirement {
  const before = ctx.parsed.spec.requirements;
  const now = after.spec.requirements;
  expect(
    now.length === before.length,
    `the edit would change the number of requirements (trying to ${what})`,
  );
  for (let k = 0; k < now.length; k++) {
    const a = before[k] as Requirement;
    const b = now[k] as Requirement;
    if (k === index) {
      expect(
        a.id === b.id && a.title === b.title,
        `the edit would change the requirement's heading (${what})`,
      );
      continue;
    }
    expect(sameRequirement(a, b, false), `the edit would change ${a.id}`);
  }
  return now[index] as Requirement;
}

/** Same block; with `mayGainBlankLines`, a block directly before an insertion may end with extra line breaks. */
function sameRequirement(a: Requirement, b: Requirement, mayGainBlankLines: boolean): boolean {
  if (a.id !== b.id || a.fingerprint !== b.fingerprint) return false;
  if (a.raw === b.raw) return true;
  return mayGainBlankLines && b.raw.startsWith(a.raw) && b.raw.slice(a.raw.length).trim() === "";
}

function expectSameScenarios(
  before: Pick<Requirement, "scenarios">,
  after: Pick<Requirement, "scenarios">,
): void {
  expect(
    before.scenarios.length === after.scenarios.length &&
      before.scenarios.every((sc, k) => {
        const other = after.scenarios[k];
        return (
          other !== undefined &&
          other.name === sc.name &&
          other.steps.length === sc.steps.length &&
          other.steps.every((st, j) => st.keyword === sc.steps[j]?.keyword && st.text === sc.steps[j]?.text)
        );
      }),
    "the edit would change the requirement's scenarios",
  );
}

function sameMarkers(a: Requirement, b: Requirement): boolean {
  if (a.markers === null || b.markers === null) return a.markers === b.markers;
  return a.markers.raw === b.markers.raw;
}

function matchesScenario(parsed: Requirement["scenarios"][number], want: NewScenario): boolean {
  return (
    parsed.name === want.name.trim() &&
    parsed.steps.length === want.steps.length &&
    parsed.steps.every(
      (st, k) => st.keyword === want.steps[k]?.keyword && st.text === want.steps[k]?.text.trim(),
    )
  );
}

function scenarioLines(sc: NewScenario): string[] {
  const name = sc.name.trim();
  if (name === "" || /[\r\n]/.test(name)) {
    throw new EditError("invalid-value", "a scenario name must be one non-empty line");
  }
  const lines = [`#### Scenario: ${name}`];
  for (const step of sc.steps) {
    const text = step.text.trim();
    if (/[\r\n]/.test(text)) throw new EditError("invalid-value", `a step must be one line: "${step.text}"`);
    if (!["GIVEN", "WHEN", "THEN", "AND", "BUT"].includes(step.keyword)) {
      throw new EditError(
        "invalid-value",
        `unknown step keyword "${step.keyword}": use GIVEN, WHEN, THEN, AND or BUT`,
      );
    }
    lines.push(`- **${step.keyword}** ${text}`.trimEnd());
  }
  return lines;
}

/**
 * Inserts whole lines at `at`, which is the start of a line or the end of the text, separated from the text
 * before by a blank line and, when a heading follows, from it by a blank line too.
 */
function insertBlock(ctx: Ctx, at: number, lines: string[]): string {
  const { source, eol } = ctx;
  const s = ctx.parsed.scan;
  const body = lines.join(eol);
  const atEnd = at >= source.length;
  const endsWithNewline = source.endsWith("\n");
  let prefix = "";
  if (atEnd && !endsWithNewline && s.lines.length > 0) {
    const last = s.lines[s.lines.length - 1] as Scan["lines"][number];
    prefix = source.slice(last.start, last.end).trim() === "" ? eol : eol + eol;
  } else {
    const before = previousLine(s, at);
    if (before !== null && source.slice(before.start, before.end).trim() !== "") prefix = eol;
  }
  let suffix: string;
  if (!atEnd) suffix = eol + eol;
  else suffix = endsWithNewline || source.length === s.contentStart ? eol : "";
  return splice(source, at, at, prefix + body + suffix);
}

/** The line that ends right before `at` (a line start), or null when `at` is the first line. */
function previousLine(s: Scan, at: number): Scan["lines"][number] | null {
  for (const line of s.lines) if (line.next === at && line.end < at) return line;
  return null;
}

function splice(text: string, start: number, end: number, insert: string): string {
  return text.slice(0, start) + insert + text.slice(end);
}

function lineStart(s: Scan, index: number): number {
  return s.lines[index]?.start ?? s.text.length;
}

function lineEnd(s: Scan, index: number): number {
  return s.lines[index]?.end ?? s.text.length;
}

function lineNext(s: Scan, index: number): number {
  return s.lines[index]?.next ?? s.text.length;
}

function lf(text: string): string {
  return text.replace(/\r\n?/g, "\n");
}

function eolize(text: string, eol: string): string {
  return eol === "\n" ? text : text.split("\n").join(eol);
}

/** LF line ends, no leading or trailing blank lines. */
function normaliseBlock(text: string): string {
  const lines = lf(text).split("\n");
  while (lines.length > 0 && (lines[0] as string).trim() === "") lines.shift();
  while (lines.length > 0 && (lines[lines.length - 1] as string).trim() === "") lines.pop();
  return lines.join("\n");
}
