// Reading changes straight from their folders (not from the query index: a command that writes must see the
// files as they are now). Keel and OpenSpec layouts alike; a change made by hand, with no change.yaml, is read
// the same way as one Keel scaffolded.
import { type Dirent, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { parseChange, type SourceFile } from "../../format/change.js";
import { contentHash } from "../../model/fingerprint.js";
import { localId, namespaceOf } from "../../model/namespace.js";
import type { Change, Diagnostic, NativeLayout } from "../../model/types.js";
import { projectError, usageError } from "../../workspace/errors.js";
import { isWithin } from "../../workspace/paths.js";
import { readSource } from "../../workspace/read.js";
import { LAYOUT_DIR, type ProjectRoot } from "../../workspace/root.js";
import { type ChangeMeta, META_FILE, OPENSPEC_META_FILE, readMeta } from "./meta.js";

/** Change IDs: kebab-case words, as OpenSpec names change folders. */
export const CHANGE_ID = /^[a-z0-9][a-z0-9._-]*$/;

export interface DeltaFile {
  rel: string;
  capability: string;
  text: string;
}

export interface LoadedChange {
  id: string;
  layout: NativeLayout;
  /** Project-relative folder. */
  dir: string;
  abs: string;
  archived: boolean;
  change: Change;
  diagnostics: Diagnostic[];
  meta: ChangeMeta;
  /** Text of change.yaml, or null when the change has none. */
  metaText: string | null;
  deltas: DeltaFile[];
  /** Hash over every file of the change, to notice a change edited between a read and a write. */
  hash: string;
}

/** The layout's folder, project-relative: `keel`, or in a spec root's view `services/payments/keel`. */
function layoutDir(project: ProjectRoot, layout: NativeLayout): string {
  const root = project.changeRoot;
  return root ? `${root.dir}/${LAYOUT_DIR[layout]}` : LAYOUT_DIR[layout];
}

export function changesDir(project: ProjectRoot, layout: NativeLayout): string {
  return `${layoutDir(project, layout)}/changes`;
}

export function livingSpecsDir(project: ProjectRoot, layout: NativeLayout): string {
  return `${layoutDir(project, layout)}/specs`;
}

export function livingSpecRel(project: ProjectRoot, layout: NativeLayout, capability: string): string {
  return `${livingSpecsDir(project, layout)}/${capability}/spec.md`;
}

/** An ID as the view's own files write it: `payments:PAY-1` is `PAY-1` in payments' view; others as given. */
export function ownId(project: ProjectRoot, id: string): string {
  return project.changeRoot && namespaceOf(id) === project.changeRoot.name ? localId(id) : id;
}

/** An ID as every command shows it: qualified with the view's spec root (`payments:add-refunds`, `payments:PAY-1`). */
export function shownId(project: ProjectRoot, id: string): string {
  return project.changeRoot ? `${project.changeRoot.name}:${id}` : id;
}

export function checkChangeId(id: string): void {
  if (!CHANGE_ID.test(id) || id === "archive") {
    throw usageError(
      `"${id}" is not a change ID`,
      "change IDs are kebab-case: lowercase letters, digits, '-', '.' and '_' (e.g. add-refunds)",
    );
  }
}

/** True when `abs` resolves to a place inside the project (symbolic links are followed only inside it). */
function inside(root: string, abs: string): boolean {
  try {
    const real = realpathSync(abs);
    const rootReal = realpathSync(root);
    return isWithin(rootReal, real);
  } catch {
    return false;
  }
}

function isDir(abs: string): boolean {
  try {
    return statSync(abs).isDirectory();
  } catch {
    return false;
  }
}

function list(abs: string): Dirent[] {
  try {
    return readdirSync(abs, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
  } catch {
    return [];
  }
}

/** Reads a file of the project as text; null when absent. Unreadable or binary input stops the command. */
export function readText(project: ProjectRoot, rel: string): string | null {
  const abs = join(project.root, rel);
  try {
    lstatSync(abs);
  } catch {
    return null;
  }
  if (!inside(project.root, abs)) {
    throw projectError(
      `${rel} is a symbolic link out of the project; Keel does not follow it`,
      "copy the file into the project",
    );
  }
  const r = readSource(abs);
  if (!r.ok) {
    throw projectError(`${rel}: ${r.problem.message}`, r.problem.hint, {
      file: rel,
      line: r.problem.line,
      col: r.problem.col,
    });
  }
  return r.text;
}

export interface ChangeRefOnDisk {
  id: string;
  layout: NativeLayout;
  dir: string;
  archived: boolean;
}

/** Every change folder, open ones first (by layout, then name), then archived ones. */
export function changeFolders(project: ProjectRoot, archived = false): ChangeRefOnDisk[] {
  const open: ChangeRefOnDisk[] = [];
  const done: ChangeRefOnDisk[] = [];
  for (const layout of project.native) {
    const base = changesDir(project, layout);
    const abs = join(project.root, base);
    if (!isDir(abs) || !inside(project.root, abs)) continue;
    for (const e of list(abs)) {
      if (e.name.startsWith(".") || !isDir(join(abs, e.name)) || !inside(project.root, join(abs, e.name)))
        continue;
      if (e.name === "archive") {
        if (!archived) continue;
        for (const a of list(join(abs, "archive"))) {
          const dir = `${base}/archive/${a.name}`;
          if (!a.name.startsWith(".") && isDir(join(project.root, dir))) {
            done.push({ id: archivedId(a.name), layout, dir, archived: true });
          }
        }
      } else open.push({ id: e.name, layout, dir: `${base}/${e.name}`, archived: false });
    }
  }
  return [...open, ...done];
}

/** `2026-11-21-add-refunds` → `add-refunds`. */
export function archivedId(folder: string): string {
  const m = /^\d{4}-\d{2}-\d{2}-(.+)$/.exec(folder);
  return m ? (m[1] as string) : folder;
}

/**
 * Finds a change by ID: an open change first; else an archived one, by its ID or its folder name
 * (`2026-11-21-add-refunds`). Null when there is none.
 */
export function findChangeFolder(project: ProjectRoot, given: string): ChangeRefOnDisk | null {
  const id = ownId(project, given);
  const all = changeFolders(project, true);
  return (
    all.find((c) => !c.archived && c.id === id) ??
    all
      .filter((c) => c.archived && (c.id === id || c.dir.endsWith(`/${id}`)))
      .sort((a, b) => (a.dir < b.dir ? 1 : -1))[0] ??
    null
  );
}

export function loadChange(project: ProjectRoot, ref: ChangeRefOnDisk): LoadedChange {
  const abs = join(project.root, ref.dir);
  const file = (name: string): SourceFile | null => {
    const rel = `${ref.dir}/${name}`;
    const text = readText(project, rel);
    return text === null ? null : { file: rel, text };
  };
  const proposal = file("proposal.md");
  const tasks = file("tasks.md");
  const keelMeta = file(META_FILE);
  const openspecMeta = keelMeta ? null : file(OPENSPEC_META_FILE);
  const deltas: DeltaFile[] = [];
  const walk = (dirRel: string, capability: string) => {
    for (const e of list(join(project.root, dirRel))) {
      const rel = `${dirRel}/${e.name}`;
      if (e.name === "spec.md" && capability !== "") {
        const text = readText(project, rel);
        if (text !== null) deltas.push({ rel, capability, text });
      } else if (
        !e.name.startsWith(".") &&
        isDir(join(project.root, rel)) &&
        inside(project.root, join(project.root, rel))
      ) {
        walk(rel, capability ? `${capability}/${e.name}` : e.name);
      }
    }
  };
  walk(`${ref.dir}/specs`, "");
  const id = shownId(project, ref.id);
  const parsed = parseChange({
    id,
    dir: ref.dir,
    archived: ref.archived,
    layout: ref.layout,
    proposal,
    tasks,
    meta: keelMeta ?? openspecMeta,
    deltas: deltas.map((d) => ({ file: d.rel, text: d.text, capability: d.capability })),
  });
  const meta = readMeta(keelMeta?.text ?? null);
  const hashInput = [
    proposal,
    tasks,
    keelMeta,
    openspecMeta,
    ...deltas.map((d) => ({ file: d.rel, text: d.text })),
  ]
    .map((f) => (f ? `${f.file}\u0000${f.text}` : "-"))
    .join("\u0001");
  return {
    id,
    layout: ref.layout,
    dir: ref.dir,
    abs,
    archived: ref.archived,
    change: parsed.change,
    diagnostics: parsed.diagnostics,
    meta,
    metaText: keelMeta?.text ?? null,
    deltas,
    hash: contentHash(hashInput),
  };
}

/** The change's status: archived means applied; otherwise change.yaml's status, else draft. */
export function changeStatus(c: LoadedChange): string {
  if (c.archived) return "applied";
  return c.meta.status ?? c.change.status;
}

export function requireChange(project: ProjectRoot, id: string): LoadedChange {
  checkChangeId(ownId(project, id));
  const ref = findChangeFolder(project, id);
  if (!ref) {
    const open = changeFolders(project)
      .map((c) => shownId(project, c.id))
      .slice(0, 8);
    throw usageError(
      `no change "${id}"`,
      open.length > 0
        ? `open changes: ${open.join(", ")}`
        : "there are no open changes; create one with `keel change new <name>`",
    );
  }
  return loadChange(project, ref);
}

export function openChanges(project: ProjectRoot): LoadedChange[] {
  return changeFolders(project).map((ref) => loadChange(project, ref));
}
