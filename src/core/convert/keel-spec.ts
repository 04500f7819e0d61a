// A spec of any layout, written as a Keel spec: every requirement through the edit API (which reads its own
// result back), its ID exactly as the source reads it, and every part of the source that is not a requirement
// kept as a section, so nothing written in the source is lost.
// @req LAY-12
import { addRequirement, EditError, type NewRequirement, type NewScenario } from "../../format/edit.js";
import { LAYOUT_INFO } from "../../format/layouts/info.js";
import { parseSpec, type SpecParse } from "../../format/spec.js";
import type { Requirement, Section, Spec, SpecNote } from "../../model/types.js";
import { projectError } from "../../workspace/errors.js";
import { lf, preambleText } from "./text.js";

/** The marker key that records where an imported requirement was read from: `<layout>:<file>`. */
export const IMPORTED_FROM = "imported-from";
/** The marker key that keeps a Spec Kit story's priority (`P1`), which Keel has no field for. */
export const PRIORITY_KEY = "priority";

/** Section names Keel's parser reads; a source section of that name holding no requirement is renamed. */
const READ_SECTIONS = new Set(["purpose", "requirements", "open questions"]);

const NOTE_SECTIONS: Array<{ kind: SpecNote["kind"]; title: string }> = [
  { kind: "edge-case", title: "Edge Cases" },
  { kind: "entity", title: "Key Entities" },
  { kind: "user-story", title: "User Stories" },
];

/**
 * The Keel text of `parsed` (a spec read by its layout's reader). Throws a KeelError (exit 3) naming the source
 * position when a requirement cannot be written in Keel's format without changing it.
 */
export function keelSpecText(parsed: SpecParse): string {
  const { spec } = parsed;
  refuseDuplicates(spec);
  let text = skeleton(parsed);
  for (const r of spec.requirements) {
    try {
      text = addRequirement(text, { capability: spec.capability, file: spec.file }, newRequirement(spec, r));
    } catch (e) {
      if (!(e instanceof EditError)) throw e;
      throw projectError(
        `cannot import ${r.id} from ${spec.file}:${r.span.start.line}: ${e.message}`,
        "fix the requirement in the source (or leave it out), then import again",
        { file: spec.file, line: r.span.start.line, col: r.span.start.col },
      );
    }
  }
  expectSameRequirements(spec, parseSpec(text, spec.file, spec.capability));
  return text;
}

/**
 * A toolkit's reader keeps both requirements of an ID written twice; a Keel spec cannot hold two, and renumbering
 * one would change an ID as written, so the author chooses.
 */
function refuseDuplicates(spec: Spec): void {
  const lines = new Map<string, number[]>();
  for (const r of spec.requirements) lines.set(r.id, [...(lines.get(r.id) ?? []), r.span.start.line]);
  const twice = [...lines].find(([, at]) => at.length > 1);
  if (!twice) return;
  const [id, at] = twice;
  throw projectError(
    `cannot import ${spec.file}: ${id} is written ${at.length} times (lines ${at.join(", ")}); nothing was written`,
    "renumber all but one in the source, so that each ID names one requirement, then import again",
    { file: spec.file, line: at[1] as number, col: 1 },
  );
}

/** Title, purpose, an empty `## Requirements` and every other part of the source, in that order. */
function skeleton(parsed: SpecParse): string {
  const { spec } = parsed;
  const parts: string[] = [];
  if (spec.frontMatter) parts.push(lf(spec.frontMatter.raw).trimEnd());
  parts.push(`# ${oneLine(spec.title ?? spec.capability)}`);
  const purpose = [preamble(parsed), spec.purpose ?? ""].filter((p) => p.trim() !== "").join("\n\n");
  if (purpose !== "") parts.push("## Purpose", lf(purpose));
  parts.push("## Requirements");
  for (const { kind, title } of NOTE_SECTIONS) {
    const notes = (spec.notes ?? []).filter((n) => n.kind === kind);
    if (notes.length > 0) parts.push(`## ${title}`, notes.map((n) => noteItem(n, spec)).join("\n"));
  }
  for (const section of keptSections(spec)) parts.push(renamedSection(section, spec));
  return `${parts.join("\n\n")}\n`;
}

