// The JSON shapes of `keel show` and `keel list`: the model without raw source text and spans, but with
// file, line and column kept. These are also the payloads stored in the query index.
// @req QRY-5
import type {
  Change,
  EarsPattern,
  Layout,
  Provenance,
  Requirement,
  RequirementStatus,
  Spec,
  StepKeyword,
} from "../../model/types.js";
import type { ChangeRow, RequirementRow, SpecRow } from "../../store/query-index.js";
import type { Proposal } from "../changes/proposed.js";

export interface ScenarioRecord {
  name: string;
  line: number;
  steps: Array<{ keyword: StepKeyword | null; text: string; line: number }>;
}

export interface RequirementRecord {
  id: string;
  explicitId: boolean;
  title: string;
  capability: string;
  file: string;
  line: number;
  col: number;
  status: RequirementStatus | null;
  provenance: Provenance;
  /** Marker-line keys Keel does not know, kept as written. */
  markerExtra: Record<string, string>;
  /** Line of the marker line, or null when the requirement has none. */
  markerLine: number | null;
  ears: EarsPattern | null;
  fingerprint: string;
  text: string;
  textLine: number | null;
  scenarios: ScenarioRecord[];
  /** IDs referenced as `[[ID]]` inside the requirement block. */
  references: string[];
  /** Present when no living spec has the requirement and an open change proposes it (core/changes/proposed.ts). */
  proposed?: Proposal;
  /** Present when other open changes would change it: modify, rename or remove it, or propose it too. */
  openChanges?: Proposal[];
}

export interface SpecRecord {
  capability: string;
  file: string;
  layout: Layout;
  title: string | null;
  status: RequirementStatus | null;
  frontMatter: Record<string, unknown> | null;
  purpose: string | null;
  purposeLine: number | null;
  requirements: Array<{ id: string; title: string; status: RequirementStatus | null; line: number }>;
  sections: Array<{ title: string; line: number }>;
  openQuestions: Array<{ text: string; resolved: boolean; line: number }>;
  references: Array<{ id: string; line: number; col: number }>;
  /** Why the file could not be read, when it could not; the other fields are then empty. */
  problem: string | null;
}

export interface DeltaCounts {
  added: number;
  modified: number;
  removed: number;
  renamed: number;
}

export interface ChangeRecord {
  id: string;
  dir: string;
  archived: boolean;
  layout: Layout;
  status: Change["status"];
  proposalFile: string | null;
  why: string | null;
  whatChanges: string | null;
  tasksFile: string | null;
  tasks: { done: number; total: number };
  meta: Record<string, unknown> | null;
  deltas: Array<{
    capability: string;
    file: string;
    sections: Array<{
      op: string;
      line: number;
      requirements: Array<{ id: string; title: string; line: number }>;
      removed: Array<{ title: string; id: string | null; line: number }>;
      renames: Array<{ from: string; to: string; line: number }>;
    }>;
  }>;
  counts: DeltaCounts;
}

export interface ConstitutionRecord {
  file: string;
  principles: Array<{ id: string; title: string; gate: string | null; line: number }>;
}

/** What a spec row keeps in its JSON column; the rest is in columns or in the requirement rows. */
type SpecExtra = Pick<
  SpecRecord,
  "frontMatter" | "purposeLine" | "sections" | "openQuestions" | "references"
>;

/** `spec` is the file the block is in: a living spec, or a change's delta spec (with no references read). */
export function requirementRecord(
  spec: Pick<Spec, "file" | "references">,
  r: Requirement,
): RequirementRecord {
  const from = r.span.start.offset;
  const to = r.span.end.offset;
  const references = [
    ...new Set(
      spec.references.filter((x) => x.span.start.offset >= from && x.span.end.offset <= to).map((x) => x.id),
    ),
  ];
  return {
    id: r.id,
    explicitId: r.explicitId,
    title: r.title,
    capability: r.capability,
    file: spec.file,
    line: r.headingSpan.start.line,
    col: r.headingSpan.start.col,
    status: r.markers?.status ?? null,
    provenance: r.markers?.provenance ?? {},
    markerExtra: r.markers?.extra ?? {},
    markerLine: r.markers?.span.start.line ?? null,
    ears: r.ears,
    fingerprint: r.fingerprint,
    text: r.text,
    textLine: r.textSpan?.start.line ?? null,
    scenarios: r.scenarios.map((s) => ({
      name: s.name,
      line: s.headingSpan.start.line,
      steps: s.steps.map((st) => ({ keyword: st.keyword, text: st.text, line: st.span.start.line })),
    })),
    references,
  };
}

/** Scenarios flattened for full-text search: the name, then one `KEYWORD text` line per step. */
export function scenarioText(r: RequirementRecord): string {
  return r.scenarios
    .map((s) =>
      [s.name, ...s.steps.map((st) => (st.keyword ? `${st.keyword} ${st.text}` : st.text))].join("\n"),
    )
    .join("\n");
}

