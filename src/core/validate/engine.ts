// `keel validate`: per-file analysis (cached in the index by content), change analysis, cross-file rules.
//
// Cost model: a cold run parses every file once and keeps only a compact summary of each, so memory stays
// flat as the corpus grows. A warm run with nothing changed compares one signature of (path, size, mtime)
// and replays the stored result. A warm run with some files changed re-parses only those files.
// @req IDX-2, IDX-3

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { type ChangeSources, parseChange, type SourceFile } from "../../format/change.js";
import { parseSpecOf } from "../../format/layouts/index.js";
import { derivedRequirementId } from "../../model/ids.js";
import type { Change, Finding, RequirementStatus, Spec } from "../../model/types.js";
import { IndexDb, type IndexedFile } from "../../store/index-db.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { type Discovery, discover, RACY_WINDOW_MS, type SourceEntry } from "../../workspace/discover.js";
import { projectFiles } from "../../workspace/files.js";
import { currentGeneration } from "../../workspace/freshness.js";
import { readSource } from "../../workspace/read.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { loadSidecars, type Sidecars, sidecarFile } from "../../workspace/sidecars.js";
import { unreadHeadings } from "../analyze/unread.js";
import { changeSources } from "../change-sources.js";
import { splitActorLabel } from "../changes/meta.js";
import { untrustedBecause } from "../scan/index.js";
import { type CoverableRequirement, defaultCoversByTasksFile } from "../tasks/coverage.js";
import { taskSourceOf } from "../tasks/discovered.js";
import { type LoadedTasks, tasksFromText } from "../tasks/load.js";
import { analyseEntries, type OnProgress, type Payload, type WorkItem } from "./analyse-file.js";
import { compareFindings, finding, fromDiagnostic, unreadableFinding } from "./finding.js";
import { clarificationAfterPlan } from "./layout-rules.js";
import { openspecChangeRules, openspecTaskRules } from "./openspec-rules.js";
import { ENGINE_VERSION, replayedStamp, signatureOf, type Tree } from "./replay.js";
import {
  requirementParts,
  type SecurityScanner,
  scanFileFindings,
  securityScanner,
  securitySettings,
} from "./security-rules.js";
import { type ChangePlan, taskRules } from "./task-rules.js";
import { type ChangeTouch, crossFileRules, type RequirementSummary } from "./xref.js";

export interface ItemVerdict {
  id: string;
  type: "spec" | "change";
  file: string;
  findings: Finding[];
  /** Requirements the item defines (a spec) or touches (a change's deltas). */
  requirements: number;
}

/** Everything validation computes, before profile and target filtering. Stored in the index as one value. */
export interface FullResult {
  items: ItemVerdict[];
  /**
   * `file:line` of every requirement-like heading the layout does not read, in path order: counted by `keel
   * status` from here, so that it replays with the rest (core/analyze/unread.ts says which headings).
   */
  unread: string[];
  /** Findings that belong to no spec or change (constitution, unreadable folders, config). */
  projectFindings: Finding[];
  requirements: number;
}

/** Each spec's requirement IDs, stored apart from the result: only resolving an ID target needs them. */
export type RequirementIds = Array<[capability: string, ids: string[]]>;

export interface Analysis {
  result: FullResult;
  stats: RunStats;
  /** The capability defining a requirement ID, or undefined. Loaded on first call. */
  ownerOf: (id: string) => string | undefined;
}

function ownerLookup(load: () => RequirementIds): Analysis["ownerOf"] {
  let map: Map<string, string> | null = null;
  return (id) => {
    if (!map) {
      map = new Map();
      for (const [capability, ids] of load())
        for (const rid of ids) if (!map.has(rid)) map.set(rid, capability);
    }
    return map.get(id);
  };
}

export interface RunStats {
  files: number;
  parsed: number;
  cached: "result" | "files" | "none";
  /** When the result is the one stored in the index: the stamp it was stored under (see keepAnswer). */
  writtenAt: string | null;
}

