// A run's context from the project and the caller's choices: the integration branch (the one checked out, unless
// configured), the agent (`--agent`, `run.agent`, or the only one configured), the sandbox, and the settings with
// the command line's overrides. Everything is checked before anything is claimed.
// @req RUN-1, RUN-7, RUN-10
import { relative } from "node:path";
import { runClaimOpGrouped } from "../core/tasks/claim-batch.js";
import { followClaimMirror } from "../core/tasks/claim-mirror.js";
import { runClaimOp } from "../core/tasks/claim-ops.js";
import type { TaskGraph } from "../core/tasks/graph.js";
import { loadTaskGraph } from "../core/tasks/load.js";
import { type GateContext, loadGateContext } from "../core/verify/gates.js";
import { coordinationStore } from "../store/select.js";
import { SqliteStore } from "../store/sqlite/coordination.js";
import { StateDb } from "../store/state-db.js";
import { teamStoreUrl } from "../store/team-url.js";
import type { Actor } from "../workspace/actor.js";
import { loadConfig } from "../workspace/config.js";
import { usageError } from "../workspace/errors.js";
import { findProjectRoot } from "../workspace/root.js";
import { resolveAgent } from "./agents/index.js";
import type { LoopAgent, RunContext, RunSettings, StepEvent } from "./context.js";
import { currentBranch, gitTop, revParse } from "./git.js";
import { openSandbox } from "./sandbox.js";

export interface RunChoices {
  agent?: string | null;
  overrides?: Partial<RunSettings>;
  integrationBranch?: string | null;
}

/** The agent named on the command line or in `run.agent`, or the only one keel.yaml has. */
export function chooseAgent(
  config: ReturnType<typeof loadConfig>,
  name: string | null | undefined,
): LoopAgent {
  const names = Object.keys(config.agents);
  const chosen = name ?? config.run.agent ?? (names.length === 1 ? names[0] : null);
  if (!chosen)
    throw usageError(
      names.length === 0
        ? "keel.yaml names no agent to run"
        : `keel.yaml names ${names.length} agents; say which`,
      names.length === 0
        ? "add an `agents:` entry (a preset such as claude or codex, or a command:) — see docs/run.md#agent-presets"
        : `pass --agent ${names.join("|")}, or set run.agent in keel.yaml`,
    );
  const entry = config.agents[chosen];
  if (!entry)
    throw usageError(`no agent named ${chosen} in keel.yaml`, `known agents: ${names.join(", ") || "none"}`);
  const resolved = resolveAgent(entry);
  return { ...resolved, name: chosen };
}

export async function openRun(
  start: string,
  runId: string,
  actor: Actor,
  choices: RunChoices,
  hooks: { onStep: (e: StepEvent) => void; stopping: () => boolean },
): Promise<RunContext> {
  const project = findProjectRoot(start);
  const config = loadConfig(project);
  const agent = chooseAgent(config, choices.agent);
  const top = await gitTop(project.root);
  const branch =
    choices.integrationBranch ?? config.run.integrationBranch ?? (await currentBranch(project.root));
  if (!branch)
    throw usageError(
      "the checkout is on a detached HEAD: no integration branch to land work on",
      "check out the branch work should land on, or pass --integration-branch <name>",
    );
  if ((await revParse(top, `refs/heads/${branch}`)) === null)
    throw usageError(
      `integration branch ${branch} does not exist`,
      "create it, or pass --integration-branch <name>",
    );
  const settings: RunSettings = {
    ...config.run,
    integrationBranch: branch,
    change: null,
    tasks: null,
    untilTasks: null,
    untilTime: null,
    mcpUrl: process.env.KEEL_MCP_URL ?? null,
    ...choices.overrides,
  };
  const sandbox = openSandbox(settings.sandbox);
  const state = StateDb.open(project.root);
  let graph: TaskGraph | null = null;
  let gates: GateContext | null = null;
  const graphNow = () => {
    graph ??= loadTaskGraph(project.root);
    return graph;
  };
  const locate = (key: string) => graphNow().nodes.get(key)?.task;
  // In team mode the workers claim through the team store (as every server does), its claims mirrored here for the
  // ready views; the embedded store is claimed on synchronously, on the connection the run keeps open.
  const team = teamStoreUrl(config) === null ? null : await coordinationStore(project.root, config);
  if (team) await followClaimMirror(project.root, team);
  const claims = team ?? new SqliteStore(project.root);
  return {
    runId,
    root: project.root,
    top,
    projectInTop: relative(top, project.root),
    config,
    settings,
    agent,
    sandbox,
    state,
    claims,
    claim: async (op) =>
      team
        ? runClaimOpGrouped(project.root, config, locate, op, new Date(), actor)
        : runClaimOp(project.root, locate, op, new Date(), actor, state),
    actor,
    graph: graphNow,
    gates: () => {
      gates ??= loadGateContext(project.root, { explicitRoot: true });
      return gates;
    },
    // A landing changes a checkbox, not the requirements or gates: only the graph is read again.
    refresh: () => {
      graph = null;
    },
    onStep: hooks.onStep,
    stopping: hooks.stopping,
  };
}
