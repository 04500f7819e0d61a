// `keel export <speckit|openspec>`: the project's specs written in another toolkit's layout, where it can hold
// them. Every spec goes through Keel's model (a foreign layout's spec is first converted as `keel import` would),
// then into the target's format; what the target cannot hold is reported as a loss. Nothing is overwritten.
// @req LAY-12
import { join, resolve } from "node:path";
import { parseSpecOf } from "../../format/layouts/index.js";
import { parseSpec } from "../../format/spec.js";
import type { Spec } from "../../model/types.js";
import { projectError } from "../../workspace/errors.js";
import { readSource } from "../../workspace/read.js";
import { loadProject } from "../project.js";
import { findTaskSources } from "../tasks/load.js";
import { keelSpecText } from "./keel-spec.js";
import { type ConversionLoss, checkTargets, type PlannedFile, writePlanned } from "./plan.js";
import { speckitConstitutionText } from "./speckit-constitution.js";
import { speckitSpecText } from "./speckit-spec.js";

export const EXPORT_TARGETS = ["speckit", "openspec"] as const;
export type ExportTarget = (typeof EXPORT_TARGETS)[number];

export interface ExportReport {
  version: 1;
  target: ExportTarget;
  root: string;
  /** The folder written into (the project root unless --out). */
  out: string;
  dryRun: boolean;
  files: Array<Omit<PlannedFile, "content">>;
  /** Specs and files not exported, with why. */
  kept: Array<{ file: string; reason: string }>;
  /** What the target cannot hold. */
  losses: ConversionLoss[];
  counts: { specs: number; requirements: number; principles: number };
}

export interface ExportOptions {
  explicitRoot: boolean;
  /** Folder to write into, resolved against the current folder by the caller; the project root when null. */
  out: string | null;
  dryRun: boolean;
}

export function exportLayout(start: string, target: ExportTarget, options: ExportOptions): ExportReport {
  const project = loadProject(start, { explicitRoot: options.explicitRoot });
  const root = project.project.root;
  const out = options.out === null ? root : resolve(options.out);
  const kept: ExportReport["kept"] = [];
  const losses: ConversionLoss[] = [];
  const files: PlannedFile[] = [];
  for (const spec of exportedSpecs(project.specs, target, kept)) {
    const keel = keelModel(root, spec);
    if (target === "openspec") {
      files.push({
        file: `openspec/specs/${spec.capability}/spec.md`,
        kind: "spec",
        from: spec.file,
        count: keel.spec.requirements.length,
        content: keel.text,
      });
      continue;
    }
    const feature = spec.capability.replaceAll("/", "-");
    if (feature !== spec.capability) {
      losses.push({
        file: spec.file,
        message: `capability ${spec.capability} is the feature folder ${feature}: Spec Kit's features do not nest`,
      });
    }
    const written = speckitSpecText(keel.spec, feature);
    losses.push(...written.losses);
    files.push({
      file: `specs/${feature}/spec.md`,
      kind: "spec",
      from: spec.file,
      count: keel.spec.requirements.length,
      content: written.text,
    });
  }
  files.push(...constitutionFile(root, project.constitution, target, losses));
  for (const source of findTaskSources(root).filter((s) => s.dialect === "keel")) {
    kept.push({
      file: source.file,
      reason: "tasks are not exported: keel export writes specs and the constitution only",
    });
  }
  if (files.length === 0) {
    throw projectError(
      `nothing to export to ${target}: the project has no spec outside ${target}'s own layout`,
      "write specs in keel/specs/, or import a toolkit's project with `keel import`",
    );
  }
  if (options.dryRun) checkTargets(out, files, "keel export");
  else writePlanned(out, files, "keel export");
  return {
    version: 1,
    target,
    root,
    out,
    dryRun: options.dryRun,
    files: files.map(({ content: _content, ...rest }) => rest),
    kept,
    losses,
    counts: {
      specs: files.filter((f) => f.kind === "spec").length,
      requirements: files.filter((f) => f.kind === "spec").reduce((n, f) => n + f.count, 0),
      principles: files.filter((f) => f.kind === "constitution").reduce((n, f) => n + f.count, 0),
    },
  };
}

/**
 * The specs to export: none already in the target's layout, and for a capability Keel has, Keel's spec only (a
 * toolkit's spec of the same name is usually what was imported into it).
 */
function exportedSpecs(specs: Spec[], target: ExportTarget, kept: ExportReport["kept"]): Spec[] {
  const keelCaps = new Set(specs.filter((s) => s.layout === "keel").map((s) => s.capability));
  return specs.filter((s) => {
    if (s.layout === target) {
      kept.push({ file: s.file, reason: `already in ${target}'s layout` });
      return false;
    }
    if (s.layout !== "keel" && keelCaps.has(s.capability)) {
      kept.push({ file: s.file, reason: `keel/specs/${s.capability}/spec.md is exported instead` });
      return false;
    }
    return true;
  });
}

/**
 * A spec as Keel text and model: Keel's and OpenSpec's files as written, a toolkit's as `keel import` writes it,
 * with the status and provenance the project model gave it from the side file (`spec` is loadProject's).
 */
function keelModel(root: string, spec: Spec): { text: string; spec: Spec } {
  const source = readOrThrow(root, spec.file);
  const native = spec.layout === "keel" || spec.layout === "openspec";
  const text = native
    ? source
    : keelSpecText({ ...parseSpecOf(spec.layout, source, spec.file, spec.capability), spec });
  return { text, spec: parseSpec(text, spec.file, spec.capability).spec };
}

/** Keel's constitution as Spec Kit's; OpenSpec has no place for one. */
function constitutionFile(
  root: string,
  constitution: ReturnType<typeof loadProject>["constitution"],
  target: ExportTarget,
  losses: ConversionLoss[],
): PlannedFile[] {
  if (constitution === null || !constitution.file.startsWith("keel/")) return [];
  if (target === "openspec") {
    losses.push({ file: constitution.file, message: "OpenSpec has no constitution: it is not exported" });
    return [];
  }
  const written = speckitConstitutionText(constitution, readOrThrow(root, constitution.file));
  losses.push(...written.losses);
  return [
    {
      file: ".specify/memory/constitution.md",
      kind: "constitution",
      from: constitution.file,
      count: constitution.principles.length,
      content: written.text,
    },
  ];
}

function readOrThrow(root: string, file: string): string {
  const read = readSource(join(root, file));
  if (read.ok) return read.text;
  throw projectError(`cannot export ${file}: ${read.problem.message}`, read.problem.hint, {
    file,
    line: read.problem.line,
    col: read.problem.col,
  });
}
