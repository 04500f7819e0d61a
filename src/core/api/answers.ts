// The shapes of the answers the core's answer functions build (this folder), written once with zod: the same
// objects the CLI prints on --json, REST serves (its OpenAPI document is derived from these) and the opt-in
// MCP tools return as structured content, so no surface can drift from another.
// @req SRF-10
import * as z from "zod";

const count = z.number().int().min(0);
const line = z.number().int().min(0);
const nullableString = z.string().nullable();

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe("machine-readable reason, e.g. claim-held, usage, not_found"),
    message: z.string(),
    hint: z.string().describe("what to do next"),
  }),
});

export const IndexStats = z.object({
  check: z.enum(["full", "answer"]),
  checked: count,
  walked: z.boolean(),
  parsed: count,
  removed: count,
  rebuilt: z.boolean(),
  persistent: z.boolean(),
});

const DeltaCounts = z.object({ added: count, modified: count, removed: count, renamed: count });

const ChangeListItem = z.object({
  id: z.string(),
  status: z.string(),
  archived: z.boolean(),
  layout: z.string(),
  dir: z.string(),
  tasks: z.object({ done: count, total: count }),
  deltas: DeltaCounts,
});

export const StatusAnswer = z.object({
  version: z.literal(1),
  /** `imported`: layouts present that `keel import` converted into keel/, and so are not read. */
  project: z.object({
    name: z.string(),
    layouts: z.array(z.string()),
    imported: z.array(z.string()),
    roots: z.array(z.object({ name: z.string(), dir: z.string(), layouts: z.array(z.string()) })).optional(),
  }),
  /** Each layout found, what its files cannot hold, and whether Keel writes task state back into them. */
  layouts: z.array(
    z.object({
      name: z.string(),
      label: z.string(),
      where: z.string(),
      writesTasks: z.boolean(),
      lacks: z.array(z.string()),
    }),
  ),
  specs: z.object({
    count,
    requirements: count,
    byStatus: z.record(z.string(), count),
    byOrigin: z.record(z.string(), count),
    /** Requirement-like headings the layout does not read (so not in `requirements`), and the first ones. */
    unread: z.object({ headings: count, first: z.array(z.string()).describe("file:line") }),
  }),
  constitution: z.object({ file: z.string(), principles: count, gates: count }).nullable(),
  changes: z.object({
    open: count,
    archived: count,
    overlaps: count,
    items: z.array(ChangeListItem.extend({ overlaps: count })),
  }),
  validation: z.object({
    ok: z.boolean(),
    strict: z.boolean(),
    errors: count,
    warnings: count,
    info: count,
  }),
  index: IndexStats.extend({ refreshedAt: nullableString }),
});

const SpecListItem = z.object({
  capability: z.string(),
  title: nullableString,
  status: nullableString,
  requirements: count,
  file: z.string(),
  layout: z.string(),
  problem: nullableString,
});

export const SpecsAnswer = z.object({
  version: z.literal(1),
  specs: z.array(SpecListItem),
  index: IndexStats,
});

const RequirementListItem = z.object({
  id: z.string(),
  title: z.string(),
  status: nullableString,
  origin: nullableString,
  fingerprint: z.string(),
  capability: z.string(),
  file: z.string(),
  line,
  col: line,
});

export const RequirementsAnswer = z.object({
  version: z.literal(1),
  requirements: z.array(RequirementListItem),
  index: IndexStats,
});

/** An open change's hand on a requirement ID (core/changes/proposed.ts). */
export const ProposalSchema = z.object({
  change: z.string(),
  status: z.enum(["draft", "review", "approved"]),
  delta: z.enum(["added", "modified", "renamed", "removed"]),
});

/** On a requirement or its trace: `proposed` when only an open change has it, `openChanges` that would change it. */
const proposalMarks = {
  proposed: ProposalSchema.optional(),
  openChanges: z.array(ProposalSchema).optional(),
};

