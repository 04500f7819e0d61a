// Beads' `.beads/issues.jsonl` → Keel tasks with positions: one JSON issue per line, as bd exports them
// (internal/types/types.go). A line that is not a JSON object becomes a positioned diagnostic and the other
// lines are still read; the reader never throws.
//
// Beads is read-only in Keel. bd keeps its database (SQLite, or Dolt in newer releases) as the source of truth
// and the JSONL is an export it rewrites on every sync and re-imports on pull; a line Keel wrote would race bd's
// own export and be overwritten, or be imported over a newer database row. Status changes go through `bd`.
// @req LAY-2, LAY-6
import { type Node, printParseErrorCode } from "jsonc-parser/lib/esm/main.js";
import {
  type DependencyKind,
  type ParsedTask,
  type ParsedTaskFile,
  type TaskDiagnostic,
  type TaskStatus,
  titleKey,
} from "../tasks.js";
import { jsonTask, parseStrictJson, properties, proseLines, stringValue as str } from "./json-tasks.js";

const STATUS_MAP: Record<string, TaskStatus> = {
  open: "open",
  in_progress: "in_progress",
  // Work on an agent's hook (Gas Town): someone owns it.
  hooked: "in_progress",
  blocked: "blocked",
  deferred: "deferred",
  closed: "done",
  // A pinned bead is a standing context marker, not work: keep it visible but never ready, as `bd ready` does.
  pinned: "deferred",
};

/** Soft-deleted issues: bd keeps them in the export so deletions propagate, but they are not work. */
const TOMBSTONE = "tombstone";

/** Edge types that hold back the issue in `bd ready` (DependencyType.AffectsReadyWork, minus parent-child).
 * `conditional-blocks` (run only if the target fails) and `waits-for` (a fan-out gate) both wait for the
 * target to close, which is what Keel's `blocks` means. */
const BLOCKING = new Set(["blocks", "conditional-blocks", "waits-for"]);
const PARENT_CHILD = "parent-child";

/** Keel's lowest priority; Beads has one more (P4, "backlog"), which Keel reads as P3. */
const LOWEST_PRIORITY = 3;

interface Edge {
  target: string;
  type: string;
  line: number;
  col: number;
}

interface Issue {
  task: ParsedTask;
  edges: Edge[];
  explicitParent: boolean;
}

class BeadsReader {
  readonly diagnostics: TaskDiagnostic[] = [];
  /** IDs of soft-deleted issues: an edge to one no longer holds anything back. */
  readonly tombstones = new Set<string>();
  readonly issues: Issue[] = [];

  diag(rule: string, message: string, line: number, col: number, severity: "error" | "warning" = "error") {
    this.diagnostics.push({ rule: `beads/${rule}`, severity, message, line, col });
  }

  readLine(raw: string, line: number): void {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    const { root, errors } = parseStrictJson(text);
    const error = errors[0];
    if (error) {
      this.diag(
        "malformed-line",
        `line is not valid JSON (${printParseErrorCode(error.error)}); the line is skipped`,
        line,
        error.offset + 1,
      );
      return;
    }
    if (root?.type !== "object") {
      this.diag(
        "malformed-line",
        "line is not a JSON object; the line is skipped",
        line,
        (root?.offset ?? 0) + 1,
      );
      return;
    }
    this.readIssue(properties(root), line, root.offset + 1);
  }

  private readIssue(props: Map<string, Node>, line: number, startCol: number): void {
    const statusNode = props.get("status");
    const col = statusNode ? statusNode.offset + 1 : startCol;
    const rawStatus = str(statusNode)?.trim() ?? "";
    const ownId = str(props.get("id"))?.trim() || null;
    if (rawStatus === TOMBSTONE) {
      if (ownId) this.tombstones.add(ownId);
      return;
    }
    if (ownId === null) this.diag("missing-field", "issue has no id", line, startCol);
    const title = (str(props.get("title")) ?? "").replace(/\s+/g, " ").trim();
    // Keyed by its title, as a Markdown task without an ID is, never by its line: lines move with every edit.
    const id = ownId ?? titleKey(title);
    if (!title) this.diag("missing-field", `issue ${id} has no title`, line, startCol);
    const status = this.status(id, statusNode, rawStatus, line);
    const task = jsonTask({
      id,
      title,
      status,
      priority: this.priority(id, props.get("priority"), line),
      parent: null,
      details: details(props),
      line,
      checkboxCol: col,
    });
    const issue: Issue = { task, edges: [], explicitParent: false };
    this.edges(issue, props.get("dependencies"), line);
    this.issues.push(issue);
  }

  private status(id: string, node: Node | undefined, raw: string, line: number): TaskStatus {
    // bd's SetDefaults: an export omits the status of an open issue.
    if (node === undefined || raw === "") return "open";
    const status = STATUS_MAP[raw];
    if (status) return status;
    // A custom status (`bd config set status.custom`): Keel cannot tell whether it is work to hand out.
    this.diag(
      "bad-field",
      `unknown status "${raw}" on issue ${id}; read as blocked`,
      line,
      node.offset + 1,
      "warning",
    );
    return "blocked";
  }

