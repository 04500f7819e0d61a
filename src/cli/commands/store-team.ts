// `keel store migrate`, `keel store status` of a team store, and `keel store copy`: the team store's side of
// `keel store` (store.ts). The team store is the one KEEL_STORE_URL or keel.yaml `store:` names; a copy's ends are
// `sqlite` (this checkout's `.keel/state.db`), `postgres` (the configured team store) or a postgres:// URL.
// @req TEAM-5, TEAM-6, TEAM-7
import { asideName, moveAside, storeFiles } from "../../core/recovery/aside.js";
import { type CopyResult, copyStore } from "../../core/recovery/copy.js";
import type { CoordinationStore, StoreStatus } from "../../store/coordination.js";
import { SqliteStore } from "../../store/sqlite/coordination.js";
import { teamStoreUrl } from "../../store/team-url.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { type KeelConfig, loadConfig } from "../../workspace/config.js";
import { EXIT, type ExitCode, KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import type { CommandContext } from "../command.js";
import { paint, printJson } from "../output.js";

function configuredUrl(config: KeelConfig): string {
  const url = teamStoreUrl(config);
  if (url === null)
    throw usageError(
      "this project uses the embedded store: no team store is configured",
      "name one with KEEL_STORE_URL=postgres://… or `store: postgres://…` in keel.yaml (password in PGPASSWORD)",
    );
  return url;
}

export async function migrateCommand(ctx: CommandContext, project: ProjectRoot): Promise<ExitCode> {
  const { migrateTeamStore } = await import("../../store/postgres/admin.js");
  const result = await migrateTeamStore(configuredUrl(loadConfig(project)));
  if (ctx.global.json) printJson(ctx.io, { version: 1, ...result });
  else
    ctx.io.out(
      result.from === result.to
        ? `the team store at ${result.where} is at schema ${result.to}: nothing to migrate`
        : `migrated the team store at ${result.where} from schema ${result.from} to ${result.to} (store ${result.storeId})`,
    );
  return EXIT.ok;
}

/** Status of the configured team store, or null when the project uses the embedded one. */
export async function teamStatusCommand(ctx: CommandContext, project: ProjectRoot): Promise<ExitCode | null> {
  const url = teamStoreUrl(loadConfig(project));
  if (url === null) return null;
  const { inspectTeamStore } = await import("../../store/postgres/admin.js");
  const status = await inspectTeamStore(url);
  const current = status.schema === status.latest;
  if (ctx.global.json) printJson(ctx.io, { version: 1, ...status, current });
  else ctx.io.out(renderTeamStatus(ctx, status, current));
  return current ? EXIT.ok : EXIT.findings;
}

function renderTeamStatus(ctx: CommandContext, s: StoreStatus, current: boolean): string {
  const schema = current
    ? paint(ctx.io, "green", `schema ${s.schema}`)
    : paint(ctx.io, "red", `schema ${s.schema} (this Keel needs ${s.latest}: run keel store migrate)`);
  return [
    `team store ${s.where}  ${schema}`,
    `${s.events} events, ${s.claims} claims; round trip ${s.latencyMs.toFixed(1)} ms`,
  ].join("\n");
}

export interface CopyFlags {
  from?: string | undefined;
  to?: string | undefined;
  replace?: boolean | undefined;
  as?: string | undefined;
}

export async function copyCommand(
  ctx: CommandContext,
  project: ProjectRoot,
  flags: CopyFlags,
): Promise<ExitCode> {
  if (!flags.from || !flags.to)
    throw usageError("store copy needs --from and --to", "e.g. keel store copy --from sqlite --to postgres");
  const config = loadConfig(project);
  const actor = resolveActor(config, { flag: flags.as, cwd: project.root });
  if (actor.kind !== "human")
    throw new KeelError(
      `refused: ${actorLabel(actor)} is not a human; copying the store is a human's act`,
      EXIT.refused,
      "ask a person to run it (or pass --as human:<name> if you are one)",
      undefined,
      "refused",
    );
  const now = new Date();
  const [from, to] = [endOf(flags.from, config), endOf(flags.to, config)];
  if (from === to)
    throw usageError("--from and --to name the same store", "copy between sqlite and postgres");
  if (to === "sqlite" && flags.replace && storeFiles(project.root).length > 0)
    moveAside(project.root, asideName(project.root, now));
  const stores = await Promise.all([open(from, project.root), open(to, project.root)]);
  try {
    const result = await copyStore(
      stores[0],
      stores[1],
      { actor: actorLabel(actor), actorKind: actor.kind },
      now,
    );
    if (ctx.global.json) printJson(ctx.io, { version: 1, ...result, event: result.event.seq });
    else ctx.io.out(renderCopy(ctx, result));
    return result.verified.ok ? EXIT.ok : EXIT.findings;
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
}

/** `sqlite`, or the URL of a team store (`postgres`: the configured one). */
function endOf(name: string, config: KeelConfig): string {
  if (name === "sqlite") return "sqlite";
  if (name === "postgres") return configuredUrl(config);
  if (/^postgres(ql)?:\/\//.test(name)) return name;
  throw usageError(
    `"${name}" names no store`,
    "use sqlite, postgres (the configured team store) or a postgres:// URL",
  );
}

async function open(end: string, root: string): Promise<CoordinationStore> {
  if (end === "sqlite") return new SqliteStore(root);
  const { PgStore } = await import("../../store/postgres/store.js");
  return PgStore.open(end);
}

function renderCopy(ctx: CommandContext, r: CopyResult): string {
  const chain = r.verified.ok
    ? paint(ctx.io, "green", `chain verified (${r.verified.events} events)`)
    : paint(
        ctx.io,
        "red",
        `chain broken at event ${r.verified.firstBad?.seq}: ${r.verified.firstBad?.problem}`,
      );
  return [
    `copied store ${r.storeId} from ${r.from} to ${r.to}: ${r.events} events, ${r.claims} claims, ${r.notes} notes, ${r.tokens} tokens, fencing at ${r.fencing}`,
    `  recorded as event ${r.event.seq} (store.copy); ${chain}`,
    `  not copied (kept in each checkout's .keel/state.db): ${r.notCopied.join(", ")}`,
  ].join("\n");
}
