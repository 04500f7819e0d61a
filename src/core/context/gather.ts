// Gathers what one task needs, as plain data: the task, the requirements it covers (with fingerprints; for a
// change's task that names none, what the change adds, modifies or renames — tasks/coverage.ts), its
// boundaries, verification and dependencies, the handoff notes left on it, the constitution, the project
// guidance that applies (Kiro's steering), related design notes, referenced files and requirements, and
// related tasks. Reads only: the state database is opened
// read-only, and not at all when it does not exist. Nothing here depends on the clock, so the same project
// gives the same data.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { posix } from "node:path/posix";
import { parseSteering, type SteeringInclusion, steeringApplies } from "../../format/layouts/kiro.js";
import { derivedRequirementId } from "../../model/ids.js";
import { effectiveStatus } from "../../model/status.js";
import type { Change, Principle, Provenance, Requirement, Spec } from "../../model/types.js";
import { STATE_DIR } from "../../store/index-db.js";
import { type ClaimNote, Claims } from "../../store/sqlite/claims.js";
import { sqliteDriver } from "../../store/sqlite.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import type { Discovery } from "../../workspace/discover.js";
import { readSource } from "../../workspace/read.js";
import { type TaskFinding, taskFindings } from "../findings.js";
import { loadProject } from "../project.js";
import { defaultCoversByTasksFile, defaultCoversOf } from "../tasks/coverage.js";
import { isDone, type TaskGraph, type TaskNode } from "../tasks/index.js";
import { pathReferences, resolveInProject, resolveReference } from "./refs.js";

/** Why something was left out of the pack. `budget` is decided by the trimmer; the rest here. */
export type OmitReason =
  | "budget"
  | "missing"
  | "outside-project"
  | "not-a-file"
  | "unreadable"
  | "too-large"
  | "unknown-requirement";

export interface Omission {
  kind: string;
  ref: string;
  reason: OmitReason;
  /** Tokens the material would have cost, when known (null for material that could not be read). */
  tokens: number | null;
  /** For `budget`: true when the item was cut short rather than left out whole. */
  truncated?: boolean;
}

export interface RequirementView {
  id: string;
  title: string;
  status: string;
  fingerprint: string;
  file: string;
  line: number;
  text: string;
  /** Each scenario's source, heading included. */
  scenarios: string[];
  /** Where the requirement is not (yet) living: `ADDED by change add-refunds`. */
  origin: string | null;
  /** Who wrote it, from its marker line: delivery decides from it how far the text is trusted. */
  provenance: Provenance;
  raw: string;
}

export interface CoveredRequirement {
  id: string;
  /** The ancestor task whose `covers` names it, when not the task itself. */
  via: string | null;
  requirement: RequirementView | null;
}

export interface TaskRef {
  key: string;
  title: string;
  status: string;
  file: string;
  line: number;
  /** False for a dependency that names no task. */
  known: boolean;
}

export interface FileContent {
  path: string;
  text: string;
  /** Who referenced it: `the task`, a requirement ID. Empty for design notes. */
  from: string[];
}

/** A steering file that applies to the task: its body (front matter left out) and why it applies. */
export interface GuidanceContent {
  path: string;
  text: string;
  inclusion: SteeringInclusion;
  /** For a fileMatch file: its patterns, one of which matched. */
  patterns: string[];
}

export interface GatherOptions {
  /** Steering files asked for by name (`api-standards` or `api-standards.md`): the manual and auto ones. */
  steering?: readonly string[];
}

export interface ContextData {
  task: {
    key: string;
    title: string;
    status: string;
    file: string;
    line: number;
    priority: number | null;
    phase: string | null;
    story: string | null;
    details: string[];
    parents: { key: string; title: string }[];
    boundaries: string[];
    verification: string[];
  };
  covered: CoveredRequirement[];
  /**
   * The change whose delta requirements the task covers by default, when neither it nor an ancestor writes
   * `covers`; null when the covered requirements are the ones written.
   */
  coveredByDefault: string | null;
  dependencies: TaskRef[];
  notes: ClaimNote[];
  /** Findings recorded on the task (severity, requirement), oldest first. */
  findings: TaskFinding[];
  constitution: { file: string; principles: Principle[] } | null;
  guidance: GuidanceContent[];
  design: FileContent[];
  files: FileContent[];
  references: RequirementView[];
  related: TaskRef[];
  omitted: Omission[];
}

