// The model of intent: plain data, no behaviour. Every other room speaks these types.

/** A point in a source file. Lines and columns are 1-based; offset is a 0-based UTF-16 index into the decoded text. */
export interface Position {
  line: number;
  col: number;
  offset: number;
}

/** Where an element came from. `end` is exclusive. `file` is project-relative with forward slashes. */
export interface Span {
  file: string;
  start: Position;
  end: Position;
}

export const REQUIREMENT_STATUSES = ["draft", "proposed", "approved", "deprecated"] as const;
export type RequirementStatus = (typeof REQUIREMENT_STATUSES)[number];

export const ORIGINS = ["human", "agent", "system"] as const;
export type Origin = (typeof ORIGINS)[number];

export type Basis = "explicit" | "inferred";

/** Who wrote a requirement, as recorded in its marker line. All fields optional: absence means "not recorded". */
export interface Provenance {
  origin?: Origin;
  basis?: Basis;
  actor?: string;
  tool?: string;
  model?: string;
  change?: string;
  at?: string;
}

/** The per-requirement marker line (`> status: approved · origin: human · explicit`), parsed. */
export interface Markers {
  status?: RequirementStatus;
  provenance: Provenance;
  /** Keys the parser did not recognise, kept so that nothing a human wrote is dropped. */
  extra: Record<string, string>;
  span: Span;
  raw: string;
}

export type StepKeyword = "GIVEN" | "WHEN" | "THEN" | "AND" | "BUT";

export interface ScenarioStep {
  keyword: StepKeyword | null;
  text: string;
  span: Span;
}

export interface Scenario {
  name: string;
  steps: ScenarioStep[];
  /** Exact source text of the whole scenario block, heading included. */
  raw: string;
  span: Span;
  headingSpan: Span;
}

/** EARS pattern of a requirement's normative statement (Mavin et al.). */
export type EarsPattern = "ubiquitous" | "event" | "state" | "unwanted" | "optional" | "complex";

export interface Requirement {
  /** Stable ID: explicit (`{#AUTH-1}`) or derived (`<capability>/<title-slug>`). */
  id: string;
  explicitId: boolean;
  title: string;
  /** Normative text between the heading (and marker line) and the first scenario, trimmed of surrounding blank lines. */
  text: string;
  textSpan: Span | null;
  scenarios: Scenario[];
  markers: Markers | null;
  ears: EarsPattern | null;
  /** sha256 (hex, first 16 chars) of the normalised text and scenarios; see docs/format.md. */
  fingerprint: string;
  /** Exact source text of the whole block, heading included, up to the next heading of level <= 3. */
  raw: string;
  span: Span;
  headingSpan: Span;
  /** Capability that owns the requirement (the spec's folder name). */
  capability: string;
  /**
   * The ID exactly as its author wrote it (`FR-001`, `US1`, `1.2`), when `id` qualifies it with its feature
   * because the toolkit numbers every feature from one (Spec Kit, Kiro). Absent for Keel and OpenSpec.
   */
  written?: string;
  /** Priority as written (`P1`), where the layout holds one (Spec Kit user stories). */
  priority?: string;
}

/** Any `## ` section of a spec, kept so the renderer and validators see everything a human wrote. */
export interface Section {
  title: string;
  raw: string;
  span: Span;
  headingSpan: Span;
}

export interface OpenQuestion {
  text: string;
  resolved: boolean;
  span: Span;
}

export interface Reference {
  id: string;
  span: Span;
}

export interface FrontMatter {
  data: Record<string, unknown>;
  raw: string;
  span: Span;
}

export interface Spec {
  kind: "spec";
  /** Capability name: the folder containing spec.md (nested paths joined with "/"). */
  capability: string;
  file: string;
  title: string | null;
  frontMatter: FrontMatter | null;
  purpose: string | null;
  purposeSpan: Span | null;
  requirements: Requirement[];
  sections: Section[];
  openQuestions: OpenQuestion[];
  /** `### Requirement:` headings above the first `## ` section: no section holds them, so they are lost. */
  orphans: { title: string; span: Span }[];
  /** Level-3 headings under `## Requirements` that are not `### Requirement:` headings (likely mistakes). */
  strayHeadings: { text: string; span: Span }[];
  /** References to requirement IDs written as `[[ID]]` in prose outside code. */
  references: Reference[];
  /** The spec's own status, from front matter (`status:`), if any. */
  status: RequirementStatus | null;
  layout: Layout;
  /** Elements a foreign layout holds beside its requirements (Spec Kit's edge cases, key entities, …). */
  notes?: SpecNote[];
}

