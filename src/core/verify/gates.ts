// Which gates a verify run (or a task's backpressure) concerns, as plain data. Four kinds:
// - project gates: `gates:` of keel/keel.yaml, by name;
// - constitution gates: a principle's `Gate:` command — the named gate when it is one's name or command, else a
//   gate named after the principle's ID;
// - acceptance gates: `acceptance:` of keel/keel.yaml, by capability name or requirement ID
//   (`acceptance:PAY-4`, `acceptance:payments#2` when there are several);
// - task gates: a task's `verify:` commands (`task:<key>`, `task:<key>#2`).
// Two gates with the same command in the same folder are one gate (the first named keeps its name), so a
// command is never run twice in one run. Each gate carries the requirements it vouches for in this run, with
// their fingerprints now.

import { join } from "node:path";
import { effectiveStatus } from "../../model/status.js";
import type { Constitution, Requirement } from "../../model/types.js";
import {
  DEFAULT_GATE_TIMEOUT_MS,
  type GateSpec,
  type KeelConfig,
  loadConfig,
} from "../../workspace/config.js";
import { changedFiles, resolveCommit } from "../../workspace/git-tree.js";
import { readSource } from "../../workspace/read.js";
import { findProjectRoot } from "../../workspace/root.js";
import { normaliseCommand } from "../analyze/gates.js";
import { type LoadedProject, loadProject } from "../project.js";
import type { TaskGraph, TaskNode } from "../tasks/index.js";
import { loadTaskGraph } from "../tasks/load.js";
import { lastVerifiedFingerprints, newestCommittedEvidence } from "./evidence.js";

export type GateKind = "project" | "constitution" | "acceptance" | "task";

export interface Gate {
  name: string;
  kind: GateKind;
  command: string;
  /** Project-relative folder it runs in; "." is the root. */
  cwd: string;
  timeoutMs: number;
  parallel: boolean;
  /** Where it is declared: `keel/keel.yaml:12`, `keel/constitution.md:20 (P-2)`, `keel/specs/pay/tasks.md:5`. */
  source: string;
  /** Requirement ID → fingerprint now (null for an ID that names no requirement), vouched for in this run. */
  requirements: Record<string, string | null>;
}

export interface RequirementInfo {
  id: string;
  capability: string;
  fingerprint: string;
  deprecated: boolean;
}

/** What selection reads: the config, the constitution, every requirement, the task graph (on demand). */
export interface GateContext {
  root: string;
  config: KeelConfig;
  constitution: Constitution | null;
  /** Living requirements first, then those only an open change adds, by ID. */
  requirements: Map<string, RequirementInfo>;
  /** An open change's own ADDED/MODIFIED versions, by change folder: a task of that change sees them. */
  changeRequirements: Map<string, Map<string, RequirementInfo>>;
  capabilities: Set<string>;
  graph: () => TaskGraph;
}

export interface Selection {
  gates: Gate[];
  /** Requirement IDs the run is about (empty for a whole-project run with no requirements). */
  scope: { kind: "all" | "task" | "requirement" | "changed"; target: string | null };
  /** Things worth saying: acceptance keys that name nothing, what `--changed` compared against… */
  notes: string[];
}

const CONFIG_FILE = "keel/keel.yaml";

function info(r: Requirement, deprecated: boolean): RequirementInfo {
  return { id: r.id, capability: r.capability, fingerprint: r.fingerprint, deprecated };
}

export interface GateContextOptions {
  /** Treat `start` as the root itself instead of searching upwards. */
  explicitRoot?: boolean;
  /** A task graph already built for this project. */
  graph?: TaskGraph;
  /** The project already loaded, so it is not read and parsed again. */
  loaded?: LoadedProject;
}

