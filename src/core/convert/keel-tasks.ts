// Tasks of any layout written as one Keel tasks.md per scope: each task keeps its ID exactly (`T001`, `1.2`,
// `{#bd-a1b2}`), its status as a checkbox, its subtasks nested under it, and every dependency written out,
// including the ones Spec Kit and Kiro state by the structure of their files, since Keel's own task files state
// only what is written. The text is read back before it is used, so a task that would not survive is refused.
// @req LAY-12
import { type ParsedTask, parseTasks, STATUS_CHECKBOX } from "../../format/tasks.js";
import { projectError } from "../../workspace/errors.js";
import type { LoadedTask } from "../tasks/load.js";

/** The IDs the task reader takes from the start of a task line (Spec Kit's `T001`, `1.2`). */
const LEADING_ID = /^(?:T\d+[A-Za-z]?|\d+(?:\.\d+)*)$/;
/** Detail lines the reader would take for something else: a task, a field, a heading, a fence. */
const MISREAD_DETAIL =
  /^(?:[-*+]\s+\[[ xX\-~!]\]|#{1,6}\s|```|~~~|_?\*{0,2}(?:depends(?:-on| on)?|blocked-by|after|related(?:-to)?|parent|covers|requirements?|boundar(?:y|ies)|files|verify|verification|priority|status)\*{0,2}:)/i;

/** The text of `keel/specs/<scope>/tasks.md` for the tasks of one scope, in their source order. */
export function keelTasksText(scope: string, tasks: readonly LoadedTask[]): string {
  const ids = new Set(tasks.map((t) => t.id));
  const children = new Map<string, LoadedTask[]>();
  for (const t of tasks) {
    if (t.parent === null || !ids.has(t.parent)) continue;
    children.set(t.parent, [...(children.get(t.parent) ?? []), t]);
  }
  const lines = [`# Tasks: ${scope}`];
  const written = new Set<LoadedTask>();
  let phase: string | null = null;
  const write = (t: LoadedTask, depth: number) => {
    if (written.has(t)) return;
    written.add(t);
    lines.push(...taskLines(t, depth));
    for (const c of children.get(t.id) ?? []) write(c, depth + 1);
  };
  for (const t of tasks) {
    if (written.has(t) || (t.parent !== null && ids.has(t.parent))) continue;
    if (t.phase !== null && t.phase !== phase) {
      phase = t.phase;
      lines.push("", `## ${phase}`, "");
    }
    write(t, 0);
  }
  // A parent cycle leaves tasks no root reaches; they are written at the top level with their parent field.
  for (const t of tasks) write(t, 0);
  const text = `${lines.join("\n")}\n`;
  expectSameTasks(scope, tasks, parseTasks(text, { dialect: "keel" }).tasks);
  return text;
}

/** At depth 0 a task's parent, if any, is written as a field; deeper, nesting says it. */
function taskLines(t: LoadedTask, depth: number): string[] {
  const indent = "  ".repeat(depth);
  const id = t.id.replace(/@\d+$/, "");
  const titleKey = id.startsWith("_");
  const leading = !titleKey && LEADING_ID.test(id);
  const head = [
    leading ? id : "",
    t.parallel ? "[P]" : "",
    t.story ? `[${t.story}]` : "",
    t.title,
    !titleKey && !leading ? `{#${id}}` : "",
  ].filter((p) => p !== "");
  const out = [`${indent}- [${STATUS_CHECKBOX[t.status]}]${t.optional ? "*" : ""} ${head.join(" ")}`];
  const field = (key: string, values: readonly string[]) => {
    if (values.length > 0) out.push(`${indent}  - ${key}: ${values.join(", ")}`);
  };
  field("depends-on", targets(t, "blocks"));
  field("related", targets(t, "related"));
  if (t.parent !== null && depth === 0) field("parent", [t.parent]);
  field("covers", t.covers);
  field("boundaries", t.boundaries);
  if (t.priority !== null) field("priority", [`P${t.priority}`]);
  for (const cmd of t.verification) field("verify", [`\`${cmd}\``]);
  for (const d of t.details) out.push(`${indent}  - ${MISREAD_DETAIL.test(d) ? `> ${d}` : d}`);
  return out;
}

function targets(t: ParsedTask, kind: "blocks" | "related"): string[] {
  return t.dependsOn.filter((d) => d.kind === kind).map((d) => d.target);
}

/** Every task reads back with its ID, status, parent, dependencies and covers. */
function expectSameTasks(scope: string, source: readonly LoadedTask[], read: readonly ParsedTask[]): void {
  const byId = new Map(read.map((t) => [t.id, t]));
  for (const t of source) {
    const back = byId.get(t.id);
    const problem = !back
      ? "its ID would not be read back"
      : back.status !== t.status
        ? "its status would not be read back"
        : back.parent !== t.parent
          ? "its parent would not be read back"
          : edges(back) !== edges(t)
            ? "its dependencies would not be read back"
            : [...back.covers].sort().join() !== [...t.covers].sort().join()
              ? "what it covers would not be read back"
              : null;
    if (problem) {
      throw projectError(
        `cannot import task ${scope}/${t.id} (${t.file}:${t.line}): ${problem} from Keel's task format; nothing was written`,
        "check the task's title for a trailing {#…}, a leading ID or an inline [field: …], then import again",
        { file: t.file, line: t.line, col: t.checkboxCol },
      );
    }
  }
}

function edges(t: ParsedTask): string {
  return t.dependsOn
    .map((d) => `${d.kind}:${d.target}`)
    .sort()
    .join(",");
}
