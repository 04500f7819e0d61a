// `keel import <layout>`: a Spec Kit, Kiro, Task Master or Beads project written as a Keel layout beside it.
// Specs become keel/specs/<feature>/spec.md, Spec Kit's constitution keel/constitution.md (when keel/ has none),
// tasks keel/specs/<scope>/tasks.md; keel/keel.yaml is created when missing. Every file is planned and checked
// before any is written, and none that exists is overwritten.
// @req LAY-12
import { lstatSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { parseDocument } from "yaml";
import { parseConstitutionOf, parseSpecOf } from "../../format/layouts/index.js";
import { type SidecarEntries, withSidecar } from "../../format/layouts/sidecar.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { CONFIG_FILE, configWithImported } from "../../workspace/config.js";
import { discover, type SourceEntry } from "../../workspace/discover.js";
import { projectError, usageError } from "../../workspace/errors.js";
import { readSource } from "../../workspace/read.js";
import { findProjectRoot, type ImportableLayout } from "../../workspace/root.js";
import { loadSidecars } from "../../workspace/sidecars.js";
import { configTemplate } from "../init.js";
import { taskSourceOf } from "../tasks/discovered.js";
import { type LoadedTask, loadTasks } from "../tasks/load.js";
import { keelConstitutionText } from "./keel-constitution.js";
import { keelSpecText } from "./keel-spec.js";
import { keelTasksText } from "./keel-tasks.js";
import { checkTargets, type PlannedFile, writePlanned } from "./plan.js";

export const KEEL_CONSTITUTION = "keel/constitution.md";

export interface ImportReport {
  version: 1;
  layout: ImportableLayout;
  root: string;
  dryRun: boolean;
  /** Files written (or, with --dry-run, that would be), in the order written. */
  files: Array<Omit<PlannedFile, "content">>;
  /** Files of the source left where they are, with why. */
  kept: Array<{ file: string; reason: string }>;
  counts: { specs: number; requirements: number; principles: number; taskFiles: number; tasks: number };
}

export interface ImportOptions {
  /** Treat `start` as the project root rather than searching upwards. */
  explicitRoot: boolean;
  dryRun: boolean;
  /** Told the source files converted so far, of all of them, as the import reads them. */
  onProgress?: (done: number, total: number) => void;
}

export function importLayout(start: string, layout: ImportableLayout, options: ImportOptions): ImportReport {
  const project = findProjectRoot(start, options.explicitRoot);
  if (!project.layouts.includes(layout)) {
    throw usageError(
      `no ${layout} project in ${project.root} (found: ${project.layouts.join(", ")})`,
      "run keel import in the project's folder, or name the layout it has",
    );
  }
  const { root } = project;
  const entries = discover(project).files.filter((e) => e.layout === layout && !e.change);
  const sidecars = loadSidecars(project);
  const kept: ImportReport["kept"] = [];
  const specs = entries.filter((e) => e.role === "spec");
  const files: PlannedFile[] = [
    ...specs.map((e, i) => {
      const planned = specFile(e, sidecars.byLayout.get(layout));
      options.onProgress?.(i + 1, specs.length);
      return planned;
    }),
    ...constitutionFile(root, entries, kept),
    ...taskFiles(root, entries),
  ];
  if (files.length === 0) {
    throw projectError(
      `the ${layout} project in ${root} has no spec, constitution or task that Keel reads; nothing to import`,
      "check the layout's files with `keel status`",
    );
  }
  // keel.yaml records the layout as imported, so that Keel then reads keel/'s copy and not the toolkit's files
  // (every ID would be there twice). It is the one file import edits rather than creates: one key is added.
  const configPath = join(root, CONFIG_FILE);
  const existing = exists(configPath) ? readConfigText(configPath) : null;
  if (existing === null) {
    files.unshift({
      file: CONFIG_FILE,
      kind: "config",
      count: 0,
      content: configWithImported(configTemplate(basename(root)), layout),
    });
  }
  if (options.dryRun) checkTargets(root, files, "keel import");
  else {
    writePlanned(root, files, "keel import");
    if (existing !== null) writeFileAtomic(configPath, configWithImported(existing, layout));
  }
  const count = (kind: PlannedFile["kind"]) => files.filter((f) => f.kind === kind);
  return {
    version: 1,
    layout,
    root,
    dryRun: options.dryRun,
    files: files.map(({ content: _content, ...rest }) => rest),
    kept,
    counts: {
      specs: count("spec").length,
      requirements: sum(count("spec")),
      principles: sum(count("constitution")),
      taskFiles: count("tasks").length,
      tasks: sum(count("tasks")),
    },
  };
}

/** One spec, with the status and provenance Keel kept for it in its side file (workspace/sidecars.ts). */
function specFile(entry: SourceEntry, entries: SidecarEntries | undefined): PlannedFile {
  const read = parseSpecOf(entry.layout, readText(entry), entry.rel, entry.capability as string);
  const parsed = { ...read, spec: withSidecar(read.spec, entries) };
  return {
    file: `keel/specs/${entry.capability as string}/spec.md`,
    kind: "spec",
    from: entry.rel,
    count: parsed.spec.requirements.length,
    content: keelSpecText(parsed),
  };
}

/** The layout's constitution, unless keel/ has its own: Keel's wins, and it is never overwritten. */
function constitutionFile(root: string, entries: SourceEntry[], kept: ImportReport["kept"]): PlannedFile[] {
  const entry = entries.find((e) => e.role === "constitution");
  if (!entry) return [];
  if (exists(join(root, KEEL_CONSTITUTION))) {
    kept.push({ file: entry.rel, reason: `${KEEL_CONSTITUTION} exists; Keel's own constitution is kept` });
    return [];
  }
  const text = readText(entry);
  const { constitution } = parseConstitutionOf(entry.layout, text, entry.rel);
  return [
    {
      file: KEEL_CONSTITUTION,
      kind: "constitution",
      from: entry.rel,
      count: constitution.principles.length,
      content: keelConstitutionText(constitution, text),
    },
  ];
}

/** One tasks.md per scope (a feature, a Task Master tag, `beads`), in the order the sources list them. */
/** The layout's task files, from the entries discovery found (the files the rest of the import reads). */
function taskFiles(root: string, entries: readonly SourceEntry[]): PlannedFile[] {
  const sources = entries.flatMap((e) => taskSourceOf(e) ?? []);
  const byScope = new Map<string, LoadedTask[]>();
  for (const t of loadTasks(root, sources).tasks) {
    const list = byScope.get(t.scope);
    if (list) list.push(t);
    else byScope.set(t.scope, [t]);
  }
  return [...byScope].map(([scope, tasks]) => ({
    file: `keel/specs/${scope}/tasks.md`,
    kind: "tasks" as const,
    from: (tasks[0] as LoadedTask).file,
    count: tasks.length,
    content: keelTasksText(scope, tasks),
  }));
}

function readText(entry: SourceEntry): string {
  const read = readSource(entry.abs, entry.size);
  if (read.ok) return read.text;
  throw projectError(`cannot import ${entry.rel}: ${read.problem.message}`, read.problem.hint, {
    file: entry.rel,
    line: read.problem.line,
    col: read.problem.col,
  });
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function sum(files: PlannedFile[]): number {
  return files.reduce((n, f) => n + f.count, 0);
}

/** keel.yaml's text, refused (nothing written) when it is not YAML: import adds a key to it. */
function readConfigText(path: string): string {
  const text = readFileSync(path, "utf8");
  if (parseDocument(text).errors.length > 0) {
    throw projectError(
      `${CONFIG_FILE} is not valid YAML; keel import records the import there, so nothing was written`,
      "fix keel/keel.yaml (keel validate names the line), then run keel import again",
      { file: CONFIG_FILE, line: 1, col: 1 },
    );
  }
  return text;
}