export function loadGateContext(start: string, options: GateContextOptions = {}): GateContext {
  const project = findProjectRoot(start, options.explicitRoot ?? false);
  const config = loadConfig(project);
  const requirements = new Map<string, RequirementInfo>();
  const changeRequirements = new Map<string, Map<string, RequirementInfo>>();
  const capabilities = new Set<string>();
  const loaded = options.loaded ?? loadProject(project.root, { explicitRoot: true });
  const constitution = loaded.constitution;
  for (const spec of loaded.specs) {
    capabilities.add(spec.capability);
    for (const r of spec.requirements) {
      const status = effectiveStatus(r, spec);
      if (!requirements.has(r.id)) requirements.set(r.id, info(r, status === "deprecated"));
    }
  }
  for (const change of loaded.changes) {
    if (change.archived) continue;
    const own = new Map<string, RequirementInfo>();
    for (const delta of change.deltas) {
      capabilities.add(delta.capability);
      for (const section of delta.sections) {
        if (section.op !== "ADDED" && section.op !== "MODIFIED") continue;
        for (const r of section.requirements) {
          const ri = info(r, r.markers?.status === "deprecated");
          if (!own.has(r.id)) own.set(r.id, ri);
          if (!requirements.has(r.id)) requirements.set(r.id, ri);
        }
      }
    }
    changeRequirements.set(change.dir, own);
  }
  let graph: TaskGraph | null = options.graph ?? null;
  return {
    root: project.root,
    config,
    constitution,
    requirements,
    changeRequirements,
    capabilities,
    graph: () => {
      graph ??= loadTaskGraph(project.root);
      return graph;
    },
  };
}

function fromSpec(
  name: string,
  kind: GateKind,
  spec: GateSpec,
  source: string,
  requirements: Record<string, string | null>,
): Gate {
  return {
    name,
    kind,
    command: spec.run,
    cwd: spec.cwd,
    timeoutMs: spec.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS,
    parallel: spec.parallel,
    source,
    requirements: { ...requirements },
  };
}

const plain = (run: string, line = 0): GateSpec => ({ run, timeoutMs: null, parallel: true, cwd: ".", line });

/** Merges gates with the same command and folder: the first keeps its name; requirements are united. */
function dedupe(gates: Gate[]): Gate[] {
  const byKey = new Map<string, Gate>();
  for (const g of gates) {
    const key = `${g.cwd}\0${normaliseCommand(g.command)}`;
    const first = byKey.get(key);
    if (first) Object.assign(first.requirements, g.requirements);
    else byKey.set(key, g);
  }
  return [...byKey.values()];
}

/** Requirement IDs → fingerprints, looked up in `lookup` (then the living index); unknown IDs get null. */
function fingerprints(
  ctx: GateContext,
  ids: Iterable<string>,
  lookup?: Map<string, RequirementInfo>,
): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const id of ids) out[id] = (lookup?.get(id) ?? ctx.requirements.get(id))?.fingerprint ?? null;
  return out;
}

export function projectGates(ctx: GateContext, covers: Record<string, string | null>): Gate[] {
  return Object.entries(ctx.config.gateSpecs).map(([name, spec]) =>
    fromSpec(name, "project", spec, `${CONFIG_FILE}:${spec.line}`, covers),
  );
}

/** Principles' gates that are not one of the named gates. */
export function constitutionGates(ctx: GateContext, covers: Record<string, string | null>): Gate[] {
  const out: Gate[] = [];
  for (const p of ctx.constitution?.principles ?? []) {
    if (p.gate === null) continue;
    const g = normaliseCommand(p.gate);
    const named = Object.entries(ctx.config.gates).some(
      ([name, cmd]) => name === g || normaliseCommand(cmd) === g,
    );
    if (named) continue;
    out.push(
      fromSpec(
        p.id,
        "constitution",
        plain(p.gate),
        `${ctx.constitution?.file}:${p.span.start.line} (${p.id})`,
        covers,
      ),
    );
  }
  return out;
}

/** The acceptance gates of one `acceptance:` key (a capability name or a requirement ID). */
function acceptanceOf(ctx: GateContext, key: string, covers: Record<string, string | null>): Gate[] {
  const specs = ctx.config.acceptance[key] ?? [];
  return specs.map((spec, i) =>
    fromSpec(
      specs.length === 1 ? `acceptance:${key}` : `acceptance:${key}#${i + 1}`,
      "acceptance",
      spec,
      `${CONFIG_FILE}:${spec.line}`,
      covers,
    ),
  );
}

