// What every part of a run shares: where the project and its repository are, the run's settings, the agent and
// sandbox it uses, who it acts as, and the one place its steps are reported (the audit log, and so the live
// stream, plus the supervisor's display).
// @req RUN-14
import { join, relative } from "node:path";
import type { ClaimOp, ClaimOutcome } from "../core/tasks/claim-ops.js";
import type { TaskGraph } from "../core/tasks/graph.js";
import type { GateContext } from "../core/verify/gates.js";
import type { CoordinationStore } from "../store/coordination.js";
import { appendEvent } from "../store/sqlite/audit-log.js";
import { StateDb } from "../store/state-db.js";
import { type Actor, actorLabel } from "../workspace/actor.js";
import type { KeelConfig } from "../workspace/config.js";
import type { RunConfig } from "../workspace/run-config.js";
import type { AgentLaunch, AgentRequest, AgentUsage } from "./agents/types.js";
import type { Sandbox } from "./sandbox.js";
import type { Phase } from "./state.js";

/** The agent as the loop uses it: how to start it, whether it needs the network, and how to read its cost. */
export interface LoopAgent {
  name: string;
  network: boolean;
  passEnv: string[];
  /** Folders under HOME where the agent keeps its own state: writable inside the sandbox. */
  stateDirs: string[];
  launch(req: AgentRequest): AgentLaunch;
  usage(stdout: string): AgentUsage | null;
}

export interface RunSettings extends Omit<RunConfig, "agent" | "planner" | "integrationBranch"> {
  integrationBranch: string;
  /** Only tasks of this change (its folder name), or of these keys; null: every ready task. */
  change: string | null;
  tasks: string[] | null;
  /** Stop claiming after this many tasks landed or blocked; null: no limit. */
  untilTasks: number | null;
  /** Stop claiming at this time (ms since the epoch); null: no limit. */
  untilTime: number | null;
  mcpUrl: string | null;
}

export interface StepEvent {
  worker: number;
  task: string;
  attempt: number;
  phase: Phase | "landed" | "blocked" | "released";
  detail?: string;
}

export interface RunContext {
  runId: string;
  /** The Keel project in the main checkout: its store records everything. */
  root: string;
  /** The repository's top folder, and the project's place in it (worktrees check out the whole repository). */
  top: string;
  projectInTop: string;
  config: KeelConfig;
  settings: RunSettings;
  agent: LoopAgent;
  sandbox: Sandbox;
  /**
   * This checkout's store, open for the whole run: its operations are synchronous, so the workers share it. It
   * keeps the run's own records (runs, tasks in flight, attempts, reviews) and, on the embedded store, the claims.
   */
  state: StateDb;
  /** The project's claims: `state` on the embedded store, the team's store in team mode (docs/team.md). */
  claims: CoordinationStore;
  /** One claim operation of the run, as its actor, on `claims`. */
  claim(op: ClaimOp): Promise<ClaimOutcome>;
  actor: Actor;
  gates: () => GateContext;
  graph: () => TaskGraph;
  /** Forget the task graph read so far: a task file changed (a checkbox). */
  refresh(): void;
  onStep(e: StepEvent): void;
  /** True once the run was asked to stop: no new claim, agents are stopped. */
  stopping(): boolean;
}

export const WORKTREES_DIR = join(".keel", "run", "worktrees");
export const ATTEMPTS_DIR = join(".keel", "run", "attempts");

/** The project root inside a worktree of the repository. */
export function projectIn(ctx: RunContext, worktree: string): string {
  return join(worktree, ctx.projectInTop);
}

export function worktreePath(ctx: RunContext, slug: string): string {
  return join(ctx.root, WORKTREES_DIR, slug);
}

export function relativeToRoot(ctx: RunContext, path: string): string {
  return relative(ctx.root, path);
}

/** Runs `fn` on the project's store. */
export function withState<T>(root: string, fn: (state: StateDb) => T): T {
  const state = StateDb.open(root);
  try {
    return fn(state);
  } finally {
    state.close();
  }
}

/** Runs `fn` on the run's store. */
export function onState<T>(ctx: Pick<RunContext, "state">, fn: (state: StateDb) => T): T {
  return fn(ctx.state);
}

/** Records one step of the run in the audit log (and so on the live stream), as the run's actor. */
export function audit(
  ctx: Pick<RunContext, "root" | "actor" | "runId"> & { state?: StateDb },
  action: string,
  target: string,
  data: Record<string, unknown>,
  extra: { before?: string; after?: string; reason?: string } = {},
): void {
  const write = (state: StateDb) =>
    state.exclusive(() =>
      appendEvent(state, ctx.root, {
        actor: actorLabel(ctx.actor),
        actorKind: ctx.actor.kind,
        action,
        target,
        ...extra,
        data: { run: ctx.runId, ...data },
      }),
    );
  if (ctx.state) write(ctx.state);
  else withState(ctx.root, write);
}