export type SpecNoteKind = "edge-case" | "clarification" | "entity" | "user-story" | "introduction";

/** A non-normative element of a spec, with its exact text and position. */
export interface SpecNote {
  kind: SpecNoteKind;
  text: string;
  span: Span;
  /** The requirement it belongs to, when it belongs to one (a Kiro user story to its criteria's group). */
  requirement?: string;
}

export interface Principle {
  id: string;
  title: string;
  text: string;
  gate: string | null;
  span: Span;
  raw: string;
}

export interface Constitution {
  kind: "constitution";
  file: string;
  principles: Principle[];
}

export type DeltaOp = "ADDED" | "MODIFIED" | "REMOVED" | "RENAMED";

export interface Rename {
  /** Titles, without a trailing `{#ID}`; the IDs, when written, are in fromId / toId. */
  from: string;
  to: string;
  fromId: string | null;
  toId: string | null;
  span: Span;
}

export interface DeltaSection {
  op: DeltaOp;
  span: Span;
  headingSpan: Span;
  /** For ADDED / MODIFIED (full blocks) and REMOVED (blocks, often heading only). */
  requirements: Requirement[];
  /** For REMOVED: every name listed, as a `### Requirement:` heading or a bullet carrying one. */
  removed: { title: string; id: string | null; span: Span }[];
  /** For RENAMED: FROM/TO pairs. */
  renames: Rename[];
}

/** A delta spec inside a change: `changes/<id>/specs/<capability>/spec.md`. */
export interface DeltaSpec {
  capability: string;
  file: string;
  sections: DeltaSection[];
  /** `### Requirement:` headings outside any delta section: silently ignored by OpenSpec, reported by Keel. */
  orphans: { title: string; span: Span }[];
  /** Level-3 headings inside a delta section that are not requirement headings. */
  strayHeadings: { text: string; span: Span }[];
}

export type ChangeStatus = "draft" | "review" | "approved" | "applied" | "rejected";

export interface Change {
  kind: "change";
  id: string;
  /** Folder, project-relative. */
  dir: string;
  archived: boolean;
  proposalFile: string | null;
  why: string | null;
  whatChanges: string | null;
  /** Sections of proposal.md by title, for validators. */
  proposalSections: Section[];
  deltas: DeltaSpec[];
  tasksFile: string | null;
  tasks: { total: number; done: number };
  /** Parsed `.openspec.yaml` / `change.yaml` metadata, if present. */
  meta: Record<string, unknown> | null;
  status: ChangeStatus;
  layout: NativeLayout;
}

/**
 * A toolkit's project layout. Keel and OpenSpec hold changes; the others are read as they are
 * (format/layouts/, one adapter each).
 */
export const LAYOUTS = ["keel", "openspec", "speckit", "kiro", "taskmaster", "beads"] as const;
export type Layout = (typeof LAYOUTS)[number];
/** Layouts with Keel's `specs/` + `changes/` structure under one folder. */
export type NativeLayout = "keel" | "openspec";

/** A problem found in the input. Parsers never throw on bad Markdown; they report these instead. */
export interface Diagnostic {
  rule: string;
  severity: Severity;
  message: string;
  hint?: string;
  span: Span;
}

export type Severity = "error" | "warning" | "info";

// @req VAL-14
/** A validation finding, the unit of `keel validate` output (stable JSON schema, see docs/cli.md). */
export interface Finding {
  rule: string;
  severity: Severity;
  file: string;
  line: number;
  col: number;
  message: string;
  hint: string;
  /** The spec, change or requirement the finding is about, when there is one. */
  target?: string;
}
