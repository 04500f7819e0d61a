// Finding and reading every task file of a project: Keel's tasks.md (specs and changes), OpenSpec's changes,
// Spec Kit's feature folders (`specs/<feature>/tasks.md`), Kiro's (`.kiro/specs/<feature>/tasks.md`), Task
// Master's tasks.json and Beads' issues.jsonl, each read by its layout's reader into the one task model.
// @req TSK-1, LAY-5, LAY-6
import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { parseBeads } from "../../format/layouts/beads.js";
import { LAYOUT_INFO } from "../../format/layouts/info.js";
import { parseTaskmaster } from "../../format/layouts/taskmaster.js";
import { type ParsedTask, type ParsedTaskFile, parseTasks, type TaskDiagnostic } from "../../format/tasks.js";
import { namespaceOf, qualifyId } from "../../model/namespace.js";
import type { Layout } from "../../model/types.js";
import { changeStamp } from "../../workspace/discover.js";
import { FileMemo } from "../../workspace/file-memo.js";
import { memoUntilChange } from "../../workspace/freshness.js";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";
import { readSource } from "../../workspace/read.js";
import { readLayouts } from "../../workspace/root.js";
import { readSpecRoots } from "../../workspace/spec-roots.js";
import { keelClosed } from "./claim-ops.js";
import { buildGraph, type TaskGraph } from "./graph.js";

/** The layout whose reader a task file needs. */
export type TaskDialect = Layout;

export interface TaskSource {
  /** Project-relative, `/`-separated. */
  file: string;
  /** The capability, change or feature the file belongs to; qualifies its task IDs. */
  scope: string;
  dialect: TaskDialect;
}

export interface LoadedTask extends ParsedTask {
  /** `<scope>/<id>`: unique across the project. */
  key: string;
  scope: string;
  file: string;
  dialect: TaskDialect;
}

export interface TaskFileDiagnostic extends TaskDiagnostic {
  file: string;
}

export interface LoadedTasks {
  tasks: LoadedTask[];
  diagnostics: TaskFileDiagnostic[];
  sources: TaskSource[];
}

/** Where task files live; `nested`: capabilities nest (`keel/specs/billing/tax/`), so every folder below counts. */
const LOCATIONS: { dir: string[]; dialect: TaskDialect; skip?: string; nested?: boolean }[] = [
  { dir: ["keel", "specs"], dialect: "keel", nested: true },
  { dir: ["keel", "changes"], dialect: "keel", skip: "archive" },
  { dir: ["openspec", "changes"], dialect: "openspec", skip: "archive" },
  { dir: ["specs"], dialect: "speckit" },
  { dir: [".kiro", "specs"], dialect: "kiro" },
];

/**
 * Task files at fixed paths: Task Master's (its newer path before the legacy one, which counts only beside a
 * `.taskmasterconfig`) and Beads' JSONL export.
 */
const FIXED_FILES: { paths: string[][]; dialect: TaskDialect; requires?: string[] }[] = [
  { paths: [[".taskmaster", "tasks", "tasks.json"]], dialect: "taskmaster" },
  { paths: [["tasks", "tasks.json"]], dialect: "taskmaster", requires: [".taskmasterconfig"] },
  { paths: [[".beads", "issues.jsonl"]], dialect: "beads" },
];

/** A source as found on disk, with the size and change stamp it had when found (before it is read). */
export interface FoundTaskSource extends TaskSource {
  size: number;
  stamp: number;
}

/**
 * Every tasks.md in the known locations, in a stable order. A folder or file reached through a symbolic link
 * is used only when its real location is inside the project (as discovery does).
 */
/** The project's task files; a process with a watcher keeps the last walk until it sees a change. */
export function findTaskSources(root: string): FoundTaskSource[] {
  return memoUntilChange(root, "task-sources", () => walkTaskSources(root));
}

function walkTaskSources(root: string): FoundTaskSource[] {
  const out: FoundTaskSource[] = [];
  // A toolkit's task files count where its layout is read: found, and not imported into keel/ (workspace/root.ts).
  walkLayoutTasks(root, { dir: [], name: null, layouts: readLayouts(root).layouts }, out);
  // Each spec root's (keel.yaml `roots:`) likewise, its scopes qualified with its name as discovery does.
  for (const r of readSpecRoots(root))
    walkLayoutTasks(root, { dir: r.dir.split("/"), name: r.name, layouts: r.layouts }, out);
  return out;
}

