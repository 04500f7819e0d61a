// Finding and reading every tasks.md of a project: Keel's (specs and changes), OpenSpec's changes, Spec Kit's
// feature folders (`specs/<feature>/tasks.md`) and Kiro's (`.kiro/specs/<feature>/tasks.md`).
// @req TSK-1
import { type Dirent, lstatSync, readdirSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { type ParsedTask, parseTasks, type TaskDiagnostic } from "../../format/tasks.js";
import { changeStamp } from "../../workspace/discover.js";
import { FileMemo } from "../../workspace/file-memo.js";
import { isWithin, realpathOrNull } from "../../workspace/paths.js";
import { readSource } from "../../workspace/read.js";

export type TaskDialect = "keel" | "openspec" | "speckit" | "kiro";

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

/** A source as found on disk, with the size and change stamp it had when found (before it is read). */
export interface FoundTaskSource extends TaskSource {
  size: number;
  stamp: number;
}

/**
 * Every tasks.md in the known locations, in a stable order. A folder or file reached through a symbolic link
 * is used only when its real location is inside the project (as discovery does).
 */
export function findTaskSources(root: string): FoundTaskSource[] {
  const rootReal = realpathOrNull(root) ?? root;
  const inside = (abs: string, entry: Dirent): boolean => {
    if (!entry.isSymbolicLink()) return true;
    const real = realpathOrNull(abs);
    return real !== null && isWithin(rootReal, real);
  };
  const out: FoundTaskSource[] = [];
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
          scope: [...scope, e.name].join("/"),
          dialect: loc.dialect,
          size: st.size,
          stamp: changeStamp(st),
        });
      if (loc.nested) visit(loc, [...rel, e.name], [...scope, e.name]);
    }
  };
  for (const loc of LOCATIONS) {
    // The location itself (`keel/specs`, `.kiro`) must not lead out of the project either.
    const base = realpathOrNull(join(root, ...loc.dir));
    if (base !== null && isWithin(rootReal, base)) visit(loc, loc.dir, []);
  }
  return out;
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

/** Parses one file's text into project tasks; never throws. */
export function tasksFromText(source: TaskSource, text: string): LoadedTasks {
  const parsed = parseTasks(text);
  return {
    sources: [source],
    // Extended in place: the parsed tasks are this call's own, and a spread copy of 10,000 of them costs more
    // than parsing them.
    tasks: parsed.tasks.map((t) =>
      Object.assign(t, {
        key: `${source.scope}/${t.id}`,
        scope: source.scope,
        file: source.file,
        dialect: source.dialect,
      }),
    ),
    diagnostics: parsed.diagnostics.map((d) => ({ ...d, file: source.file })),
  };
}

/** Task files parsed by this process, reused while unchanged (a server answers many calls from one parse). */
const parsedFiles = new FileMemo<LoadedTasks>();

/**
 * Reads the given sources, or every one found; a source that cannot be read becomes a diagnostic. A source found
 * on disk (with its size and stamp) that this process parsed before, unchanged since, is not read again.
 */
export function loadTasks(root: string, sources: TaskSource[] = findTaskSources(root)): LoadedTasks {
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
  return all;
}