const RequirementRecord = z.looseObject({
  id: z.string(),
  explicitId: z.boolean(),
  title: z.string(),
  capability: z.string(),
  file: z.string(),
  line,
  col: line,
  status: nullableString,
  provenance: z.record(z.string(), z.unknown()),
  markerExtra: z.record(z.string(), z.string()),
  ears: nullableString,
  fingerprint: z.string(),
  text: z.string(),
  scenarios: z.array(
    z.object({
      name: z.string(),
      line,
      steps: z.array(z.object({ keyword: nullableString, text: z.string(), line })),
    }),
  ),
  references: z.array(z.string()),
  ...proposalMarks,
});

const JudgedLink = z.looseObject({
  kind: z.enum(["implements", "verifies", "documents", "commit"]),
  source: z.string(),
  target: z.string(),
  targetType: z.enum(["req", "task"]),
  file: z.string(),
  line,
  col: line,
  id: z.string(),
  state: z.enum(["ok", "suspect", "dangling", "stale"]),
  reason: z.string(),
  commit: nullableString,
  baseline: nullableString,
  current: nullableString,
});

const RequirementTrace = z.object({
  id: z.string(),
  title: z.string(),
  capability: z.string(),
  status: nullableString,
  fingerprint: z.string(),
  file: z.string(),
  line,
  tasks: z.array(z.object({ key: z.string(), title: z.string(), done: z.boolean() })),
  implementations: z.array(JudgedLink),
  tests: z.array(JudgedLink),
  docs: z.array(JudgedLink),
  commits: z.array(JudgedLink),
  evidence: z.array(z.looseObject({ gate: z.string(), passed: z.boolean(), at: z.string() })),
  evidenceStatus: z.enum(["verified", "stale", "failing", "none"]),
  evidenceNote: z.string(),
  ...proposalMarks,
});

const Coverage = z.object({
  capability: z.string(),
  approved: count,
  implemented: count,
  tested: count,
  verified: count,
});

export const TraceAnswer = z.object({
  version: z.literal(1),
  requirements: z.array(RequirementTrace),
  dangling: z.array(JudgedLink),
  coverage: z.array(Coverage).optional(),
  scan: z.object({
    files: count,
    filesWithLinks: count,
    problems: z.array(z.looseObject({ file: z.string(), rule: z.string(), message: z.string() })),
  }),
});

export const RequirementAnswer = z.object({
  version: z.literal(1),
  kind: z.literal("requirement"),
  item: RequirementRecord,
  duplicates: z.array(z.object({ file: z.string(), line })),
  index: IndexStats,
  trace: TraceAnswer,
});

export const SearchAnswer = z.object({
  version: z.literal(1),
  query: z.string(),
  match: z.string(),
  total: count,
  results: z.array(
    z.object({
      kind: z.enum(["requirement", "spec"]),
      id: z.string(),
      title: z.string(),
      capability: z.string(),
      file: z.string(),
      line,
      col: line,
      status: nullableString,
      score: z.number(),
      titleHighlights: z.array(z.tuple([count, count])),
      field: z.enum(["text", "scenarios", "purpose"]),
      snippet: z.string(),
      highlights: z.array(z.tuple([count, count])),
    }),
  ),
  index: IndexStats,
});

const TaskView = z.object({
  key: z.string(),
  id: z.string(),
  scope: z.string(),
  title: z.string(),
  status: z.string(),
  ready: z.boolean(),
  blockers: z.array(z.string()),
  parallel: z.boolean(),
  optional: z.boolean(),
  story: nullableString,
  phase: nullableString,
  priority: z.number().int().nullable(),
  dependsOn: z.array(z.string()),
  related: z.array(z.string()),
  parent: nullableString,
  children: z.array(z.string()),
  covers: z.array(z.string()),
  boundaries: z.array(z.string()),
  verification: z.array(z.string()),
  details: z.array(z.string()),
  file: z.string(),
  line,
  dialect: z.string(),
});

export const TasksAnswer = z.object({
  version: z.literal(1),
  tasks: z.array(TaskView),
  diagnostics: z.array(
    z.object({
      rule: z.string(),
      severity: z.enum(["error", "warning"]),
      message: z.string(),
      file: z.string(),
      line,
      col: line,
    }),
  ),
});

