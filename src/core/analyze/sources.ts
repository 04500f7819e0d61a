// What `keel analyze` reads: every discovered file once — living specs, the constitution, open changes (proposal,
// design, delta specs, tasks) and the other task files — parsed into the model and kept as text for the text
// checks. Files that cannot be read are skipped here; `keel validate` reports them.
import { type ChangeSources, parseChange, type SourceFile } from "../../format/change.js";
import { parseConstitutionOf, parseSpecOf } from "../../format/layouts/index.js";
import { withSidecar } from "../../format/layouts/sidecar.js";
import type { Change, Constitution, Spec } from "../../model/types.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { discover, type SourceEntry } from "../../workspace/discover.js";
import { readSource } from "../../workspace/read.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { loadSidecars } from "../../workspace/sidecars.js";
import { changeSources } from "../change-sources.js";
import { taskSourceOf } from "../tasks/discovered.js";
import { type LoadedTasks, tasksFromText } from "../tasks/load.js";

/** Layouts whose files sit in one folder per feature, where a bare file name names a file beside it. */
const FEATURE_FOLDER_LAYOUTS = new Set(["speckit", "kiro"]);

export type TextKind = "spec" | "delta" | "proposal" | "design" | "tasks" | "constitution";

export interface TextFile {
  rel: string;
  text: string;
  kind: TextKind;
  /**
   * True for files of a change folder or a Spec Kit / Kiro feature folder: there a bare file name (`design.md`)
   * names a file next to it. In living specs and the constitution a bare name is too often generic.
   */
  inWorkFolder: boolean;
}

export interface AnalyzeSources {
  project: ProjectRoot;
  config: KeelConfig;
  specs: Spec[];
  constitution: Constitution | null;
  /** Open changes only. */
  changes: Change[];
  tasks: LoadedTasks;
  /** Every file read, in path order. */
  files: TextFile[];
}

export function readSources(project: ProjectRoot, config: KeelConfig = loadConfig(project)): AnalyzeSources {
  const discovery = discover(project);
  const sidecars = loadSidecars(project);
  const texts = new Map<string, string>();
  const read = (entry: SourceEntry): SourceFile | null => {
    const cached = texts.get(entry.rel);
    if (cached !== undefined) return { file: entry.rel, text: cached };
    const r = readSource(entry.abs, entry.size);
    if (!r.ok) return null;
    texts.set(entry.rel, r.text);
    return { file: entry.rel, text: r.text };
  };
  const specs: Spec[] = [];
  let constitution: Constitution | null = null;
  const files: TextFile[] = [];
  const tasks: LoadedTasks = { tasks: [], diagnostics: [], sources: [] };
  const changeFiles = new Map<string, SourceEntry[]>();

  for (const entry of discovery.files) {
    if (entry.change?.archived) continue;
    if (entry.change) {
      const list = changeFiles.get(entry.change.dir) ?? [];
      list.push(entry);
      changeFiles.set(entry.change.dir, list);
    }
    const kind = textKind(entry);
    if (!kind) continue;
    const src = read(entry);
    if (!src) continue;
    files.push({
      rel: entry.rel,
      text: src.text,
      kind,
      inWorkFolder: entry.change !== undefined || FEATURE_FOLDER_LAYOUTS.has(entry.layout),
    });
    if (kind === "spec") {
      const { spec } = parseSpecOf(entry.layout, src.text, src.file, entry.capability as string);
      specs.push(withSidecar(spec, sidecars.byLayout.get(entry.layout)));
    } else if (kind === "constitution" && (constitution === null || entry.layout === "keel"))
      constitution = parseConstitutionOf(entry.layout, src.text, src.file).constitution;
    const source = taskSourceOf(entry);
    if (source) {
      const one = tasksFromText(source, src.text);
      tasks.sources.push(...one.sources);
      tasks.tasks.push(...one.tasks);
      tasks.diagnostics.push(...one.diagnostics);
    }
  }

  const changes: Change[] = [];
  for (const ref of discovery.changes) {
    if (ref.archived) continue;
    const sources: ChangeSources = changeSources(ref, changeFiles.get(ref.dir) ?? [], read);
    changes.push(parseChange(sources).change);
  }
  return { project, config, specs, constitution, changes, tasks, files };
}

function textKind(entry: SourceEntry): TextKind | null {
  switch (entry.role) {
    case "spec":
      return "spec";
    case "delta":
      return "delta";
    case "proposal":
      return "proposal";
    case "design":
      return "design";
    case "tasks":
      return "tasks";
    case "constitution":
      return "constitution";
    default:
      return null;
  }
}
