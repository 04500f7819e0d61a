// What each toolkit's layout is and can hold, apart from its reader (index.ts), so that what only needs these
// facts (status, the task loader, side files) loads no parser.
// @req LAY-1
import type { Layout } from "../../model/types.js";

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

export interface LayoutInfo {
  /** The toolkit's own name, as people write it. */
  label: string;
  /** Where its files are, project-relative, for messages. */
  where: string;
  holds: readonly Holding[];
  /** Whether Keel writes task state (claims, done, blocked) back into the layout's task files. */
  writesTasks: boolean;
}

export const LAYOUT_INFO: Readonly<Record<Layout, LayoutInfo>> = {
  keel: {
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
  },
  openspec: {
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
  },
  speckit: {
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
  },
  kiro: {
    label: "Kiro",
    where: ".kiro/specs/<feature>/, .kiro/steering/",
    holds: ["requirements", "tasks", "task-dependencies", "design-notes", "guidance"],
    writesTasks: true,
  },
  taskmaster: {
    label: "Task Master",
    where: ".taskmaster/tasks/tasks.json",
    holds: ["tasks", "task-dependencies"],
    writesTasks: true,
  },
  beads: {
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
  const adapter = LAYOUT_INFO[layout];
  if (!adapter.holds.includes("requirements")) return [];
  return needed.filter((h) => !adapter.holds.includes(h));
}