/** Files in a Keel or OpenSpec task's folder read as its design notes, in this order. */
const DESIGN_FILES = ["design.md", "proposal.md", "plan.md", "data-model.md"];
/**
 * Discovery roles that are a feature folder's design notes, in the pack's order: Spec Kit's plan artifacts and
 * Kiro's design.md ("design"), then Spec Kit's contracts. Checklists are for reviewers, not the implementer.
 */
const FEATURE_DESIGN_ROLES = ["design", "contract"] as const;
/** Referenced files larger than this are named, not included: no budget would hold them. */
export const MAX_REFERENCED_BYTES = 1024 * 1024;

function statusOf(graph: TaskGraph, key: string): string {
  return isDone(graph, key) ? "done" : (graph.nodes.get(key) as TaskNode).task.status;
}

function taskRef(graph: TaskGraph, key: string): TaskRef {
  const node = graph.nodes.get(key);
  if (key.startsWith("?") || !node) {
    return { key: key.replace(/^\?/, ""), title: "", status: "unknown", file: "", line: 0, known: false };
  }
  const t = node.task;
  return { key, title: t.title, status: statusOf(graph, key), file: t.file, line: t.line, known: true };
}

function view(r: Requirement, file: string, status: string | null, origin: string | null): RequirementView {
  return {
    id: r.id,
    title: r.title,
    status: status ?? "unset",
    fingerprint: r.fingerprint,
    file,
    line: r.headingSpan.start.line,
    text: r.text,
    scenarios: r.scenarios.map((s) => s.raw.replace(/\s+$/, "")),
    origin,
    provenance: r.markers?.provenance ?? {},
    raw: r.raw,
  };
}

/**
 * Requirement lookup: the task's own change first (its version is the intent being built), then the living
 * specs, then other open changes. A change's RENAMED requirement that it does not also modify is found under
 * its new ID, with the living text (what the rename keeps).
 */
function requirementIndex(
  specs: Spec[],
  changes: Change[],
  ownChange: Change | null,
): (id: string) => RequirementView | null {
  const living = new Map<string, RequirementView>();
  for (const spec of specs)
    for (const r of spec.requirements)
      if (!living.has(r.id)) living.set(r.id, view(r, spec.file, effectiveStatus(r, spec), null));
  const proposed = (change: Change) => {
    const out = new Map<string, RequirementView>();
    for (const delta of change.deltas)
      for (const section of delta.sections) {
        if (section.op !== "ADDED" && section.op !== "MODIFIED") continue;
        for (const r of section.requirements)
          if (!out.has(r.id))
            out.set(
              r.id,
              view(r, delta.file, r.markers?.status ?? null, `${section.op} by change ${change.id}`),
            );
      }
    for (const delta of change.deltas)
      for (const section of delta.sections)
        for (const rename of section.renames) {
          const to = rename.toId ?? derivedRequirementId(delta.capability, rename.to);
          const from = living.get(rename.fromId ?? derivedRequirementId(delta.capability, rename.from));
          if (from && !out.has(to))
            out.set(to, {
              ...from,
              id: to,
              title: rename.to,
              origin: `RENAMED by change ${change.id} from ${from.id}`,
            });
        }
    return out;
  };
  const own = ownChange ? proposed(ownChange) : new Map<string, RequirementView>();
  let others: Map<string, RequirementView> | null = null;
  return (id) => {
    const hit = own.get(id) ?? living.get(id);
    if (hit) return hit;
    if (others === null) {
      others = new Map();
      for (const c of changes) {
        if (c === ownChange || c.archived) continue;
        for (const [k, v] of proposed(c)) if (!others.has(k)) others.set(k, v);
      }
    }
    return others.get(id) ?? null;
  };
}

