// `change.yaml`: a Keel change's metadata (schema in docs/cli.md#change). Read leniently (a hand-written file
// may hold anything; unknown keys are kept), written by editing the parsed document so comments and key order
// written by people survive.
import { Document, isMap, parseDocument } from "yaml";
import type { ChangeStatus } from "../../model/types.js";
import { blockCore } from "./blocks.js";

export const META_FILE = "change.yaml";
export const OPENSPEC_META_FILE = ".openspec.yaml";
export const CHANGE_STATUSES: readonly ChangeStatus[] = [
  "draft",
  "review",
  "approved",
  "applied",
  "rejected",
];

/** The living requirement a change was written against: its fingerprint and its exact block. */
export interface BaseEntry {
  fingerprint: string;
  block: string;
}

export type BaseMap = Record<string, Record<string, BaseEntry>>;

/** A base entry as written to change.yaml: the block without its trailing blank lines. */
export function baseEntry(fingerprint: string, block: string): BaseEntry {
  return { fingerprint, block: `${blockCore(block)}\n` };
}

export interface AppliedRecord {
  at: string;
  by: string;
  /** Living blocks as they were just before the apply, for every requirement it modified, removed or renamed. */
  before: Record<string, Record<string, string>>;
}

export interface ChangeMeta {
  id?: string;
  status?: ChangeStatus;
  author?: string;
  tool?: string;
  model?: string;
  created?: string;
  why?: string;
  reverts?: string;
  approvals?: Array<{ by: string; at: string }>;
  base?: BaseMap;
  applied?: AppliedRecord;
  rejected?: { at: string; by: string; reason?: string };
  [key: string]: unknown;
}

/** The metadata as far as it can be read; a malformed file gives `{}` (the parser reports it as a finding). */
export function readMeta(text: string | null): ChangeMeta {
  if (text === null) return {};
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return {};
  let data: unknown;
  try {
    data = doc.toJS();
  } catch {
    return {};
  }
  const meta = (data ?? {}) as Record<string, unknown>;
  const out: ChangeMeta = { ...meta };
  if (typeof meta.status !== "string" || !(CHANGE_STATUSES as readonly string[]).includes(meta.status)) {
    delete out.status;
  }
  out.base = readBase(meta.base);
  return out;
}

function readBase(value: unknown): BaseMap {
  const out: BaseMap = {};
  if (!value || typeof value !== "object" || Array.isArray(value)) return out;
  for (const [cap, reqs] of Object.entries(value as Record<string, unknown>)) {
    if (!reqs || typeof reqs !== "object" || Array.isArray(reqs)) continue;
    for (const [id, entry] of Object.entries(reqs as Record<string, unknown>)) {
      if (!entry || typeof entry !== "object") continue;
      const e = entry as Record<string, unknown>;
      if (typeof e.fingerprint !== "string" || typeof e.block !== "string") continue;
      out[cap] ??= {};
      (out[cap] as Record<string, BaseEntry>)[id] = { fingerprint: e.fingerprint, block: e.block };
    }
  }
  return out;
}

/** Whether the file can be edited in place (it parses as a mapping). */
export function metaEditable(text: string | null): boolean {
  if (text === null) return true;
  const doc = parseDocument(text);
  return doc.errors.length === 0 && (doc.contents === null || isMap(doc.contents));
}

export type MetaPatch = Array<{ path: string[]; value: unknown }>;

/**
 * Applies `patch` to the file's text (or to a new file), keeping everything else as written. A value of
 * `undefined` deletes the key.
 */
export function patchMeta(text: string | null, patch: MetaPatch): string {
  const doc =
    text === null || text.trim() === "" || parseDocument(text).contents === null
      ? new Document({})
      : parseDocument(text);
  if (doc.errors.length > 0) throw new Error(`change.yaml is not valid YAML: ${doc.errors[0]?.message}`);
  for (const { path, value } of patch) {
    if (value === undefined) doc.deleteIn(path);
    else {
      // Intermediate maps are created as needed.
      for (let k = 1; k < path.length; k++) {
        const prefix = path.slice(0, k);
        if (!isMap(doc.getIn(prefix, true))) doc.setIn(prefix, doc.createNode({}));
      }
      doc.setIn(path, doc.createNode(value));
    }
  }
  return doc.toString({ lineWidth: 0 });
}

export function renderMeta(meta: ChangeMeta): string {
  const clean = Object.fromEntries(Object.entries(meta).filter(([, v]) => v !== undefined));
  return new Document(clean).toString({ lineWidth: 0 });
}

/** `agent:codex-7` → { kind: "agent", name: "codex-7" }; a bare name is a human. */
export function splitActorLabel(label: string): { kind: "human" | "agent" | "system"; name: string } {
  const colon = label.indexOf(":");
  const kind = colon > 0 ? label.slice(0, colon) : "human";
  const name = colon > 0 ? label.slice(colon + 1) : label;
  return {
    kind: kind === "agent" || kind === "system" ? kind : "human",
    name: name.trim(),
  };
}
