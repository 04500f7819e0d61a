// Discovers the project's intent files for each layout, without following any path out of the project.
// @req OSC-2, OSC-3, OSC-5
import { type Dirent, existsSync, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import type { Layout, NativeLayout } from "../model/types.js";
import { memoUntilChange } from "./freshness.js";
import { isWithin, realpathOrNull } from "./paths.js";
import { LAYOUT_DIR, type ProjectRoot } from "./root.js";
import { rootsSignature } from "./spec-roots.js";

export type FileRole =
  | "spec"
  | "constitution"
  | "proposal"
  | "tasks"
  | "design"
  | "change-meta"
  | "delta"
  | "contract"
  | "checklist"
  | "steering";

export interface ChangeRef {
  id: string;
  /** Project-relative folder of the change. */
  dir: string;
  archived: boolean;
}

export interface SourceEntry {
  rel: string;
  abs: string;
  role: FileRole;
  layout: Layout;
  /**
   * For specs and deltas: the capability (folder path under specs/, joined with "/"). For a capability's
   * `tasks.md` (role "tasks", no change): that capability; for a Spec Kit or Kiro feature's files: the feature
   * folder; for Task Master's and Beads' task files: the layout's name (Task Master's tags scope its tasks).
   */
  capability?: string;
  change?: ChangeRef;
  size: number;
  /** Change stamp: the later of mtime and ctime (see `changeStamp`). */
  mtimeMs: number;
}

export interface DiscoveryProblem {
  rule: string;
  file: string;
  message: string;
  hint: string;
}

export interface Discovery {
  files: SourceEntry[];
  /** Change folders, including ones with no files yet, so an empty change is still seen. */
  changes: Array<ChangeRef & { layout: NativeLayout }>;
  problems: DiscoveryProblem[];
  /**
   * Every folder read, with its mtime. A folder's mtime moves when an entry is added, removed or renamed
   * in it, so re-checking these plus the files' own stats tells whether anything changed, without a walk.
   */
  dirs: Array<{ rel: string; mtimeMs: number }>;
}

/**
 * The files of a feature folder of Spec Kit (`specs/<feature>/`) and Kiro (`.kiro/specs/<feature>/`), by name;
 * `folders` are walked whole (Spec Kit's `contracts/` and `checklists/`).
 */
interface FeatureLayout {
  base: string;
  files: Record<string, FileRole>;
  folders: Record<string, FileRole>;
}

const FEATURE_LAYOUTS: Partial<Record<Layout, FeatureLayout>> = {
  speckit: {
    base: "specs",
    files: {
      "spec.md": "spec",
      "tasks.md": "tasks",
      "plan.md": "design",
      "research.md": "design",
      "data-model.md": "design",
      "quickstart.md": "design",
    },
    folders: { contracts: "contract", checklists: "checklist" },
  },
  kiro: {
    base: ".kiro/specs",
    files: { "requirements.md": "spec", "design.md": "design", "tasks.md": "tasks" },
    folders: {},
  },
};

/** Single files of a layout, the first that exists of each list (Spec Kit's newer path before its older one). */
const LAYOUT_FILES: Partial<Record<Layout, Array<{ paths: string[]; role: FileRole; capability?: string }>>> =
  {
    speckit: [{ paths: [".specify/memory/constitution.md", "memory/constitution.md"], role: "constitution" }],
    taskmaster: [
      {
        paths: [".taskmaster/tasks/tasks.json", "tasks/tasks.json"],
        role: "tasks",
        capability: "taskmaster",
      },
    ],
    beads: [{ paths: [".beads/issues.jsonl"], role: "tasks", capability: "beads" }],
  };

/** Kiro's steering files: every Markdown file of the folder. */
const STEERING_DIR = ".kiro/steering";

const CHANGE_FILES: Record<string, FileRole> = {
  "proposal.md": "proposal",
  "tasks.md": "tasks",
  "design.md": "design",
  ".openspec.yaml": "change-meta",
  "change.yaml": "change-meta",
};

/**
 * The project's intent files, by a walk; a process with a watcher keeps the last walk until the watcher sees a
 * change (workspace/freshness.ts). The result is shared then: callers read it and never change it.
 */
export function discover(project: ProjectRoot): Discovery {
  const key = `discover:${project.layouts.join()}:${project.native.join()}${rootsSignature(project.roots)}`;
  return memoUntilChange(project.root, key, () => walkProject(project));
}

function walkProject(project: ProjectRoot): Discovery {
  const walker = new Walker(project.root);
  const out: Discovery = { files: [], changes: [], problems: walker.problems, dirs: walker.dirs };
  walkLayouts(walker, project, out);
  // Each spec root's layouts as the top level's, with its files' paths still repository-relative (spec-roots.ts).
  for (const root of project.roots) walkLayouts(walker.enter(root.abs, root.name), root, out);
  out.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

function walkLayouts(walker: Walker, project: Pick<ProjectRoot, "layouts" | "native">, out: Discovery): void {
  for (const layout of project.native) {
    const base = join(walker.base, LAYOUT_DIR[layout]);
    // The fixed paths are checked like every other entry: a link out of the project is reported, not read.
    if (!walker.followable(base)) continue;
    walker.recordDir(base);
    const constitution = join(base, "constitution.md");
    if (layout === "keel" && walker.followable(constitution)) {
      walker.addFile(constitution, { role: "constitution", layout }, out.files, true);
    }
    const specsDir = join(base, "specs");
    if (walker.followable(specsDir)) walker.walkSpecs(specsDir, "", layout, "spec", undefined, out.files);
    const changesDir = join(base, "changes");
    for (const entry of walker.followable(changesDir) ? walker.list(changesDir) : []) {
      // Hidden folders (`.git`-like tool state) are not changes; OpenSpec skips them too.
      if (entry.name.startsWith(".") || !walker.isDir(changesDir, entry)) continue;
      if (entry.name === "archive") {
        const archiveDir = join(changesDir, "archive");
        for (const a of walker.list(archiveDir)) {
          if (walker.isDir(archiveDir, a))
            walker.walkChange(join(archiveDir, a.name), a.name, true, layout, out);
        }
      } else walker.walkChange(join(changesDir, entry.name), entry.name, false, layout, out);
    }
  }
  for (const layout of project.layouts) {
    const features = FEATURE_LAYOUTS[layout];
    if (features) walker.walkFeatures(features, layout, out.files);
    for (const file of LAYOUT_FILES[layout] ?? []) walker.addFirst(file, layout, out.files);
    if (layout === "kiro") walker.walkFlat(STEERING_DIR, "steering", layout, out.files);
  }
}

// @req VAL-19
class Walker {
  readonly problems: DiscoveryProblem[] = [];
  readonly dirs: Discovery["dirs"] = [];
  private readonly visited = new Set<string>();
  /** The folder whose layouts are walked: the project's root, or a spec root's folder. */
  base: string;
  /** The spec root walked, whose name qualifies its capabilities and change IDs; null at the top level. */
  private namespace: string | null = null;

  constructor(private readonly root: string) {
    this.visited.add(realpathOrNull(root) ?? root);
    this.base = root;
  }

  /** Walks a spec root's folder next; paths stay relative to the project, links must stay inside it. */
  enter(base: string, namespace: string): this {
    this.base = base;
    this.namespace = namespace;
    return this;
  }

  /** A name as a spec root qualifies it (`payments:billing`); as it is at the top level. */
  private qualified(name: string): string {
    return this.namespace === null ? name : `${this.namespace}:${name}`;
  }

  rel(abs: string): string {
    return relative(this.root, abs).split(sep).join("/");
  }

  /** Records a folder that is not listed but whose entries matter (a layout's base: `specs/` may appear). */
  recordDir(dir: string): void {
    try {
      this.dirs.push({ rel: this.rel(dir), mtimeMs: changeStamp(statSync(dir)) });
    } catch {
      // Absent: nothing to watch; the layout set itself is part of the cache signature.
    }
  }

  list(dir: string): Dirent[] {
    try {
      // The folder's mtime is taken before reading it, so an entry added meanwhile shows up as a newer mtime.
      this.dirs.push({ rel: this.rel(dir), mtimeMs: changeStamp(statSync(dir)) });
      return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") {
        this.problems.push({
          rule: "input/unreadable",
          file: this.rel(dir),
          message: `cannot read folder (${code})`,
          hint: "check the folder's permissions",
        });
      }
      return [];
    }
  }

  /** Is the entry a folder we may enter? Symlinks are followed only inside the project, and only once. */
  isDir(parent: string, entry: Dirent): boolean {
    if (entry.isDirectory()) return true;
    if (!entry.isSymbolicLink()) return false;
    const abs = join(parent, entry.name);
    const target = this.checkLink(abs);
    if (!target) return false;
    try {
      if (!statSync(target).isDirectory()) return false;
    } catch {
      return false;
    }
    // A link to the folder holding it, or to any folder above it, would be walked again from inside itself.
    // Real folders are not in `visited`, so this is checked against the link's own location.
    const parentReal = realpathOrNull(parent) ?? parent;
    if (this.visited.has(target) || parentReal === target || parentReal.startsWith(target + sep)) {
      this.problems.push({
        rule: "input/symlink-loop",
        file: this.rel(abs),
        message: "symbolic link loops back to a folder already read",
        hint: "remove the link or point it at a folder outside the loop",
      });
      return false;
    }
    this.visited.add(target);
    return true;
  }

  /** False (and reported) when `abs` is a symbolic link that dangles, loops or leaves the project; true otherwise. */
  followable(abs: string): boolean {
    try {
      if (!lstatSync(abs).isSymbolicLink()) return true;
    } catch {
      return true; // Missing: there is nothing to follow, and the caller treats it as absent.
    }
    return this.checkLink(abs) !== null;
  }

  /** Resolves a link; reports and returns null when it dangles, loops, or leaves the project. */
  private checkLink(abs: string): string | null {
    let target: string;
    try {
      target = realpathSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      this.problems.push({
        rule: code === "ELOOP" ? "input/symlink-loop" : "input/unreadable",
        file: this.rel(abs),
        message: code === "ELOOP" ? "symbolic link loop" : `broken symbolic link (${code})`,
        hint: "remove the link or fix its target",
      });
      return null;
    }
    const rootReal = realpathOrNull(this.root) ?? this.root;
    if (!isWithin(rootReal, target)) {
      this.problems.push({
        rule: "input/outside-project",
        file: this.rel(abs),
        message: "symbolic link points outside the project; Keel does not follow it",
        hint: "copy the file into the project or remove the link",
      });
      return null;
    }
    return target;
  }

  addFile(
    abs: string,
    meta: Pick<SourceEntry, "role" | "layout" | "capability" | "change">,
    into: SourceEntry[],
    optional = false,
  ): void {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOENT" && optional) return;
      if (code === "ELOOP") {
        this.problems.push({
          rule: "input/symlink-loop",
          file: this.rel(abs),
          message: "symbolic link loop",
          hint: "remove the link or fix its target",
        });
        return;
      }
      if (code !== "ENOENT") {
        this.problems.push({
          rule: "input/unreadable",
          file: this.rel(abs),
          message: `cannot read file (${code})`,
          hint: "check the file's permissions",
        });
      }
      return;
    }
    if (!st.isFile()) {
      // A folder (or device, socket…) where a source file belongs: report it rather than silently skip it.
      this.problems.push({
        rule: "input/unreadable",
        file: this.rel(abs),
        message: `cannot read file: it is ${st.isDirectory() ? "a folder" : "not a regular file"}`,
        hint: "rename it, or replace it with a Markdown file",
      });
      return;
    }
    const capability = meta.capability === undefined ? {} : { capability: this.qualified(meta.capability) };
    into.push({ ...meta, ...capability, rel: this.rel(abs), abs, size: st.size, mtimeMs: changeStamp(st) });
  }

  /**
   * Every `spec.md` below `dir`; the capability is the folder path below the specs root. In Keel's living
   * specs, a capability's `tasks.md` too (OpenSpec keeps tasks only in changes).
   */
  walkSpecs(
    dir: string,
    capability: string,
    layout: Layout,
    role: "spec" | "delta",
    change: ChangeRef | undefined,
    into: SourceEntry[],
  ): void {
    for (const entry of this.list(dir)) {
      if (entry.name === "spec.md" && capability !== "") {
        if (entry.isSymbolicLink() && !this.checkLink(join(dir, entry.name))) continue;
        const meta: Pick<SourceEntry, "role" | "layout" | "capability" | "change"> = {
          role,
          layout,
          capability,
        };
        if (change) meta.change = change;
        this.addFile(join(dir, entry.name), meta, into);
      } else if (entry.name === "tasks.md" && capability !== "" && role === "spec" && layout === "keel") {
        if (entry.isSymbolicLink() && !this.checkLink(join(dir, entry.name))) continue;
        this.addFile(join(dir, entry.name), { role: "tasks", layout, capability }, into);
      } else if (!entry.name.startsWith(".") && this.isDir(dir, entry)) {
        this.walkSpecs(
          join(dir, entry.name),
          capability ? `${capability}/${entry.name}` : entry.name,
          layout,
          role,
          change,
          into,
        );
      }
    }
  }

  /** The path (relative to the walked folder) as an absolute one, if every folder on the way may be entered. */
  private reachable(rel: string): string | null {
    const parts = rel.split("/");
    for (let i = 1; i <= parts.length; i++) {
      if (!this.followable(join(this.base, ...parts.slice(0, i)))) return null;
    }
    return join(this.base, ...parts);
  }

  /** Each feature folder below `layout.base`, its known files and folders. */
  walkFeatures(layout: FeatureLayout, name: Layout, into: SourceEntry[]): void {
    const base = this.reachable(layout.base);
    if (!base) return;
    for (const feature of this.list(base)) {
      if (feature.name.startsWith(".") || !this.isDir(base, feature)) continue;
      const dir = join(base, feature.name);
      // Listed rather than probed, so the folder's mtime is recorded and a file added later is seen.
      for (const entry of this.list(dir)) {
        const role = layout.files[entry.name];
        const folderRole = layout.folders[entry.name];
        if (role && !entry.isDirectory()) {
          if (entry.isSymbolicLink() && !this.checkLink(join(dir, entry.name))) continue;
          this.addFile(join(dir, entry.name), { role, layout: name, capability: feature.name }, into);
        } else if (folderRole && this.isDir(dir, entry)) {
          this.walkTree(join(dir, entry.name), folderRole, name, feature.name, into);
        }
      }
    }
  }

  /** Every file below `dir` (a contracts or checklists folder), hidden ones excepted. */
  private walkTree(
    dir: string,
    role: FileRole,
    layout: Layout,
    capability: string,
    into: SourceEntry[],
  ): void {
    for (const entry of this.list(dir)) {
      if (entry.name.startsWith(".")) continue;
      const abs = join(dir, entry.name);
      if (this.isDir(dir, entry)) this.walkTree(abs, role, layout, capability, into);
      else if (!entry.isSymbolicLink() || this.checkLink(abs))
        this.addFile(abs, { role, layout, capability }, into);
    }
  }

  /** The Markdown files directly in a folder (Kiro's steering). */
  walkFlat(rel: string, role: FileRole, layout: Layout, into: SourceEntry[]): void {
    const dir = this.reachable(rel);
    if (!dir) return;
    for (const entry of this.list(dir)) {
      if (entry.name.startsWith(".") || !entry.name.endsWith(".md")) continue;
      if (entry.isSymbolicLink() && !this.checkLink(join(dir, entry.name))) continue;
      this.addFile(join(dir, entry.name), { role, layout }, into);
    }
  }

  /** The first of `file.paths` that exists, as a source; the folders holding each are recorded. */
  addFirst(
    file: { paths: string[]; role: FileRole; capability?: string },
    layout: Layout,
    into: SourceEntry[],
  ): void {
    for (const rel of file.paths) {
      const abs = this.reachable(rel);
      if (!abs) continue;
      // The folder is recorded, so the file appearing (or its older path giving way to the newer) is seen.
      this.recordDir(dirname(abs));
      if (!existsSync(abs)) continue;
      const meta: Pick<SourceEntry, "role" | "layout" | "capability"> = { role: file.role, layout };
      if (file.capability) meta.capability = file.capability;
      this.addFile(abs, meta, into);
      return;
    }
  }

  walkChange(dir: string, id: string, archived: boolean, layout: NativeLayout, out: Discovery): void {
    const ref: ChangeRef = { id: this.qualified(id), dir: this.rel(dir), archived };
    out.changes.push({ ...ref, layout });
    for (const entry of this.list(dir)) {
      const role = CHANGE_FILES[entry.name];
      if (role) {
        if (entry.isSymbolicLink() && !this.checkLink(join(dir, entry.name))) continue;
        this.addFile(join(dir, entry.name), { role, layout, change: ref }, out.files);
      } else if (entry.name === "specs" && this.isDir(dir, entry)) {
        this.walkSpecs(join(dir, "specs"), "", layout, "delta", ref, out.files);
      }
    }
  }
}

/**
 * When a file or folder last changed, for cache checks: the later of mtime and ctime. mtime alone can be
 * set back (`touch -r`, some sync tools) after a same-size edit; ctime moves on every write and cannot be set.
 */
export function changeStamp(st: { mtimeMs: number; ctimeMs: number }): number {
  return Math.max(st.mtimeMs, st.ctimeMs);
}

/**
 * How long after a write a stamp is not trusted: a file changed within the file system's timestamp
 * granularity of the last index write may have changed again without its stamp moving, so it is re-read.
 * 2 s covers the coarsest common file systems (FAT, HFS+). `KEEL_RACY_WINDOW_MS` overrides it.
 */
export const RACY_WINDOW_MS = racyWindow(process.env.KEEL_RACY_WINDOW_MS);

function racyWindow(value: string | undefined): number {
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : 2000;
}
