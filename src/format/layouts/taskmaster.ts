// Task Master's tasks.json → Keel tasks with positions, and a status write-back that changes one value only.
// Two shapes exist: the tagged file `.taskmaster/tasks/tasks.json` (`{ "<tag>": { "tasks": [...], "metadata" } }`)
// and the pre-tag file `tasks/tasks.json` (`{ "tasks": [...], "metadata" }`, next to `.taskmasterconfig`), which
// Task Master reads as the tag `master`. (tm-core names these the other way round: "legacy" for tagged and
// "standard" for the flat file; Keel follows the order in which they appeared.) Subtasks become tasks with the
// ID `<parent>.<sub>`. Reading never throws; what cannot be read becomes a positioned diagnostic.
// @req LAY-2, LAY-5
import {
  applyEdits,
  type FormattingOptions,
  modify,
  type Node,
  printParseErrorCode,
} from "jsonc-parser/lib/esm/main.js";
import {
  type ParsedTask,
  type TaskDependency,
  type TaskDiagnostic,
  type TaskStatus,
  titleKey,
} from "../tasks.js";
import { jsonTask, parseStrictJson as parseJson, properties, proseLines } from "./json-tasks.js";

export type TaskmasterFormat = "tagged" | "legacy";

export interface TaskmasterTag {
  tag: string;
  tasks: ParsedTask[];
}

export interface TaskmasterParse {
  tags: TaskmasterTag[];
  format: TaskmasterFormat;
  diagnostics: TaskDiagnostic[];
}

/** The tag Task Master reads a flat (legacy) file as, and the default tag of a tagged one. */
const TASKMASTER_DEFAULT_TAG = "master";

/** The statuses Task Master's `set-status` accepts. */
export const TASKMASTER_STATUSES = [
  "pending",
  "in-progress",
  "done",
  "review",
  "deferred",
  "cancelled",
  "blocked",
] as const;

const STATUS_MAP: Record<string, TaskStatus> = {
  pending: "open",
  "in-progress": "in_progress",
  done: "done",
  // tm-core's type also lists `completed`; its readiness checks treat it like `done`.
  completed: "done",
  // Review means implemented but not accepted: not done (dependents must still wait) and not free to hand out
  // (someone owns it), which is what in_progress means to Keel's ready queue.
  review: "in_progress",
  deferred: "deferred",
  // Keel has no "cancelled". Cancelled work is not done, so it must not unblock dependents, and must never be
  // handed out; deferred is the Keel status with exactly those two properties.
  cancelled: "deferred",
  blocked: "blocked",
};

const FROM_KEEL: Record<TaskStatus, (typeof TASKMASTER_STATUSES)[number]> = {
  open: "pending",
  in_progress: "in-progress",
  done: "done",
  deferred: "deferred",
  blocked: "blocked",
};

const PRIORITIES: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

/** Task Master's own rule (dependency-manager fix/validate): a bare number below 100 in a subtask's
 * dependencies is a sibling subtask; a larger one, or a non-numeric string, is a top-level task. */
const SIBLING_LIMIT = 100;

export function keelStatusToTaskmaster(status: TaskStatus): string {
  return FROM_KEEL[status];
}

/** 1-based line and column of every offset, from the line starts of the text. */
class Positions {
  private readonly starts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }

  at(offset: number): { line: number; col: number } {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - (this.starts[lo] as number) + 1 };
  }
}

/** A prose field under its label line, or nothing when it is empty. */
function labelled(label: string, lines: string[]): string[] {
  return lines.length > 0 ? [`${label}:`, ...lines] : [];
}

function idOf(node: Node | undefined): string | null {
  if (node?.type === "number" && Number.isFinite(node.value)) return String(node.value);
  if (node?.type === "string" && String(node.value).trim() !== "") return String(node.value).trim();
  return null;
}

interface DependencyAt {
  task: ParsedTask;
  dep: TaskDependency;
  col: number;
}

class TaskmasterReader {
  readonly diagnostics: TaskDiagnostic[] = [];
  private readonly pos: Positions;

  constructor(text: string) {
    this.pos = new Positions(text);
  }

  diag(rule: string, message: string, offset: number, severity: "error" | "warning" = "error"): void {
    this.diagnostics.push({ rule: `taskmaster/${rule}`, severity, message, ...this.pos.at(offset) });
  }

  /** The tasks of one tag (or of the flat file), subtasks after their parent, checked against each other. */
  readTag(tag: string, tasksNode: Node): ParsedTask[] {
    const tasks: ParsedTask[] = [];
    const deps: DependencyAt[] = [];
    for (const item of tasksNode.children ?? []) this.readTask(item, null, tag, tasks, deps);
    this.checkIds(tag, tasks);
    const known = new Set(tasks.map((t) => t.id));
    for (const { task, dep, col } of deps) {
      if (known.has(dep.target)) continue;
      this.diagnostics.push({
        rule: "taskmaster/unknown-dependency",
        severity: "error",
        message: `task ${task.id} depends on ${dep.target}, which is not a task in tag ${tag}`,
        line: dep.line,
        col,
      });
    }
    return tasks;
  }

