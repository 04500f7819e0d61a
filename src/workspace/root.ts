// Finding the project: the nearest folder (upwards) that holds any layout Keel reads — its own, OpenSpec's,
// Spec Kit's, Kiro's, Task Master's or Beads' — in any mix.
// @req OSC-1, LAY-1
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import type { Layout, NativeLayout } from "../model/types.js";
import { projectError } from "./errors.js";
import { readSpecRoots, type SpecRoot } from "./spec-roots.js";

export interface ProjectRoot {
  root: string;
  /** Every layout found, in the order of LAYOUT_PROBES (Keel's first). A project may hold several. */
  layouts: Layout[];
  /** The layouts with Keel's `specs/` + `changes/` structure, where changes are proposed and applied. */
  native: NativeLayout[];
  /**
   * Layouts present but not read: `keel import` converted them into `keel/` and listed them under `imported:`
   * in keel.yaml, so Keel reads its own copy and not the toolkit's files (which would be every ID twice).
   */
  imported: Layout[];
  /** keel.yaml `roots:`, the spec roots read with the top level as one project (spec-roots.ts); usually none. */
  roots: SpecRoot[];
  /**
   * Set on a view of the project kept to one spec root's changes (core/changes/roots.ts): the change commands
   * read and write that root's `keel/changes/` and `keel/specs/`; the audit log and config stay the top level's.
   */
  changeRoot?: SpecRoot;
}

/** The folder of each native layout. */
export const LAYOUT_DIR: Record<NativeLayout, string> = { keel: "keel", openspec: "openspec" };

/**
 * How each layout is recognised: `entries` are the top-level names it needs one of, `present` the stats that
 * confirm it (and, for Spec Kit without `.specify/`, one listing of `specs/`). The rules are documented in
 * docs/layouts.md.
 */
const LAYOUT_PROBES: ReadonlyArray<{ layout: Layout; entries: string[]; present: (dir: string) => boolean }> =
  [
    {
      layout: "keel",
      entries: ["keel"],
      present: (d) => isFile(join(d, "keel", "keel.yaml")) || isDir(join(d, "keel", "specs")),
    },
    {
      layout: "openspec",
      entries: ["openspec"],
      present: (d) => isDir(join(d, "openspec", "specs")) || isDir(join(d, "openspec", "changes")),
    },
    {
      layout: "speckit",
      entries: [".specify", "specs"],
      present: (d) => isDir(join(d, ".specify")) || hasSpeckitFeature(join(d, "specs")),
    },
    {
      layout: "kiro",
      entries: [".kiro"],
      present: (d) => isDir(join(d, ".kiro", "specs")) || isDir(join(d, ".kiro", "steering")),
    },
    {
      layout: "taskmaster",
      entries: [".taskmaster", ".taskmasterconfig"],
      present: (d) =>
        isFile(join(d, ".taskmaster", "tasks", "tasks.json")) ||
        (isFile(join(d, ".taskmasterconfig")) && isFile(join(d, "tasks", "tasks.json"))),
    },
    { layout: "beads", entries: [".beads"], present: (d) => isFile(join(d, ".beads", "issues.jsonl")) },
  ];

/**
 * The layouts in `dir`. The folder is listed once, and only the probes whose top-level names it holds run their
 * stats: a folder of none of them (every parent on the way up, usually) costs one call.
 */
export function detectLayouts(dir: string): Layout[] {
  let names: Set<string>;
  try {
    names = new Set(readdirSync(dir));
  } catch {
    return [];
  }
  return LAYOUT_PROBES.filter((p) => p.entries.some((e) => names.has(e)) && p.present(dir)).map(
    (p) => p.layout,
  );
}

/** The layouts Keel reads in `dir` (found, less those keel.yaml lists as imported) and the imported ones. */
export function readLayouts(dir: string): { layouts: Layout[]; imported: Layout[] } {
  const found = detectLayouts(dir);
  // Only a project with keel/ beside a toolkit's files can have imported them: one parse, only then.
  const imported = found.includes("keel") && !found.every(isNative) ? importedLayouts(dir) : [];
  return {
    layouts: found.filter((l) => !imported.includes(l)),
    imported: found.filter((l) => imported.includes(l)),
  };
}

/**
 * keel.yaml's `imported:` list, read leniently: a keel.yaml that cannot be read is reported, with its line, by
 * the config loader of the command that runs; here it only means nothing was imported.
 */
function importedLayouts(dir: string): Layout[] {
  try {
    const value = (
      parse(readFileSync(join(dir, "keel", "keel.yaml"), "utf8")) as { imported?: unknown } | null
    )?.imported;
    return Array.isArray(value)
      ? value.filter((v): v is Layout => (IMPORTABLE as readonly unknown[]).includes(v))
      : [];
  } catch {
    return [];
  }
}

/** The layouts `keel import` converts into keel/. */
export const IMPORTABLE = ["speckit", "kiro", "taskmaster", "beads"] as const satisfies readonly Layout[];
export type ImportableLayout = (typeof IMPORTABLE)[number];

function isNative(layout: Layout): layout is NativeLayout {
  return layout === "keel" || layout === "openspec";
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
    const { layouts, imported } = readLayouts(dir);
    if (layouts.length > 0) {
      const roots = layouts.includes("keel") ? readSpecRoots(dir) : [];
      return { root: dir, layouts, native: layouts.filter(isNative), imported, roots };
    }
    const parent = dirname(dir);
    if (explicit || parent === dir) break;
    dir = parent;
  }
  throw projectError(
    `no Keel, OpenSpec, Spec Kit, Kiro, Task Master or Beads project found in ${resolve(start)}${explicit ? "" : " or any parent folder"}`,
    "run `keel init` to create keel/, or run Keel inside a project that has keel/, openspec/, .specify/ (Spec Kit, or its older specs/NNN-feature/), .kiro/ (Kiro), .taskmaster/ (Task Master) or .beads/ (Beads)",
  );
}

/**
 * A Spec Kit project without `.specify/` (the older layout): `specs/<NNN-feature>/` holding spec.md or tasks.md.
 * Spec Kit numbers every feature folder; the number keeps `keel/` itself (`keel/specs/<capability>/spec.md`)
 * and other toolkits' `specs/` folders from passing for one.
 */
function hasSpeckitFeature(specs: string): boolean {
  let names: string[];
  try {
    names = readdirSync(specs);
  } catch {
    return false;
  }
  return names.some(
    (n) => /^\d+-/.test(n) && (isFile(join(specs, n, "spec.md")) || isFile(join(specs, n, "tasks.md"))),
  );
}

export function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}
