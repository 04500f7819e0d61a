// Merging Keel's entry into a tool's MCP configuration. JSON files are edited in place with jsonc-parser
// (only the `keel` entry's text changes; other keys, their order, formatting and, in JSONC, comments stay).
// TOML (`.codex/config.toml`) is validated with smol-toml and Keel's table is kept between `# keel:begin` and
// `# keel:end` comment lines, so other tables and comments are kept byte for byte.

import {
  applyEdits,
  type FormattingOptions,
  format as formatJson,
  modify,
  type ParseError,
  parse,
  printParseErrorCode,
} from "jsonc-parser/lib/esm/main.js";
import { parse as parseToml, TomlError } from "smol-toml";
import type { McpFormat } from "./adapter.js";
import { cutBlock, findBlock, lineOf, separatorFor } from "./blocks.js";

const TOML_BEGIN = "# keel:begin";
const TOML_END = "# keel:end";

export class ConfigParseError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly col: number,
  ) {
    super(message);
  }
}

export type MergeResult =
  | { kind: "unchanged"; reason?: string }
  | { kind: "kept"; reason: string }
  | { kind: "write"; text: string; createdParent: boolean; sep: string };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObject(v))
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys(v[k])]),
    );
  return v;
}

function lineCol(text: string, offset: number): { line: number; col: number } {
  const line = lineOf(text, offset);
  const lastNl = text.lastIndexOf("\n", offset - 1);
  return { line, col: offset - lastNl };
}

/** The parsed document; a file that does not parse, or whose root is not an object, is refused. */
function parseConfig(text: string, format: McpFormat): Json {
  if (format === "toml") {
    try {
      return parseToml(text) as Json;
    } catch (e) {
      if (e instanceof TomlError) {
        throw new ConfigParseError(e.message.split("\n")[0] ?? "invalid TOML", e.line, e.column);
      }
      throw e;
    }
  }
  if (text.trim() === "") return {};
  const errors: ParseError[] = [];
  const doc: unknown = parse(text, errors, {
    disallowComments: format === "json",
    allowTrailingComma: format === "jsonc",
    allowEmptyContent: false,
  });
  const first = errors[0];
  if (first) {
    const { line, col } = lineCol(text, first.offset);
    throw new ConfigParseError(`invalid JSON: ${printParseErrorCode(first.error)}`, line, col);
  }
  if (!isObject(doc)) throw new ConfigParseError("the top level is not a JSON object", 1, 1);
  return doc;
}

function formatting(text: string): FormattingOptions {
  const indented = /^([ \t]+)\S/m.exec(text);
  const indent = indented?.[1] ?? "  ";
  return {
    insertSpaces: !indent.startsWith("\t"),
    tabSize: indent.startsWith("\t") ? 1 : indent.length,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
}

function tomlTable(key: [string, string], value: Json): string {
  const lines = [
    `${TOML_BEGIN} (written by \`keel agents\`; \`keel agents remove\` takes it away)`,
    `[${key.join(".")}]`,
  ];
  for (const [k, v] of Object.entries(value)) lines.push(`${k} = ${tomlValue(v)}`);
  lines.push(TOML_END);
  return `${lines.join("\n")}\n`;
}

function tomlValue(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(", ")}]`;
  if (typeof v === "string") return JSON.stringify(v);
  return String(v);
}

/** Adds or updates Keel's entry in `text` (null when the file does not exist). */
export function mergeEntry(
  text: string | null,
  format: McpFormat,
  key: [string, string],
  value: Json,
): MergeResult {
  const existing = text ?? "";
  const doc = parseConfig(existing, format);
  const container = doc[key[0]];
  if (container !== undefined && !isObject(container)) {
    throw new ConfigParseError(`"${key[0]}" is not a table of servers`, 1, 1);
  }
  const current = container?.[key[1]];
  if (format === "toml") {
    const span = findBlock(existing, TOML_BEGIN, TOML_END);
    if (span && "error" in span) throw new ConfigParseError(span.error, span.line, 1);
    if (!span && current !== undefined) {
      return deepEqual(current, value)
        ? { kind: "unchanged", reason: `[${key.join(".")}] is already set as Keel would` }
        : { kind: "kept", reason: `a [${key.join(".")}] table written by hand is there; left alone` };
    }
    if (deepEqual(current, value)) return { kind: "unchanged" };
    const table = tomlTable(key, value);
    const sep = span ? "" : separatorFor(existing);
    const next = span
      ? existing.slice(0, span.start) + table + existing.slice(span.end)
      : existing + sep + table;
    const check = parseConfig(next, "toml")[key[0]];
    if (!isObject(check) || !deepEqual(check[key[1]], value)) {
      throw new ConfigParseError(
        `cannot add [${key.join(".")}] without rewriting the file's own tables`,
        1,
        1,
      );
    }
    return { kind: "write", text: next, createdParent: false, sep };
  }
  if (deepEqual(current, value)) return { kind: "unchanged" };
  if (existing.trim() === "") {
    return {
      kind: "write",
      text: `${JSON.stringify({ [key[0]]: { [key[1]]: value } }, null, 2)}\n`,
      createdParent: true,
      sep: "",
    };
  }
  // Edits are made unformatted, then only the inserted text is formatted (the formatter widens a range to
  // whole lines, so an insertion after a sibling gets a line break after its comma to keep the sibling's line
  // out of reach).
  const options = formatting(existing);
  const eol = options.eol ?? "\n";
  let next = existing;
  const edits = modify(existing, key, value, {}).sort((a, b) => b.offset - a.offset);
  for (const edit of edits) {
    const afterSibling = edit.content.startsWith(",");
    const content = afterSibling ? `,${eol}${edit.content.slice(1)}` : edit.content;
    next = applyEdits(next, [{ ...edit, content }]);
    const skip = afterSibling ? 1 + eol.length : 0;
    next = applyEdits(
      next,
      formatJson(next, { offset: edit.offset + skip, length: content.length - skip }, options),
    );
  }
  return { kind: "write", text: next, createdParent: container === undefined, sep: "" };
}

/**
 * Removes Keel's entry: the `keel` key (and its container when Keel created it and it is left empty), or
 * the marked TOML table with the separator Keel put before it. Returns the new text, "" meaning nothing is
 * left of the document, or null when there was nothing of Keel's.
 */
export function removeEntry(
  text: string,
  format: McpFormat,
  key: [string, string],
  createdParent: boolean,
  sep: string,
  createdFile: boolean,
): string | null {
  const doc = parseConfig(text, format);
  if (format === "toml") {
    const span = findBlock(text, TOML_BEGIN, TOML_END);
    if (!span) return null;
    if ("error" in span) throw new ConfigParseError(span.error, span.line, 1);
    return cutBlock(text, span, sep);
  }
  const container = doc[key[0]];
  if (!isObject(container) || container[key[1]] === undefined) return null;
  const dropParent = createdParent && Object.keys(container).length === 1;
  if (dropParent && createdFile && Object.keys(doc).length === 1) return "";
  const path = dropParent ? [key[0]] : key;
  return applyEdits(text, modify(text, path, undefined, {}));
}
