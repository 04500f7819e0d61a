// Finding the project: the nearest folder (upwards) that holds Keel's or OpenSpec's layout.
// @req OSC-1
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Layout } from "../model/types.js";
import { projectError } from "./errors.js";

export interface ProjectRoot {
  root: string;
  /** Layouts present, Keel's first. A project may hold both while it migrates. */
  layouts: Layout[];
}

export const LAYOUT_DIR: Record<Layout, string> = { keel: "keel", openspec: "openspec" };

export function detectLayouts(dir: string): Layout[] {
  const out: Layout[] = [];
  if (existsSync(join(dir, "keel", "keel.yaml")) || isDir(join(dir, "keel", "specs"))) out.push("keel");
  if (isDir(join(dir, "openspec", "specs")) || isDir(join(dir, "openspec", "changes"))) out.push("openspec");
  return out;
}

/** Walks up from `start` to the first folder with a layout. With `explicit`, `start` itself must be one. */
export function findProjectRoot(start: string, explicit = false): ProjectRoot {
  return walkUp(start, explicit);
}

/**
 * Where task files are read: a Keel or OpenSpec project, or else a project of a peer that keeps only tasks
 * Keel reads natively — Spec Kit's (`.specify/`) or Kiro's (`.kiro/specs/`). Such a root has no layouts.
 */
export function findTasksRoot(start: string, explicit = false): ProjectRoot {
  return walkUp(start, explicit, (dir) => isDir(join(dir, ".specify")) || isDir(join(dir, ".kiro", "specs")));
}

function walkUp(start: string, explicit: boolean, foreign?: (dir: string) => boolean): ProjectRoot {
  let dir = resolve(start);
  if (!isDir(dir)) {
    throw projectError(
      `project folder not found: ${start}`,
      "pass an existing folder with --root, or cd into the project",
    );
  }
  for (;;) {
    const layouts = detectLayouts(dir);
    if (layouts.length > 0 || foreign?.(dir)) return { root: dir, layouts };
    const parent = dirname(dir);
    if (explicit || parent === dir) break;
    dir = parent;
  }
  throw projectError(
    `no Keel or OpenSpec project found in ${resolve(start)}${explicit ? "" : " or any parent folder"}`,
    foreign
      ? "run Keel inside a project that has keel/, openspec/, .specify/ (Spec Kit) or .kiro/specs/ (Kiro)"
      : "run `keel init` to create keel/, or run Keel inside a project that has keel/ or openspec/",
  );
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
