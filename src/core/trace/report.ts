// The live graph requirement → tasks → code → tests → evidence, with every link judged (state.ts), and what is
// computed from it: per-requirement status, per-capability coverage. `keel trace`, `keel coverage`, `keel drift`
// and `keel check` are views of this one report.
// @req TRC-10
import { changedFiles } from "../../workspace/git-tree.js";
import {
  type Proposal,
  type ProposedBlock,
  proposalMarks,
  proposalsById,
  proposingBlock,
} from "../changes/proposed.js";
import type { LoadedProject } from "../project.js";
import { computeCoverage, defaultCoversByTasksFile } from "../tasks/coverage.js";
import { findTask, isDone, type TaskGraph, type TaskNode } from "../tasks/graph.js";
import { loadTaskGraph } from "../tasks/load.js";
import { type Evidence, listEvidence } from "../verify/evidence.js";
import { readAcks } from "./acks.js";
import { linkTargets } from "./requirements.js";
import { type JudgedLink, judgeLinks, type KnownRequirement } from "./state.js";
import type { ScanResult } from "./types.js";

/** verified: every gate that last ran for it passed, on its current text, and no linked file changed since. */
export type EvidenceStatus = "verified" | "stale" | "failing" | "none";

export interface GateRun {
  gate: string;
  command: string;
  passed: boolean;
  timedOut: boolean;
  at: string;
  commit: string | null;
  dirty: boolean;
  /** The requirement's fingerprint when the gate ran. */
  fingerprint: string | null;
}

export interface RequirementTrace {
  id: string;
  title: string;
  capability: string;
  status: string | null;
  fingerprint: string;
  file: string;
  line: number;
  tasks: Array<{ key: string; title: string; done: boolean }>;
  implementations: JudgedLink[];
  tests: JudgedLink[];
  docs: JudgedLink[];
  commits: JudgedLink[];
  /** The latest run of each gate that covered the requirement. */
  evidence: GateRun[];
  evidenceStatus: EvidenceStatus;
  /** Why the evidence status is what it is. */
  evidenceNote: string;
  /** Present when no living spec has the requirement and an open change proposes it (core/changes/proposed.ts). */
  proposed?: Proposal;
  /** Present when other open changes would change it: modify, rename or remove it, or propose it too. */
  openChanges?: Proposal[];
}

export interface CapabilityCoverage {
  capability: string;
  /** Approved requirements: the ones coverage is counted over. */
  approved: number;
  implemented: number;
  tested: number;
  verified: number;
}

export interface TraceReport {
  requirements: RequirementTrace[];
  /** The requirements open changes propose under IDs no living spec has, marked `proposed`; not in coverage. */
  proposed: RequirementTrace[];
  /** Links naming no known requirement or task, or a deprecated requirement. */
  dangling: JudgedLink[];
  coverage: CapabilityCoverage[];
  /** Commits whose `Task:` trailer names a known task, by task key. */
  taskCommits: Array<{ commit: string; task: string }>;
  scan: Pick<ScanResult, "files" | "filesWithLinks" | "problems">;
}

/** A link still vouches for its requirement when it is ok or only stale (the code is there; evidence is old). */
const SOUND = new Set(["ok", "stale"]);

export function buildTrace(
  root: string,
  project: LoadedProject,
  scan: ScanResult,
  graph: TaskGraph = loadTaskGraph(root),
): TraceReport {
  const targets = linkTargets(project);
  const taskIds = new Set<string>();
  for (const key of graph.order) {
    taskIds.add(key);
    taskIds.add((graph.nodes.get(key) as TaskNode).task.id);
  }
  const coverage = computeCoverage(
    graph,
    [...targets.requirements.values()].map((r) => ({
      id: r.id,
      title: r.title,
      capability: r.capability,
      status: r.status,
      file: r.spec.file,
      line: r.line,
      col: 1,
    })),
    targets.pending,
    defaultCoversByTasksFile(project.changes),
  );

  const runs = latestRunsByRequirement(listEvidence(root));
  const changedSince = changedSinceCache(root);
  const changedSinceEvidence = (id: string): ReadonlySet<string> | null => {
    const passing = (runs.get(id) ?? []).filter((r) => r.passed && r.commit !== null);
    if (passing.length === 0) return null;
    // The oldest of the latest passing runs: a file changed after it is newer than some of the evidence.
    const oldest = passing.reduce((a, b) => (a.startedAt <= b.startedAt ? a : b));
    return changedSince(oldest.commit as string);
  };

  const judged = judgeLinks({
    root,
    links: scan.links,
    ...targets,
    tasks: taskIds,
    acks: readAcks(root),
    changedSinceEvidence,
  });
  const byTarget = new Map<string, JudgedLink[]>();
  const dangling: JudgedLink[] = [];
  const taskCommits: TraceReport["taskCommits"] = [];
  for (const l of judged) {
    if (l.targetType === "task" && l.state === "ok" && l.file.startsWith("commit:")) {
      const found = findTask(graph, l.target);
      if (found && "key" in found)
        taskCommits.push({ commit: l.file.slice("commit:".length), task: found.key });
    }
    if (l.state === "dangling") dangling.push(l);
    else if (l.targetType === "req") byTarget.set(l.target, [...(byTarget.get(l.target) ?? []), l]);
  }

  const traceOf = (r: KnownRequirement): RequirementTrace => {
    const links = byTarget.get(r.id) ?? [];
    const of = (kind: JudgedLink["kind"]) => links.filter((l) => l.kind === kind);
    const evidence = (runs.get(r.id) ?? []).map((e) => gateRun(e, r.id));
    const tests = of("verifies");
    const implementations = of("implements");
    const { status, note } = evidenceStatus(r, evidence, [...implementations, ...tests]);
    return {
      id: r.id,
      title: r.title,
      capability: r.capability,
      status: r.status,
      fingerprint: r.fingerprint,
      file: r.spec.file,
      line: r.line,
      tasks: (coverage.coveredBy.get(r.id) ?? []).map((key) => ({
        key,
        title: (graph.nodes.get(key) as TaskNode).task.title,
        done: isDone(graph, key),
      })),
      implementations,
      tests,
      docs: of("documents"),
      commits: of("commit"),
      evidence,
      evidenceStatus: status,
      evidenceNote: note,
    };
  };

  const proposals = proposalsById(project.changes);
  const requirements: RequirementTrace[] = [];
  for (const r of targets.requirements.values())
    requirements.push({ ...traceOf(r), ...proposalMarks(proposals.get(r.id) ?? [], null) });
  const proposed: RequirementTrace[] = [];
  for (const [id, blocks] of proposals) {
    if (targets.requirements.has(id)) continue;
    const block = proposingBlock(blocks);
    const known = block && proposedRequirement(block, targets.requirements);
    if (block && known) proposed.push({ ...traceOf(known), ...proposalMarks(blocks, block) });
  }
  requirements.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    requirements,
    proposed,
    dangling,
    coverage: coverageByCapability(
      requirements,
      project.specs.map((s) => s.capability),
    ),
    taskCommits,
    scan: { files: scan.files, filesWithLinks: scan.filesWithLinks, problems: scan.problems },
  };
}

