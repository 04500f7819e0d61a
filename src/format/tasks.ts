// tasks.md → tasks with positions. One superset parser reads Keel's task format, Spec Kit's (`T001 [P] [US1]`,
// phases, "(depends on T012)") and Kiro's (`_Requirements: 1.2_`, optional `- [ ]*`). It never throws: what it
// cannot read becomes a positioned diagnostic. Every task keeps an ID that no edit elsewhere in the file moves,
// and Spec Kit's and Kiro's files also yield the execution order their structure states. Syntax: docs/format.md,
// "Tasks".
// @req TSK-1, LAY-7, LAY-8
import { slug } from "../model/ids.js";

export type TaskStatus = "open" | "in_progress" | "done" | "deferred" | "blocked";
export const TASK_STATUSES: readonly TaskStatus[] = ["open", "in_progress", "done", "deferred", "blocked"];

export type DependencyKind = "blocks" | "parent-child" | "related";

/**
 * The Markdown task dialects. `keel` and `openspec` read only the dependencies written; `speckit` and `kiro` also
 * derive the execution order their files state by structure (Spec Kit's phases and `[P]`, Kiro's numbering).
 */
export type MarkdownTaskDialect = "keel" | "openspec" | "speckit" | "kiro";

export interface ParseTasksOptions {
  /** `keel` when not given. */
  dialect?: MarkdownTaskDialect;
}

export interface TaskDependency {
  /** The task depended on, as written (local ID or `scope/ID`). */
  target: string;
  /** `parent-child` edges come from `parent` (nesting or the `parent:` field), not from this list. */
  kind: DependencyKind;
  /** Where the dependency is written; for a derived one, the line of the task that waits. */
  line: number;
  /** Present on a dependency derived from the file's structure rather than written (always `blocks`). */
  derived?: true;
}

