// `keel store status|migrate|copy|repair|reset`: the local state store, and the explicit, audited ways out when Keel has
// refused it (core/recovery/). Repair and reset only say what they would do unless given `--yes`.
// @req TRU-6, TRU-7

import { asideName } from "../../core/recovery/aside.js";
import {
  applyRepair,
  applyReset,
  inspectStore,
  planRepair,
  planReset,
  type RecoveryPlan,
  type StoreCondition,
} from "../../core/recovery/index.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { loadConfig } from "../../workspace/config.js";
import { EXIT, KeelError, usageError } from "../../workspace/errors.js";
import { findProjectRoot, type ProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, type Flags, parseFlags } from "../command.js";
import { ACTOR_FLAGS } from "../flags.js";
import { type Io, paint, printJson } from "../output.js";
import { type Subcommand, subcommandNamed, synopses } from "../subcommands.js";
import { copyCommand, migrateCommand, teamStatusCommand } from "./store-team.js";

const STATUS_USAGE = "keel store status [--json]";
const MIGRATE_USAGE = "keel store migrate [--json]";
const COPY_USAGE =
  "keel store copy --from sqlite|postgres|<url> --to sqlite|postgres|<url> [--replace] [--as <kind:name>] [--json]";
const REPAIR_USAGE = "keel store repair [--store <id>] [--yes] [--as <kind:name>] [--json]";
const RESET_USAGE = "keel store reset [--yes] [--as <kind:name>] [--json]";

/** A store's end for `keel store copy`. */
const END = {
  type: "string",
  value: "sqlite|postgres|url",
  complete: ["sqlite", "postgres"],
} as const;

const COPY_FLAGS = {
  from: { ...END, help: "the store copied: sqlite (.keel/state.db), postgres (the team store) or a URL" },
  to: { ...END, help: "the store written: sqlite, postgres or a postgres:// URL" },
  replace: {
    type: "boolean",
    help: "move this checkout's .keel/state.db aside first, when copying to sqlite",
  },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

const RESET_FLAGS = {
  yes: { type: "boolean", help: "do it (recorded in the audit log); without, only say what it would do" },
  as: ACTOR_FLAGS.as,
} as const satisfies Flags;

const REPAIR_FLAGS = {
  ...RESET_FLAGS,
  store: {
    type: "string",
    value: "id",
    help: "rebuild from keel/audit/<id>.jsonl; default the segment of the store's own ID",
  },
} as const satisfies Flags;

/** Parses a subcommand that takes flags only. */
function flagsOnly<F extends Flags>(argv: string[], flags: F, usage: string) {
  const { values, positionals } = parseFlags(argv, flags, usage);
  if (positionals.length > 0) throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${usage}`);
  return values;
}

function openProject(ctx: CommandContext) {
  return findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null);
}

const SUBCOMMANDS: Record<string, Subcommand> = {
  status: {
    summary: "the store's ID, schema and events, and whether its audit segment matches it",
    usage: STATUS_USAGE,
    flags: {},
    async run(ctx, argv) {
      flagsOnly(argv, {}, STATUS_USAGE);
      const project = openProject(ctx);
      return (await teamStatusCommand(ctx, project)) ?? status(ctx, inspectStore(project.root));
    },
  },
  migrate: {
    summary: "bring the team store's schema up to this Keel's",
    usage: MIGRATE_USAGE,
    flags: {},
    run(ctx, argv) {
      flagsOnly(argv, {}, MIGRATE_USAGE);
      return migrateCommand(ctx, openProject(ctx));
    },
  },
  copy: {
    summary: "copy the store between this checkout's sqlite and a team store (a human's act)",
    usage: COPY_USAGE,
    flags: COPY_FLAGS,
    run(ctx, argv) {
      const values = flagsOnly(argv, COPY_FLAGS, COPY_USAGE);
      return copyCommand(ctx, openProject(ctx), values);
    },
  },
  repair: {
    summary: "rebuild the store from its audit segment in keel/audit/ (a human's act)",
    usage: REPAIR_USAGE,
    flags: REPAIR_FLAGS,
    run(ctx, argv) {
      const values = flagsOnly(argv, REPAIR_FLAGS, REPAIR_USAGE);
      if (values.store !== undefined && !/^[0-9a-f]{8,64}$/.test(values.store)) {
        throw usageError(
          `"${values.store}" is not a store ID`,
          "store IDs are the names of keel/audit/<id>.jsonl",
        );
      }
      const project = openProject(ctx);
      return recover(ctx, project, (now) => planRepair(project.root, now, values.store), values);
    },
  },
  reset: {
    summary: "start a fresh store, keeping the old one aside (a human's act)",
    usage: RESET_USAGE,
    flags: RESET_FLAGS,
    run(ctx, argv) {
      const values = flagsOnly(argv, RESET_FLAGS, RESET_USAGE);
      const project = openProject(ctx);
      return recover(ctx, project, (now) => planReset(project.root, now), values);
    },
  },
};

const command: Command = {
  name: "store",
  summary: "the state store: status, migrate and copy (team mode), repair (rebuild from keel/audit/), reset",
  usage: "keel store <subcommand> [options]",
  flags: {},
  subcommands: SUBCOMMANDS,
  run(ctx) {
    const [name, ...rest] = ctx.argv;
    const sub = subcommandNamed(SUBCOMMANDS, name);
    if (sub === undefined)
      throw usageError(
        name === undefined ? "store needs a subcommand" : `unknown store subcommand "${name}"`,
        synopses(SUBCOMMANDS),
      );
    return sub.run(ctx, rest);
  },
};

/** Repair or reset: only the plan without `--yes`; with it, done, when a human asks. */
function recover(
  ctx: CommandContext,
  project: ProjectRoot,
  planAt: (now: Date) => RecoveryPlan,
  values: { yes?: boolean | undefined; as?: string | undefined },
) {
  const now = new Date();
  const plan = planAt(now);
  if (!plan.needed)
    return report(ctx, plan, null, "the store is sound and matches its segment: nothing to repair");
  const aside = asideName(project.root, now);
  if (!values.yes) return report(ctx, plan, null, renderPlan(plan, aside));
  const actor = resolveActor(loadConfig(project), { flag: values.as, cwd: project.root });
  if (actor.kind !== "human") {
    throw new KeelError(
      `refused: ${actorLabel(actor)} is ${actor.kind === "agent" ? "an agent" : "a system actor"}; repairing or resetting the store is a human's act`,
      EXIT.refused,
      "ask a person to run it (or pass --as human:<name> if you are one)",
      undefined,
      "refused",
    );
  }
  const by = { actor: actorLabel(actor), actorKind: actor.kind };
  const result =
    plan.action === "repair"
      ? applyRepair(project.root, plan as RecoveryPlan & { storeId: string }, by, now)
      : applyReset(project.root, plan, by, now);
  return report(
    ctx,
    plan,
    result,
    `${plan.action === "repair" ? "repaired" : "reset"} the store: now store ${result.storeId}, event ${result.event.seq} (${result.event.action}) records it\n${renderDone(plan, result.movedAside)}`,
  );
}