export interface AnalyseOptions {
  /** Told the files parsed so far of those to parse, as a cold or partly warm run goes (a replay tells nothing). */
  onProgress?: OnProgress;
}

export function analyseProject(
  project: ProjectRoot,
  config: KeelConfig = loadConfig(project),
  options: AnalyseOptions = {},
): Analysis {
  // Each layout's files are walked only when the layout is present, so the layouts are part of the signature; the
  // side files' statuses change findings of specs whose files did not move, so they are part of it too.
  const sidecars = loadSidecars(project);
  const configSignature = signatureOf(project, config, sidecars);
  let index: IndexDb | null = null;
  try {
    index = IndexDb.open(project.root);
  } catch {
    // No writable state folder (read-only checkout): validate without a cache.
  }
  try {
    const replayed = index ? replay(index, project, configSignature) : null;
    if (replayed) return replayed;
    return analyseAll(project, config, index, configSignature, sidecars, options.onProgress);
  } finally {
    index?.close();
  }
}

// @req IDX-6
/**
 * The warm path: if no folder or file the last run saw has changed (by mtime and size, and none is
 * recent enough to have changed within the file system's timestamp granularity), replay its result.
 * This costs one stat per folder and per file, and no walk; in a process with a watcher, nothing at all while
 * the watcher has seen no change (the parsed result is then kept in memory as well).
 */
function replay(index: IndexDb, project: ProjectRoot, configSignature: string): Analysis | null {
  const replayable = replayedStamp(index, project, configSignature);
  if (replayable === null) return null;
  const { writtenAt, files } = replayable;
  const generation = currentGeneration(project.root);
  const stored = storedResult(index, project.root, `${writtenAt}:${configSignature}`, generation !== null);
  if (!stored) return null;
  return {
    // Shared with later replays in a watched process: every caller reads a result, none changes it.
    result: stored.result,
    stats: { files, parsed: 0, cached: "result", writtenAt },
    ownerOf: ownerLookup(() => JSON.parse(stored.idsText) as RequirementIds),
  };
}

interface StoredResult {
  result: FullResult;
  idsText: string;
}

/** The last result a watched process replayed, by project: parsing it again is most of a warm answer. */
const keptResults = new Map<string, { key: string; stored: StoredResult }>();

function storedResult(index: IndexDb, root: string, key: string, keep: boolean): StoredResult | null {
  const kept = keptResults.get(root);
  if (keep && kept?.key === key) return kept.stored;
  const resultText = index.getMeta("result");
  if (!resultText) return null;
  // The IDs are read now and parsed only if asked: the index is closed when analyseProject returns.
  const stored = {
    result: JSON.parse(resultText) as FullResult,
    idsText: index.getMeta("requirement_ids") ?? "[]",
  };
  if (keep) keptResults.set(root, { key, stored });
  return stored;
}

