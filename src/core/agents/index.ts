// `keel agents add|remove|list`: sets up coding agents to work through Keel. Every file is planned (read and
// parsed) before any is written, so a file that does not parse stops the command with nothing changed.
// Writes are atomic, paths never leave the project, and `keel/agents.yaml` records what Keel added.
// @req SRF-6, AGT-6, AGT-7, AGT-8, AGT-9

import {
  lstatSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  type Stats,
  unlinkSync,
} from "node:fs";
import { dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { projectError, usageError } from "../../workspace/errors.js";
import { noteLocalWrite } from "../../workspace/freshness.js";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";
import type { AgentAdapter, CommandFormat, McpFormat, Target } from "./adapter.js";
import { ADAPTERS, AGENT_NAMES, type AgentName, adapterOf, canonicalName } from "./adapters/index.js";
import { cutBlock, findBlock, renderBlock, separatorFor } from "./blocks.js";
import {
  MANIFEST,
  type Manifest,
  type ManifestEntry,
  parseManifest,
  renderManifest,
  sha256,
} from "./manifest.js";
import { ConfigParseError, mergeEntry, removeEntry } from "./mcp-config.js";
import { targetsOf } from "./render.js";
import { AGENTS_BLOCK, BRIDGE_BLOCK, type Phase } from "./templates.js";

export { AGENT_NAMES, type AgentName } from "./adapters/index.js";

export type FileAction = "created" | "updated" | "unchanged" | "removed" | "kept";

export interface FileReport {
  path: string;
  action: FileAction;
  reason?: string;
}

export interface AgentsReport {
  version: 1;
  root: string;
  /** The agents set up after the command. */
  agents: AgentName[];
  files: FileReport[];
}

/** What one target is, for `keel agents list`. */
export interface TargetInfo {
  path: string;
  /** `instructions`: the shared AGENTS.md block; `bridge`: the tool's own file importing it; `command`: a phase. */
  kind: "instructions" | "bridge" | "command" | "mcp";
  format: CommandFormat | McpFormat;
  /** The phase a command file is for, and what the tool replaces with the words typed after the command. */
  phase?: Phase;
  placeholder?: string;
  /** Where Keel's entry sits in an MCP file, dotted (`mcpServers.keel`). */
  key?: string;
}

export interface AgentsList {
  version: 1;
  root: string;
  agents: {
    name: AgentName;
    title: string;
    aliases: string[];
    docs: string[];
    setUp: boolean;
    /** Every file the agent's adapter writes. */
    targets: TargetInfo[];
    /** For a set-up agent, the state of each of those files; empty otherwise. */
    files: { path: string; state: "present" | "missing" | "edited" }[];
  }[];
}

/** Agent names from arguments (each may be a comma-separated list); an unknown name is a usage error. */
export function parseAgentNames(args: string[]): AgentName[] {
  const names = args
    .flatMap((a) => a.split(","))
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== "");
  if (names.length === 0) {
    throw usageError("name at least one agent", `agents: ${AGENT_NAMES.join(", ")}`);
  }
  const out: AgentName[] = [];
  for (const n of names) {
    const name = canonicalName(n);
    if (name === null) throw usageError(`unknown agent "${n}"`, `known agents: ${AGENT_NAMES.join(", ")}`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Files inside the project

class Project {
  readonly real: string;
  constructor(readonly root: string) {
    this.real = realpathSync(root);
  }

  /** The path to read and write for `rel`; refused when it, or its nearest existing folder, is outside. */
  path(rel: string): string {
    const abs = join(this.root, rel);
    let probe = abs;
    while (lstatOrNull(probe) === null) probe = dirname(probe);
    const real = realpathOrNull(probe);
    if (real === null || !isWithin(this.real, real)) {
      throw projectError(
        `${rel} leads outside the project (a symbolic link); Keel does not write through it`,
        "replace the link with a file or folder inside the project",
        { file: rel, line: 1, col: 1 },
      );
    }
    return probe === abs ? real : abs;
  }

  read(rel: string): string | null {
    const abs = this.path(rel);
    const st = lstatOrNull(abs);
    if (st === null) return null;
    if (!st.isFile()) {
      throw projectError(`${rel} is not a file`, "move it out of the way, then run the command again", {
        file: rel,
        line: 1,
        col: 1,
      });
    }
    return readFileSync(abs, "utf8");
  }

  write(rel: string, text: string): void {
    writeFileAtomic(this.path(rel), text);
  }

  /** Deletes `rel`, then each folder above it that is left empty, up to the project root. */
  delete(rel: string): void {
    const abs = this.path(rel);
    noteLocalWrite(abs);
    unlinkSync(abs);
    // `abs` is a real path (the file exists), so the walk stops at the project's real root.
    for (let dir = dirname(abs); dir !== this.real && isWithin(this.real, dir); dir = dirname(dir)) {
      if (readdirSync(dir).length > 0) break;
      rmdirSync(dir);
    }
  }
}

function lstatOrNull(p: string): Stats | null {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}

function loadManifest(project: Project): { manifest: Manifest; text: string | null } {
  const text = project.read(MANIFEST);
  if (text === null) return { manifest: { agents: [], entries: [] }, text: null };
  try {
    return { manifest: parseManifest(text), text };
  } catch (e) {
    throw projectError(
      `${MANIFEST} is not a valid agents manifest: ${(e as Error).message}`,
      "restore it from version control; Keel needs it to remove exactly what it added",
      { file: MANIFEST, line: 1, col: 1 },
    );
  }
}

function uniqueTargets(agents: AgentName[]): Target[] {
  const seen = new Set<string>();
  return agents
    .map(adapterOf)
    .flatMap(targetsOf)
    .filter((t) => !seen.has(t.path) && seen.add(t.path) !== undefined);
}

function parseRefusal(rel: string, e: unknown): never {
  if (e instanceof ConfigParseError) {
    throw projectError(
      `${rel}:${e.line}:${e.col}: ${e.message}`,
      `fix ${rel} (nothing was written), then run the command again`,
      { file: rel, line: e.line, col: e.col },
    );
  }
  throw e;
}

// ---------------------------------------------------------------------------------------------------------
// add

interface Planned {
  report: FileReport;
  write?: string;
  entry?: ManifestEntry;
}

function blockBody(t: Extract<Target, { kind: "block" }>): string {
  return t.block === "agents" ? AGENTS_BLOCK : BRIDGE_BLOCK;
}

function planAdd(project: Project, t: Target, known: ManifestEntry | undefined): Planned {
  const text = project.read(t.path);
  const path = t.path;
  if (t.kind === "file") {
    const entry = { path, created: known?.created ?? text === null, sha256: sha256(t.content) };
    if (text === null) return { report: { path, action: "created" }, write: t.content, entry };
    if (text === t.content) return { report: { path, action: "unchanged" }, entry };
    if (known?.sha256 !== undefined && sha256(text) === known.sha256) {
      return { report: { path, action: "updated" }, write: t.content, entry };
    }
    return {
      report: { path, action: "kept", reason: known ? "edited since Keel wrote it" : "not written by Keel" },
      ...(known ? { entry: known } : {}),
    };
  }
  if (t.kind === "block") {
    const existing = text ?? "";
    const span = findBlock(existing);
    if (span && "error" in span) {
      throw badMarkers(path, span);
    }
    const eol = existing.includes("\r\n") ? "\r\n" : "\n";
    const block = renderBlock(blockBody(t), eol);
    if (span) {
      const entry = known ?? { path, created: false, sep: "" };
      if (existing.slice(span.start, span.end) === block)
        return { report: { path, action: "unchanged" }, entry };
      return {
        report: { path, action: "updated" },
        write: existing.slice(0, span.start) + block + existing.slice(span.end),
        entry,
      };
    }
    const sep = separatorFor(existing);
    return {
      report: { path, action: text === null ? "created" : "updated" },
      write: existing + sep + block,
      entry: { path, created: text === null, sep },
    };
  }
  let merged: ReturnType<typeof mergeEntry>;
  try {
    merged = mergeEntry(text, t.format, t.key, t.value);
  } catch (e) {
    parseRefusal(path, e);
  }
  if (merged.kind === "unchanged") {
    return {
      report: { path, action: "unchanged", ...(merged.reason ? { reason: merged.reason } : {}) },
      ...(known ? { entry: known } : {}),
    };
  }
  if (merged.kind === "kept") return { report: { path, action: "kept", reason: merged.reason } };
  const entry: ManifestEntry = known ?? {
    path,
    created: text === null,
    ...(merged.sep ? { sep: merged.sep } : {}),
    ...(merged.createdParent ? { parent: true } : {}),
  };
  return { report: { path, action: text === null ? "created" : "updated" }, write: merged.text, entry };
}

export function addAgents(rootArg: string, agents: AgentName[]): AgentsReport {
  const project = new Project(resolve(rootArg));
  const { manifest, text: manifestText } = loadManifest(project);
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  const plans = uniqueTargets(agents).map((t) => planAdd(project, t, byPath.get(t.path)));
  for (const p of plans) if (p.write !== undefined) project.write(p.report.path, p.write);
  for (const p of plans) if (p.entry) byPath.set(p.entry.path, p.entry);
  const all = AGENT_NAMES.filter((a) => manifest.agents.includes(a) || agents.includes(a));
  const next = renderManifest({ agents: all, entries: [...byPath.values()] });
  const files = plans.map((p) => p.report);
  if (next === manifestText) files.push({ path: MANIFEST, action: "unchanged" });
  else {
    project.write(MANIFEST, next);
    files.push({ path: MANIFEST, action: manifestText === null ? "created" : "updated" });
  }
  return { version: 1, root: project.root, agents: all, files };
}

// ---------------------------------------------------------------------------------------------------------
// remove

interface PlannedRemoval {
  report: FileReport;
  /** The file's new text; null to delete it; absent to leave it as it is. */
  next?: string | null;
}

function planRemove(project: Project, t: Target, entry: ManifestEntry | undefined): PlannedRemoval {
  const path = t.path;
  const text = project.read(path);
  if (text === null) return { report: { path, action: "unchanged", reason: "not there" } };
  const removed: FileReport = { path, action: "removed" };
  if (t.kind === "file") {
    if (entry?.sha256 === undefined) {
      return { report: { path, action: "kept", reason: "not written by Keel" } };
    }
    if (sha256(text) !== entry.sha256) {
      return { report: { path, action: "kept", reason: "edited since Keel wrote it" } };
    }
    return { report: removed, next: null };
  }
  let next: string | null;
  if (t.kind === "block") {
    const span = findBlock(text);
    if (span === null) return { report: { path, action: "unchanged", reason: "no Keel block in it" } };
    if ("error" in span) {
      throw badMarkers(path, span);
    }
    next = cutBlock(text, span, entry?.sep ?? "");
  } else {
    if (!entry) {
      return { report: { path, action: "kept", reason: "Keel's entry there was not written by Keel" } };
    }
    try {
      next = removeEntry(text, t.format, t.key, entry.parent === true, entry.sep ?? "", entry.created);
    } catch (e) {
      parseRefusal(path, e);
    }
    if (next === null) return { report: { path, action: "unchanged", reason: "no Keel entry in it" } };
  }
  return { report: removed, next: next === "" && entry?.created ? null : next };
}

export function removeAgents(rootArg: string, agents: AgentName[]): AgentsReport {
  const project = new Project(resolve(rootArg));
  const { manifest, text: manifestText } = loadManifest(project);
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  const remaining = manifest.agents.filter((a) => !agents.includes(a));
  const keep = new Set(uniqueTargets(remaining).map((t) => t.path));
  // Every file is planned before any is changed: one that does not parse, or whose markers are broken, refuses
  // the command with nothing changed.
  const plans = uniqueTargets(agents)
    .filter((t) => !keep.has(t.path))
    .map((t) => planRemove(project, t, byPath.get(t.path)));
  for (const { report, next } of plans) {
    if (next === null) project.delete(report.path);
    else if (next !== undefined) project.write(report.path, next);
    byPath.delete(report.path);
  }
  const files = plans.map((p) => p.report);
  if (manifestText !== null) {
    if (remaining.length === 0) {
      project.delete(MANIFEST);
      files.push({ path: MANIFEST, action: "removed" });
    } else {
      const next = renderManifest({ agents: remaining, entries: [...byPath.values()] });
      if (next !== manifestText) project.write(MANIFEST, next);
      files.push({ path: MANIFEST, action: next === manifestText ? "unchanged" : "updated" });
    }
  }
  return { version: 1, root: project.root, agents: remaining, files };
}

// ---------------------------------------------------------------------------------------------------------
// list

export function listAgents(rootArg: string): AgentsList {
  const project = new Project(resolve(rootArg));
  const { manifest } = loadManifest(project);
  const byPath = new Map(manifest.entries.map((e) => [e.path, e]));
  const stateOf = (t: Target) => {
    const text = project.read(t.path);
    const entry = byPath.get(t.path);
    if (text === null) return "missing" as const;
    return t.kind === "file" && entry?.sha256 !== undefined && sha256(text) !== entry.sha256
      ? ("edited" as const)
      : ("present" as const);
  };
  return {
    version: 1,
    root: project.root,
    agents: ADAPTERS.map((adapter) => {
      const name = adapter.name as AgentName;
      const targets = targetsOf(adapter);
      const setUp = manifest.agents.includes(name);
      return {
        name,
        title: adapter.title,
        aliases: [...(adapter.aliases ?? [])],
        docs: [...adapter.docs],
        setUp,
        targets: targets.map((t) => describe(t, adapter)),
        files: setUp ? targets.map((t) => ({ path: t.path, state: stateOf(t) })) : [],
      };
    }),
  };
}

function describe(t: Target, adapter: AgentAdapter): TargetInfo {
  if (t.kind === "block") {
    return { path: t.path, kind: t.block === "agents" ? "instructions" : "bridge", format: "markdown" };
  }
  if (t.kind === "mcp") return { path: t.path, kind: "mcp", format: t.format, key: t.key.join(".") };
  return {
    path: t.path,
    kind: "command",
    format: t.format,
    phase: t.phase,
    placeholder: adapter.commands?.placeholder,
  };
}

/** A marked block whose markers are broken (one missing, or out of order), at the line where it goes wrong. */
function badMarkers(path: string, span: { line: number; error: string }) {
  return projectError(`${path}:${span.line}: ${span.error}`, "fix the markers, then run the command again", {
    file: path,
    line: span.line,
    col: 1,
  });
}