/** `[[ID]]` references in a requirement's text and scenarios, outside code. */
function referencedIds(raw: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of raw.split("\n")) {
    const f = /^ {0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      const marker = f[1] as string;
      if (fence === null) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const prose = line.replace(/`[^`]*`/g, "");
    for (const m of prose.matchAll(/\[\[([A-Za-z][A-Za-z0-9_./-]*)\]\]/g)) out.push(m[1] as string);
  }
  return out;
}

/**
 * Handoff notes and findings on a task, oldest first, read over a read-only connection; null when
 * the state database cannot be read (the pack then says so rather than failing).
 */
function handoffNotes(root: string, key: string): { notes: ClaimNote[]; findings: TaskFinding[] } | null {
  const path = join(root, STATE_DIR, STATE_FILE);
  if (!existsSync(path)) return { notes: [], findings: [] };
  let db: ReturnType<typeof openReadOnly>;
  try {
    db = openReadOnly(path);
  } catch {
    return null;
  }
  try {
    const hasNotes = db
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'claim_notes'")
      .get();
    if (!hasNotes) return { notes: [], findings: [] };
    // Claims only reads through `db` here; a read-only handle cannot take the write lock, and is never asked to.
    const readOnly = StateDb.readOnlyView(db, path);
    return { notes: new Claims(readOnly, root).notes(key), findings: taskFindings(db, key) };
  } catch {
    return null;
  } finally {
    db.close();
  }
}

function openReadOnly(path: string) {
  const Driver = sqliteDriver();
  return new Driver(path, { readonly: true, fileMustExist: true, timeout: 10_000 });
}

function readProjectFile(root: string, rel: string, kind: string, omitted: Omission[]): string | null {
  const r = resolveInProject(root, rel);
  if (!r.ok) {
    if (r.reason !== "missing") omitted.push({ kind, ref: rel, reason: r.reason, tokens: null });
    return null;
  }
  if (r.size > MAX_REFERENCED_BYTES) {
    omitted.push({ kind, ref: r.rel, reason: "too-large", tokens: null });
    return null;
  }
  const read = readSource(r.abs, r.size);
  if (!read.ok) {
    omitted.push({ kind, ref: r.rel, reason: "unreadable", tokens: null });
    return null;
  }
  return read.text;
}

/**
 * The design notes of a task: for a Spec Kit or Kiro feature's task, the feature folder's files discovery
 * gives the design roles, in role order and then by path; for Keel's and OpenSpec's, the known names in the
 * task's folder (a capability folder's notes are not discovered).
 */
function designNotes(
  root: string,
  task: TaskNode["task"],
  discovery: Discovery,
  omitted: Omission[],
): FileContent[] {
  const out: FileContent[] = [];
  const add = (rel: string) => {
    const text = readProjectFile(root, rel, "design", omitted);
    if (text !== null) out.push({ path: rel, text, from: [] });
  };
  if (task.dialect === "keel" || task.dialect === "openspec") {
    const taskDir = posix.dirname(task.file);
    for (const name of DESIGN_FILES) add(posix.join(taskDir, name));
    return out;
  }
  for (const role of FEATURE_DESIGN_ROLES)
    for (const entry of discovery.files)
      if (entry.role === role && entry.layout === task.dialect && entry.capability === task.scope)
        add(entry.rel);
  return out;
}

/**
 * The steering files that apply to the task, as Kiro would include them: `always` ones, `fileMatch` ones whose
 * pattern matches a boundary or a path the task mentions, and `manual` or `auto` ones only when asked for by
 * name. For a task of any layout: steering is the project's guidance, not a Kiro feature's.
 */
function applicableGuidance(
  root: string,
  task: TaskNode["task"],
  discovery: Discovery,
  askedFor: readonly string[],
  omitted: Omission[],
): GuidanceContent[] {
  const files = [
    ...task.boundaries,
    ...pathReferences([task.title, ...task.details].join("\n"), task.file).flatMap((r) => r.candidates),
  ];
  const out: GuidanceContent[] = [];
  for (const entry of discovery.files) {
    if (entry.role !== "steering") continue;
    const text = readProjectFile(root, entry.rel, "guidance", omitted);
    if (text === null) continue;
    const { steering } = parseSteering(text, entry.rel);
    if (!steeringApplies(steering, files, askedFor)) continue;
    const patterns = steering.inclusion === "fileMatch" ? steering.fileMatchPatterns : [];
    out.push({ path: entry.rel, text: steering.body, inclusion: steering.inclusion, patterns });
  }
  return out;
}

export function gatherContext(
  root: string,
  graph: TaskGraph,
  key: string,
  options: GatherOptions = {},
): ContextData {
  const node = graph.nodes.get(key) as TaskNode;
  const t = node.task;
  const project = loadProject(root, { explicitRoot: true });
  const omitted: Omission[] = [];

  const parents: { key: string; title: string }[] = [];
  const seenParents = new Set<string>([key]);
  for (let p = node.parent; p !== null && !seenParents.has(p); p = graph.nodes.get(p)?.parent ?? null) {
    seenParents.add(p);
    parents.unshift({ key: p, title: (graph.nodes.get(p) as TaskNode).task.title });
  }

  const taskDir = posix.dirname(t.file);
  const ownChange = project.changes.find((c) => c.dir === taskDir) ?? null;
  const lookup = requirementIndex(project.specs, project.changes, ownChange);

  // Covered: the task's own, then each ancestor's, nearest first.
  const covered: CoveredRequirement[] = [];
  const coveredIds = new Set<string>();
  const cover = (ids: string[], via: string | null) => {
    for (const id of ids) {
      if (coveredIds.has(id)) continue;
      coveredIds.add(id);
      covered.push({ id, via, requirement: lookup(id) });
    }
  };
  cover(t.covers, null);
  for (const p of [...parents].reverse()) cover((graph.nodes.get(p.key) as TaskNode).task.covers, p.key);
  const byDefault = defaultCoversOf(graph, key, defaultCoversByTasksFile(project.changes));
  if (byDefault) cover(byDefault.ids, null);

  const dependencies = node.deps.filter((d) => d.kind === "blocks").map((d) => taskRef(graph, d.key));
  const related = node.deps.filter((d) => d.kind === "related").map((d) => taskRef(graph, d.key));

  const constitution = project.constitution
    ? { file: project.constitution.file, principles: project.constitution.principles }
    : null;

  // Files already in the pack one way or another are not repeated as references.
  const included = new Set<string>([t.file]);
  if (constitution) included.add(constitution.file);
  for (const c of covered) if (c.requirement) included.add(c.requirement.file);

  const guidance = applicableGuidance(root, t, project.discovery, options.steering ?? [], omitted);
  for (const g of guidance) included.add(g.path);
  const design = designNotes(root, t, project.discovery, omitted);
  for (const d of design) included.add(d.path);

  const files: FileContent[] = [];
  const byPath = new Map<string, FileContent>();
  const reported = new Set<string>();
  const scanRefs = (text: string, fromFile: string, from: string) => {
    for (const ref of pathReferences(text, fromFile)) {
      const r = resolveReference(root, ref);
      if (r === null) continue;
      if (!r.ok) {
        if (!reported.has(r.rel)) {
          reported.add(r.rel);
          omitted.push({ kind: "file", ref: r.rel, reason: r.reason, tokens: null });
        }
        continue;
      }
      if (included.has(r.rel)) continue;
      const known = byPath.get(r.rel);
      if (known) {
        if (!known.from.includes(from)) known.from.push(from);
        continue;
      }
      if (reported.has(r.rel)) continue;
      const text = readProjectFile(root, r.rel, "file", omitted);
      if (text === null) {
        reported.add(r.rel);
        continue;
      }
      const file = { path: r.rel, text, from: [from] };
      byPath.set(r.rel, file);
      files.push(file);
    }
  };
  scanRefs([t.title, ...t.details].join("\n"), t.file, "the task");
  // The normative text only: a scenario step describes the system's world, not the repository.
  for (const c of covered) if (c.requirement) scanRefs(c.requirement.text, c.requirement.file, c.id);

  const references: RequirementView[] = [];
  const referenced = new Set<string>(coveredIds);
  for (const c of covered) {
    if (!c.requirement) continue;
    for (const id of referencedIds(c.requirement.raw)) {
      if (referenced.has(id)) continue;
      referenced.add(id);
      const r = lookup(id);
      if (r) references.push(r);
      else omitted.push({ kind: "reference", ref: id, reason: "unknown-requirement", tokens: null });
    }
  }

  const notes = handoffNotes(root, key);
  if (notes === null) omitted.push({ kind: "notes", ref: key, reason: "unreadable", tokens: null });

  return {
    task: {
      key,
      title: t.title,
      status: statusOf(graph, key),
      file: t.file,
      line: t.line,
      priority: t.priority,
      phase: t.phase,
      story: t.story,
      details: t.details,
      parents,
      boundaries: t.boundaries,
      verification: t.verification,
    },
    covered,
    coveredByDefault: byDefault?.change ?? null,
    dependencies,
    notes: notes?.notes ?? [],
    findings: notes?.findings ?? [],
    constitution,
    guidance,
    design,
    files,
    references,
    related,
    omitted,
  };
}
