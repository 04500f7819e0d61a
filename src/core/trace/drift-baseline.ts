// The drift baseline, `keel/drift-baseline.json`: the drift a project has accepted for now, committed with it,
// so that `keel drift` and `keel check` fail only on drift that is new. As in ESLint's and PHPStan's baselines,
// an entry holds no position: it is a fingerprint (rule, file, and the message with any line numbers taken
// out) and how many findings have it. Lines inserted above a finding leave it baselined; a second finding
// with the same fingerprint is new. The file shrinks only when it is written again (`keel drift --baseline`).
// @req RPT-6, RPT-7, RPT-8, RPT-9
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Node } from "jsonc-parser/lib/esm/main.js";
import { printParseErrorCode } from "jsonc-parser/lib/esm/main.js";
import { parseStrictJson, properties } from "../../format/layouts/json-tasks.js";
import type { Finding } from "../../model/types.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { type KeelError, projectError } from "../../workspace/errors.js";
import { readSource } from "../../workspace/read.js";

export const BASELINE_FILE = "keel/drift-baseline.json";

export interface BaselineEntry {
  rule: string;
  file: string;
  message: string;
  count: number;
}

/** A finding of a judged report: `baselined` when the baseline holds it (it is counted, not failed on). */
export type JudgedFinding = Finding & { baselined?: true };

export interface BaselineSummary {
  file: string;
  /** Findings of this run the baseline holds. */
  baselined: number;
  /** Baselined findings this run no longer has: the baseline is larger than it needs to be. */
  gone: number;
}

export interface BaselineJudgement {
  /** Every finding, in the order given, the baselined ones marked. */
  findings: JudgedFinding[];
  /** The findings the baseline does not hold: the ones a run fails on. */
  fresh: Finding[];
  summary: BaselineSummary;
}

/** A message without positions: `line 12`, `lines 3-9` and `:12:5` would change with every edit above them. */
function normalisedMessage(message: string): string {
  return message
    .replace(/\b(lines?) \d+(?:[-–]\d+)?/g, "$1 #")
    .replace(/:\d+(?::\d+)?\b/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

type Fingerprinted = Omit<BaselineEntry, "count">;

function fingerprint(e: Fingerprinted): string {
  return JSON.stringify([e.rule, e.file, e.message]);
}

/** What the baseline keeps of a finding: no line, no column, and none in its message either. */
function fingerprinted(f: Finding): Fingerprinted {
  return { rule: f.rule, file: f.file, message: normalisedMessage(f.message) };
}

/** The baseline entries of `findings`: one per fingerprint with its count, sorted by file, rule and message. */
export function baselineEntries(findings: readonly Finding[]): BaselineEntry[] {
  const counts = new Map<string, BaselineEntry>();
  for (const f of findings) {
    const entry = { ...fingerprinted(f), count: 1 };
    const key = fingerprint(entry);
    const seen = counts.get(key);
    if (seen) seen.count++;
    else counts.set(key, entry);
  }
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  return [...counts.values()].sort(
    (a, b) => cmp(a.file, b.file) || cmp(a.rule, b.rule) || cmp(a.message, b.message),
  );
}

/** Writes the baseline of `findings` (stable JSON: fixed key order, sorted entries), replacing any before it. */
export function writeBaseline(root: string, findings: readonly Finding[]): BaselineEntry[] {
  const entries = baselineEntries(findings);
  writeFileAtomic(
    join(root, BASELINE_FILE),
    `${JSON.stringify({ version: 1, findings: entries }, null, 2)}\n`,
  );
  return entries;
}

/** The baseline's entries, or null when there is none; a file that cannot be read as one is an error (exit 3). */
export function readBaseline(root: string): BaselineEntry[] | null {
  const abs = join(root, BASELINE_FILE);
  if (!existsSync(abs)) return null;
  const read = readSource(abs);
  if (!read.ok) {
    const { message, hint, line, col } = read.problem;
    throw projectError(`${BASELINE_FILE}: ${message}`, hint, { file: BASELINE_FILE, line, col });
  }
  const text = read.text;
  const bad = (offset: number, what: string): KeelError => {
    const before = text.slice(0, offset).split("\n");
    const location = { file: BASELINE_FILE, line: before.length, col: (before.at(-1)?.length ?? 0) + 1 };
    return projectError(
      `the drift baseline is malformed: ${what}`,
      "fix the file, or delete it and run `keel drift --baseline` to write it again",
      location,
    );
  };
  const { root: doc, errors } = parseStrictJson(text);
  const first = errors[0];
  if (first) throw bad(first.offset, `invalid JSON (${printParseErrorCode(first.error)})`);
  if (doc?.type !== "object") throw bad(doc?.offset ?? 0, "it does not hold a JSON object");
  const top = properties(doc);
  const version = top.get("version");
  if (version?.value !== 1) throw bad(version?.offset ?? doc.offset, "`version` must be 1");
  const list = top.get("findings");
  if (list?.type !== "array") throw bad(list?.offset ?? doc.offset, "`findings` must be an array");
  return (list.children ?? []).map((node) => entryOf(node, bad));
}

function entryOf(node: Node, bad: (offset: number, what: string) => KeelError): BaselineEntry {
  if (node.type !== "object") throw bad(node.offset, "each entry of `findings` must be an object");
  const fields = properties(node);
  const text = (key: "rule" | "file" | "message"): string => {
    const v = fields.get(key);
    if (v?.type !== "string") throw bad(v?.offset ?? node.offset, `an entry's \`${key}\` must be a string`);
    return String(v.value);
  };
  const count = fields.get("count");
  if (count?.type !== "number" || !Number.isInteger(count.value) || (count.value as number) < 1)
    throw bad(count?.offset ?? node.offset, "an entry's `count` must be a whole number of at least 1");
  return { rule: text("rule"), file: text("file"), message: text("message"), count: count.value as number };
}

/** Marks the findings the baseline holds, each fingerprint as many times as it counts; null with no baseline. */
export function judgeAgainstBaseline(root: string, findings: readonly Finding[]): BaselineJudgement | null {
  const entries = readBaseline(root);
  if (entries === null) return null;
  const left = new Map<string, number>();
  for (const e of entries) {
    const key = fingerprint(e);
    left.set(key, (left.get(key) ?? 0) + e.count);
  }
  const judged: JudgedFinding[] = [];
  const fresh: Finding[] = [];
  for (const f of findings) {
    const key = fingerprint(fingerprinted(f));
    const n = left.get(key) ?? 0;
    if (n > 0) {
      left.set(key, n - 1);
      judged.push({ ...f, baselined: true });
    } else {
      judged.push(f);
      fresh.push(f);
    }
  }
  const gone = [...left.values()].reduce((a, b) => a + b, 0);
  return {
    findings: judged,
    fresh,
    summary: { file: BASELINE_FILE, baselined: findings.length - fresh.length, gone },
  };
}
