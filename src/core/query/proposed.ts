// `show` of an ID with what the open changes propose (core/changes/proposed.ts): a living requirement gains the
// open changes that would change it; an ID no spec has is looked for in the open changes' deltas. The changes are
// read from their folders, not from the index, because `show` checks only the files behind its answer and a
// change folder may have gained a delta since the index last saw it.
// @req TRC-12, TRC-13
import { openChanges } from "../changes/load.js";
import { proposalMarks, proposalsById, proposingBlock } from "../changes/proposed.js";
import type { QuerySession, ShowResult } from "./index.js";
import { type RequirementRecord, requirementRecord } from "./records.js";

/** The requirement, spec or change `id` names, else the requirement an open change proposes under it; or null. */
export async function showWithProposals(q: QuerySession, id: string): Promise<ShowResult | null> {
  const found = await q.show(id);
  if (found !== null && found.kind !== "requirement") return found;
  const blocks = proposalsById(openChanges(q.project).map((c) => c.change)).get(id) ?? [];
  if (found !== null) return { ...found, item: { ...found.item, ...proposalMarks(blocks, null) } };
  const block = proposingBlock(blocks);
  if (block === null) return null;
  let item: RequirementRecord;
  if (block.requirement !== null)
    item = requirementRecord({ file: block.file, references: [] }, block.requirement);
  else {
    // A rename with no block under the new name: the living requirement's text, under its new name.
    const living = block.renamedFrom === null ? null : await q.show(block.renamedFrom);
    if (living?.kind !== "requirement") return null;
    item = { ...living.item, id: block.id, explicitId: block.explicitId, title: block.title };
  }
  return { kind: "requirement", item: { ...item, ...proposalMarks(blocks, block) }, duplicates: [] };
}
