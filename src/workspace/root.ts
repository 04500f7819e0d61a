// Finding the project: the nearest folder (upwards) that holds Keel's or OpenSpec's layout.
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
  let dir = resolve(start);
  if (!isDir(dir)) {
    throw projectError(
      `project folder not found: ${start}`,
      "pass an existing folder with --root, or cd into the project",
    );
  }
  for (;;) {
    const layouts = detectLayouts(dir);
    if (layouts.length > 0) return { root: dir, layouts };
    const parent = dirname(dir);
    if (explicit || parent === dir) break;
    dir = parent;
  }
  throw projectError(
    `no Keel or OpenSpec project found in ${resolve(start)}${explicit ? "" : " or any parent folder"}`,
    "run `keel init` to create keel/, or run Keel inside a project that has keel/ or openspec/",
  );
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}