/**
 * The lines between the title and the first section: Spec Kit's `**Feature Branch**`, `**Created**`,
 * `**Status**` and `**Input**` lines. Keel's own specs keep nothing there, so it becomes part of the purpose.
 */
function preamble(parsed: SpecParse): string {
  return parsed.spec.layout === "keel" || parsed.spec.layout === "openspec" ? "" : preambleText(parsed.scan);
}

/** A Kiro user story names its group; the other notes are list items as written. */
function noteItem(note: SpecNote, spec: Spec): string {
  if (note.kind !== "user-story" || !note.requirement) return `- ${lf(note.text)}`;
  const group = note.requirement.slice(spec.capability.length + 1);
  return `- **Requirement ${group}**: ${lf(note.text)}`;
}

/**
 * Sections that hold no requirement and are not read into another place (Kiro's Introduction is the purpose),
 * copied as written: Spec Kit's Assumptions and Clarifications, Kiro's Glossary.
 */
function keptSections(spec: Spec): Section[] {
  const within = (sec: Section, offset: number) =>
    offset >= sec.span.start.offset && offset < sec.span.end.offset;
  return spec.sections.filter(
    (sec) =>
      !spec.requirements.some((r) => within(sec, r.span.start.offset)) &&
      !(spec.purposeSpan && within(sec, spec.purposeSpan.start.offset)),
  );
}

/** A kept section whose name Keel would read as its own (`## Requirements` without requirements) is renamed. */
function renamedSection(sec: Section, spec: Spec): string {
  const raw = lf(sec.raw).trimEnd();
  if (!READ_SECTIONS.has(sec.title.toLowerCase())) return raw;
  const label = LAYOUT_INFO[spec.layout].label;
  const nl = raw.indexOf("\n");
  const rest = nl === -1 ? "" : raw.slice(nl);
  return `## ${sec.title} (from ${label})${rest}`;
}

function newRequirement(spec: Spec, r: Requirement): NewRequirement {
  const extra: Record<string, string> = { [IMPORTED_FROM]: `${spec.layout}:${spec.file}` };
  const priority = r.priority ?? r.markers?.extra[PRIORITY_KEY];
  if (priority) extra[PRIORITY_KEY] = priority;
  const out: NewRequirement = {
    title: requirementTitle(r),
    text: r.text,
    scenarios: r.scenarios.map((sc) => newScenario(spec, r, sc)),
    // A layout without statuses is read as draft (LAYOUT_INFO' `lacking`); the marker line says so.
    status: r.markers?.status ?? spec.status ?? "draft",
    provenance: r.markers?.provenance ?? {},
    extra: { ...(r.markers?.extra ?? {}), ...extra },
  };
  if (r.explicitId) out.id = r.id;
  return out;
}

/**
 * Spec Kit's FR and SC items have no title of their own (the reader's title is the statement): they are titled
 * by their ID as written. Other titles are kept, on one line.
 */
function requirementTitle(r: Requirement): string {
  if (r.written && r.title === r.text) return r.written;
  return oneLine(r.title) || r.written || r.id;
}

function newScenario(spec: Spec, r: Requirement, sc: Requirement["scenarios"][number]): NewScenario {
  const steps = sc.steps.map((st) => {
    if (st.keyword === null) {
      throw projectError(
        `cannot import ${r.id}: "${sc.name}" has text without a Given, When or Then keyword (${spec.file}:${st.span.start.line})`,
        "start each part of the scenario with Given, When, Then or And in the source, then import again",
        { file: spec.file, line: st.span.start.line, col: st.span.start.col },
      );
    }
    return { keyword: st.keyword, text: st.text };
  });
  return { name: oneLine(sc.name), steps };
}

/** The written spec reads back with the source's IDs, texts and fingerprints, in the same order. */
function expectSameRequirements(source: Spec, written: SpecParse): void {
  const now = written.spec.requirements;
  const same =
    now.length === source.requirements.length &&
    now.every((r, k) => {
      const was = source.requirements[k] as Requirement;
      return r.id === was.id && lf(r.text) === lf(was.text) && r.scenarios.length === was.scenarios.length;
    });
  if (!same) {
    throw projectError(
      `the Keel version of ${source.file} would not read back with the same requirements; nothing was written`,
      "report this with the source file: it is a bug in keel import",
    );
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
