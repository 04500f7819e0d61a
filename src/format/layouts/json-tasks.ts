// What the JSON task readers (Task Master's tasks.json, Beads' issues.jsonl) share: strict parsing to a node
// tree that keeps offsets, property lookup, prose fields, and the checkbox a task read from JSON is shown with.
import { type Node, type ParseError, parseTree } from "jsonc-parser/lib/esm/main.js";
import { type ParsedTask, STATUS_CHECKBOX } from "../tasks.js";

/** What a JSON task reader fills in itself; the rest has no place in either toolkit's task. */
export type JsonTaskFields = Pick<
  ParsedTask,
  "id" | "title" | "status" | "priority" | "parent" | "details" | "line" | "checkboxCol"
>;

/** A task read from JSON: no Markdown markers (parallel, optional, story, phase), covers or boundaries. */
export function jsonTask(fields: JsonTaskFields): ParsedTask {
  return {
    ...fields,
    checkbox: STATUS_CHECKBOX[fields.status],
    parallel: false,
    optional: false,
    story: null,
    phase: null,
    dependsOn: [],
    covers: [],
    boundaries: [],
    // Keel runs a task's verification as shell commands (gates of `keel tasks done`); the toolkits' checks
    // (Task Master's testStrategy, Beads' acceptance criteria) are prose, kept with the details, never run.
    verification: [],
  };
}

/**
 * The text as a JSON node tree with offsets. Both toolkits read their files with a strict JSON parser
 * (JSON.parse, Go's encoding/json), so comments and trailing commas are errors here too.
 */
export function parseStrictJson(text: string): { root: Node | undefined; errors: ParseError[] } {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { disallowComments: true, allowTrailingComma: false });
  return { root, errors };
}

/**
 * The value node of each property of an object. A repeated key keeps its last value, as JSON.parse and Go's
 * encoding/json both do.
 */
export function properties(obj: Node): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const prop of obj.children ?? []) {
    const [key, value] = prop.children ?? [];
    if (key?.type === "string" && value) out.set(String(key.value), value);
  }
  return out;
}

/** The value of a string node; null for any other node or none. */
export function stringValue(node: Node | undefined): string | null {
  return node?.type === "string" ? String(node.value) : null;
}

/** Non-empty lines of a prose field, right-trimmed. */
export function proseLines(node: Node | undefined): string[] {
  return (stringValue(node) ?? "")
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
}
