// Reading the side files `keel/layouts/<layout>.yaml` of the layouts found whose files cannot hold a requirement's
// status or provenance (format/layouts/sidecar.ts). One small read per such layout; none when keel/layouts/
// does not exist. A side file that leads out of the project is refused like any other source.
// @req LAY-13
import { existsSync } from "node:fs";
import { join } from "node:path";
import { lacking } from "../format/layouts/info.js";
import { parseSidecar, type SidecarEntries } from "../format/layouts/sidecar.js";
import { contentHash } from "../model/fingerprint.js";
import type { Diagnostic, Layout } from "../model/types.js";
import { isWithin, realpathOrNull } from "./paths.js";
import { readSource } from "./read.js";
import type { ProjectRoot } from "./root.js";

export const SIDECAR_DIR = "keel/layouts";

export interface Sidecars {
  byLayout: Map<Layout, SidecarEntries>;
  diagnostics: Diagnostic[];
  /** Over every side file read, with its text: what validation and the query index compare to know they moved. */
  signature: string;
}

export function sidecarFile(layout: Layout): string {
  return `${SIDECAR_DIR}/${layout}.yaml`;
}

export function loadSidecars(project: ProjectRoot): Sidecars {
  const out: Sidecars = { byLayout: new Map(), diagnostics: [], signature: "" };
  if (!existsSync(join(project.root, SIDECAR_DIR))) return out;
  const rootReal = realpathOrNull(project.root) ?? project.root;
  const read: string[] = [];
  for (const layout of project.layouts) {
    if (lacking(layout).length === 0) continue;
    const rel = sidecarFile(layout);
    const abs = join(project.root, rel);
    const real = realpathOrNull(abs);
    if (real === null) continue;
    const at = { line: 1, col: 1, offset: 0 };
    if (!isWithin(rootReal, real)) {
      out.diagnostics.push({
        rule: "input/outside-project",
        severity: "error",
        message: "symbolic link points outside the project; Keel does not follow it",
        hint: "copy the file into the project or remove the link",
        span: { file: rel, start: at, end: at },
      });
      continue;
    }
    const r = readSource(abs);
    if (!r.ok) {
      const pos = { line: r.problem.line, col: r.problem.col, offset: 0 };
      out.diagnostics.push({
        rule: r.problem.rule,
        severity: "error",
        message: r.problem.message,
        hint: r.problem.hint,
        span: { file: rel, start: pos, end: pos },
      });
      continue;
    }
    const parsed = parseSidecar(r.text, rel);
    out.byLayout.set(layout, parsed.entries);
    out.diagnostics.push(...parsed.diagnostics);
    read.push(rel, r.text);
  }
  out.signature = read.length === 0 ? "" : contentHash(JSON.stringify(read));
  return out;
}