// @req OSC-5
function analyseAll(
  project: ProjectRoot,
  config: KeelConfig,
  index: IndexDb | null,
  configSignature: string,
  sidecars: Sidecars,
  onProgress: OnProgress | undefined,
): Analysis {
  const discovery = discover(project);
  {
    // Analyses stored by another build may differ from what this one computes: start over then.
    const cached =
      index && index.getMeta("engine") === ENGINE_VERSION ? index.files() : new Map<string, IndexedFile>();
    const now = Date.now();
    const upserts: IndexedFile[] = [];
    const payloads = new Map<string, Payload>();
    let parsed = 0;
    const work: WorkItem[] = [];
    const openChangeFiles = new Map<string, SourceEntry[]>();

    for (const entry of discovery.files) {
      if (entry.change) {
        if (!entry.change.archived) {
          const list = openChangeFiles.get(entry.change.dir) ?? [];
          list.push(entry);
          openChangeFiles.set(entry.change.dir, list);
        }
        continue;
      }
      if (entry.role !== "spec" && entry.role !== "constitution") continue;
      const hit = cached.get(entry.rel);
      if (
        hit &&
        hit.size === entry.size &&
        hit.mtimeMs === entry.mtimeMs &&
        entry.mtimeMs < hit.indexedAt - RACY_WINDOW_MS
      ) {
        payloads.set(entry.rel, JSON.parse(hit.payload) as Payload);
        continue;
      }
      work.push({ entry, hit });
    }
    const security = securitySettings(config);
    const scanner = securityScanner(security);
    const settings = { vagueTerms: config.validate.vagueTerms, security };
    for (const done of analyseEntries(work, now, settings, onProgress)) {
      const { entry } = done;
      if (done.parsed) parsed++;
      // Keep the parsed copy, not the original: the original's strings are slices of the file's text and
      // would pin every file in memory (450 MB on the 100k benchmark instead of ~100 MB).
      payloads.set(entry.rel, JSON.parse(done.payload) as Payload);
      upserts.push({
        rel: entry.rel,
        size: entry.size,
        mtimeMs: entry.mtimeMs,
        hash: done.hash,
        indexedAt: now,
        payload: done.payload,
      });
    }

    const items: ItemVerdict[] = [];
    applySidecars(payloads, sidecars);
    const projectFindings: Finding[] = discovery.problems.map((p) => ({
      rule: p.rule,
      severity: "error" as const,
      file: p.file,
      line: 1,
      col: 1,
      message: p.message,
      hint: p.hint,
    }));
    const living = new Map<string, RequirementSummary[]>();
    const specEntries = new Map<string, SourceEntry>();
    const references: Array<{ id: string; file: string; line: number; col: number }> = [];
    let requirements = 0;
    const requirementIds: RequirementIds = [];
    const unread: string[] = [];
    /** Every discovered path, made when a Spec Kit spec asks whether its plan exists. */
    let discovered: Set<string> | undefined;
    for (const entry of discovery.files) {
      const payload = payloads.get(entry.rel);
      if (!payload) continue;
      if (payload.kind === "spec") {
        const item: ItemVerdict = {
          id: payload.capability,
          type: "spec",
          file: entry.rel,
          findings: [...payload.findings],
          requirements: payload.requirements.length,
        };
        items.push(item);
        living.set(payload.capability, [...(living.get(payload.capability) ?? []), ...payload.requirements]);
        specEntries.set(`${entry.layout}:${payload.capability}`, entry);
        requirements += payload.requirements.length;
        requirementIds.push([payload.capability, payload.requirements.map((r) => r.id)]);
        for (const r of payload.references) references.push({ ...r, file: entry.rel });
        for (const line of payload.unread ?? []) unread.push(`${entry.rel}:${line}`);
        if (payload.clarifications) {
          discovered ??= new Set(discovery.files.map((f) => f.rel));
          const plan = entry.rel.replace(/spec\.md$/, "plan.md");
          if (discovered.has(plan))
            item.findings.push(
              ...clarificationAfterPlan(entry.rel, payload.capability, payload.clarifications, plan),
            );
        }
      } else projectFindings.push(...payload.findings);
    }

    const touches: ChangeTouch[] = [];
    /** Task file texts by path: the open changes' (already read for the change rules) and the others. */
    const taskTexts = new Map<string, string>();
    const pendingIds: string[] = [];
    const changePlans: ChangePlan[] = [];
    const openChanges: Change[] = [];
    for (const ref of discovery.changes) {
      if (ref.archived) continue;
      const files = openChangeFiles.get(ref.dir) ?? [];
      const { change, findings, tasks, unreadDelta } = analyseChange(
        ref,
        files,
        specEntries,
        ref.layout === "openspec" ? openspecSchemas(project) : undefined,
        scanner,
      );
      parsed += files.length;
      openChanges.push(change);
      unread.push(...unreadDelta);
      if (tasks) taskTexts.set(tasks.file, tasks.text);
      const plan: ChangePlan | null = tasks
        ? { change: change.id, tasksFile: tasks.file, requirements: [] }
        : null;
      if (plan) changePlans.push(plan);
      for (const d of change.deltas) {
        for (const sec of d.sections) {
          if (sec.op === "ADDED" || sec.op === "MODIFIED")
            for (const r of sec.requirements) {
              pendingIds.push(r.id);
              plan?.requirements.push({
                id: r.id,
                title: r.title,
                file: r.headingSpan.file,
                line: r.headingSpan.start.line,
                col: r.headingSpan.start.col,
              });
            }
          for (const r of sec.renames) pendingIds.push(r.toId ?? derivedRequirementId(d.capability, r.to));
        }
      }
      const touched = change.deltas.reduce(
        (n, d) => n + d.sections.reduce((m, sec) => m + sec.requirements.length + sec.renames.length, 0),
        0,
      );
      items.push({
        id: change.id,
        type: "change",
        file: change.proposalFile ?? ref.dir,
        findings,
        requirements: touched,
      });
      for (const d of change.deltas) {
        for (const sec of d.sections) {
          const targets =
            sec.op === "MODIFIED" || sec.op === "ADDED"
              ? sec.requirements.map((r) => ({
                  title: r.title,
                  id: r.explicitId ? r.id : null,
                  span: r.headingSpan,
                }))
              : sec.op === "REMOVED"
                ? sec.removed
                : sec.op === "RENAMED"
                  ? sec.renames.map((r) => ({ title: r.from, id: r.fromId, span: r.span }))
                  : [];
          for (const t of targets)
            touches.push({ change: change.id, capability: d.capability, op: sec.op, ...t });
        }
      }
    }

    projectFindings.push(...sidecarFindings(sidecars, requirementIds));
    const specFiles = new Map([...specEntries.values()].map((e) => [e.capability as string, e.rel]));
    const xref = crossFileRules({ living, references, touches, specFiles });
    const itemByFile = new Map(items.map((i) => [i.file, i]));
    const changeItem = new Map(items.filter((i) => i.type === "change").map((i) => [i.id, i]));
    for (const f of xref) {
      const owner = itemByFile.get(f.file) ?? changeItem.get(f.target ?? "");
      if (owner) owner.findings.push(f);
      else projectFindings.push(f);
    }

    // Task rules. A change's tasks belong to the change's item, a capability's to its spec's; Spec Kit's
    // and Kiro's to none. Nothing here runs for a project without task files.
    const taskOwner = new Map<string, ItemVerdict>();
    const loaded: LoadedTasks = { tasks: [], diagnostics: [], sources: [] };
    const taskScanFindings: Finding[] = [];
    for (const entry of discovery.files) {
      const source = taskSourceOf(entry);
      if (!source) continue;
      let text = taskTexts.get(entry.rel);
      if (text === undefined && !entry.change) {
        const r = readSource(entry.abs, entry.size);
        parsed++;
        if (r.ok) text = r.text;
        else projectFindings.push(unreadableFinding(entry.rel, r.problem, source.scope));
      }
      // A change's unreadable tasks.md is already reported by the change rules.
      if (text === undefined) continue;
      // A change's tasks were scanned with the change; the others are scanned here, as their specs are.
      if (!entry.change)
        taskScanFindings.push(
          ...scanFileFindings(
            {
              text,
              file: entry.rel,
              untrusted: untrustedBecause({}, scanner.policy),
              target: entry.rel,
              parts: [],
            },
            scanner,
          ),
        );
      const one = tasksFromText(source, text);
      loaded.sources.push(...one.sources);
      loaded.tasks.push(...one.tasks);
      loaded.diagnostics.push(...one.diagnostics);
      const owner = entry.change
        ? changeItem.get(entry.change.id)
        : entry.layout === "keel"
          ? itemByFile.get(entry.rel.replace(/tasks\.md$/, "spec.md"))
          : undefined;
      if (owner) taskOwner.set(entry.rel, owner);
    }
    const taskFindings = taskRules({
      loaded,
      requirements: () => livingRequirements(discovery, payloads),
      pending: () => pendingIds,
      defaults: () => defaultCoversByTasksFile(openChanges),
      changePlans: () => changePlans,
      files: () => projectFiles(project.root),
    });
    for (const f of [...taskFindings, ...taskScanFindings]) {
      const owner = taskOwner.get(f.file) ?? itemByFile.get(f.file);
      if (owner) owner.findings.push(f);
      else projectFindings.push(f);
    }
    for (const item of items) item.findings.sort(compareFindings);
    projectFindings.sort(compareFindings);
    items.sort((a, b) =>
      a.type === b.type ? (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) : a.type === "spec" ? -1 : 1,
    );
    unread.sort(compareLocations);
    const result: FullResult = { items, projectFindings, requirements, unread };

    /** Set when the result is stored and may be replayed: answers rendered from it may then be kept. */
    let writtenAt: string | null = null;
    if (index) {
      const stamp = String(Date.now());
      const present = new Set(discovery.files.map((f) => f.rel));
      const deletions = [...cached.keys()].filter((rel) => !present.has(rel));
      // A run that met unreadable paths or bad links is never replayed: fixing a link target elsewhere
      // moves no mtime that the replay check would see.
      const tree: Tree | null =
        discovery.problems.length > 0
          ? null
          : {
              dirs: discovery.dirs.map((d) => [d.rel, d.mtimeMs]),
              files: discovery.files.map((f) => [f.rel, f.size, f.mtimeMs]),
            };
      try {
        index.commit(upserts, deletions, {
          engine: ENGINE_VERSION,
          config_signature: configSignature,
          tree: tree ? JSON.stringify(tree) : "",
          result: JSON.stringify(result),
          requirement_ids: JSON.stringify(requirementIds),
          written_at: stamp,
        });
        if (tree) writtenAt = stamp;
      } catch {
        // Another process holds the write lock past the timeout, or the disk is full: the result stands.
      }
    }
    return {
      result,
      stats: { files: discovery.files.length, parsed, cached: index ? "files" : "none", writtenAt },
      ownerOf: ownerLookup(() => requirementIds),
    };
  }
}