/** Columns that the row holds anyway are left out of the stored JSON and put back by `fromRequirementRow`. */
export function requirementRow(r: RequirementRecord): RequirementRow {
  const { id, capability, file, line, col, title, text, status, fingerprint, ears, ...rest } = r;
  return {
    id,
    capability,
    file,
    line,
    col,
    title,
    text,
    scenarios: scenarioText(r),
    ident: r.explicitId ? id : "",
    status,
    origin: r.provenance.origin ?? null,
    fingerprint,
    ears,
    json: JSON.stringify(rest),
  };
}

export function fromRequirementRow(row: RequirementRow): RequirementRecord {
  const rest = JSON.parse(row.json) as Omit<
    RequirementRecord,
    "id" | "capability" | "file" | "line" | "col" | "title" | "text" | "status" | "fingerprint" | "ears"
  >;
  return {
    id: row.id,
    explicitId: rest.explicitId,
    title: row.title,
    capability: row.capability,
    file: row.file,
    line: row.line,
    col: row.col,
    status: row.status as RequirementStatus | null,
    provenance: rest.provenance,
    markerExtra: rest.markerExtra,
    markerLine: rest.markerLine,
    ears: row.ears as EarsPattern | null,
    fingerprint: row.fingerprint,
    text: row.text,
    textLine: rest.textLine,
    scenarios: rest.scenarios,
    references: rest.references,
  };
}

export function specRow(spec: Spec): SpecRow {
  const extra: SpecExtra = {
    frontMatter: spec.frontMatter?.data ?? null,
    purposeLine: spec.purposeSpan?.start.line ?? null,
    sections: spec.sections.map((s) => ({ title: s.title, line: s.headingSpan.start.line })),
    openQuestions: spec.openQuestions.map((q) => ({
      text: q.text,
      resolved: q.resolved,
      line: q.span.start.line,
    })),
    references: spec.references.map((r) => ({ id: r.id, line: r.span.start.line, col: r.span.start.col })),
  };
  return {
    file: spec.file,
    capability: spec.capability,
    layout: spec.layout,
    title: spec.title,
    status: spec.status,
    purpose: spec.purpose,
    requirements: spec.requirements.length,
    problem: null,
    json: JSON.stringify(extra),
  };
}

/** The row of a spec file that could not be read: listed, with the reason, and no requirements. */
export function unreadableSpecRow(
  file: string,
  capability: string,
  layout: Layout,
  problem: string,
): SpecRow {
  const extra: SpecExtra = {
    frontMatter: null,
    purposeLine: null,
    sections: [],
    openQuestions: [],
    references: [],
  };
  return {
    file,
    capability,
    layout,
    title: null,
    status: null,
    purpose: null,
    requirements: 0,
    problem,
    json: JSON.stringify(extra),
  };
}

export function fromSpecRow(row: SpecRow, requirements: RequirementRow[]): SpecRecord {
  const extra = JSON.parse(row.json) as SpecExtra;
  return {
    capability: row.capability,
    file: row.file,
    layout: row.layout as Layout,
    title: row.title,
    status: row.status as RequirementStatus | null,
    frontMatter: extra.frontMatter,
    purpose: row.purpose,
    purposeLine: extra.purposeLine,
    requirements: requirements.map((r) => ({
      id: r.id,
      title: r.title,
      status: r.status as RequirementStatus | null,
      line: r.line,
    })),
    sections: extra.sections,
    openQuestions: extra.openQuestions,
    references: extra.references,
    problem: row.problem,
  };
}

export function changeRecord(change: Change): ChangeRecord {
  const counts: DeltaCounts = { added: 0, modified: 0, removed: 0, renamed: 0 };
  const deltas = change.deltas.map((d) => ({
    capability: d.capability,
    file: d.file,
    sections: d.sections.map((sec) => {
      if (sec.op === "ADDED") counts.added += sec.requirements.length;
      else if (sec.op === "MODIFIED") counts.modified += sec.requirements.length;
      else if (sec.op === "REMOVED") counts.removed += sec.removed.length;
      else counts.renamed += sec.renames.length;
      return {
        op: sec.op,
        line: sec.headingSpan.start.line,
        requirements:
          sec.op === "REMOVED"
            ? []
            : sec.requirements.map((r) => ({ id: r.id, title: r.title, line: r.headingSpan.start.line })),
        removed: sec.removed.map((x) => ({ title: x.title, id: x.id, line: x.span.start.line })),
        renames: sec.renames.map((x) => ({ from: x.from, to: x.to, line: x.span.start.line })),
      };
    }),
  }));
  return {
    id: change.id,
    dir: change.dir,
    archived: change.archived,
    layout: change.layout,
    status: change.status,
    proposalFile: change.proposalFile,
    why: change.why,
    whatChanges: change.whatChanges,
    tasksFile: change.tasksFile,
    tasks: { done: change.tasks.done, total: change.tasks.total },
    meta: change.meta,
    deltas,
    counts,
  };
}

export function changeRow(record: ChangeRecord, hash: string): ChangeRow {
  return {
    dir: record.dir,
    id: record.id,
    archived: record.archived ? 1 : 0,
    layout: record.layout,
    status: record.status,
    tasksDone: record.tasks.done,
    tasksTotal: record.tasks.total,
    ...record.counts,
    hash,
    json: JSON.stringify(record),
  };
}

export function fromChangeRow(row: ChangeRow): ChangeRecord {
  return JSON.parse(row.json) as ChangeRecord;
}
