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
  const markers: Markers = { provenance: {}, extra: {}, span, raw: line };
  const problems: MarkerProblem[] = [];
  let searchFrom = 0;
  for (const rawField of body.split(SEPARATOR)) {
    const field = rawField.trim();
    if (field === "") continue;
    const fieldAt = line.indexOf(field, searchFrom);
    searchFrom = fieldAt + field.length;
    if (field === "explicit" || field === "inferred") {
      markers.provenance.basis = field;
      continue;
    }
    const colon = field.indexOf(":");
    if (colon <= 0) {
      markers.extra[field] = "";
      continue;
    }
    const key = field.slice(0, colon).trim().toLowerCase();
    const value = field.slice(colon + 1).trim();
    const refused = applyMarkerField(markers, key, value);
    if (refused)
      problems.push({ ...refused, at: fieldAt + field.indexOf(value, colon + 1), length: value.length });
  }
  return { markers, problems };
}

/**
 * Reads one `key: value` field into `markers` (an unknown key is kept in `extra`); returns why a value was
 * refused, or null. The marker line and Keel's side files (format/layouts/sidecar.ts) share it.
 */
export function applyMarkerField(
  markers: Markers,
  key: string,
  value: string,
): { message: string; hint: string } | null {
  const provenance = markers.provenance;
  switch (key) {
    case "status":
      if (!(REQUIREMENT_STATUSES as readonly string[]).includes(value))
        return {
          message: `unknown status "${value}"`,
          hint: `use one of: ${REQUIREMENT_STATUSES.join(", ")}`,
        };
      markers.status = value as RequirementStatus;
      return null;
    case "origin":
      if (!(ORIGINS as readonly string[]).includes(value))
        return { message: `unknown origin "${value}"`, hint: `use one of: ${ORIGINS.join(", ")}` };
      provenance.origin = value as Origin;
      return null;
    case "basis":
      if (value !== "explicit" && value !== "inferred")
        return { message: `unknown basis "${value}"`, hint: "use explicit or inferred" };
      provenance.basis = value;
      return null;
    case "actor":
    case "by":
      provenance.actor = value;
      return null;
    case "tool":
    case "model":
    case "change":
    case "at":
      provenance[key] = value;
      return null;
    default:
      markers.extra[key] = value;
      return null;
  }
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
