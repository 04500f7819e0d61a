// Who is acting: from `--as`, then KEEL_ACTOR, then `actors.default` in keel.yaml, then the git user.
// An actor is written `kind:name` (`agent:codex-7`, `human:alice`, `system:ci`); a bare name is a human.

import type { Origin } from "../model/types.js";
import { ORIGINS } from "../model/types.js";
import type { KeelConfig, Role } from "./config.js";
import { usageError } from "./errors.js";
import { gitOutput } from "./git.js";

export interface Actor {
  name: string;
  kind: Origin;
  /** The agent's tool and model, when told (`--tool`/`KEEL_TOOL`, `--model`/`KEEL_MODEL`). */
  tool?: string;
  model?: string;
  /** Role from `actors.roles`; an actor not listed is a reviewer if human, an agent otherwise. */
  role: Role;
  source: "flag" | "env" | "config" | "git" | "token" | "none";
  /** For `source: "token"`: the public ID of the bearer token it was authenticated by. */
  tokenId?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.@+ -]{0,99}$/;

export interface ActorInputs {
  flag?: string | undefined;
  tool?: string | undefined;
  model?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd: string;
}

export function resolveActor(config: KeelConfig, inputs: ActorInputs): Actor {
  const env = inputs.env ?? process.env;
  const candidates: Array<[string | undefined | null, Actor["source"]]> = [
    [inputs.flag, "flag"],
    [env.KEEL_ACTOR, "env"],
    [config.actors.default, "config"],
  ];
  for (const [value, source] of candidates) {
    if (value === undefined || value === null || value.trim() === "") continue;
    return withRole(config, { ...parseActor(value, source), ...extras(inputs, env) });
  }
  const git = gitUser(inputs.cwd);
  if (git) return withRole(config, { name: git, kind: "human", source: "git", ...extras(inputs, env) });
  return withRole(config, { name: "unknown", kind: "human", source: "none", ...extras(inputs, env) });
}

export function parseActor(value: string, source: Actor["source"]): Omit<Actor, "role"> {
  const text = value.trim();
  const colon = text.indexOf(":");
  const kind = colon > 0 ? text.slice(0, colon) : "human";
  const name = colon > 0 ? text.slice(colon + 1).trim() : text;
  const where = source === "flag" ? "--as" : source === "env" ? "KEEL_ACTOR" : "actors.default";
  if (!(ORIGINS as readonly string[]).includes(kind)) {
    throw usageError(
      `${where}: unknown actor kind "${kind}" in "${text}"`,
      `write the actor as kind:name with kind one of ${ORIGINS.join(", ")}, e.g. agent:codex-7`,
    );
  }
  if (!NAME.test(name)) {
    throw usageError(
      `${where}: "${name}" is not a valid actor name`,
      "use letters, digits, and . _ @ + - or spaces",
    );
  }
  return { name, kind: kind as Origin, source };
}

function extras(inputs: ActorInputs, env: NodeJS.ProcessEnv): Pick<Actor, "tool" | "model"> {
  const out: Pick<Actor, "tool" | "model"> = {};
  const tool = inputs.tool ?? env.KEEL_TOOL;
  const model = inputs.model ?? env.KEEL_MODEL;
  if (tool) out.tool = tool;
  if (model) out.model = model;
  return out;
}

function withRole(config: KeelConfig, a: Omit<Actor, "role">): Actor {
  const role = config.actors.roles[a.name] ?? (a.kind === "human" ? "reviewer" : "agent");
  return { ...a, role };
}

/** `user.name` (or `user.email`) from git, or null outside a repository or without git. */
function gitUser(cwd: string): string | null {
  for (const key of ["user.name", "user.email"]) {
    const v = gitOutput(cwd, ["config", "--get", key])?.trim();
    if (v && NAME.test(v)) return v;
  }
  return null;
}

/** `agent:codex-7` — the form events and markers record. */
export function actorLabel(a: Pick<Actor, "kind" | "name">): string {
  return `${a.kind}:${a.name}`;
}
