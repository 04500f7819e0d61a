// `keel change apply`: merges a change into the living specs and archives it, all under the project's write
// lock. The change and the specs are read again under the lock and the specs compared (compare-and-swap)
// right before they are written, so two writers can never both "win": each apply either lands on the specs as
// they are when it runs, or is refused as a conflict. Refusals are audited; nothing else is written then.
// The writes are journalled first (journal.ts), so a crash in the middle is finished by the next command.
// @req CHG-3, CHG-9, TRU-12
import { existsSync } from "node:fs";
import { join } from "node:path";
import { contentHash } from "../../model/fingerprint.js";
import { localId } from "../../model/namespace.js";
import { type AuditInput, appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { type Actor, actorLabel } from "../../workspace/actor.js";
import type { KeelConfig } from "../../workspace/config.js";
import { EXIT, KeelError, projectError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { changeContext, enforce } from "../policy.js";
import { BaseResolver } from "./base.js";
import { type ConflictRecord, listConflicts, recordConflict, usableResolution } from "./conflicts.js";
import { invalidChange } from "./errors.js";
import {
  type ApplyJournal,
  closeJournal,
  finishInterruptedApplies,
  type Interrupted,
  inspect,
  newJournalId,
  rollBack,
  rolledBackError,
  rollForward,
  unsettledError,
  writeJournal,
} from "./journal.js";
import { JOURNAL_DIR } from "./journal-dir.js";
import {
  changeStatus,
  changesDir,
  findChangeFolder,
  type LoadedChange,
  livingSpecRel,
  loadChange,
  readText,
  requireChange,
  shownId,
} from "./load.js";
import { META_FILE, type MetaPatch, metaEditable, patchMeta, splitActorLabel } from "./meta.js";
import { type Plan, type PlannedConflict, type PlannedRequirement, planApply, type Stamp } from "./plan.js";

export interface AppliedResult {
  kind: "applied";
  change: string;
  /** Project-relative folder the change was archived to. */
  archive: string;
  files: string[];
  requirements: PlannedRequirement[];
  at: string;
  by: string;
}

export interface ConflictResult {
  kind: "conflict";
  change: string;
  conflicts: Array<ConflictRecord & { parts: string[]; op: string }>;
}

export type ApplyResult = (AppliedResult | ConflictResult) & {
  /** Applies a crash had interrupted, settled before this one ran (journal.ts). */
  interrupted?: Interrupted[];
};

export interface ApplyOptions {
  now?: Date;
  reason?: string | null;
}

const EVENT_OF: Record<string, string> = {
  ADDED: "requirement.added",
  MODIFIED: "requirement.modified",
  REMOVED: "requirement.removed",
  RENAMED: "requirement.renamed",
};

function ymd(d: Date): string {
  return d.toISOString().slice(0, 10);
}

// @req CHG-6
/** The provenance stamped on what the change adds or modifies: its author's, else the applier's. */
export function stampFor(lc: LoadedChange, actor: Actor, now: Date): Stamp {
  const author = typeof lc.meta.author === "string" && lc.meta.author.trim() !== "" ? lc.meta.author : null;
  const who = author ? splitActorLabel(author) : { kind: actor.kind, name: actor.name };
  const str = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? v.trim() : null);
  return {
    origin: who.kind,
    actor: who.name,
    tool: author ? str(lc.meta.tool) : (actor.tool ?? null),
    model: author ? str(lc.meta.model) : (actor.model ?? null),
    change: lc.id,
    at: ymd(now),
  };
}

export function applyChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  id: string,
  options: ApplyOptions = {},
): ApplyResult {
  // An apply a crash interrupted is settled first: this one must not plan on half-applied specs.
  const interrupted = finishInterruptedApplies(project, { actor: actorLabel(actor), actorKind: actor.kind });
  const stuck = interrupted.find((i) => i.outcome === "pending");
  if (stuck) throw unsettledError(stuck);
  const own = interrupted.find((i) => i.change === id);
  if (own?.outcome === "rolled-back") throw rolledBackError(own);
  if (own?.result) return withInterrupted(own.result, interrupted);
  const first = requireChange(project, id);
  const state = StateDb.open(project.root);
  try {
    const label = actorLabel(actor);
    const refuse = (rule: string, error: KeelError, data: Record<string, unknown> = {}): KeelError => {
      appendEvent(state, project.root, {
        actor: label,
        actorKind: actor.kind,
        action: "change.apply.refused",
        target: first.id,
        reason: error.message,
        data: { rule, ...data, ...(options.reason ? { why: options.reason } : {}) },
      });
      return error;
    };
    // Applying an applied or rejected change is refused before policy: it is bad input whoever asks.
    if (first.archived || ["applied", "rejected"].includes(changeStatus(first))) {
      const early = state.exclusive(() => statusRefusal(first, refuse));
      if (early) throw early;
    }
    enforce(state, project.root, actor, "apply", changeContext(first.change, config.policy), {
      action: "change.apply",
      target: first.id,
      reason: options.reason ?? null,
    });
    const outcome = state.exclusive((): Journalled | ConflictResult | KeelError => {
      const now = options.now ?? new Date();
      const ref = findChangeFolder(project, first.id);
      if (!ref) {
        return refuse(
          "change/missing",
          usageError(
            `change "${first.id}" is gone`,
            "it was moved or deleted while Keel waited for the lock",
          ),
        );
      }
      const lc = loadChange(project, ref);
      const status = statusRefusal(lc, refuse);
      if (status) return status;
      const texts = new Map<string, { rel: string; text: string | null }>();
      const living = (cap: string) => {
        let hit = texts.get(cap);
        if (!hit) {
          const rel = livingSpecRel(project, lc.layout, cap);
          hit = { rel, text: readText(project, rel) };
          texts.set(cap, hit);
        }
        return hit;
      };
      const plan: Plan = planApply({
        change: lc,
        living,
        base: new BaseResolver(project),
        resolution: (cap, req, block) => usableResolution(state, lc.id, cap, req, block),
        stamp: stampFor(lc, actor, now),
      });
      if (plan.kind === "invalid") {
        const p = plan.problems[0] as (typeof plan.problems)[number];
        const more = plan.problems.length > 1 ? ` (and ${plan.problems.length - 1} more problem(s))` : "";
        return refuse(
          p.rule,
          invalidChange(`cannot apply "${lc.id}": ${p.message}${more}; nothing was written`, p.hint, {
            file: p.file,
            line: p.line,
            col: 1,
          }),
          { problems: plan.problems },
        );
      }
      if (plan.kind === "conflict") return recordConflicts(state, project, actor, lc, plan.conflicts, now);

      // Archive folder: checked before anything is written.
      const archive = `${changesDir(project, lc.layout)}/archive/${ymd(now)}-${localId(lc.id)}`;
      if (existsSync(join(project.root, archive))) {
        return refuse(
          "archive/exists",
          invalidChange(
            `cannot archive "${lc.id}": ${archive} already exists; nothing was written`,
            "rename or remove the existing archive folder, then apply again",
          ),
        );
      }
      if (!metaEditable(lc.metaText)) {
        return refuse(
          "change/meta-invalid",
          invalidChange(
            `${lc.dir}/${META_FILE} is not a YAML mapping; nothing was written`,
            "fix the file so the apply can be recorded in it",
          ),
        );
      }
      // Compare-and-swap: the files must still be what the plan was made from.
      for (const f of plan.files) {
        if (readText(project, f.rel) !== f.before) {
          return new KeelError(
            `${f.rel} changed while the apply was being planned; nothing was written`,
            EXIT.conflict,
            "run `keel change apply` again: it will merge with the new content",
            undefined,
            "conflict",
          );
        }
      }
      const by = label;
      const patch: MetaPatch = [
        { path: ["status"], value: "applied" },
        { path: ["applied"], value: { at: now.toISOString(), by, before: plan.before } },
      ];
      for (const [cap, reqs] of Object.entries(plan.bases)) {
        for (const [req, entry] of Object.entries(reqs)) {
          if (!lc.meta.base?.[cap]?.[req]) patch.push({ path: ["base", cap, req], value: entry });
        }
      }
      if (lc.metaText === null) patch.unshift({ path: ["id"], value: localId(lc.id) });
      const metaText = patchMeta(lc.metaText, patch);

      const journal = journalOf(state, project, lc, plan, actor, options, { archive, metaText, now });
      // Journalled (see journal.ts): a crash from here on is finished, or rolled back, by the next command.
      writeJournal(project.root, journal);
      try {
        rollForward(state, project.root, journal, inspect(project.root, journal));
      } catch (e) {
        throw writeFailure(project.root, journal, e);
      }
      return { kind: "journalled", journal } as const;
    });
    if (outcome instanceof KeelError) throw outcome;
    if (outcome.kind === "conflict") return withInterrupted(outcome, interrupted);
    closeJournal(project.root, outcome.journal);
    return withInterrupted(outcome.journal.result, interrupted);
  } finally {
    state.close();
  }
}

