// `keel store status|repair|reset`: the local state store, and the explicit, audited ways out when Keel has
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
import { findProjectRoot } from "../../workspace/root.js";
import { type Command, type CommandContext, parseFlags } from "../command.js";
import { type Io, paint, printJson } from "../output.js";
import { copyCommand, migrateCommand, teamStatusCommand } from "./store-team.js";

const USAGE = `keel store status [--json]
       keel store migrate [--json]
       keel store copy --from sqlite|postgres|<url> --to sqlite|postgres|<url> [--replace] [--as human:name] [--json]
       keel store repair [--store <id>] [--yes] [--as human:name] [--json]
       keel store reset [--yes] [--as human:name] [--json]`;

const command: Command = {
  name: "store",
  summary: "the state store: status, migrate and copy (team mode), repair (rebuild from keel/audit/), reset",
  usage: USAGE,
  async run(ctx) {
    const [sub, ...rest] = ctx.argv;
    const { values, positionals } = parseFlags(
      rest,
      {
        yes: { type: "boolean" },
        store: { type: "string" },
        as: { type: "string" },
        from: { type: "string" },
        to: { type: "string" },
        replace: { type: "boolean" },
      },
      USAGE,
    );
    if (positionals.length > 0)
      throw usageError(`unexpected argument "${positionals[0]}"`, `usage: ${USAGE}`);
    if (values.store !== undefined && sub !== "repair") {
      throw usageError("--store applies to `keel store repair` only", `usage: ${USAGE}`);
    }
    if (values.store !== undefined && !/^[0-9a-f]{8,64}$/.test(values.store)) {
      throw usageError(
        `"${values.store}" is not a store ID`,
        "store IDs are the names of keel/audit/<id>.jsonl",
      );
    }
    if ((values.from || values.to || values.replace) && sub !== "copy")
      throw usageError("--from, --to and --replace apply to `keel store copy` only", `usage: ${USAGE}`);
    const project = findProjectRoot(ctx.global.root ?? ctx.global.cwd, ctx.global.root !== null);
    if (sub === "migrate") return migrateCommand(ctx, project);
    if (sub === "copy") return copyCommand(ctx, project, values);
    if (sub === "status")
      return (await teamStatusCommand(ctx, project)) ?? status(ctx, inspectStore(project.root));
    if (sub !== "repair" && sub !== "reset") {
      throw usageError(
        sub === undefined ? "store needs a subcommand" : `unknown store subcommand "${sub}"`,
        `usage: ${USAGE}`,
      );
    }
    const now = new Date();
    const plan =
      sub === "repair" ? planRepair(project.root, now, values.store) : planReset(project.root, now);
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
  },
};

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
