// What history is built from, besides git: the changes (archived or open) with their author, why and
// approvals, and the audit log's events about one requirement (applies not committed yet).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { derivedRequirementId, splitExplicitId } from "../../model/ids.js";
import type { Change } from "../../model/types.js";
import { STATE_DIR } from "../../store/index-db.js";
import { type AuditEvent, eventsMentioning, listEvents } from "../../store/sqlite/audit-log.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";

export interface ChangeInfo {
  id: string;
  dir: string;
  archived: boolean;
  author: string | null;
  tool: string | null;
  model: string | null;
  /** One line: `why` from change.yaml, else the first paragraph of the proposal's `## Why`. */
  why: string | null;
  created: string | null;
  applied: string | null;
  approvals: Array<{ by: string; at: string | null }>;
}

/** `2026-01-15-add-refunds` → `add-refunds`: archived folders carry the date they were archived. */
export function changeIdOf(change: Change): string {
  const declared = change.meta?.id;
  if (typeof declared === "string" && declared.trim() !== "") return declared.trim();
  return change.archived ? change.id.replace(/^\d{4}-\d{2}-\d{2}-/, "") : change.id;
}

const str = (v: unknown): string | null =>
  typeof v === "string" && v.trim() !== "" ? v.trim() : v instanceof Date ? v.toISOString() : null;

export function changeInfo(change: Change): ChangeInfo {
  const meta = change.meta ?? {};
  const whyMeta = str(meta.why);
  const whyProposal =
    change.why
      ?.split(/\n\s*\n/)[0]
      ?.replace(/\s+/g, " ")
      .trim() || null;
  const approvals = Array.isArray(meta.approvals)
    ? meta.approvals.flatMap((a) =>
        a && typeof a === "object" && typeof (a as { by?: unknown }).by === "string"
          ? [{ by: (a as { by: string }).by, at: str((a as { at?: unknown }).at) }]
          : [],
      )
    : [];
  return {
    id: changeIdOf(change),
    dir: change.dir,
    archived: change.archived,
    author: str(meta.author),
    tool: str(meta.tool),
    model: str(meta.model),
    why: whyMeta ?? whyProposal,
    created: str(meta.created),
    // `applied` is written by `keel change apply` as {at, by, before}; a plain date is accepted too.
    applied:
      meta.applied && typeof meta.applied === "object" && !(meta.applied instanceof Date)
        ? str((meta.applied as { at?: unknown }).at)
        : str(meta.applied),
    approvals,
  };
}

/** Changes by ID; an archived change wins over an open one of the same ID (it is the one that was applied). */
export function changeIndex(changes: Change[]): Map<string, { info: ChangeInfo; change: Change }> {
  const out = new Map<string, { info: ChangeInfo; change: Change }>();
  const sorted = [...changes].sort((a, b) => (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0));
  for (const change of sorted) {
    const info = changeInfo(change);
    const known = out.get(info.id);
    if (!known || (change.archived && !known.change.archived) || change.archived === known.change.archived)
      out.set(info.id, { info, change });
  }
  return out;
}

/**
 * Earlier IDs of a requirement: a RENAMED entry changes a derived ID (`cap/old-title` → `cap/new-title`),
 * so the versions before the rename are found under the old one. Explicit IDs survive renames by themselves.
 */
export function earlierIds(id: string, capability: string, changes: Change[]): string[] {
  const back = new Map<string, string[]>();
  for (const change of changes) {
    for (const delta of change.deltas) {
      if (delta.capability !== capability) continue;
      for (const sec of delta.sections) {
        for (const r of sec.renames) {
          const from = splitExplicitId(r.from);
          const to = splitExplicitId(r.to);
          const fromId = from.id ?? derivedRequirementId(capability, from.title);
          const toId = to.id ?? from.id ?? derivedRequirementId(capability, to.title);
          if (fromId === toId) continue;
          back.set(toId, [...(back.get(toId) ?? []), fromId]);
        }
      }
    }
  }
  const seen = new Set([id]);
  const queue = [id];
  while (queue.length > 0) {
    for (const prev of back.get(queue.shift() as string) ?? []) {
      if (!seen.has(prev)) {
        seen.add(prev);
        queue.push(prev);
      }
    }
  }
  seen.delete(id);
  return [...seen];
}

