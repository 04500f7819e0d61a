// Loads a whole project into the model: every spec, the constitution and every change, with parse diagnostics.
import { parseChange, type SourceFile } from "../format/change.js";
import { parseConstitutionOf, parseSpecOf } from "../format/layouts/index.js";
import { withSidecar } from "../format/layouts/sidecar.js";
import type { Change, Constitution, Diagnostic, Spec } from "../model/types.js";
import { type KeelConfig, loadConfig } from "../workspace/config.js";
import { type Discovery, discover, type SourceEntry } from "../workspace/discover.js";
import { FileMemo } from "../workspace/file-memo.js";
import { readSource } from "../workspace/read.js";
import { findProjectRoot, type ProjectRoot } from "../workspace/root.js";
import { loadSidecars } from "../workspace/sidecars.js";
import { changeSources } from "./change-sources.js";

export interface LoadedProject {
  project: ProjectRoot;
  config: KeelConfig;
  discovery: Discovery;
  specs: Spec[];
  constitution: Constitution | null;
  changes: Change[];
  /** Parse diagnostics and unreadable-input problems, as diagnostics with positions. */
  diagnostics: Diagnostic[];
}

export interface LoadOptions {
  /** Treat `start` as the root itself instead of searching upwards. */
  explicitRoot?: boolean;
  includeArchived?: boolean;
}

/** Specs and constitutions parsed by this process, reused while unchanged (see FileMemo). */
const parsedSpecs = new FileMemo<ReturnType<typeof parseSpecOf>>();
const parsedConstitutions = new FileMemo<ReturnType<typeof parseConstitutionOf>>();

/** Parses a file with `parse`, or reuses what this process parsed from it while it is unchanged. */
function memoized<T>(memo: FileMemo<T>, entry: SourceEntry, parse: () => T | null): T | null {
  const known = memo.get(entry.abs, entry.size, entry.mtimeMs);
  if (known) return known;
  const parsed = parse();
  if (parsed) memo.set(entry.abs, entry.size, entry.mtimeMs, parsed);
  return parsed;
}

export function loadProject(start: string, options: LoadOptions = {}): LoadedProject {
  const project = findProjectRoot(start, options.explicitRoot ?? false);
  const config = loadConfig(project);
  const discovery = discover(project);
  const diagnostics: Diagnostic[] = discovery.problems.map((p) => ({
    rule: p.rule,
    severity: "error",
    message: p.message,
    hint: p.hint,
    span: { file: p.file, start: { line: 1, col: 1, offset: 0 }, end: { line: 1, col: 1, offset: 0 } },
  }));
  const read = (entry: SourceEntry): SourceFile | null => {
    const r = readSource(entry.abs, entry.size);
    if (r.ok) return { file: entry.rel, text: r.text };
    const at = { line: r.problem.line, col: r.problem.col, offset: 0 };
    diagnostics.push({
      rule: r.problem.rule,
      severity: "error",
      message: r.problem.message,
      hint: r.problem.hint,
      span: { file: entry.rel, start: at, end: at },
    });
    return null;
  };

  const sidecars = loadSidecars(project);
  diagnostics.push(...sidecars.diagnostics);
  const specs: Spec[] = [];
  let constitution: Constitution | null = null;
  const changeFiles = new Map<string, SourceEntry[]>();
  for (const entry of discovery.files) {
    if (entry.change) {
      const list = changeFiles.get(entry.change.dir) ?? [];
      list.push(entry);
      changeFiles.set(entry.change.dir, list);
      continue;
    }
    // Task files outside changes (a capability's, Spec Kit's, Kiro's) are read by core/tasks, not here.
    if (entry.role === "spec") {
      const parsed = memoized(parsedSpecs, entry, () => {
        const src = read(entry);
        return src && parseSpecOf(entry.layout, src.text, src.file, entry.capability as string);
      });
      if (!parsed) continue;
      specs.push(withSidecar(parsed.spec, sidecars.byLayout.get(entry.layout)));
      diagnostics.push(...parsed.diagnostics);
    } else if (entry.role === "constitution") {
      const parsed = memoized(parsedConstitutions, entry, () => {
        const src = read(entry);
        return src && parseConstitutionOf(entry.layout, src.text, src.file);
      });
      if (!parsed) continue;
      // Keel's own constitution wins over a toolkit's (Spec Kit's), which is read when it is the only one.
      if (constitution === null || entry.layout === "keel") constitution = parsed.constitution;
      diagnostics.push(...parsed.diagnostics);
    }
  }

  const changes: Change[] = [];
  for (const ref of discovery.changes) {
    if (ref.archived && !options.includeArchived) continue;
    const files = changeFiles.get(ref.dir) ?? [];
    const parsed = parseChange(changeSources(ref, files, read));
    changes.push(parsed.change);
    diagnostics.push(...parsed.diagnostics);
  }
  return { project, config, discovery, specs, constitution, changes, diagnostics };
}