function analyseChange(
  ref: Discovery["changes"][number],
  files: SourceEntry[],
  specEntries: Map<string, SourceEntry>,
  projectSchemas: readonly string[] | undefined,
  scanner: SecurityScanner,
): { change: Change; findings: Finding[]; tasks: SourceFile | null; unreadDelta: string[] } {
  const findings: Finding[] = [];
  const read = (entry: SourceEntry): SourceFile | null => {
    const r = readSource(entry.abs, entry.size);
    if (r.ok) return { file: entry.rel, text: r.text };
    findings.push(unreadableFinding(entry.rel, r.problem, ref.id));
    return null;
  };
  const sources = changeSources(ref, files, read);
  const tasks = sources.tasks;
  const unreadDelta = sources.deltas.flatMap((d) =>
    unreadHeadings(d.text, d.file, "delta").map((u) => `${d.file}:${u.line}`),
  );
  const { change, diagnostics } = parseChange(sources);
  findings.push(...diagnostics.map((d) => fromDiagnostic(d, ref.id)));
  // The change rules compare deltas with the living specs they touch; only those are parsed again.
  const livingSpecs = new Map<string, Spec>();
  for (const d of change.deltas) {
    const entry = specEntries.get(`${ref.layout}:${d.capability}`);
    if (!entry || livingSpecs.has(d.capability)) continue;
    const r = readSource(entry.abs, entry.size);
    if (r.ok) livingSpecs.set(d.capability, parseSpecOf(entry.layout, r.text, entry.rel, d.capability).spec);
  }
  findings.push(...openspecChangeRules(change, livingSpecs, { projectSchemas }));
  if (tasks) findings.push(...openspecTaskRules(change, tasks.text));
  findings.push(...changeSecurityFindings(sources, change, scanner));
  if (!change.proposalFile) {
    // OpenSpec's validate never reads proposal.md; Keel asks for one because reviewers need the why.
    findings.push(
      finding(
        "change/missing-proposal",
        "warning",
        { file: ref.dir, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } },
        `change "${ref.id}" has no proposal.md`,
        "create proposal.md with `## Why` and `## What Changes` sections (`keel change new` scaffolds one)",
        ref.id,
      ),
    );
  }
  return { change, findings, tasks, unreadDelta };
}