/** The task files of the layouts in the folder `at.dir` (path parts below the project's root). */
function walkLayoutTasks(
  root: string,
  at: { dir: string[]; name: string | null; layouts: Layout[] },
  out: FoundTaskSource[],
): void {
  const qualified = (scope: string) => (at.name === null ? scope : `${at.name}:${scope}`);
  const rootReal = realpathOrNull(root) ?? root;
  const inside = (abs: string, entry: Dirent): boolean => {
    if (!entry.isSymbolicLink()) return true;
    const real = realpathOrNull(abs);
    return real !== null && isWithin(rootReal, real);
  };
  const visit = (loc: (typeof LOCATIONS)[number], rel: string[], scope: string[]): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(root, ...rel), { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (e.name.startsWith(".") || (scope.length === 0 && e.name === loc.skip)) continue;
      const abs = join(root, ...rel, e.name);
      if (!inside(abs, e) || !isDirectory(abs, e)) continue;
      const file = [...rel, e.name, "tasks.md"];
      const st = taskFileStat(join(root, ...file), rootReal);
      if (st)
        out.push({
          file: file.join("/"),
          scope: qualified([...scope, e.name].join("/")),
          dialect: loc.dialect,
          size: st.size,
          stamp: changeStamp(st),
        });
      if (loc.nested) visit(loc, [...rel, e.name], [...scope, e.name]);
    }
  };
  const read = (dialect: TaskDialect) =>
    dialect === "keel" || dialect === "openspec" || at.layouts.includes(dialect);
  for (const loc of LOCATIONS) {
    if (!read(loc.dialect)) continue;
    // The location itself (`keel/specs`, `.kiro`) must not lead out of the project either.
    const base = realpathOrNull(join(root, ...at.dir, ...loc.dir));
    if (base !== null && isWithin(rootReal, base)) visit(loc, [...at.dir, ...loc.dir], []);
  }
  const taken = new Set<TaskDialect>();
  for (const fixed of FIXED_FILES) {
    if (taken.has(fixed.dialect) || !read(fixed.dialect)) continue;
    if (fixed.requires && taskFileStat(join(root, ...at.dir, ...fixed.requires), rootReal) === null) continue;
    for (const path of fixed.paths) {
      const st = taskFileStat(join(root, ...at.dir, ...path), rootReal);
      if (!st) continue;
      taken.add(fixed.dialect);
      const file = [...at.dir, ...path].join("/");
      out.push({
        file,
        scope: qualified(fixed.dialect),
        dialect: fixed.dialect,
        size: st.size,
        stamp: changeStamp(st),
      });
    }
  }
}

function isDirectory(abs: string, entry: Dirent): boolean {
  if (entry.isDirectory()) return true;
  if (!entry.isSymbolicLink()) return false;
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
}

/** The stat of a task file, or null when there is none, or it is a link out of the project. */
function taskFileStat(abs: string, rootReal: string): Stats | null {
  try {
    const st = statSync(abs);
    if (!st.isFile()) return null;
    if (lstatSync(abs).isSymbolicLink()) {
      const real = realpathOrNull(abs);
      if (real === null || !isWithin(rootReal, real)) return null;
    }
    return st;
  } catch {
    return null; // absent, a loop, or unreadable: not a task file
  }
}

/** Parses one file's text into project tasks, with its layout's reader; never throws. */
export function tasksFromText(source: TaskSource, text: string): LoadedTasks {
  const groups = parseByDialect(source, text);
  // A spec root's file (its scope `payments:billing`): its scopes and what its tasks cover are that root's.
  const ns = namespaceOf(source.scope);
  const tasks: LoadedTask[] = [];
  for (const group of ns === null ? groups.scopes : groups.scopes.map((g) => inRoot(g, ns))) {
    for (const t of group.tasks) {
      if (QUALIFIED_COVERS.has(source.dialect)) qualifyCovers(t, group.scope, source.dialect);
      if (ns !== null) t.covers = t.covers.map((id) => qualifyId(ns, id));
      // Extended in place: the parsed tasks are this call's own, and a spread copy of 10,000 of them costs more
      // than parsing them.
      tasks.push(
        Object.assign(t, {
          key: `${group.scope}/${t.id}`,
          scope: group.scope,
          file: source.file,
          dialect: source.dialect,
        }),
      );
    }
  }
  return {
    sources: [source],
    tasks,
    diagnostics: groups.diagnostics.map((d) => ({ ...d, file: source.file })),
  };
}

/** A group of a spec root's file with its scope qualified (Task Master's tags are not, as they are read). */
function inRoot<T extends { scope: string }>(group: T, ns: string): T {
  return { ...group, scope: qualifyId(ns, group.scope) };
}

/** A file's tasks by scope: one scope for a Markdown file, one per tag for Task Master's tasks.json. */
function parseByDialect(
  source: TaskSource,
  text: string,
): { scopes: Array<{ scope: string; tasks: ParsedTask[] }>; diagnostics: TaskDiagnostic[] } {
  if (source.dialect === "taskmaster") {
    const parsed = parseTaskmaster(text);
    return {
      scopes: parsed.tags.map((t) => ({ scope: t.tag, tasks: t.tasks })),
      diagnostics: parsed.diagnostics,
    };
  }
  const parsed: ParsedTaskFile =
    source.dialect === "beads" ? parseBeads(text) : parseTasks(text, { dialect: source.dialect });
  return { scopes: [{ scope: source.scope, tasks: parsed.tasks }], diagnostics: parsed.diagnostics };
}