function withInterrupted<T extends AppliedResult | ConflictResult>(
  r: T,
  interrupted: Interrupted[],
): ApplyResult {
  return interrupted.length > 0 ? { ...r, interrupted } : r;
}

/** An apply done but for removing its journal, which waits for the commit. */
type Journalled = { kind: "journalled"; journal: ApplyJournal };

type ApplyPlan = Extract<Plan, { kind: "ok" }>;

/** Everything the apply is about to do, for the journal: checked and planned, nothing written yet. */
function journalOf(
  state: StateDb,
  project: ProjectRoot,
  lc: LoadedChange,
  plan: ApplyPlan,
  actor: Actor,
  options: ApplyOptions,
  at: { archive: string; metaText: string; now: Date },
): ApplyJournal {
  const id = newJournalId();
  const by = actorLabel(actor);
  const open = listConflicts(state, { change: lc.id, status: ["open", "resolved"] }).map((c) => c.id);
  return {
    version: 1,
    id,
    change: lc.id,
    startedAt: at.now.toISOString(),
    by,
    files: [
      ...plan.files.map((f) => ({ file: f.rel, before: f.before, after: f.after })),
      { file: `${lc.dir}/${META_FILE}`, before: lc.metaText, after: at.metaText },
    ],
    archive: { from: lc.dir, to: at.archive },
    conflicts: { applied: plan.resolutions, superseded: open.filter((c) => !plan.resolutions.includes(c)) },
    events: applyEvents(project, lc, plan, actor, options, { ...at, journal: id }).map((input) => ({
      at: at.now.toISOString(),
      input,
    })),
    result: {
      kind: "applied",
      change: lc.id,
      archive: at.archive,
      files: plan.files.map((f) => f.rel),
      requirements: plan.requirements,
      at: at.now.toISOString(),
      by,
    },
  };
}

