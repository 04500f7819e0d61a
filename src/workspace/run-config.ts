// keel.yaml's `run:` and `agents:` sections: how `keel run` works the queue (workers, attempts, budgets, the
// integration branch and strategy, the sandbox) and the coding agents it can start. An agent is configuration, not
// code: a preset (src/run/agents/) or a `command:`, with the model, extra arguments and the names of the
// environment variables passed through to it (a key is never written into keel.yaml). Checked here so a mistake is
// reported with its line; which presets exist is checked by src/run/agents/ when a run starts.
// @req RUN-7
import { parseGateDuration } from "./config.js";

export type Bad = (path: Array<string | number>, what: string) => never;
export type LineOf = (path: Array<string | number>) => number;

/** How the prompt (the pack, the instructions and any feedback) reaches a `command:` agent besides its file. */
export const PROMPT_INPUTS = ["stdin", "arg", "file"] as const;
export type PromptInput = (typeof PROMPT_INPUTS)[number];

export interface AgentEntry {
  name: string;
  /** A preset of src/run/agents (claude, codex, gemini, aider, cursor, opencode), or null for `command:`. */
  preset: string | null;
  /** `command:`: run through `sh -c` in the worktree, with KEEL_PACK_FILE and the rest in its environment. */
  command: string | null;
  /** Extra arguments appended to a preset's command line. */
  args: string[];
  model: string | null;
  /** `command:` only: stdin (default), arg (the prompt's text as the last argument) or file (the file only). */
  prompt: PromptInput;
  /** Whether the agent may reach the network; null: the preset's default (a `command:` has none). */
  network: boolean | null;
  /** Names of environment variables passed through to the agent (its key, its config). */
  env: string[];
  line: number;
}

export const STRATEGIES = ["rebase", "merge"] as const;
export const SANDBOX_MODES = ["auto", "bwrap", "none"] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

export interface RunConfig {
  /** The agent `keel run` starts when no `--agent` is given. */
  agent: string | null;
  /** The agent `keel run --plan` starts; the default agent when unset. */
  planner: string | null;
  workers: number;
  maxAttempts: number;
  /** Wall time one task may take over all its attempts. */
  taskBudgetMs: number;
  /** No output and no file change for this long: the agent is nudged; as long again, it is stopped. */
  stallMs: number;
  leaseMs: number;
  /** The branch work lands on; null: the branch checked out when the run starts. */
  integrationBranch: string | null;
  strategy: (typeof STRATEGIES)[number];
  sandbox: SandboxMode;
  /** A command run in each new worktree before the agent (installing dependencies, say). */
  setup: string | null;
  /** Whether gates (which run code the agent wrote) may reach the network; off by default. */
  gateNetwork: boolean;
}

export function defaultRunConfig(): RunConfig {
  return {
    agent: null,
    planner: null,
    workers: 1,
    maxAttempts: 3,
    taskBudgetMs: 30 * 60_000,
    stallMs: 5 * 60_000,
    leaseMs: 5 * 60_000,
    integrationBranch: null,
    strategy: "rebase",
    sandbox: "auto",
    setup: null,
    gateNetwork: false,
  };
}

const RUN_KEYS = [
  "agent",
  "planner",
  "workers",
  "max_attempts",
  "task_budget",
  "stall",
  "lease",
  "integration_branch",
  "strategy",
  "sandbox",
  "setup",
  "gate_network",
];

function mapping(value: unknown, at: Array<string | number>, bad: Bad): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) bad(at, "must be a mapping");
  return value as Record<string, unknown>;
}

function text(value: unknown, at: Array<string | number>, bad: Bad): string {
  if (typeof value !== "string" || value.trim() === "") bad(at, "must be a non-empty string");
  return (value as string).trim();
}

function count(value: unknown, at: Array<string | number>, bad: Bad, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max)
    bad(at, `must be a whole number from 1 to ${max}`);
  return value as number;
}