function report(
  ctx: CommandContext,
  plan: RecoveryPlan,
  result: { storeId: string; movedAside: string[]; event: { seq: number } } | null,
  text: string,
) {
  if (ctx.global.json) {
    printJson(ctx.io, {
      version: 1,
      applied: result !== null,
      plan,
      ...(result ? { storeId: result.storeId, movedAside: result.movedAside, event: result.event.seq } : {}),
    });
  } else ctx.io.out(text);
  return EXIT.ok;
}

function leases(plan: RecoveryPlan): string {
  if (plan.liveLeases.length === 0) return "none under a live lease";
  const list = plan.liveLeases.map(
    (l) => `${l.taskId} (${l.holder}, token ${l.token}, until ${l.leaseUntil})`,
  );
  return `${plan.liveLeases.length} under a live lease: ${list.join(", ")}`;
}

function renderPlan(plan: RecoveryPlan, aside: string): string {
  const lines = [`keel store ${plan.action} would (nothing is changed without --yes):`];
  lines.push(
    plan.moveAside.length > 0
      ? `  move ${plan.moveAside.join(", ")} aside to ${aside} (kept, never deleted)`
      : "  (no store file to move aside)",
  );
  if (plan.action === "repair") {
    lines.push(
      `  create store ${plan.previousStoreId} again from ${plan.segment}: ${plan.events} events, so its chain continues`,
    );
    lines.push(
      `  rebuild ${plan.claims} claims (${leases(plan)}) and ${plan.notes} notes from the task events`,
    );
  } else {
    lines.push(`  start a store with a fresh ID${plan.segment ? `; ${plan.segment} stays as history` : ""}`);
    if (plan.liveLeases.length > 0) lines.push(`  drop the claims: ${leases(plan)}`);
  }
  lines.push(`  set the fencing counter to ${plan.fencing} (the next claim gets token ${plan.fencing + 1})`);
  lines.push(`  ${plan.action === "repair" ? "not recover" : "not keep"}:`);
  for (const n of plan.notRecovered) lines.push(`    - ${n}`);
  lines.push(`run \`keel store ${plan.action} --yes\` to do it; it is recorded in the audit log`);
  return lines.join("\n");
}

function renderDone(plan: RecoveryPlan, moved: string[]): string {
  const lines = [moved.length > 0 ? `  moved aside: ${moved.join(", ")}` : "  nothing to move aside"];
  if (plan.action === "repair") {
    lines.push(
      `  re-imported ${plan.events} events; rebuilt ${plan.claims} claims (${leases(plan)}) and ${plan.notes} notes`,
    );
  }
  lines.push(`  fencing counter at ${plan.fencing}`);
  for (const n of plan.notRecovered)
    lines.push(`  not ${plan.action === "repair" ? "recovered" : "kept"}: ${n}`);
  return lines.join("\n");
}

function status(ctx: CommandContext, s: StoreCondition) {
  if (ctx.global.json) {
    printJson(ctx.io, { version: 1, ...s, matches: s.state === "sound" });
    return s.state === "sound" || s.state === "missing" ? EXIT.ok : EXIT.findings;
  }
  ctx.io.out(renderStatus(ctx.io, s));
  return s.state === "sound" || s.state === "missing" ? EXIT.ok : EXIT.findings;
}

function renderStatus(io: Io, s: StoreCondition): string {
  if (s.state === "missing") return "no store yet (.keel/state.db): the first write creates one";
  if (s.state === "refused") return `${paint(io, "red", "store refused")}: ${s.detail}`;
  const match =
    s.state === "sound" ? paint(io, "green", "matches") : `${paint(io, "red", "differs")}: ${s.detail}`;
  return [
    `store ${s.storeId}  schema ${s.schema}  ${s.events} events  (.keel/state.db)`,
    `segment ${s.segment}: ${s.segmentEvents} events, ${match}`,
  ].join("\n");
}

export default command;