/** The audit events of an apply: one per requirement it touched, then `change.apply`. */
function applyEvents(
  project: ProjectRoot,
  lc: LoadedChange,
  plan: ApplyPlan,
  actor: Actor,
  options: ApplyOptions,
  at: { archive: string; metaText: string; journal: string },
): AuditInput[] {
  const common = { actor: actorLabel(actor), actorKind: actor.kind } as const;
  const extra = {
    ...(actor.tool ? { tool: actor.tool } : {}),
    ...(actor.model ? { model: actor.model } : {}),
  };
  const touched: AuditInput[] = plan.requirements
    .filter((r) => r.how !== "kept")
    .map((r) => ({
      ...common,
      action: EVENT_OF[r.op] as string,
      target: shownId(project, r.id),
      before: r.beforeFingerprint,
      after: r.how === "removed" ? null : r.afterFingerprint,
      reason: options.reason ?? lc.change.why?.split("\n")[0] ?? null,
      data: {
        change: lc.id,
        capability: r.capability,
        requirement: shownId(project, r.id),
        op: r.op,
        how: r.how,
        file: livingSpecRel(project, lc.layout, r.capability),
        ...(r.from ? { from: r.from } : {}),
        ...(r.block !== null ? { block: r.block } : {}),
        ...(r.base ? { base: r.base.source, moved: r.base.moved } : {}),
        ...(r.resolution ? { resolution: r.resolution } : {}),
        ...extra,
      },
    }));
  return [
    ...touched,
    {
      ...common,
      action: "change.apply",
      target: lc.id,
      before: lc.hash.slice(0, 16),
      after: contentHash(at.metaText).slice(0, 16),
      reason: options.reason ?? null,
      data: {
        archive: at.archive,
        files: plan.files.map((f) => f.rel),
        touched: plan.requirements.map((r) => ({ id: r.id, op: r.op, how: r.how, capability: r.capability })),
        journal: at.journal,
        ...extra,
      },
    },
  ];
}