function duration(value: unknown, at: Array<string | number>, bad: Bad): number {
  const ms = typeof value === "string" ? parseGateDuration(value) : null;
  if (ms === null) bad(at, "must be a duration such as 90s, 15m or 2h");
  return ms as number;
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  at: Array<string | number>,
  bad: Bad,
): T {
  if (!(allowed as readonly unknown[]).includes(value)) bad(at, `must be one of ${allowed.join(", ")}`);
  return value as T;
}

export function parseRunConfig(value: unknown, bad: Bad): RunConfig {
  const r = mapping(value, ["run"], bad);
  const config = defaultRunConfig();
  for (const key of Object.keys(r)) if (!RUN_KEYS.includes(key)) bad(["run", key], "is not a known key");
  const at = (key: string) => ["run", key];
  if (r.agent != null) config.agent = text(r.agent, at("agent"), bad);
  if (r.planner != null) config.planner = text(r.planner, at("planner"), bad);
  if (r.workers != null) config.workers = count(r.workers, at("workers"), bad, 64);
  if (r.max_attempts != null) config.maxAttempts = count(r.max_attempts, at("max_attempts"), bad, 50);
  if (r.task_budget != null) config.taskBudgetMs = duration(r.task_budget, at("task_budget"), bad);
  if (r.stall != null) config.stallMs = duration(r.stall, at("stall"), bad);
  if (r.lease != null) config.leaseMs = duration(r.lease, at("lease"), bad);
  if (r.integration_branch != null)
    config.integrationBranch = text(r.integration_branch, at("integration_branch"), bad);
  if (r.strategy != null) config.strategy = oneOf(r.strategy, STRATEGIES, at("strategy"), bad);
  if (r.sandbox != null) config.sandbox = oneOf(r.sandbox, SANDBOX_MODES, at("sandbox"), bad);
  if (r.setup != null) config.setup = text(r.setup, at("setup"), bad);
  if (r.gate_network != null) {
    if (typeof r.gate_network !== "boolean") bad(at("gate_network"), "must be true or false");
    config.gateNetwork = r.gate_network as boolean;
  }
  return config;
}

const AGENT_KEYS = ["preset", "command", "args", "model", "prompt", "network", "env"];
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function stringList(value: unknown, at: Array<string | number>, bad: Bad): string[] {
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string"))
    bad(at, "must be a list of strings");
  return value as string[];
}

function parseAgent(name: string, value: unknown, bad: Bad, lineOf: LineOf): AgentEntry {
  const at = ["agents", name];
  const a = mapping(value, at, bad);
  for (const key of Object.keys(a)) if (!AGENT_KEYS.includes(key)) bad([...at, key], "is not a known key");
  if ((a.preset == null) === (a.command == null)) bad(at, "needs exactly one of `preset` and `command`");
  const env = a.env == null ? [] : stringList(a.env, [...at, "env"], bad);
  env.forEach((n, i) => {
    if (!ENV_NAME.test(n)) bad([...at, "env", i], "must be an environment variable's name, not its value");
  });
  if (a.network != null && typeof a.network !== "boolean") bad([...at, "network"], "must be true or false");
  if (a.prompt != null && a.command == null) bad([...at, "prompt"], "applies to `command:` agents only");
  return {
    name,
    preset: a.preset == null ? null : text(a.preset, [...at, "preset"], bad),
    command: a.command == null ? null : text(a.command, [...at, "command"], bad),
    args: a.args == null ? [] : stringList(a.args, [...at, "args"], bad),
    model: a.model == null ? null : text(a.model, [...at, "model"], bad),
    prompt: a.prompt == null ? "stdin" : oneOf(a.prompt, PROMPT_INPUTS, [...at, "prompt"], bad),
    network: (a.network as boolean | undefined) ?? null,
    env,
    line: lineOf(at),
  };
}

export function parseAgents(value: unknown, bad: Bad, lineOf: LineOf): Record<string, AgentEntry> {
  const a = mapping(value, ["agents"], bad);
  const agents: Record<string, AgentEntry> = {};
  for (const [name, entry] of Object.entries(a)) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name))
      bad(["agents", name], "needs a name of letters, digits, '.', '_' and '-'");
    agents[name] = parseAgent(name, entry, bad, lineOf);
  }
  return agents;
}
