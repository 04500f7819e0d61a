// The layout registry: one adapter per toolkit, each reading that toolkit's files into the one model and
// declaring what its layout can and cannot hold. Discovery (workspace/discover.ts) finds the files; the
// readers here turn their text into specs, constitutions and tasks, never throwing on bad input.
// @req LAY-1, LAY-2
import type { Constitution, Diagnostic, Layout } from "../../model/types.js";
import { parseConstitution } from "../constitution.js";
import type { ParseOptions } from "../requirement.js";
import { parseSpec, type SpecParse } from "../spec.js";
import { parseKiroRequirements } from "./kiro.js";
import { parseSpeckitConstitution, parseSpeckitSpec } from "./speckit.js";

/** What a layout's own files can carry. Keel keeps what a layout lacks in `keel/`, never in the foreign file. */
export type Holding =
  | "requirements"
  | "scenarios"
  | "requirement-status"
  | "provenance"
  | "constitution"
  | "changes"
  | "tasks"
  | "task-dependencies"
  | "design-notes"
  | "contracts"
  | "guidance";

export interface LayoutAdapter {
  name: Layout;
  /** The toolkit's own name, as people write it. */
  label: string;
  /** Where its files are, project-relative, for messages. */
  where: string;
  holds: readonly Holding[];
  /** Whether Keel writes task state (claims, done, blocked) back into the layout's task files. */
  writesTasks: boolean;
  parseSpec?: (text: string, file: string, capability: string, options?: ParseOptions) => SpecParse;
  parseConstitution?: (
    text: string,
    file: string,
  ) => { constitution: Constitution; diagnostics: Diagnostic[] };
}

const keelSpec =
  (layout: "keel" | "openspec") => (text: string, file: string, cap: string, o?: ParseOptions) =>
    parseSpec(text, file, cap, layout, o);

export const LAYOUT_ADAPTERS: Readonly<Record<Layout, LayoutAdapter>> = {
  keel: {
    name: "keel",
    label: "Keel",
    where: "keel/",
    holds: [
      "requirements",
      "scenarios",
      "requirement-status",
      "provenance",
      "constitution",
      "changes",
      "tasks",
      "task-dependencies",
      "design-notes",
    ],
    writesTasks: true,
    parseSpec: keelSpec("keel"),
    parseConstitution,
  },
  openspec: {
    name: "openspec",
    label: "OpenSpec",
    where: "openspec/",
    // Keel's marker line is a Markdown blockquote OpenSpec ignores, so status and provenance fit in its files.
    holds: [
      "requirements",
      "scenarios",
      "requirement-status",
      "provenance",
      "changes",
      "tasks",
      "design-notes",
    ],
    writesTasks: true,
    parseSpec: keelSpec("openspec"),
  },
  speckit: {
    name: "speckit",
    label: "Spec Kit",
    where: "specs/<feature>/, .specify/",
    holds: [
      "requirements",
      "scenarios",
      "constitution",
      "tasks",
      "task-dependencies",
      "design-notes",
      "contracts",
    ],
    writesTasks: true,
    parseSpec: parseSpeckitSpec,
    parseConstitution: parseSpeckitConstitution,
  },
  kiro: {
    name: "kiro",
    label: "Kiro",
    where: ".kiro/specs/<feature>/, .kiro/steering/",
    holds: ["requirements", "tasks", "task-dependencies", "design-notes", "guidance"],
    writesTasks: true,
    parseSpec: parseKiroRequirements,
  },
  taskmaster: {
    name: "taskmaster",
    label: "Task Master",
    where: ".taskmaster/tasks/tasks.json",
    holds: ["tasks", "task-dependencies"],
    writesTasks: true,
  },
  beads: {
    name: "beads",
    label: "Beads",
    where: ".beads/issues.jsonl",
    holds: ["tasks", "task-dependencies"],
    // bd owns its database and rewrites the JSONL export from it; a write here would race bd's own sync.
    writesTasks: false,
  },
};

/** What Keel needs that a layout cannot hold (for `keel status`, said once per layout). */
export function lacking(layout: Layout): Holding[] {
  const needed: Holding[] = ["requirement-status", "provenance"];
  const adapter = LAYOUT_ADAPTERS[layout];
  if (!adapter.holds.includes("requirements")) return [];
  return needed.filter((h) => !adapter.holds.includes(h));
}

/** Parses a spec file of `layout` with that layout's reader. */
export function parseSpecOf(
  layout: Layout,
  text: string,
  file: string,
  capability: string,
  options?: ParseOptions,
): SpecParse {
  const parse = LAYOUT_ADAPTERS[layout].parseSpec ?? keelSpec("keel");
  return parse(text, file, capability, options);
}

/** Parses a constitution file of `layout` with that layout's reader. */
export function parseConstitutionOf(
  layout: Layout,
  text: string,
  file: string,
): { constitution: Constitution; diagnostics: Diagnostic[] } {
  return (LAYOUT_ADAPTERS[layout].parseConstitution ?? parseConstitution)(text, file);
}