  private priority(id: string, node: Node | undefined, line: number): number {
    // `priority` has no omitempty in bd's schema, and older exports omitted a zero: missing is P0, as bd reads it.
    if (node === undefined) return 0;
    const p = node.type === "number" ? Number(node.value) : Number.NaN;
    if (Number.isInteger(p) && p >= 0 && p <= 4) return Math.min(p, LOWEST_PRIORITY);
    this.diag(
      "bad-field",
      `priority ${JSON.stringify(node.value)} of issue ${id} is not 0–4`,
      line,
      node.offset + 1,
      "warning",
    );
    return LOWEST_PRIORITY;
  }

  private edges(issue: Issue, node: Node | undefined, line: number): void {
    if (node === undefined || node.type === "null") return;
    const id = issue.task.id;
    if (node.type !== "array") {
      this.diag("bad-field", `dependencies of issue ${id} is not an array`, line, node.offset + 1);
      return;
    }
    for (const item of node.children ?? []) {
      const col = item.offset + 1;
      const props = item.type === "object" ? properties(item) : new Map<string, Node>();
      const target = str(props.get("depends_on_id"))?.trim();
      const type = str(props.get("type"))?.trim() || "blocks";
      const owner = str(props.get("issue_id"))?.trim();
      if (!target) {
        this.diag("bad-dependency", `a dependency of issue ${id} has no depends_on_id`, line, col);
        continue;
      }
      if (owner && owner !== id) {
        this.diag("bad-dependency", `dependency of ${owner} is listed under issue ${id}; ignored`, line, col);
        continue;
      }
      if (target === id) {
        this.diag("self-dependency", `issue ${id} depends on itself`, line, col);
        continue;
      }
      issue.edges.push({ target, type, line, col });
    }
  }

  /** Edges become dependencies and parents once every issue is known (an edge may point forward). */
  resolve(): ParsedTask[] {
    const known = new Map<string, ParsedTask>();
    const first = new Map<string, ParsedTask>();
    for (const { task } of this.issues) {
      const seen = first.get(task.id);
      if (seen)
        this.diag(
          "duplicate-id",
          `issue ${task.id} appears twice (first on line ${seen.line}); both are kept`,
          task.line,
          task.checkboxCol,
        );
      else first.set(task.id, task);
      known.set(task.id, task);
    }
    for (const issue of this.issues) {
      for (const edge of issue.edges) this.applyEdge(issue, edge, known);
      if (!issue.explicitParent) issue.task.parent = hierarchicalParent(issue.task.id, known);
    }
    return this.issues.map((i) => i.task);
  }

  private applyEdge(issue: Issue, edge: Edge, known: Map<string, ParsedTask>): void {
    const { task } = issue;
    if (this.tombstones.has(edge.target) && !known.has(edge.target)) {
      this.diag(
        "deleted-dependency",
        `issue ${task.id} depends on deleted issue ${edge.target}; the edge is ignored`,
        edge.line,
        edge.col,
        "warning",
      );
      return;
    }
    if (!known.has(edge.target))
      this.diag(
        "unknown-dependency",
        `issue ${task.id} depends on ${edge.target}, which is not in issues.jsonl`,
        edge.line,
        edge.col,
      );
    if (edge.type === PARENT_CHILD) {
      if (issue.explicitParent && task.parent !== edge.target)
        this.diag(
          "bad-dependency",
          `issue ${task.id} has a second parent ${edge.target}; keeping ${task.parent}`,
          edge.line,
          edge.col,
          "warning",
        );
      else {
        task.parent = edge.target;
        issue.explicitParent = true;
      }
      return;
    }
    const kind: DependencyKind = BLOCKING.has(edge.type) ? "blocks" : "related";
    if (!task.dependsOn.some((d) => d.target === edge.target && d.kind === kind))
      task.dependsOn.push({ target: edge.target, kind, line: edge.line });
  }
}

/** Hierarchical IDs (`bd-a3f8.1` under `bd-a3f8`) make a parent without an edge, as bd's parent filter reads them. */
function hierarchicalParent(id: string, known: Map<string, ParsedTask>): string | null {
  const m = /^(.+)\.\d+$/.exec(id);
  return m && known.has(m[1] as string) ? (m[1] as string) : null;
}

/**
 * Description, design, notes and acceptance criteria as written, then the fields Keel has no place for, one
 * `key: value` each.
 */
function details(props: Map<string, Node>): string[] {
  const out = [...proseLines(props.get("description"))];
  const section = (label: string, key: string) => {
    const lines = proseLines(props.get(key));
    if (lines.length > 0) out.push(`${label}:`, ...lines);
  };
  section("Design", "design");
  section("Notes", "notes");
  section("Acceptance criteria", "acceptance_criteria");
  const type = str(props.get("issue_type"));
  if (type) out.push(`type: ${type}`);
  const assignee = str(props.get("assignee"));
  if (assignee) out.push(`assignee: ${assignee}`);
  const labels = (props.get("labels")?.children ?? []).map(str).filter((l): l is string => !!l);
  if (labels.length > 0) out.push(`labels: ${labels.join(", ")}`);
  const deferUntil = str(props.get("defer_until"));
  if (deferUntil) out.push(`defer until: ${deferUntil}`);
  return out;
}

export function parseBeads(text: string): ParsedTaskFile {
  const reader = new BeadsReader();
  String(text ?? "")
    .split("\n")
    .forEach((raw, i) => {
      reader.readLine(raw, i + 1);
    });
  return { tasks: reader.resolve(), diagnostics: reader.diagnostics };
}