/** Requirements of a capability that are not deprecated, with fingerprints. */
function capabilityCovers(ctx: GateContext, capability: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const r of ctx.requirements.values())
    if (r.capability === capability && !r.deprecated) out[r.id] = r.fingerprint;
  return out;
}

/** A requirement's acceptance gates, then its capability's. */
function requirementAcceptance(ctx: GateContext, r: RequirementInfo | undefined, id: string): Gate[] {
  const own = acceptanceOf(ctx, id, { [id]: r?.fingerprint ?? null });
  if (!r) return own;
  return [...own, ...acceptanceOf(ctx, r.capability, capabilityCovers(ctx, r.capability))];
}

/** Every living requirement that is not deprecated: what a whole-project run vouches for. */
function allCovers(ctx: GateContext): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const r of ctx.requirements.values()) if (!r.deprecated) out[r.id] = r.fingerprint;
  return out;
}

/** `acceptance:` keys that name neither a capability nor a requirement. */
function acceptanceNotes(ctx: GateContext): string[] {
  return Object.keys(ctx.config.acceptance)
    .filter((k) => !ctx.capabilities.has(k) && !ctx.requirements.has(k))
    .map(
      (k) =>
        `${CONFIG_FILE}:${(ctx.config.acceptance[k] as GateSpec[])[0]?.line}: acceptance key "${k}" names no capability or requirement`,
    );
}

/** No option: every project gate and every constitution gate, vouching for every requirement. */
export function selectAll(ctx: GateContext): Selection {
  const covers = allCovers(ctx);
  return {
    gates: dedupe([...projectGates(ctx, covers), ...constitutionGates(ctx, covers)]),
    scope: { kind: "all", target: null },
    notes: acceptanceNotes(ctx),
  };
}

/** Every gate there is, acceptance gates included: the pool `--gate NAME` picks from without --task/--req. */
export function selectEverything(ctx: GateContext): Selection {
  const all = selectAll(ctx);
  const acceptance: Gate[] = [];
  for (const key of Object.keys(ctx.config.acceptance)) {
    const r = ctx.requirements.get(key);
    acceptance.push(
      ...acceptanceOf(
        ctx,
        key,
        r ? { [key]: r.fingerprint } : ctx.capabilities.has(key) ? capabilityCovers(ctx, key) : {},
      ),
    );
  }
  return { ...all, gates: dedupe([...all.gates, ...acceptance]) };
}

/** `--req R`: R's acceptance commands, its capability's, and the project gates, vouching for R. */
export function selectForRequirement(ctx: GateContext, id: string): Selection {
  const r = ctx.requirements.get(id);
  const covers = { [id]: r?.fingerprint ?? null };
  return {
    gates: dedupe([...projectGates(ctx, covers), ...requirementAcceptance(ctx, r, id)]),
    scope: { kind: "requirement", target: id },
    notes: acceptanceNotes(ctx),
  };
}

/**
 * `--task T` and the backpressure of `keel tasks done T`: the task's `verify:` commands, the acceptance gates of
 * the requirements it covers (and of their capabilities), and the project gates, all vouching for what it covers.
 * A task of a change sees the change's own version of a requirement.
 */
export function selectForTask(ctx: GateContext, key: string): Selection {
  const node = ctx.graph().nodes.get(key) as TaskNode;
  const t = node.task;
  const dir = t.file.slice(0, t.file.lastIndexOf("/"));
  const own = ctx.changeRequirements.get(dir);
  const covers = fingerprints(ctx, t.covers, own);
  const lookup = (id: string) => own?.get(id) ?? ctx.requirements.get(id);
  const verify = t.verification.map((cmd, i) =>
    fromSpec(
      t.verification.length === 1 ? `task:${key}` : `task:${key}#${i + 1}`,
      "task",
      plain(cmd),
      `${t.file}:${t.line}`,
      covers,
    ),
  );
  const acceptance = t.covers.flatMap((id) => requirementAcceptance(ctx, lookup(id), id));
  return {
    gates: dedupe([...projectGates(ctx, covers), ...acceptance, ...verify]),
    scope: { kind: "task", target: key },
    notes: acceptanceNotes(ctx),
  };
}