// @req TRU-1, TRU-3
/**
 * The untrusted-text rules over a change's proposal, delta specs and tasks. A change whose author is an agent
 * (change.yaml `author: agent:…`) is untrusted as a whole; otherwise each delta requirement's own provenance
 * decides, as in a living spec.
 */
function changeSecurityFindings(sources: ChangeSources, change: Change, scanner: SecurityScanner): Finding[] {
  const author = typeof change.meta?.author === "string" ? change.meta.author : null;
  const untrusted =
    author && splitActorLabel(author).kind === "agent"
      ? `proposed by ${author}`
      : untrustedBecause({}, scanner.policy);
  const requirementsOf = (file: string) =>
    change.deltas
      .filter((d) => d.file === file)
      .flatMap((d) => d.sections.flatMap((sec) => sec.requirements));
  const files = [sources.proposal, sources.tasks, ...sources.deltas].filter(
    (f): f is SourceFile => f !== null,
  );
  return files.flatMap((f) =>
    scanFileFindings(
      {
        text: f.text,
        file: f.file,
        untrusted,
        target: change.id,
        parts: requirementParts(requirementsOf(f.file), scanner.policy),
      },
      scanner,
    ),
  );
}

/** The living specs' requirements with their effective status, for the coverage rules. */
function livingRequirements(discovery: Discovery, payloads: Map<string, Payload>): CoverableRequirement[] {
  const out: CoverableRequirement[] = [];
  for (const entry of discovery.files) {
    const payload = payloads.get(entry.rel);
    if (payload?.kind !== "spec") continue;
    for (const r of payload.requirements) {
      out.push({
        id: r.id,
        title: r.title,
        capability: payload.capability,
        status: r.status as RequirementStatus | null,
        file: entry.rel,
        line: r.line,
        col: r.col,
      });
    }
  }
  return out;
}

