// A change folder (proposal, tasks, metadata, delta specs) read into one Change. Pure: the caller reads files.
// @req FMT-9, OSC-3

import { parseDocument } from "yaml";
import { qualifyDelta } from "../model/namespace.js";
import type { Change, ChangeStatus, DeltaSpec, Diagnostic, NativeLayout, Section } from "../model/types.js";
import { parseDeltaSpec } from "./delta.js";
import { MAX_YAML_CHARS } from "./frontmatter.js";
import { lineSpan, linesSpan, lineText, scan } from "./scan.js";
import { topSections } from "./spec.js";

export interface SourceFile {
  file: string;
  text: string;
}

export interface ChangeSources {
  id: string;
  dir: string;
  archived: boolean;
  layout: NativeLayout;
  proposal: SourceFile | null;
  tasks: SourceFile | null;
  meta: SourceFile | null;
  deltas: Array<SourceFile & { capability: string }>;
}

const CHANGE_STATUSES: readonly ChangeStatus[] = ["draft", "review", "approved", "applied", "rejected"];
const TASK = /^\s*[-*+]\s+\[( |x|X)\]/;

export function parseChange(src: ChangeSources): { change: Change; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  let proposalSections: Section[] = [];
  let why: string | null = null;
  let whatChanges: string | null = null;
  if (src.proposal) {
    const s = scan(src.proposal.text, src.proposal.file);
    proposalSections = topSections(s).map((sec) => {
      const span = linesSpan(s, sec.heading.lineIndex, sec.endLine);
      const raw = s.text.slice(span.start.offset, span.end.offset);
      return { title: sec.heading.text, raw, span, headingSpan: lineSpan(s, sec.heading.lineIndex) };
    });
    why = sectionBody(proposalSections, "why");
    whatChanges = sectionBody(proposalSections, "what changes");
  }

  const tasks = { total: 0, done: 0 };
  if (src.tasks) {
    const s = scan(src.tasks.text, src.tasks.file);
    for (const line of s.lines) {
      if (line.opaque) continue;
      const m = TASK.exec(lineText(s.text, line));
      if (!m) continue;
      tasks.total++;
      if (m[1] !== " ") tasks.done++;
    }
  }

  let meta: Record<string, unknown> | null = null;
  if (src.meta) {
    const tooLong = src.meta.text.length > MAX_YAML_CHARS;
    // Positions come from the error's offset (below), so the costly pretty error context is not needed.
    const doc = tooLong ? null : parseDocument(src.meta.text, { prettyErrors: false });
    const err = doc?.errors[0];
    let data: unknown = null;
    let failure = tooLong
      ? `metadata too long to read: ${src.meta.text.length} characters, at most ${MAX_YAML_CHARS}`
      : err
        ? `invalid YAML: ${err.message.split("\n")[0]}`
        : null;
    if (doc && !err) {
      try {
        data = doc.toJS();
      } catch (e) {
        // The yaml library refuses alias bombs by throwing; report it like any bad YAML.
        failure = `invalid YAML: ${(e as Error).message}`;
      }
    }
    if (failure || (data !== null && (typeof data !== "object" || Array.isArray(data)))) {
      // Line and column from the error's offset, so that all three agree (the offset used to be 0).
      // Like the Markdown scanner, line 1 starts after a byte order mark.
      const base = src.meta.text.charCodeAt(0) === 0xfeff ? 1 : 0;
      const offset = Math.min(Math.max(err?.pos[0] ?? 0, base), src.meta.text.length);
      const before = src.meta.text.slice(0, offset);
      const line = before.split("\n").length;
      const col = offset - Math.max(before.lastIndexOf("\n") + 1, base) + 1;
      diagnostics.push({
        rule: "format/change-meta",
        severity: "error",
        message: failure ?? "change metadata must be a YAML mapping",
        hint: "fix the YAML so that it is a mapping of `key: value` lines",
        span: { file: src.meta.file, start: { line, col, offset }, end: { line, col, offset } },
      });
    } else meta = (data ?? {}) as Record<string, unknown>;
  }

  const deltas: DeltaSpec[] = [];
  for (const d of src.deltas) {
    const parsed = parseDeltaSpec(d.text, d.file, d.capability);
    deltas.push(qualifyDelta(parsed.delta));
    diagnostics.push(...parsed.diagnostics);
  }

  const declared = meta?.status;
  const status: ChangeStatus = src.archived
    ? "applied"
    : typeof declared === "string" && (CHANGE_STATUSES as readonly string[]).includes(declared)
      ? (declared as ChangeStatus)
      : "draft";

  const change: Change = {
    kind: "change",
    id: src.id,
    dir: src.dir,
    archived: src.archived,
    proposalFile: src.proposal?.file ?? null,
    why,
    whatChanges,
    proposalSections,
    deltas,
    tasksFile: src.tasks?.file ?? null,
    tasks,
    meta,
    status,
    layout: src.layout,
  };
  return { change, diagnostics };
}

function sectionBody(sections: Section[], title: string): string | null {
  const sec = sections.find((x) => x.title.toLowerCase() === title);
  if (!sec) return null;
  const nl = sec.raw.indexOf("\n");
  return nl === -1 ? "" : sec.raw.slice(nl + 1).trim();
}