/** Bytes of a changed file read when looking for requirement IDs in it; larger files are not read. */
const MAX_SCANNED_BYTES = 4 * 1024 * 1024;

/** IDs of `known` requirements written in a file as whole tokens (`PAY-4`, `payments/refunds-are-idempotent`). */
function idsIn(abs: string, known: Map<string, RequirementInfo>): string[] {
  const read = readSource(abs);
  if (!read.ok || read.text.length > MAX_SCANNED_BYTES) return [];
  const out = new Set<string>();
  for (const m of read.text.matchAll(/[A-Za-z][A-Za-z0-9_./-]*/g)) {
    const token = m[0].replace(/[./-]+$/, "");
    if (known.has(token)) out.add(token);
  }
  return [...out];
}

/**
 * `--changed`: what changed since the newest evidence that has a commit (call it B).
 * - changed files: `git diff B` (committed since, staged, unstaged) plus untracked files;
 * - changed requirements: those whose fingerprint differs from the one the newest evidence covering them
 *   recorded (or that no evidence covers yet), and those whose ID a changed file outside keel/ and openspec/
 *   mentions as a whole word (an annotation, a test name, any mention: over-selecting is safe);
 * - nothing changed: no gate. Otherwise the project and constitution gates, plus the acceptance gates of the
 *   changed requirements and their capabilities, vouching for the changed requirements.
 * No evidence with a commit (or B is no longer a commit here, or no git): every gate, as with no option.
 */
export function selectChanged(ctx: GateContext): Selection {
  const base = newestCommittedEvidence(ctx.root);
  const baseCommit = base?.commit ? resolveCommit(ctx.root, base.commit) : null;
  if (base === null || baseCommit === null) {
    const all = selectAll(ctx);
    return {
      ...all,
      scope: { kind: "changed", target: null },
      notes: [
        ...all.notes,
        base === null
          ? "no earlier evidence on a commit to compare with: running every gate"
          : `the commit of the newest evidence (${base.commit}) is not in this repository: running every gate`,
      ],
    };
  }
  const files = changedFiles(ctx.root, baseCommit).filter((f) => !f.path.startsWith("../"));
  const verified = lastVerifiedFingerprints(ctx.root);
  const changed = new Set<string>();
  for (const r of ctx.requirements.values()) {
    if (r.deprecated) continue;
    if (!verified.has(r.id) || verified.get(r.id) !== r.fingerprint) changed.add(r.id);
  }
  // Spec and task files are judged by fingerprint above; the IDs they are full of say nothing here.
  for (const f of files)
    if (f.status !== "deleted" && !/^(keel|openspec)\//.test(f.path))
      for (const id of idsIn(join(ctx.root, f.path), ctx.requirements)) changed.add(id);
  const short = baseCommit.slice(0, 12);
  if (files.length === 0 && changed.size === 0) {
    return {
      gates: [],
      scope: { kind: "changed", target: null },
      notes: [...acceptanceNotes(ctx), `nothing changed since the evidence on ${short}: no gate to run`],
    };
  }
  const covers = fingerprints(ctx, [...changed].sort());
  const acceptance = [...changed]
    .sort()
    .flatMap((id) => requirementAcceptance(ctx, ctx.requirements.get(id), id));
  return {
    gates: dedupe([...projectGates(ctx, covers), ...constitutionGates(ctx, covers), ...acceptance]),
    scope: { kind: "changed", target: null },
    notes: [
      ...acceptanceNotes(ctx),
      `changed since the evidence on ${short}: ${files.length} file${files.length === 1 ? "" : "s"}, ${changed.size} requirement${changed.size === 1 ? "" : "s"}`,
    ],
  };
}
