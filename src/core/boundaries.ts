// `keel boundaries check`: the files changed since a base — committed since it, staged, unstaged or untracked —
// against the globs a task may touch (its `boundaries:`). A file no glob matches is a violation, whatever the
// change (added, modified, deleted). Globs are picomatch globs over project-relative paths (dot files included);
// a folder written `src/db/` means everything under it. The task's own tasks.md is exempt: Keel writes its
// checkbox when the task is done. Files of the repository outside the project (`../lib/x.ts`) are violations.
// @req TRC-7
import picomatch from "picomatch";
import { KeelError, projectError, usageError } from "../workspace/errors.js";
import {
  type ChangedFile,
  changedFiles,
  defaultBase,
  isGitRepo,
  resolveCommit,
} from "../workspace/git-tree.js";
import type { LoadedTask } from "./tasks/load.js";
import { boundaryGlob } from "./tasks/overlap.js";

export interface CheckedFile extends ChangedFile {
  /** The first boundary glob that matches, or null. */
  glob: string | null;
  /** Exempt from the check (the task's own tasks.md). */
  exempt: boolean;
}

export interface BoundaryReport {
  task: string;
  /** The globs as written. */
  boundaries: string[];
  /** False when the task declares no boundaries: nothing was compared. */
  checked: boolean;
  base: { rev: string | null; commit: string | null; how: string };
  files: CheckedFile[];
  violations: CheckedFile[];
}

export function checkBoundaries(
  root: string,
  task: LoadedTask,
  baseRev: string | null = null,
): BoundaryReport {
  const key = task.key;
  if (task.boundaries.length === 0) {
    // Nothing to compare: not even git is needed.
    return {
      task: key,
      boundaries: [],
      checked: false,
      base: { rev: baseRev, commit: null, how: "not compared" },
      files: [],
      violations: [],
    };
  }
  if (!isGitRepo(root)) {
    throw projectError(
      `${root} is not in a git repository: boundaries compare the files git sees changed`,
      "run it inside a git work tree",
    );
  }
  let base: BoundaryReport["base"];
  if (baseRev !== null) {
    const commit = resolveCommit(root, baseRev);
    if (commit === null)
      throw usageError(`--base ${baseRev} names no commit`, "pass a branch, tag or commit, e.g. --base main");
    base = { rev: baseRev, commit, how: `--base ${baseRev}` };
  } else {
    const d = defaultBase(root);
    base = { rev: null, commit: d.commit, how: d.how };
  }
  const globs = task.boundaries.map((b) => ({ raw: b, glob: boundaryGlob(b) }));
  if (globs.length === 0)
    return { task: key, boundaries: [], checked: false, base, files: [], violations: [] };
  const matchers = globs
    .filter((g): g is { raw: string; glob: string } => g.glob !== null)
    .map((g) => {
      try {
        return { raw: g.raw, test: picomatch(g.glob, { dot: true }) };
      } catch (e) {
        throw new KeelError(
          `boundary glob "${g.raw}" of task ${key} cannot be read: ${(e as Error).message}`,
          1,
          "fix the glob in the task's boundaries",
          { file: task.file, line: task.line, col: 1 },
          "boundaries-bad-glob",
        );
      }
    });
  const files = changedFiles(root, base.commit).map((f): CheckedFile => {
    const exempt = f.path === task.file;
    const hit = f.path.startsWith("../") ? undefined : matchers.find((m) => m.test(f.path));
    return { ...f, glob: hit?.raw ?? null, exempt };
  });
  return {
    task: key,
    boundaries: task.boundaries,
    checked: true,
    base,
    files,
    violations: files.filter((f) => f.glob === null && !f.exempt),
  };
}