/** The capability a change's deltas name the requirement in, if any does. */
export function capabilityInChanges(id: string, changes: Change[]): string | null {
  for (const change of changes) {
    for (const delta of change.deltas) {
      for (const sec of delta.sections) {
        if (
          sec.requirements.some((r) => r.id === id) ||
          sec.removed.some((r) => r.id === id || derivedRequirementId(delta.capability, r.title) === id) ||
          sec.renames.some((r) => {
            const from = splitExplicitId(r.from);
            const to = splitExplicitId(r.to);
            return (
              from.id === id ||
              to.id === id ||
              derivedRequirementId(delta.capability, from.title) === id ||
              derivedRequirementId(delta.capability, to.title) === id
            );
          })
        )
          return delta.capability;
      }
    }
  }
  return null;
}

/** The requirement's block as a change's delta wrote it (ADDED or MODIFIED), for versions git never saw. */
export function deltaBlock(change: Change, capability: string, ids: Set<string>): string | null {
  for (const delta of change.deltas) {
    if (delta.capability !== capability) continue;
    for (const sec of delta.sections) {
      if (sec.op !== "ADDED" && sec.op !== "MODIFIED") continue;
      const r = sec.requirements.find((x) => ids.has(x.id));
      if (r) return r.raw;
    }
  }
  return null;
}

/** One audit event's view of a requirement: the fingerprints it moved between. */
export interface RequirementEvent {
  event: AuditEvent;
  before: string | null;
  after: string | null;
  change: string | null;
}

/** Every event that may move a requirement's content (refusals move nothing), oldest first. */
export function loadEvents(projectRoot: string, needles?: string[]): AuditEvent[] {
  if (!existsSync(join(projectRoot, STATE_DIR, STATE_FILE))) return [];
  let state: StateDb;
  try {
    state = StateDb.open(projectRoot);
  } catch {
    // An unreadable store (read-only checkout, newer schema): history from git and the files alone.
    return [];
  }
  try {
    const events = needles ? eventsMentioning(state, needles) : listEvents(state);
    return events.filter((e) => !e.action.endsWith(".refused"));
  } finally {
    state.close();
  }
}

/**
 * The events about one requirement. An event is about it when its target is the ID (`PAY-4`, or
 * `<capability>/<ID>`, `<capability>#<ID>`), or when its data names it: `data.requirement` = ID, or
 * `data.requirements` = [ID…] or [{id, before, after}…] (one event for a change that touched several).
 */
export function requirementEvents(
  events: AuditEvent[],
  capability: string,
  ids: string[],
): RequirementEvent[] {
  const want = new Set(ids);
  const targets = new Set(ids.flatMap((id) => [id, `${capability}/${id}`, `${capability}#${id}`]));
  const out: RequirementEvent[] = [];
  for (const e of events) {
    const data = e.data ?? {};
    const change = typeof data.change === "string" ? data.change : null;
    if (targets.has(e.target) || (typeof data.requirement === "string" && want.has(data.requirement))) {
      out.push({ event: e, before: e.before, after: e.after, change });
      continue;
    }
    const list = Array.isArray(data.requirements) ? (data.requirements as unknown[]) : [];
    for (const item of list) {
      if (typeof item === "string" && want.has(item)) {
        out.push({ event: e, before: e.before, after: e.after, change });
        break;
      }
      if (item && typeof item === "object" && want.has(String((item as { id?: unknown }).id))) {
        const it = item as { before?: unknown; after?: unknown };
        out.push({
          event: e,
          before: typeof it.before === "string" ? it.before : null,
          after: typeof it.after === "string" ? it.after : null,
          change,
        });
        break;
      }
    }
  }
  return out;
}
