// tasks.md → tasks with positions. One superset parser reads Keel's task format, Spec Kit's (`T001 [P] [US1]`,
// phases, "(depends on T012)") and Kiro's (`_Requirements: 1.2_`, optional `- [ ]*`). It never throws: what it
// cannot read becomes a positioned diagnostic. Syntax: docs/format.md, "Tasks".
// @req TSK-1

export type TaskStatus = "open" | "in_progress" | "done" | "deferred" | "blocked";
export const TASK_STATUSES: readonly TaskStatus[] = ["open", "in_progress", "done", "deferred", "blocked"];

export type DependencyKind = "blocks" | "parent-child" | "related";

export interface TaskDependency {
  /** The task depended on, as written (local ID or `scope/ID`). */
  target: string;
  /** `parent-child` edges come from `parent` (nesting or the `parent:` field), not from this list. */
  kind: DependencyKind;
  line: number;
}

export interface ParsedTask {
  /** As written in the file: `T001`, `1.1`, an explicit `{#ID}`, or `L<line>` when the line carries none. */
  id: string;
  title: string;
  status: TaskStatus;
  /** Checkbox state as written (`x` for done, space for open, `-` in progress, `~` deferred). */
  checkbox: string;
  parallel: boolean;
  optional: boolean;
  story: string | null;
  phase: string | null;
  /** 0 (highest) … 3 (lowest); null when not given. */
  priority: number | null;
  dependsOn: TaskDependency[];
  covers: string[];
  boundaries: string[];
  verification: string[];
  /** The enclosing task by nesting or by an explicit `parent:` field. */
  parent: string | null;
  details: string[];
  line: number;
  /** Column of the checkbox's `[` (1-based), used to edit the checkbox in place. */
  checkboxCol: number;
}

export interface TaskDiagnostic {
  rule: string;
  severity: "error" | "warning";
  message: string;
  line: number;
  col: number;
}

export interface ParsedTaskFile {
  tasks: ParsedTask[];
  diagnostics: TaskDiagnostic[];
}

