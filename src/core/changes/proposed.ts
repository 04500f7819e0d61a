// What open changes propose, by requirement ID: a requirement a change adds, modifies or renames to is
// "proposed" until the change is applied, and a living requirement that a change modifies, renames or removes
// carries the list of those changes. `keel show`, `keel trace`, REST and MCP answer from this one reading, so a
// requirement in review is found everywhere, marked as not current. Open: not archived, not applied, not rejected.
// @req TRC-12, TRC-13
import { derivedRequirementId } from "../../model/ids.js";
import type { Change, ChangeStatus, NativeLayout, Requirement } from "../../model/types.js";

export type OpenChangeStatus = Exclude<ChangeStatus, "applied" | "rejected">;
export type ProposalDelta = "added" | "modified" | "renamed" | "removed";

/** One open change's hand on an ID: `proposed` of a proposed requirement, an item of `openChanges`. */
export interface Proposal {
  change: string;
  status: OpenChangeStatus;
  delta: ProposalDelta;
}

/** What one open change writes about one ID. */
export interface ProposedBlock {
  proposal: Proposal;
  id: string;
  explicitId: boolean;
  title: string;
  capability: string;
  layout: NativeLayout;
  /** The delta file, and the line of the block's heading (or of the rename's line). */
  file: string;
  line: number;
  /** The block as the change writes it; null for a removal, and for a rename with no block under the new name. */
  requirement: Requirement | null;
  /** On the new ID of a rename: the ID it renames. */
  renamedFrom: string | null;
  /** On the old ID of a rename: the ID it becomes. */
  renamedTo: string | null;
}

export function isOpenChange(c: Change): c is Change & { status: OpenChangeStatus } {
  return !c.archived && c.status !== "applied" && c.status !== "rejected";
}

/** Every ID that an open change touches, with what each change writes about it, in the order of `changes`. */
export function proposalsById(changes: readonly Change[]): Map<string, ProposedBlock[]> {
  const out = new Map<string, ProposedBlock[]>();
  for (const change of changes) {
    if (!isOpenChange(change)) continue;
    for (const block of changeBlocks(change)) out.set(block.id, [...(out.get(block.id) ?? []), block]);
  }
  return out;
}

/** A change's blocks; a rename and a MODIFIED block under the new name (OpenSpec's way) are one block. */
function changeBlocks(change: Change & { status: OpenChangeStatus }): ProposedBlock[] {
  const blocks: ProposedBlock[] = [];
  const at = (delta: ProposalDelta, fields: Omit<ProposedBlock, "proposal" | "layout">) =>
    blocks.push({
      proposal: { change: change.id, status: change.status, delta },
      layout: change.layout,
      ...fields,
    });
  for (const d of change.deltas) {
    const common = { capability: d.capability, file: d.file, renamedFrom: null, renamedTo: null };
    for (const sec of d.sections) {
      if (sec.op === "ADDED" || sec.op === "MODIFIED")
        for (const r of sec.requirements)
          at(sec.op === "ADDED" ? "added" : "modified", {
            ...common,
            id: r.id,
            explicitId: r.explicitId,
            title: r.title,
            line: r.headingSpan.start.line,
            requirement: r,
          });
      for (const x of sec.removed)
        at("removed", {
          ...common,
          id: x.id ?? derivedRequirementId(d.capability, x.title),
          explicitId: x.id !== null,
          title: x.title,
          line: x.span.start.line,
          requirement: null,
        });
      for (const x of sec.renames) {
        const from = x.fromId ?? derivedRequirementId(d.capability, x.from);
        const to = x.toId ?? derivedRequirementId(d.capability, x.to);
        const line = x.span.start.line;
        at("renamed", {
          ...common,
          id: from,
          explicitId: x.fromId !== null,
          title: x.from,
          line,
          requirement: null,
          renamedTo: to,
        });
        at("renamed", {
          ...common,
          id: to,
          explicitId: x.toId !== null,
          title: x.to,
          line,
          requirement: null,
          renamedFrom: from,
        });
      }
    }
  }
  for (const renamed of blocks.filter((b) => b.renamedFrom !== null)) {
    const body = blocks.find((b) => b.id === renamed.id && b.proposal.delta === "modified");
    if (!body) continue;
    renamed.requirement = body.requirement;
    renamed.file = body.file;
    renamed.line = body.line;
    blocks.splice(blocks.indexOf(body), 1);
  }
  return blocks;
}

/** The block that proposes `id` as a requirement: one that adds, modifies or renames to it (not a removal). */
export function proposingBlock(blocks: readonly ProposedBlock[]): ProposedBlock | null {
  return blocks.find((b) => b.proposal.delta !== "removed" && b.renamedTo === null) ?? null;
}

/** What an answer carries about `id`: `proposed` when `shown` is the block it shows, `openChanges` for the rest. */
export function proposalMarks(
  blocks: readonly ProposedBlock[],
  shown: ProposedBlock | null,
): { proposed?: Proposal; openChanges?: Proposal[] } {
  const others = blocks.filter((b) => b !== shown).map((b) => b.proposal);
  return {
    ...(shown ? { proposed: shown.proposal } : {}),
    ...(others.length > 0 ? { openChanges: others } : {}),
  };
}

/** `proposed by change add-refunds (not yet approved) · added`: how every surface words the mark. */
export function proposedPhrase(p: Proposal): string {
  return `proposed by change ${p.change} (${approval(p)}) · ${p.delta}`;
}

/** `tighten-refunds (modified, not yet approved), drop-receipts (removed, approved)`. */
export function openChangesPhrase(list: readonly Proposal[]): string {
  return list.map((p) => `${p.change} (${p.delta}, ${approval(p)})`).join(", ");
}

function approval(p: Proposal): string {
  return p.status === "approved" ? "approved" : "not yet approved";
}