/**
 * A side file's status stands in for the marker line a toolkit's spec cannot hold (format/layouts/sidecar.ts).
 * The payloads are this run's own parsed copies, so they are changed in place.
 */
function applySidecars(payloads: Map<string, Payload>, sidecars: Sidecars): void {
  if (sidecars.byLayout.size === 0) return;
  for (const payload of payloads.values()) {
    if (payload.kind !== "spec") continue;
    const entries = sidecars.byLayout.get(payload.layout);
    if (!entries) continue;
    for (const r of payload.requirements) {
      const status = entries.get(r.id)?.status;
      if (status) r.status = status;
    }
  }
}

/** The side files' own problems, and each ID they name that no requirement has. */
function sidecarFindings(sidecars: Sidecars, ids: RequirementIds): Finding[] {
  const out = sidecars.diagnostics.map((d) => fromDiagnostic(d));
  if (sidecars.byLayout.size === 0) return out;
  const known = new Set(ids.flatMap(([, list]) => list));
  for (const [layout, entries] of sidecars.byLayout) {
    for (const [id, markers] of entries) {
      if (known.has(id)) continue;
      out.push(
        finding(
          "layout/side-file-unknown",
          "warning",
          markers.span,
          `${sidecarFile(layout)} names ${id}, which no requirement has`,
          "fix the ID (a Spec Kit or Kiro ID is qualified by its feature, e.g. 001-photo-albums/FR-001) or remove the entry",
        ),
      );
    }
  }
  return out;
}

/** `file:line` strings in path order, then line order (not string order: line 10 after line 9). */
function compareLocations(a: string, b: string): number {
  const [fa, la] = splitLocation(a);
  const [fb, lb] = splitLocation(b);
  return fa < fb ? -1 : fa > fb ? 1 : la - lb;
}

function splitLocation(at: string): [string, number] {
  const colon = at.lastIndexOf(":");
  return [at.slice(0, colon), Number(at.slice(colon + 1))];
}

/** Folder names under `openspec/schemas/`: the project's own workflow schemas. */
function openspecSchemas(project: ProjectRoot): string[] {
  try {
    return readdirSync(join(project.root, "openspec", "schemas"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  } catch {
    return [];
  }
}