const TASK_LINE = /^(\s*)[-*+]\s+\[([ xX\-~!])\](\*?)\s*(.*)$/;
const BULLET = /^(\s*)[-*+]\s+(.*)$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const FENCE = /^\s*(```|~~~)/;
const LOCAL_ID = /^(?:T\d+|\d+(?:\.\d+)*)\.?(?=\s|$)/;
const EXPLICIT_ID = /\s*\{#([A-Za-z0-9][A-Za-z0-9_.\-/]*)\}\s*$/;
/** A dependency target: a task ID, optionally qualified by its scope (`add-refunds/2.1`). */
const TARGET = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)*[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const FIELD_ALIASES: Record<string, string> = {
  "depends-on": "depends-on",
  "depends on": "depends-on",
  depends: "depends-on",
  "blocked-by": "depends-on",
  after: "depends-on",
  related: "related",
  "related-to": "related",
  parent: "parent",
  covers: "covers",
  requirements: "covers",
  requirement: "covers",
  boundaries: "boundaries",
  boundary: "boundaries",
  files: "boundaries",
  verify: "verification",
  verification: "verification",
  priority: "priority",
  status: "status",
};

const CHECKBOX_STATUS: Record<string, TaskStatus> = {
  " ": "open",
  x: "done",
  X: "done",
  "-": "in_progress",
  "~": "deferred",
  "!": "blocked",
};

const PRIORITY_WORDS: Record<string, number> = { critical: 0, high: 1, medium: 2, low: 3 };

export function parsePriority(raw: string): number | null {
  const v = raw.trim().toLowerCase();
  const m = /^p([0-3])$/.exec(v) ?? /^([0-3])$/.exec(v);
  if (m) return Number(m[1]);
  return PRIORITY_WORDS[v] ?? null;
}

function splitList(raw: string): string[] {
  return raw
    .split(/[,;]|\s+and\s+/)
    .map((s) => s.trim().replace(/^`|`$/g, "").trim())
    .filter((s) => s.length > 0);
}

interface Frame {
  task: ParsedTask;
  indent: number;
}

export function parseTasks(text: string): ParsedTaskFile {
  const tasks: ParsedTask[] = [];
  const diagnostics: TaskDiagnostic[] = [];
  const lines = String(text ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n");
  let phase: string | null = null;
  let inFence = false;
  /** Open tasks by indentation, innermost last. */
  let stack: Frame[] = [];
  const seen = new Map<string, number>();

  const diag = (
    rule: string,
    message: string,
    line: number,
    col = 1,
    severity: "error" | "warning" = "error",
  ) => diagnostics.push({ rule, severity, message, line, col });

  const addTargets = (task: ParsedTask, raw: string, kind: DependencyKind, line: number, col: number) => {
    const items = splitList(raw);
    if (items.length === 0) diag("tasks/bad-dependency", `empty ${kind} dependency list`, line, col);
    for (const item of items) {
      if (!TARGET.test(item)) {
        diag("tasks/bad-dependency", `cannot read dependency "${item}" of task ${task.id}`, line, col);
        continue;
      }
      if (item === task.id) {
        diag("tasks/self-dependency", `task ${task.id} depends on itself`, line, col);
        continue;
      }
      if (!task.dependsOn.some((d) => d.target === item && d.kind === kind))
        task.dependsOn.push({ target: item, kind, line });
    }
  };

  /** Applies `key: value`; returns false when `key` is not a task field. */
  const applyField = (task: ParsedTask, key: string, value: string, line: number, col: number): boolean => {
    const field = FIELD_ALIASES[key.trim().toLowerCase()];
    if (!field) return false;
    const v = value.trim();
    switch (field) {
      case "depends-on":
        addTargets(task, v, "blocks", line, col);
        break;
      case "related":
        addTargets(task, v, "related", line, col);
        break;
      case "parent":
        if (!TARGET.test(v))
          diag("tasks/bad-dependency", `cannot read parent "${v}" of task ${task.id}`, line, col);
        else if (v === task.id) diag("tasks/self-dependency", `task ${task.id} is its own parent`, line, col);
        else task.parent = v;
        break;
      case "covers":
        for (const c of splitList(v)) if (!task.covers.includes(c)) task.covers.push(c);
        break;
      case "boundaries":
        for (const b of splitList(v)) if (!task.boundaries.includes(b)) task.boundaries.push(b);
        break;
      case "verification": {
        const cmd = v.replace(/^`+|`+$/g, "").trim();
        if (cmd) task.verification.push(cmd);
        else diag("tasks/bad-field", `empty verification command on task ${task.id}`, line, col, "warning");
        break;
      }
      case "priority": {
        const p = parsePriority(v);
        if (p === null)
          diag(
            "tasks/bad-field",
            `unknown priority "${v}" (use P0–P3 or critical|high|medium|low)`,
            line,
            col,
          );
        else task.priority = p;
        break;
      }
      case "status": {
        const s = v.toLowerCase().replace(/[\s-]+/g, "_") as TaskStatus;
        if (TASK_STATUSES.includes(s)) task.status = s;
        else
          diag("tasks/bad-field", `unknown task status "${v}" (use ${TASK_STATUSES.join(", ")})`, line, col);
        break;
      }
    }
    return true;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const lineNo = i + 1;
    if (FENCE.test(raw)) {
      inFence = !inFence;
      continue;
    }
    if (inFence) continue;
    const heading = HEADING.exec(raw);
    if (heading) {
      stack = [];
      phase = (heading[2] as string).replace(/^Phase\s+\d+\s*:\s*/i, "").trim() || null;
      if ((heading[1] as string).length === 1) phase = null;
      continue;
    }
    const indent = (raw.match(/^\s*/)?.[0] ?? "").replace(/\t/g, "    ").length;
    const taskMatch = TASK_LINE.exec(raw);
    if (taskMatch) {
      while (stack.length > 0 && (stack[stack.length - 1] as Frame).indent >= indent) stack.pop();
      const parentFrame = stack[stack.length - 1];
      const task = readTaskLine(taskMatch, lineNo, phase, raw.indexOf("[") + 1, (rule, msg, col) =>
        diag(rule, msg, lineNo, col),
      );
      if (parentFrame) task.task.parent = parentFrame.task.id;
      const prev = seen.get(task.task.id);
      if (prev !== undefined) {
        diag("tasks/duplicate-id", `duplicate task ID ${task.task.id} (first on line ${prev})`, lineNo, 1);
      } else seen.set(task.task.id, lineNo);
      // Fields written inline: `[depends-on: T001]`, `(depends on T012, T013)`.
      for (const [key, value, col] of task.inline) applyField(task.task, key, value, lineNo, col);
      tasks.push(task.task);
      stack.push({ task: task.task, indent });
      continue;
    }
    if (raw.trim() === "") continue;
    // An indented line belongs to the innermost task it is indented under.
    while (stack.length > 0 && (stack[stack.length - 1] as Frame).indent >= indent) stack.pop();
    const owner = stack[stack.length - 1];
    if (!owner) continue;
    const body = (BULLET.exec(raw)?.[2] ?? raw).trim();
    const col = raw.indexOf(body) + 1;
    // Kiro: `_Requirements: 1.2, 3.1_`.
    const kiro = /^_([A-Za-z][A-Za-z -]*):\s*(.*?)_$/.exec(body);
    const kv = kiro ?? /^\*{0,2}([A-Za-z][A-Za-z -]*?)\*{0,2}:\*{0,2}\s*(.*)$/.exec(body);
    if (kv && applyField(owner.task, kv[1] as string, kv[2] as string, lineNo, col)) continue;
    owner.task.details.push(body);
  }
  return { tasks, diagnostics };
}

interface LineRead {
  task: ParsedTask;
  inline: [string, string, number][];
}

function readTaskLine(
  m: RegExpExecArray,
  line: number,
  phase: string | null,
  checkboxCol: number,
  diag: (rule: string, message: string, col: number) => void,
): LineRead {
  const checkbox = m[2] as string;
  let rest = (m[4] as string).trim();
  const inline: [string, string, number][] = [];
  let id: string | null = null;
  const explicit = EXPLICIT_ID.exec(rest);
  if (explicit) {
    id = explicit[1] as string;
    rest = rest.slice(0, explicit.index).trim();
  }
  const local = LOCAL_ID.exec(rest);
  if (local) {
    id ??= local[0].replace(/\.$/, "");
    rest = rest.slice(local[0].length).trim();
  }
  let parallel = false;
  let story: string | null = null;
  // Leading Spec Kit tags: [P], [US1], in any order.
  for (;;) {
    const tag = /^\[(P|US\d+)\]\s*/.exec(rest);
    if (!tag) break;
    if (tag[1] === "P") parallel = true;
    else story = tag[1] as string;
    rest = rest.slice(tag[0].length);
  }
  // Inline fields: `[key: value]` anywhere, and prose "(depends on T012, T013)".
  rest = rest.replace(/\[([A-Za-z][A-Za-z -]*):\s*([^\]]*)\]/g, (all, key: string, value: string) => {
    if (!FIELD_ALIASES[key.trim().toLowerCase()]) return all;
    inline.push([key, value, checkboxCol]);
    return "";
  });
  rest = rest.replace(
    /\(\s*(depends on|after|blocked by)\s+([^)]*)\)/gi,
    (_all, key: string, value: string) => {
      inline.push([key.toLowerCase() === "blocked by" ? "blocked-by" : key, value, checkboxCol]);
      return "";
    },
  );
  const title = rest.replace(/\s+/g, " ").trim();
  if (!title) diag("tasks/empty-title", "task has no description", checkboxCol);
  const task: ParsedTask = {
    id: id ?? `L${line}`,
    title,
    status: CHECKBOX_STATUS[checkbox] ?? "open",
    checkbox,
    parallel,
    optional: m[3] === "*",
    story,
    phase,
    priority: null,
    dependsOn: [],
    covers: [],
    boundaries: [],
    verification: [],
    parent: null,
    details: [],
    line,
    checkboxCol,
  };
  return { task, inline };
}
