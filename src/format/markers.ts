// The per-requirement marker line: a blockquote right under the heading, readable as-is on GitHub:
//   > status: approved · origin: agent · inferred · actor: codex-7 · change: add-refunds
// @req FMT-5
import {
  type Markers,
  ORIGINS,
  type Origin,
  type Provenance,
  REQUIREMENT_STATUSES,
  type RequirementStatus,
  type Span,
} from "../model/types.js";

const KNOWN_KEYS = new Set(["status", "origin", "actor", "by", "tool", "model", "change", "at", "basis"]);
/** Separates marker fields: ` · `, ` | ` or `;` (the middle dot and semicolon also without spaces). */
export const MARKER_SEPARATOR = /\s+[·|;]\s+|\s*[·;]\s*/;
const SEPARATOR = MARKER_SEPARATOR;
const MARKER_LINE = /^ {0,3}>\s?(.*)$/;

export interface MarkerProblem {
  message: string;
  hint: string;
  /** 0-based index in the line of the offending value, and its length, so a finding can point at it. */
  at: number;
  length: number;
}

export interface ParsedMarkers {
  markers: Markers;
  problems: MarkerProblem[];
}

/** True when the line is a marker line: a blockquote whose first token is a known key or basis word. */
export function isMarkerLine(line: string): boolean {
  const m = MARKER_LINE.exec(line);
  if (!m) return false;
  const first = (m[1] as string).trim().split(SEPARATOR)[0]?.trim() ?? "";
  if (first === "explicit" || first === "inferred") return true;
  const colon = first.indexOf(":");
  return colon > 0 && KNOWN_KEYS.has(first.slice(0, colon).trim().toLowerCase());
}

export function parseMarkerLine(line: string, span: Span): ParsedMarkers {
  const body = (MARKER_LINE.exec(line)?.[1] ?? "").trim();
  const provenance: Provenance = {};
  const extra: Record<string, string> = {};
  const problems: MarkerProblem[] = [];
  let status: RequirementStatus | undefined;
  let searchFrom = 0;
  for (const rawField of body.split(SEPARATOR)) {
    const field = rawField.trim();
    if (field === "") continue;
    const fieldAt = line.indexOf(field, searchFrom);
    searchFrom = fieldAt + field.length;
    if (field === "explicit" || field === "inferred") {
      provenance.basis = field;
      continue;
    }
    const colon = field.indexOf(":");
    if (colon <= 0) {
      extra[field] = "";
      continue;
    }
    const key = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    const at = fieldAt + field.indexOf(value, colon + 1);
    switch (key) {
      case "status":
        if ((REQUIREMENT_STATUSES as readonly string[]).includes(value)) status = value as RequirementStatus;
        else
          problems.push({
            message: `unknown status "${value}"`,
            hint: `use one of: ${REQUIREMENT_STATUSES.join(", ")}`,
            at,
            length: value.length,
          });
        break;
      case "origin":
        if ((ORIGINS as readonly string[]).includes(value)) provenance.origin = value as Origin;
        else
          problems.push({
            message: `unknown origin "${value}"`,
            hint: `use one of: ${ORIGINS.join(", ")}`,
            at,
            length: value.length,
          });
        break;
      case "basis":
        if (value === "explicit" || value === "inferred") provenance.basis = value;
        else
          problems.push({
            message: `unknown basis "${value}"`,
            hint: "use explicit or inferred",
            at,
            length: value.length,
          });
        break;
      case "actor":
      case "by":
        provenance.actor = value;
        break;
      case "tool":
        provenance.tool = value;
        break;
      case "model":
        provenance.model = value;
        break;
      case "change":
        provenance.change = value;
        break;
      case "at":
        provenance.at = value;
        break;
      default:
        extra[key] = value;
    }
  }
  const markers: Markers = { provenance, extra, span, raw: line };
  if (status) markers.status = status;
  return { markers, problems };
}

/** Renders markers in canonical field order. Used only when an edit creates or changes a marker line. */
export function renderMarkers(
  status: RequirementStatus | undefined,
  p: Provenance,
  extra: Record<string, string> = {},
): string {
  const fields: string[] = [];
  if (status) fields.push(`status: ${status}`);
  if (p.origin) fields.push(`origin: ${p.origin}`);
  if (p.basis) fields.push(p.basis);
  if (p.actor) fields.push(`actor: ${p.actor}`);
  if (p.tool) fields.push(`tool: ${p.tool}`);
  if (p.model) fields.push(`model: ${p.model}`);
  if (p.change) fields.push(`change: ${p.change}`);
  if (p.at) fields.push(`at: ${p.at}`);
  for (const [k, v] of Object.entries(extra)) fields.push(v === "" ? k : `${k}: ${v}`);
  return `> ${fields.join(" · ")}`;
}
