// The layout registry: one adapter per toolkit, each reading that toolkit's files into the one model; what each
// layout can and cannot hold is declared beside it (info.ts). Discovery (workspace/discover.ts) finds the files; the
// readers here turn their text into specs, constitutions and tasks, never throwing on bad input.
// @req LAY-1, LAY-2
import { qualifySpec } from "../../model/namespace.js";
import type { Constitution, Diagnostic, Layout } from "../../model/types.js";
import { parseConstitution } from "../constitution.js";
import type { ParseOptions } from "../requirement.js";
import { parseSpec, type SpecParse } from "../spec.js";
import { parseKiroRequirements } from "./kiro.js";
import { parseSpeckitConstitution, parseSpeckitSpec } from "./speckit.js";

/** A layout's readers: its specs and its constitution, where it holds them (tasks: core/tasks/load.ts). */
interface LayoutReaders {
  parseSpec?: (text: string, file: string, capability: string, options?: ParseOptions) => SpecParse;
  parseConstitution?: (
    text: string,
    file: string,
  ) => { constitution: Constitution; diagnostics: Diagnostic[] };
}

const keelSpec =
  (layout: "keel" | "openspec") => (text: string, file: string, cap: string, o?: ParseOptions) =>
    parseSpec(text, file, cap, layout, o);

/** Each layout's readers; a layout without its own spec reader has Keel's (none is asked for one). */
const READERS: Readonly<Record<Layout, LayoutReaders>> = {
  keel: { parseSpec: keelSpec("keel"), parseConstitution },
  openspec: { parseSpec: keelSpec("openspec") },
  speckit: { parseSpec: parseSpeckitSpec, parseConstitution: parseSpeckitConstitution },
  kiro: { parseSpec: parseKiroRequirements },
  taskmaster: {},
  beads: {},
};

/** Parses a spec file of `layout` with that layout's reader; a spec root's (`ns:capability`) with qualified IDs. */
export function parseSpecOf(
  layout: Layout,
  text: string,
  file: string,
  capability: string,
  options?: ParseOptions,
): SpecParse {
  const parse = READERS[layout].parseSpec ?? keelSpec("keel");
  const parsed = parse(text, file, capability, options);
  qualifySpec(parsed.spec);
  return parsed;
}

/** Parses a constitution file of `layout` with that layout's reader. */
export function parseConstitutionOf(
  layout: Layout,
  text: string,
  file: string,
): { constitution: Constitution; diagnostics: Diagnostic[] } {
  return (READERS[layout].parseConstitution ?? parseConstitution)(text, file);
}