  private readTask(
    node: Node,
    parent: string | null,
    tag: string,
    out: ParsedTask[],
    deps: DependencyAt[],
  ): void {
    const what = parent === null ? "task" : `subtask of task ${parent}`;
    if (node.type !== "object") {
      this.diag("bad-task", `a ${what} in tag ${tag} is not a JSON object`, node.offset);
      return;
    }
    const props = properties(node);
    const statusNode = props.get("status");
    const anchor = this.pos.at(statusNode?.offset ?? node.offset);
    const ownId = idOf(props.get("id"));
    if (ownId === null) this.diag("missing-field", `a ${what} in tag ${tag} has no id`, node.offset);
    const titleNode = props.get("title");
    const title = titleNode?.type === "string" ? String(titleNode.value).replace(/\s+/g, " ").trim() : "";
    // Keyed by its title, as a Markdown task without an ID is, never by its line: lines move with every edit.
    const local = ownId ?? titleKey(title);
    const id = parent === null ? local : `${parent}.${local}`;
    if (!title) this.diag("missing-field", `task ${id} in tag ${tag} has no title`, node.offset);
    const status = this.status(id, statusNode);
    const task = jsonTask({
      id,
      title,
      status,
      priority: this.priority(id, props.get("priority")),
      parent,
      details: [
        ...proseLines(props.get("description")),
        ...proseLines(props.get("details")),
        ...labelled("Test strategy", proseLines(props.get("testStrategy"))),
      ],
      line: anchor.line,
      checkboxCol: anchor.col,
    });
    this.dependencies(task, props.get("dependencies"), parent, deps);
    out.push(task);
    const subtasks = props.get("subtasks");
    if (subtasks === undefined || subtasks.type === "null") return;
    if (subtasks.type !== "array") {
      this.diag("bad-field", `subtasks of task ${id} is not an array`, subtasks.offset);
      return;
    }
    // Task Master keeps subtasks one level deep; deeper ones are read the same way.
    for (const sub of subtasks.children ?? []) this.readTask(sub, id, tag, out, deps);
  }

  private status(id: string, node: Node | undefined): TaskStatus {
    // Task Master treats a task without status as pending.
    if (node === undefined) return "open";
    const raw = node.type === "string" ? String(node.value).trim().toLowerCase() : "";
    const status = STATUS_MAP[raw];
    if (status) return status;
    // An unknown status is not work Keel may hand out.
    this.diag(
      "bad-field",
      `unknown status ${JSON.stringify(node.value)} on task ${id}; read as blocked`,
      node.offset,
      "warning",
    );
    return "blocked";
  }

  private priority(id: string, node: Node | undefined): number | null {
    if (node === undefined || node.type === "null") return null;
    const p = node.type === "string" ? PRIORITIES[String(node.value).trim().toLowerCase()] : undefined;
    if (p !== undefined) return p;
    this.diag(
      "bad-field",
      `unknown priority ${JSON.stringify(node.value)} on task ${id} (use critical, high, medium or low)`,
      node.offset,
      "warning",
    );
    return null;
  }

  private dependencies(task: ParsedTask, node: Node | undefined, parent: string | null, out: DependencyAt[]) {
    if (node === undefined || node.type === "null") return;
    if (node.type !== "array") {
      this.diag("bad-field", `dependencies of task ${task.id} is not an array`, node.offset);
      return;
    }
    for (const item of node.children ?? []) {
      const target = dependencyTarget(item, parent);
      if (target === null) {
        this.diag(
          "bad-dependency",
          `cannot read dependency ${JSON.stringify(item.value)} of task ${task.id}`,
          item.offset,
        );
        continue;
      }
      if (target === task.id) {
        this.diag("self-dependency", `task ${task.id} depends on itself`, item.offset);
        continue;
      }
      if (task.dependsOn.some((d) => d.target === target)) continue;
      const at = this.pos.at(item.offset);
      const dep: TaskDependency = { target, kind: "blocks", line: at.line };
      task.dependsOn.push(dep);
      out.push({ task, dep, col: at.col });
    }
  }

  /** A repeated ID is reported on every repeat; all the tasks are kept, each with the ID as written. */
  private checkIds(tag: string, tasks: ParsedTask[]): void {
    const first = new Map<string, ParsedTask>();
    for (const t of tasks) {
      const seen = first.get(t.id);
      if (!seen) {
        first.set(t.id, t);
        continue;
      }
      this.diagnostics.push({
        rule: "taskmaster/duplicate-id",
        severity: "error",
        message: `task ID ${t.id} appears twice in tag ${tag} (first on line ${seen.line}); both are kept`,
        line: t.line,
        col: t.checkboxCol,
      });
    }
  }
}

/** The ID a dependency names, in the tag's own terms (`3`, `3.2`). */
function dependencyTarget(item: Node, parent: string | null): string | null {
  const raw = idOf(item);
  if (raw === null || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw)) return null;
  if (parent === null || raw.includes(".")) return raw;
  const n = Number(raw);
  return Number.isInteger(n) && n < SIBLING_LIMIT ? `${parent}.${n}` : raw;
}