export interface ParsedTask {
  /**
   * As written in the file (`T001`, `T105a`, `1.1`, an explicit `{#ID}`), else `_` and the slug of the title; the
   * n-th repeat of an ID in the file (n ≥ 2) is `<ID>@<n>`. Never derived from a line number.
   */
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
/** `T001`, `T105a` (Spec Kit, a letter for a task inserted later), `1`, `1.2.3` (OpenSpec, Kiro); then `.` or `:`. */
const LOCAL_ID = /^(?:T\d+[A-Za-z]?|\d+(?:\.\d+)*)[.:]?(?=\s|$)/;
const EXPLICIT_ID = /\s*\{#([A-Za-z0-9][A-Za-z0-9_.\-/]*)\}\s*$/;
/**
 * A dependency target: a task ID, optionally qualified by its scope (`add-refunds/2.1`). The ID may be a title's
 * (`_write-the-parser`) and carry a repeat number (`3.8@2`): the two marks no written ID can hold.
 */
const TARGET = /^(?:[A-Za-z0-9][A-Za-z0-9_.-]*\/)*_?[A-Za-z0-9][A-Za-z0-9_.-]*(?:@[1-9]\d*)?$/;
/** A Spec Kit phase heading: `Phase 1: Setup`, `Phase 3.2: Tests First`, the template's `Phase N: Polish`. */
const SPECKIT_PHASE = /^Phase\s+[0-9A-Za-z]+(?:\.\d+)*\s*:\s*/i;
/** A phase heading that names a user story: `User Story 2 - Export`, `US2`. */
const STORY_HEADING = /\bUser\s+Story\s*\d+|\bUS\d+\b/i;

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

/** The checkbox each status is written with (the reverse of CHECKBOX_STATUS, `x` for done). */
export const STATUS_CHECKBOX: Readonly<Record<TaskStatus, string>> = {
  open: " ",
  in_progress: "-",
  done: "x",
  deferred: "~",
  blocked: "!",
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

/** A heading of the file, as the order rules of Spec Kit need it. */
interface HeadingLine {
  level: number;
  text: string;
}

/** A task where the file puts it: under which heading, and inside which task. */
interface Placed {
  task: ParsedTask;
  /** Index into the file's headings of the last heading above the task; -1 before the first. */
  heading: number;
  /** The task it is a subtask of: indented under it, or (Kiro) numbered under it. Not a `parent:` field. */
  outer: ParsedTask | null;
  /** The ID written on its line, if any. */
  written: string | null;
}

export function parseTasks(text: string, options: ParseTasksOptions = {}): ParsedTaskFile {
  const tasks: ParsedTask[] = [];
  const diagnostics: TaskDiagnostic[] = [];
  const lines = String(text ?? "")
    .replace(/\r\n?/g, "\n")
    .split("\n");
  let phase: string | null = null;
  let inFence = false;
  /** Open tasks by indentation, innermost last. */
  let stack: Frame[] = [];
  const headings: HeadingLine[] = [];
  const placed: Placed[] = [];
  /** Tasks by the ID they would have alone (as written, or from the title), in order of appearance. */
  const byBase = new Map<string, { task: ParsedTask; written: boolean }[]>();

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
      headings.push({ level: (heading[1] as string).length, text: heading[2] as string });
      phase = (heading[2] as string).replace(SPECKIT_PHASE, "").trim() || null;
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
      assignId(task.task, task.written, byBase);
      if (parentFrame) task.task.parent = parentFrame.task.id;
      // Fields written inline: `[depends-on: T001]`, `(depends on T012, T013)`.
      for (const [key, value, col] of task.inline) applyField(task.task, key, value, lineNo, col);
      tasks.push(task.task);
      placed.push({
        task: task.task,
        heading: headings.length - 1,
        outer: parentFrame?.task ?? null,
        written: task.written,
      });
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
  reportDuplicates(byBase, diag);
  // A `parent:` field overrides nesting: such a task is no subtask of the task it is indented under.
  for (const p of placed) if (p.outer && p.task.parent !== p.outer.id) p.outer = null;
  if (options.dialect === "speckit") speckitOrder(placed, headings);
  else if (options.dialect === "kiro") {
    kiroParents(placed);
    kiroOrder(placed);
  }
  // Sorted because a repeated ID is reported at its first position only once the repeat is met.
  diagnostics.sort((a, b) => a.line - b.line || a.col - b.col);
  return { tasks, diagnostics };
}

/**
 * The ID of a task written without one: `_` and the slug of its title (`_` cannot begin a written ID, so the two
 * never meet). Shared by the JSON task readers (format/layouts/), for a task whose file gives it no ID.
 */
export function titleKey(title: string): string {
  return `_${slug(title) || "untitled"}`;
}

/**
 * Gives a task its ID: the one written, else `_` and the slug of its title (`_` cannot begin a written ID, so the
 * two never meet). The n-th task with the same such ID (n ≥ 2) is `<ID>@<n>`: `@` is in no written ID or slug.
 * Nothing depends on a line number, so an edit elsewhere in the file moves no ID.
 */
function assignId(
  task: ParsedTask,
  written: string | null,
  byBase: Map<string, { task: ParsedTask; written: boolean }[]>,
): void {
  const base = written ?? titleKey(task.title);
  const same = byBase.get(base) ?? [];
  same.push({ task, written: written !== null });
  byBase.set(base, same);
  task.id = same.length === 1 ? base : `${base}@${same.length}`;
}

/** A written ID used more than once is an error at each use, naming the others; two equal titles are not. */
function reportDuplicates(
  byBase: Map<string, { task: ParsedTask; written: boolean }[]>,
  diag: (rule: string, message: string, line: number, col?: number) => void,
): void {
  for (const [base, same] of byBase) {
    if (same.length < 2 || !(same[0] as { written: boolean }).written) continue;
    for (const { task } of same) {
      const others = same.filter((o) => o.task !== task).map((o) => o.task.line);
      diag(
        "tasks/duplicate-id",
        `duplicate task ID ${base} (also on line${others.length > 1 ? "s" : ""} ${others.join(", ")}); this one is keyed ${task.id}`,
        task.line,
      );
    }
  }
}

/** Adds derived `blocks` dependencies on `targets`, after the written ones, never twice. */
function dependOn(task: ParsedTask, targets: readonly ParsedTask[]): void {
  if (targets.length === 0) return;
  const have = new Set(task.dependsOn.filter((d) => d.kind === "blocks").map((d) => d.target));
  for (const t of targets) {
    if (t === task || have.has(t.id)) continue;
    have.add(t.id);
    task.dependsOn.push({ target: t.id, kind: "blocks", line: task.line, derived: true });
  }
}

/** Subtasks by the task they are under (by nesting, or by Kiro's numbering). */
function subtasksOf(placed: readonly Placed[]): Map<ParsedTask, ParsedTask[]> {
  const out = new Map<ParsedTask, ParsedTask[]>();
  for (const p of placed) {
    if (!p.outer) continue;
    const subs = out.get(p.outer);
    if (subs) subs.push(p.task);
    else out.set(p.outer, [p.task]);
  }
  return out;
}

/**
 * What waiting on `tasks` means: an optional task is never waited on, and a task with subtasks is waited on
 * through its required subtasks (its own checkbox only when all of them are optional), since a parent is done
 * when its subtasks are and an optional one must not hold it.
 */
function waitTargets(tasks: readonly ParsedTask[], subtasks: Map<ParsedTask, ParsedTask[]>): ParsedTask[] {
  const out: ParsedTask[] = [];
  const visit = (t: ParsedTask): void => {
    if (t.optional) return;
    const subs = (subtasks.get(t) ?? []).filter((s) => !s.optional);
    if (subs.length === 0) out.push(t);
    else for (const s of subs) visit(s);
  };
  for (const t of tasks) visit(t);
  return out;
}

/**
 * Chains `steps` in order: every task of a step waits on the previous step, the first on `entry`. A step of
 * nothing to wait on (only optional tasks) passes the previous one on. Returns what the next step waits on.
 */
function chain(
  steps: readonly ParsedTask[][],
  entry: ParsedTask[],
  subtasks: Map<ParsedTask, ParsedTask[]>,
): ParsedTask[] {
  let before = entry;
  for (const step of steps) {
    for (const t of step) dependOn(t, before);
    const next = waitTargets(step, subtasks);
    if (next.length > 0) before = next;
  }
  return before;
}

interface SpeckitPhase {
  name: string;
  story: boolean;
  /** Its top-level tasks with their heading, in file order. */
  tasks: Placed[];
}

/** The phases of a Spec Kit file, in order, each with its top-level tasks; sets each task's phase name. */
function speckitPhases(placed: readonly Placed[], headings: readonly HeadingLine[]): SpeckitPhase[] {
  // The phase heading each heading falls under (itself for a phase heading), or -1.
  const phaseOf: number[] = [];
  let open = -1;
  headings.forEach((h, i) => {
    if (SPECKIT_PHASE.test(h.text)) open = i;
    else if (open >= 0 && h.level <= (headings[open] as HeadingLine).level) open = -1;
    phaseOf.push(open);
  });
  const phases = new Map<number, SpeckitPhase>();
  for (const p of placed) {
    const at = p.heading < 0 ? -1 : (phaseOf[p.heading] as number);
    if (at < 0) continue;
    let phase = phases.get(at);
    if (!phase) {
      const text = (headings[at] as HeadingLine).text;
      const name = text.replace(SPECKIT_PHASE, "").trim();
      phase = { name, story: STORY_HEADING.test(text), tasks: [] };
      phases.set(at, phase);
    }
    if (phase.name) p.task.phase = phase.name;
    if (p.task.parent === null) phase.tasks.push(p);
  }
  const out = [...phases.values()];
  for (const ph of out) ph.story ||= ph.tasks.length > 0 && ph.tasks.every((p) => p.task.story !== null);
  return out;
}

/**
 * Spec Kit's "Dependencies & Execution Order": Setup, then Foundational, then the user stories (each only after
 * the phase before the stories, not after each other), then Polish. Generally: a phase that is not a user story
 * waits on the phases since the previous such phase (all the stories between, or that phase itself); a story
 * phase waits on the last phase that is not one. Within a phase, tasks run in the order written, and a run of
 * consecutive `[P]` tasks under one heading runs together. Only tasks without a parent are ordered; a subtask
 * waits through its parent. Rules in docs/format.md, "Execution order".
 */
function speckitOrder(placed: readonly Placed[], headings: readonly HeadingLine[]): void {
  const subtasks = subtasksOf(placed);
  /** What the last phase that is not a story leaves to wait on, and what the stories since then leave. */
  let barrier: ParsedTask[] = [];
  let stories: ParsedTask[] = [];
  for (const phase of speckitPhases(placed, headings)) {
    const entry = phase.story || stories.length === 0 ? barrier : stories;
    const exit = chain(speckitSteps(phase.tasks), entry, subtasks);
    if (phase.story) stories = [...new Set([...stories, ...exit])];
    else {
      barrier = exit;
      stories = [];
    }
  }
}

/** A phase's tasks as steps: each task alone, but consecutive `[P]` tasks under the same heading together. */
function speckitSteps(tasks: readonly Placed[]): ParsedTask[][] {
  const steps: ParsedTask[][] = [];
  let prev: Placed | null = null;
  for (const p of tasks) {
    const joins = prev !== null && p.task.parallel && prev.task.parallel && p.heading === prev.heading;
    if (joins) (steps[steps.length - 1] as ParsedTask[]).push(p.task);
    else steps.push([p.task]);
    prev = p;
  }
  return steps;
}

/**
 * Kiro writes a task's subtasks at the margin under it (`- [ ] 2. Models`, then `- [ ] 2.1 User model`): a task
 * numbered `2.1` that is neither indented under a task nor given a `parent:` is a subtask of the nearest task
 * numbered `2` above it.
 */
function kiroParents(placed: Placed[]): void {
  const nearest = new Map<string, ParsedTask>();
  for (const p of placed) {
    const under = p.written === null ? null : /^(\d+(?:\.\d+)*)\.\d+$/.exec(p.written);
    const parent = under ? nearest.get(under[1] as string) : undefined;
    if (parent && p.outer === null && p.task.parent === null) {
      p.outer = parent;
      p.task.parent = parent.id;
    }
    if (p.written !== null) nearest.set(p.written, p.task);
  }
}

/**
 * Kiro's numbered plan runs in order: each top-level task waits on the one before it, each subtask on the one
 * before it in its parent (the first subtask waits through its parent). An optional task (`- [ ]*`) waits in
 * its turn but is never waited on. A task given a `parent:` field is not ordered. Rules in docs/format.md,
 * "Execution order".
 */
function kiroOrder(placed: readonly Placed[]): void {
  const subtasks = subtasksOf(placed);
  const top = placed.filter((p) => p.task.parent === null).map((p) => p.task);
  for (const siblings of [top, ...subtasks.values()]) {
    const oneByOne = siblings.map((t) => [t]);
    chain(oneByOne, [], subtasks);
  }
}

interface LineRead {
  /** With an empty ID: assignId gives it, once the file's other IDs are known. */
  task: ParsedTask;
  /** The ID written on the line (`{#ID}` or a leading `T001` / `1.1`), if any. */
  written: string | null;
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
    id ??= local[0].replace(/[.:]$/, "");
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
    id: "",
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
  return { task, written: id, inline };
}
