// Discovers the project's intent files for each layout, without following any path out of the project.
// @req OSC-2, OSC-3, OSC-5
import { type Dirent, lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Layout } from "../model/types.js";
import { isWithin, realpathOrNull } from "./paths.js";
import { LAYOUT_DIR, type ProjectRoot } from "./root.js";

export type FileRole = "spec" | "constitution" | "proposal" | "tasks" | "design" | "change-meta" | "delta";

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
   * `tasks.md` (role "tasks", no change): that capability; for a Spec Kit or Kiro `tasks.md`: the feature folder.
   */
  capability?: string;
  /**
   * Set on the `tasks.md` of a Spec Kit feature (`specs/<feature>/`) or a Kiro spec (`.kiro/specs/<feature>/`),
   * which belong to no layout (their `layout` is "keel" and means nothing).
   */
  taskDialect?: ForeignTaskDialect;
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
  changes: Array<ChangeRef & { layout: Layout }>;
  problems: DiscoveryProblem[];
  /**
   * Every folder read, with its mtime. A folder's mtime moves when an entry is added, removed or renamed
   * in it, so re-checking these plus the files' own stats tells whether anything changed, without a walk.
   */
  dirs: Array<{ rel: string; mtimeMs: number }>;
}

export type ForeignTaskDialect = "speckit" | "kiro";

/**
 * Folders of other toolkits whose `<feature>/tasks.md` Keel reads, relative to the project root. They are
 * walked only when they exist; whether they exist is part of the validation cache's signature
 * (`foreignTaskRoots`), so creating one is seen without watching the project root itself.
 */
export const FOREIGN_TASK_DIRS: ReadonlyArray<{ dir: string; dialect: ForeignTaskDialect }> = [
  { dir: "specs", dialect: "speckit" },
  { dir: ".kiro/specs", dialect: "kiro" },
];

/** Which of FOREIGN_TASK_DIRS exist, as a short signature ("" when none): one stat each. */
export function foreignTaskRoots(root: string): string {
  return FOREIGN_TASK_DIRS.filter(({ dir }) => {
    try {
      return statSync(join(root, dir)).isDirectory();
    } catch {
      return false;
    }
  })
    .map((d) => d.dialect)
    .join(",");
}

const CHANGE_FILES: Record<string, FileRole> = {
  "proposal.md": "proposal",
  "tasks.md": "tasks",
  "design.md": "design",
  ".openspec.yaml": "change-meta",
  "change.yaml": "change-meta",
};

export function discover(project: ProjectRoot): Discovery {
  const walker = new Walker(project.root);
  const out: Discovery = { files: [], changes: [], problems: walker.problems, dirs: walker.dirs };
  for (const layout of project.layouts) {
    const base = join(project.root, LAYOUT_DIR[layout]);
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
  for (const { dir, dialect } of FOREIGN_TASK_DIRS) {
    const base = join(project.root, dir);
    // Absent (the common case) costs a failed stat or two; nothing is recorded then. Each folder on the way
    // (`.kiro`, then `.kiro/specs`) must not be a link out of the project.
    const parts = dir.split("/");
    if (!parts.every((_, i) => walker.followable(join(project.root, ...parts.slice(0, i + 1))))) continue;
    for (const feature of walker.list(base)) {
      if (feature.name.startsWith(".") || !walker.isDir(base, feature)) continue;
      const featureDir = join(base, feature.name);
      // Listed rather than probed, so the folder's mtime is recorded and a tasks.md added later is seen.
      for (const entry of walker.list(featureDir)) {
        if (entry.name !== "tasks.md") continue;
        if (entry.isSymbolicLink() && !walker.followable(join(featureDir, entry.name))) continue;
        walker.addFile(
          join(featureDir, entry.name),
          { role: "tasks", layout: "keel", capability: feature.name, taskDialect: dialect },
          out.files,
        );
      }
    }
  }
  out.files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return out;
}

// @req VAL-19
class Walker {
  readonly problems: DiscoveryProblem[] = [];
  readonly dirs: Discovery["dirs"] = [];
  private readonly visited = new Set<string>();

  constructor(private readonly root: string) {
    this.visited.add(realpathOrNull(root) ?? root);
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
    meta: Pick<SourceEntry, "role" | "layout" | "capability" | "change" | "taskDialect">,
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
    into.push({ ...meta, rel: this.rel(abs), abs, size: st.size, mtimeMs: changeStamp(st) });
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

  walkChange(dir: string, id: string, archived: boolean, layout: Layout, out: Discovery): void {
    const ref: ChangeRef = { id, dir: this.rel(dir), archived };
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