/** A write of the apply failed: what was written is undone where that works, so nothing stays half-applied. */
function writeFailure(root: string, journal: ApplyJournal, e: unknown): KeelError {
  const code = (e as NodeJS.ErrnoException).code ?? String(e);
  try {
    rollBack(root, journal, inspect(root, journal));
    closeJournal(root, journal);
  } catch {
    return projectError(
      `applying "${journal.change}" failed while writing (${code}), and undoing it failed too`,
      `fix the cause (permissions, disk space), then run any keel command: it finishes the apply journalled in ${JOURNAL_DIR}/`,
    );
  }
  return projectError(
    `applying "${journal.change}" failed while writing (${code}); what was written is undone, nothing is applied`,
    "check permissions and disk space, then apply again",
  );
}

function statusRefusal(
  lc: LoadedChange,
  refuse: (rule: string, error: KeelError) => KeelError,
): KeelError | null {
  const status = changeStatus(lc);
  if (lc.archived || status === "applied") {
    const applied = lc.meta.applied;
    const when = applied && typeof applied.at === "string" ? ` on ${applied.at.slice(0, 10)}` : "";
    return refuse(
      "change/already-applied",
      usageError(
        `change "${lc.id}" was already applied${when} (${lc.dir}); nothing was written`,
        "to undo it, run `keel change revert` to create the inverse change",
      ),
    );
  }
  if (status === "rejected") {
    return refuse(
      "change/rejected",
      usageError(
        `change "${lc.id}" was rejected; nothing was written`,
        "a rejected change is kept as a record: create a new change to propose it again",
      ),
    );
  }
  return null;
}

function recordConflicts(
  state: StateDb,
  project: ProjectRoot,
  actor: Actor,
  lc: LoadedChange,
  conflicts: PlannedConflict[],
  now: Date,
): ConflictResult {
  const out: ConflictResult["conflicts"] = [];
  for (const c of conflicts) {
    const rec = recordConflict(
      state,
      {
        change: lc.id,
        capability: c.capability,
        requirement: c.requirement,
        base: c.base,
        ours: c.ours,
        theirs: c.theirs,
      },
      now,
    );
    out.push({ ...rec, parts: c.parts, op: c.op });
  }
  appendEvent(
    state,
    project.root,
    {
      actor: actorLabel(actor),
      actorKind: actor.kind,
      action: "change.apply.conflict",
      target: lc.id,
      reason: `${out.length} overlapping edit(s); nothing was written`,
      data: {
        rule: "reconcile/overlapping-edit",
        conflicts: out.map((c) => ({
          id: c.id,
          capability: c.capability,
          requirement: c.requirement,
          parts: c.parts,
        })),
      },
    },
    now,
  );
  return { kind: "conflict", change: lc.id, conflicts: out };
}
