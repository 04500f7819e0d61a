// The registry: every agent tool Keel sets up, in the order `keel agents list` shows them and keel/agents.yaml
// records them (the first five are the ones Keel knew first). Adding a tool is one adapter file and one line.
// @req AGT-1, AGT-2

import type { AgentAdapter } from "../adapter.js";
import { amazonQ } from "./amazon-q.js";
import { amp } from "./amp.js";
import { antigravity } from "./antigravity.js";
import { auggie } from "./auggie.js";
import { claude } from "./claude.js";
import { cline } from "./cline.js";
import { codebuddy } from "./codebuddy.js";
import { codex } from "./codex.js";
import { continueDev } from "./continue.js";
import { crush } from "./crush.js";
import { cursor } from "./cursor.js";
import { factory } from "./factory.js";
import { gemini } from "./gemini.js";
import { githubCopilot } from "./github-copilot.js";
import { iflow } from "./iflow.js";
import { junie } from "./junie.js";
import { kilocode } from "./kilocode.js";
import { kiro } from "./kiro.js";
import { opencode } from "./opencode.js";
import { pi } from "./pi.js";
import { qoder } from "./qoder.js";
import { qwen } from "./qwen.js";
import { roocode } from "./roocode.js";
import { tabnine } from "./tabnine.js";
import { trae } from "./trae.js";
import { windsurf } from "./windsurf.js";
import { zed } from "./zed.js";

export const ADAPTERS: readonly AgentAdapter[] = [
  claude,
  codex,
  cursor,
  githubCopilot,
  gemini,
  amazonQ,
  amp,
  antigravity,
  auggie,
  cline,
  codebuddy,
  continueDev,
  crush,
  factory,
  iflow,
  junie,
  kilocode,
  kiro,
  opencode,
  pi,
  qoder,
  qwen,
  roocode,
  tabnine,
  trae,
  windsurf,
  zed,
];

/** An agent's canonical name (an adapter's `name`). */
export type AgentName = string & { readonly __agent: unique symbol };

export const AGENT_NAMES: readonly AgentName[] = ADAPTERS.map((a) => a.name as AgentName);

const BY_NAME = new Map<string, AgentAdapter>(
  ADAPTERS.flatMap((a) => [a.name, ...(a.aliases ?? [])].map((n) => [n, a] as const)),
);

/** True for a canonical name only; aliases go through `canonicalName`. */
export function isAgentName(s: string): s is AgentName {
  return (AGENT_NAMES as readonly string[]).includes(s);
}

/** The canonical name for a name or alias (`copilot` → `github-copilot`), or null when none is known. */
export function canonicalName(s: string): AgentName | null {
  const adapter = BY_NAME.get(s);
  return adapter ? (adapter.name as AgentName) : null;
}

export function adapterOf(name: AgentName): AgentAdapter {
  const adapter = BY_NAME.get(name);
  if (!adapter) throw new Error(`no adapter named ${name}`);
  return adapter;
}