function tasksArray(container: Node | undefined): Node | undefined {
  if (container?.type !== "object") return undefined;
  const tasks = properties(container).get("tasks");
  return tasks?.type === "array" ? tasks : undefined;
}

export function parseTaskmaster(text: string): TaskmasterParse {
  const source = String(text ?? "");
  const reader = new TaskmasterReader(source);
  const { root, errors } = parseJson(source);
  const firstError = errors[0];
  if (firstError) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : "";
    reader.diag(
      "malformed-json",
      `tasks.json is not valid JSON: ${printParseErrorCode(firstError.error)}${more}; what can be read is kept`,
      firstError.offset,
    );
  }
  if (root?.type !== "object") {
    reader.diag("not-a-task-list", "tasks.json does not hold a JSON object", root?.offset ?? 0);
    return { tags: [], format: "tagged", diagnostics: reader.diagnostics };
  }
  const flat = tasksArray(root);
  if (flat) {
    const tasks = reader.readTag(TASKMASTER_DEFAULT_TAG, flat);
    return {
      tags: [{ tag: TASKMASTER_DEFAULT_TAG, tasks }],
      format: "legacy",
      diagnostics: reader.diagnostics,
    };
  }
  const tags: TaskmasterTag[] = [];
  for (const [tag, value] of properties(root)) {
    const list = tasksArray(value);
    if (list) tags.push({ tag, tasks: reader.readTag(tag, list) });
    else reader.diag("bad-tag", `tag ${tag} has no "tasks" array; skipped`, value.offset, "warning");
  }
  return { tags, format: "tagged", diagnostics: reader.diagnostics };
}

/** The JSON path of the task (or subtask) `id` of `tag`; throws when it is missing or ambiguous. */
function taskPath(root: Node, tag: string | null, id: string): (string | number)[] {
  const flat = tasksArray(root);
  if (flat && tag !== null && tag !== TASKMASTER_DEFAULT_TAG)
    throw new Error(`tasks.json has no tags (only "${TASKMASTER_DEFAULT_TAG}"); cannot find tag ${tag}`);
  const tagName = tag ?? TASKMASTER_DEFAULT_TAG;
  const tagNode = flat ? undefined : properties(root).get(tagName);
  const list = flat ?? tasksArray(tagNode);
  if (!list) throw new Error(`tasks.json has no tag ${tagName}`);
  const base: (string | number)[] = flat ? ["tasks"] : [tagName, "tasks"];
  const found: (string | number)[][] = [];
  const visit = (items: Node, prefix: string | null, path: (string | number)[]): void => {
    (items.children ?? []).forEach((item, index) => {
      if (item.type !== "object") return;
      const props = properties(item);
      const own = idOf(props.get("id"));
      if (own === null) return;
      const full = prefix === null ? own : `${prefix}.${own}`;
      if (full === id) found.push([...path, index]);
      const subs = props.get("subtasks");
      if (subs?.type === "array" && id.startsWith(`${full}.`))
        visit(subs, full, [...path, index, "subtasks"]);
    });
  };
  visit(list, null, base);
  if (found.length === 0) throw new Error(`task ${id} not found in tag ${tagName} of tasks.json`);
  if (found.length > 1)
    throw new Error(`task ID ${id} appears ${found.length} times in tag ${tagName}; fix the duplicate first`);
  return found[0] as (string | number)[];
}

/** Indentation and line ends as the file already has them, so an inserted property looks like its siblings. */
function formattingOf(text: string): FormattingOptions {
  const indent = /\n([ \t]+)\S/.exec(text)?.[1] ?? "  ";
  const tabs = indent.startsWith("\t");
  return {
    insertSpaces: !tabs,
    tabSize: tabs ? 1 : indent.length,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
}

/**
 * The text with only the `status` of task (or subtask, `4.2`) `id` of `tag` set to `status`, every other byte
 * kept; a task without a status gets one. `tag` null means `master` (the only tag of a flat file). Throws when
 * the file is not valid JSON, the task is missing or its ID is ambiguous, or the status is not Task Master's.
 */
export function setTaskmasterStatus(text: string, tag: string | null, id: string, status: string): string {
  if (!(TASKMASTER_STATUSES as readonly string[]).includes(status))
    throw new Error(`"${status}" is not a Task Master status (${TASKMASTER_STATUSES.join(", ")})`);
  const { root, errors } = parseJson(text);
  const firstError = errors[0];
  if (firstError) {
    const at = new Positions(text).at(firstError.offset);
    throw new Error(
      `tasks.json is not valid JSON (${printParseErrorCode(firstError.error)} at ${at.line}:${at.col}); not writing`,
    );
  }
  if (root?.type !== "object") throw new Error("tasks.json does not hold a JSON object; not writing");
  const path = [...taskPath(root, tag, id), "status"];
  return applyEdits(text, modify(text, path, status, { formattingOptions: formattingOf(text) }));
}
