// Finding and reading every tasks.md of a project: Keel's (specs and changes), OpenSpec's changes, Spec Kit's
// feature folders (`specs/<feature>/tasks.md`) and Kiro's (`.kiro/specs/<feature>/tasks.md`).
import { readdirSync, type Stats, statSync } from "node:fs";
import { join } from "node:path";
import { type ParsedTask, parseTasks, type TaskDiagnostic } from "../../format/tasks.js";
import { changeStamp } from "../../workspace/discover.js";
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

const LOCATIONS: { dir: string[]; dialect: TaskDialect; skip?: string }[] = [
  { dir: ["keel", "specs"], dialect: "keel" },
  { dir: ["keel", "changes"], dialect: "keel", skip: "archive" },
  { dir: ["openspec", "changes"], dialect: "openspec", skip: "archive" },
  { dir: ["specs"], dialect: "speckit" },
  { dir: [".kiro", "specs"], dialect: "kiro" },
];

function subdirs(abs: string): string[] {
  try {
    return readdirSync(abs, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith("."))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function fileStat(abs: string): Stats | null {
  try {
    const st = statSync(abs);
    return st.isFile() ? st : null;
  } catch {
    return null; // absent, a loop, or unreadable: not a task file
  }
}

/** A source as found on disk, with the size and change stamp it had when found (before it is read). */
export interface FoundTaskSource extends TaskSource {
  size: number;
  stamp: number;
}

/** Every tasks.md in the known locations, in a stable order. */
export function findTaskSources(root: string): FoundTaskSource[] {
  const out: FoundTaskSource[] = [];
  for (const loc of LOCATIONS) {
    for (const name of subdirs(join(root, ...loc.dir))) {
      if (name === loc.skip) continue;
      const rel = [...loc.dir, name, "tasks.md"];
      const st = fileStat(join(root, ...rel));
      if (st)
        out.push({
          file: rel.join("/"),
          scope: name,
          dialect: loc.dialect,
          size: st.size,
          stamp: changeStamp(st),
        });
    }
  }
  return out;
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

/** Reads the given sources, or every one found; a source that cannot be read becomes a diagnostic. */
export function loadTasks(root: string, sources: TaskSource[] = findTaskSources(root)): LoadedTasks {
  const all: LoadedTasks = { tasks: [], diagnostics: [], sources: [] };
  for (const source of sources) {
    const read = readSource(join(root, source.file));
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
    all.sources.push(source);
    all.tasks.push(...one.tasks);
    all.diagnostics.push(...one.diagnostics);
  }
  return all;
}