export const ReadyAnswer = z.object({ version: z.literal(1), ready: z.array(TaskView) });
export const TaskAnswer = z.object({ version: z.literal(1), task: TaskView });

const ClaimView = z.object({
  taskId: z.string(),
  status: z.string(),
  holder: nullableString,
  token: z.number().int().nullable(),
  leaseUntil: nullableString,
  live: z.boolean(),
  free: z.boolean(),
  reason: nullableString,
  updatedAt: z.string(),
});
const Grant = z.object({
  taskId: z.string(),
  holder: z.string(),
  token: z.number().int(),
  leaseUntil: z.string(),
});

export const TaskWriteAnswer = z.object({
  version: z.literal(1),
  result: z
    .union([Grant, ClaimView, z.object({ note: z.string() })])
    .nullable()
    .describe("the claim (token and lease), the claim's state after the operation, the note, or null"),
  gates: z
    .object({
      ok: z.boolean(),
      tree: z.object({ commit: nullableString, dirty: z.boolean(), digest: nullableString }),
      gates: z.array(
        z.object({
          name: z.string(),
          kind: z.string(),
          command: z.string(),
          state: z.string(),
          evidence: z.number().int().nullable(),
        }),
      ),
    })
    .optional()
    .describe("done only: the task's gates as checked on the current tree"),
  overridden: z.boolean().optional(),
});

export const ChangesAnswer = z.object({
  version: z.literal(1),
  changes: z.array(
    z.object({
      id: z.string(),
      status: z.string(),
      archived: z.boolean(),
      layout: z.string(),
      dir: z.string(),
      author: nullableString,
      created: nullableString,
      capabilities: z.array(z.string()),
      deltas: DeltaCounts,
    }),
  ),
});

export const ChangeAnswer = z.looseObject({
  version: z.literal(1),
  id: z.string(),
  status: z.string(),
  dir: z.string(),
  archived: z.boolean(),
  author: nullableString,
  created: nullableString,
  targets: z.array(z.looseObject({ op: z.string(), capability: z.string(), requirement: z.string() })),
  overlaps: z.array(z.looseObject({ capability: z.string(), requirement: z.string() })),
  problems: z.array(z.looseObject({ file: z.string(), rule: z.string(), message: z.string() })),
  proposal: z.object({ why: nullableString, whatChanges: nullableString }),
  tasks: z.object({ done: count, total: count }),
  meta: z.record(z.string(), z.unknown()),
  conflicts: z.array(z.string()),
});

export const NewChangeAnswer = z.object({
  version: z.literal(1),
  ok: z.literal(true),
  change: z.string(),
  layout: z.string(),
  dir: z.string(),
  files: z.array(z.string()),
  base: z.record(z.string(), z.array(z.string())),
  /** What the given content passed with: warnings of Keel's change rules (errors refuse it). */
  warnings: z.array(
    z.object({
      rule: z.string(),
      severity: z.string(),
      file: z.string(),
      line,
      col: line,
      message: z.string(),
      hint: z.string(),
      target: z.string().optional(),
    }),
  ),
});

export const ApproveAnswer = z.object({
  version: z.literal(1),
  ok: z.literal(true),
  change: z.string(),
  previousStatus: z.string(),
  status: z.literal("approved"),
  approvals: z.array(z.object({ by: z.string(), at: z.string(), rule: z.string().optional() })),
  rule: z.string(),
  file: z.string(),
  event: z.number().int(),
});

export const DriftAnswer = z.object({
  version: z.literal(1),
  ok: z.boolean(),
  failOn: z.enum(["error", "warning"]),
  summary: z.object({ errors: count, warnings: count, info: count }),
  findings: z.array(
    z.looseObject({
      rule: z.string(),
      severity: z.enum(["error", "warning", "info"]),
      message: z.string(),
    }),
  ),
});

export const CoverageAnswer = z.object({
  version: z.literal(1),
  /** One row per capability of the project, those with no approved requirement included. */
  capabilities: z.array(Coverage),
  /** Every requirement, and the approved ones the rows count. */
  requirements: z.object({ total: count, approved: count }),
});
