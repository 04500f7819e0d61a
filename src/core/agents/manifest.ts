// `keel/agents.yaml`: the committed record of what `keel agents add` wrote, so that `remove` takes away
// exactly that. Per path: whether Keel created the file, the separator it put before a block or table,
// whether it created the MCP container key, and for whole files the sha256 of the content it wrote.

import { createHash } from "node:crypto";
import { parse, stringify } from "yaml";
import { type AgentName, canonicalName } from "./adapters/index.js";

export const MANIFEST = "keel/agents.yaml";

export interface ManifestEntry {
  path: string;
  /** Keel created the file (it is deleted when nothing else is left in it). */
  created: boolean;
  /** Text Keel inserted before its block or table. */
  sep?: string;
  /** Keel created the MCP servers key that holds its entry. */
  parent?: boolean;
  /** sha256 of a whole file Keel wrote. */
  sha256?: string;
}

export interface Manifest {
  agents: AgentName[];
  entries: ManifestEntry[];
}

export function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** The manifest in `text`; throws a message naming what is wrong. */
export function parseManifest(text: string): Manifest {
  const doc: unknown = parse(text);
  if (typeof doc !== "object" || doc === null) throw new Error("not a mapping");
  const { version, agents, files } = doc as { version?: unknown; agents?: unknown; files?: unknown };
  if (version !== 1) throw new Error("version must be 1");
  // Names are read through their aliases, so a manifest written before a tool was renamed still parses.
  const names = Array.isArray(agents)
    ? agents.map((a) => (typeof a === "string" ? canonicalName(a) : null))
    : null;
  if (names === null || names.some((n) => n === null)) {
    throw new Error("agents must be a list of known agent names");
  }
  if (!Array.isArray(files)) throw new Error("files must be a list");
  const entries = files.map((f: unknown): ManifestEntry => {
    const e = f as Record<string, unknown>;
    if (typeof e?.path !== "string") throw new Error("each file needs a path");
    return {
      path: e.path,
      created: e.created === true,
      ...(typeof e.sep === "string" ? { sep: e.sep } : {}),
      ...(e.parent === true ? { parent: true } : {}),
      ...(typeof e.sha256 === "string" ? { sha256: e.sha256 } : {}),
    };
  });
  return { agents: [...new Set(names as AgentName[])], entries };
}

export function renderManifest(m: Manifest): string {
  const header =
    "# Written by `keel agents`: what Keel added for each agent, so `keel agents remove` takes away exactly that.\n";
  return header + stringify({ version: 1, agents: m.agents, files: m.entries }, { lineWidth: 0 });
}
