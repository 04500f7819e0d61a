// A fast path for the front matter people actually write: flat `key: value` lines whose values are plain
// scalars or flow sequences of plain scalars. It answers only when it is certain to agree with the `yaml`
// library (YAML 1.2 core schema); for anything else it returns null and the caller uses the library.
// Why: parsing front matter with the library costs ~65 µs a file, the largest single cost of a cold
// validate over 10,000 specs. tests/format-simple-yaml.test.ts checks agreement with the library.

const KEY = /^([A-Za-z_][A-Za-z0-9_-]*):(?:[ \t]+(.*?))?[ \t]*$/;
/** A plain scalar that cannot be mistaken for anything else: no indicator first, no `: ` or ` #` inside. */
const PLAIN = /^(?:[A-Za-z0-9_]|[-+.][A-Za-z0-9_])(?:[A-Za-z0-9_ ./+@()-]*[A-Za-z0-9_./+@()-])?$/;
const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

export function parseSimpleYaml(text: string): Record<string, unknown> | null {
  // A CR that does not end a CRLF pair is read differently by YAML parsers; leave it to the library.
  if (/\r(?!\n)/.test(text)) return null;
  const out: Record<string, unknown> = {};
  for (const rawLine of text.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.trim() === "") continue;
    const m = KEY.exec(line);
    if (!m) return null;
    const key = m[1] as string;
    if (Object.hasOwn(out, key)) return null;
    const value = m[2];
    if (value === undefined || value === "") return null; // a nested block or an explicit null: library
    if (value.startsWith("[") && value.endsWith("]")) {
      const inner = value.slice(1, -1).trim();
      if (inner === "") {
        out[key] = [];
        continue;
      }
      const items = inner.split(",").map((x) => x.trim());
      const values: unknown[] = [];
      for (const item of items) {
        const v = PLAIN.test(item) ? scalar(item) : DECLINE;
        if (v === DECLINE) return null;
        values.push(v);
      }
      out[key] = values;
    } else {
      const v = PLAIN.test(value) ? scalar(value) : DECLINE;
      if (v === DECLINE) return null;
      out[key] = v;
    }
  }
  return out;
}

const DECLINE = Symbol("decline");

/** The core-schema value of a plain scalar, or DECLINE when a number-like form needs the library's rules. */
function scalar(v: string): unknown {
  if (v === "true" || v === "True" || v === "TRUE") return true;
  if (v === "false" || v === "False" || v === "FALSE") return false;
  if (v === "null" || v === "Null" || v === "NULL") return null;
  if (INT.test(v)) return Number.parseInt(v, 10);
  if (FLOAT.test(v)) return Number.parseFloat(v);
  // Hex, octal, `.inf`, dates and the like: the library knows which are numbers.
  return /^[0-9+.-]/.test(v) ? DECLINE : v;
}