/** Layouts that number requirements per feature, so a task's mentions name requirements of its own feature. */
const QUALIFIED_COVERS: ReadonlySet<TaskDialect> = new Set(["speckit", "kiro"]);

/** Spec Kit's `FR-001` / `SC-001` written in a task's text. */
const SPECKIT_MENTION = /\b(?:FR|SC)-\d+\b/g;

/**
 * Qualifies what a Spec Kit or Kiro task covers with its feature: `1.2` (Kiro's `_Requirements: 1.2_`), the
 * story tag `[US1]` and `FR-001` mentions (Spec Kit) become `<feature>/1.2`, `<feature>/US1`, `<feature>/FR-001`,
 * the IDs its feature's requirements have (format/layouts/). A cover already naming a feature is kept.
 */
function qualifyCovers(task: ParsedTask, feature: string, dialect: TaskDialect): void {
  const written = [...task.covers];
  if (dialect === "speckit") {
    if (task.story) written.push(task.story);
    for (const text of [task.title, ...task.details]) written.push(...(text.match(SPECKIT_MENTION) ?? []));
  }
  const covers: string[] = [];
  for (const id of written) {
    const qualified = id.includes("/") ? id : `${feature}/${id}`;
    if (!covers.includes(qualified)) covers.push(qualified);
  }
  task.covers = covers;
}

/** Task files parsed by this process, reused while unchanged (a server answers many calls from one parse). */
const parsedFiles = new FileMemo<LoadedTasks>();

/**
 * Reads the given sources, or every one found; a source that cannot be read becomes a diagnostic. A source found
 * on disk (with its size and stamp) that this process parsed before, unchanged since, is not read again.
 */
export function loadTasks(
  root: string,
  sources: TaskSource[] = findTaskSources(root),
  closed?: ReadonlyMap<string, "done" | "blocked">,
): LoadedTasks {
  const all: LoadedTasks = { tasks: [], diagnostics: [], sources: [] };
  for (const source of sources) {
    const abs = join(root, source.file);
    const seen = "stamp" in source ? (source as FoundTaskSource) : null;
    const known = seen ? parsedFiles.get(abs, seen.size, seen.stamp) : undefined;
    if (known) {
      all.sources.push(source);
      all.tasks.push(...known.tasks);
      all.diagnostics.push(...known.diagnostics);
      continue;
    }
    const read = readSource(abs);
    if (!read.ok) {
      all.sources.push(source);
      all.diagnostics.push({
        rule: read.problem.rule,
        severity: "error",
        message: read.problem.message,
        line: read.problem.line,
        col: read.problem.col,
        file: source.file,
      });
      continue;
    }
    const one = tasksFromText(source, read.text);
    if (seen) parsedFiles.set(abs, seen.size, seen.stamp, one);
    all.sources.push(source);
    all.tasks.push(...one.tasks);
    all.diagnostics.push(...one.diagnostics);
  }
  return withKeelClosed(root, all, closed);
}

/**
 * The project's task graph. A process with a watcher keeps it until the watcher sees a change, unless a task's
 * status comes from Keel's store rather than its file (Beads: see withKeelClosed), which the watcher cannot see.
 * Shared then: callers read the graph and never change it.
 */
export function loadTaskGraph(root: string): TaskGraph {
  const sources = findTaskSources(root);
  if (!sources.every((s) => writesTasks(s.dialect))) return buildGraph(loadTasks(root, sources));
  return memoUntilChange(root, "task-graph", () => buildGraph(loadTasks(root, sources)));
}

/** Whether Keel writes task state into this dialect's files (not into Beads': bd owns them). */
export function writesTasks(dialect: TaskDialect): boolean {
  return LAYOUT_INFO[dialect].writesTasks;
}

/**
 * A task of a layout Keel never writes (Beads) that a claim closed, done or blocked, has that status: its file
 * cannot say so, so Keel's state does, and its dependents become ready as they would in any other layout.
 * Copies, not edits: the parsed tasks are shared with the next call.
 */
function withKeelClosed(
  root: string,
  all: LoadedTasks,
  known?: ReadonlyMap<string, "done" | "blocked">,
): LoadedTasks {
  if (all.sources.every((s) => writesTasks(s.dialect))) return all;
  const closed = known ?? keelClosed(root);
  if (closed.size === 0) return all;
  all.tasks = all.tasks.map((t) => {
    const status = writesTasks(t.dialect) ? undefined : closed.get(t.key);
    return status && status !== t.status ? { ...t, status } : t;
  });
  return all;
}