/**
 * A proposed requirement as a link target: the block the change writes, at its line in the delta file; for a
 * rename with no block under the new name, the living requirement under its new name. Null when there is none.
 */
function proposedRequirement(
  block: ProposedBlock,
  living: ReadonlyMap<string, KnownRequirement>,
): KnownRequirement | null {
  const r = block.requirement;
  if (r !== null)
    return {
      id: block.id,
      title: block.title,
      capability: block.capability,
      fingerprint: r.fingerprint,
      status: r.markers?.status ?? null,
      spec: { file: block.file, capability: block.capability, layout: block.layout },
      line: block.line,
    };
  const from = block.renamedFrom === null ? undefined : living.get(block.renamedFrom);
  return from === undefined ? null : { ...from, id: block.id, title: block.title };
}

/** For each requirement, the newest run of each gate that covered it. */
function latestRunsByRequirement(rows: Evidence[]): Map<string, Evidence[]> {
  const out = new Map<string, Evidence[]>();
  const seen = new Set<string>();
  for (const e of rows) {
    // Newest first: the first row of a (requirement, gate) pair is its latest run.
    for (const id of Object.keys(e.requirements)) {
      const key = `${id}\u0000${e.gate}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.set(id, [...(out.get(id) ?? []), e]);
    }
  }
  return out;
}

function gateRun(e: Evidence, id: string): GateRun {
  return {
    gate: e.gate,
    command: e.command,
    passed: e.passed,
    timedOut: e.timedOut,
    at: e.startedAt,
    commit: e.commit,
    dirty: e.dirty,
    fingerprint: e.requirements[id] ?? null,
  };
}

function evidenceStatus(
  r: KnownRequirement,
  runs: GateRun[],
  links: JudgedLink[],
): { status: EvidenceStatus; note: string } {
  if (runs.length === 0) return { status: "none", note: "no gate has run for it (`keel verify`)" };
  const failing = runs.filter((g) => !g.passed);
  if (failing.length > 0)
    return {
      status: "failing",
      note: `gate ${failing.map((g) => g.gate).join(", ")} ${failing.some((g) => g.timedOut) ? "timed out or failed" : "failed"} on its last run`,
    };
  const older = runs.filter((g) => g.fingerprint !== r.fingerprint);
  if (older.length > 0)
    return {
      status: "stale",
      note: `the requirement changed after gate ${older.map((g) => g.gate).join(", ")} last verified it`,
    };
  const stale = links.filter((l) => l.state === "stale");
  if (stale.length > 0)
    return {
      status: "stale",
      note: `${stale.map((l) => l.file).join(", ")} changed after the last passing run`,
    };
  return { status: "verified", note: `${runs.length} gate(s) passed on the current text` };
}

/**
 * One row per capability of the project, including those with no approved requirement (their row says so with
 * zeros rather than leaving the capability out, which on a project without statuses left only a total).
 */
function coverageByCapability(
  requirements: RequirementTrace[],
  capabilities: readonly string[],
): CapabilityCoverage[] {
  const out = new Map<string, CapabilityCoverage>();
  const row = (capability: string): CapabilityCoverage => {
    let c = out.get(capability);
    if (!c) {
      c = { capability, approved: 0, implemented: 0, tested: 0, verified: 0 };
      out.set(capability, c);
    }
    return c;
  };
  for (const capability of capabilities) row(capability);
  for (const r of requirements) {
    const c = row(r.capability);
    if (r.status !== "approved") continue;
    c.approved++;
    if (r.implementations.some((l) => SOUND.has(l.state))) c.implemented++;
    if (r.tests.some((l) => SOUND.has(l.state))) c.tested++;
    if (r.evidenceStatus === "verified") c.verified++;
  }
  return [...out.values()].sort((a, b) => (a.capability < b.capability ? -1 : 1));
}

/** Files changed since a commit (committed since, uncommitted, untracked), computed once per commit. */
function changedSinceCache(root: string): (commit: string) => ReadonlySet<string> {
  const cache = new Map<string, ReadonlySet<string>>();
  return (commit) => {
    let set = cache.get(commit);
    if (!set) {
      set = new Set(changedFiles(root, commit).map((f) => f.path));
      cache.set(commit, set);
    }
    return set;
  };
}
