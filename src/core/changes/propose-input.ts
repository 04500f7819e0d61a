// What a proposal over MCP (keel_propose_change) or REST (POST /api/changes) takes, written once: the fields, their
// limits and descriptions as a zod shape both surfaces validate with, and the options for proposeChange.
// @req SRF-7
import * as z from "zod";
import type { ChangeContent } from "./propose.js";
import type { NewChangeOptions } from "./scaffold.js";

const ids = (what: string) => z.array(z.string().min(1).max(200)).max(500).optional().describe(what);

export const proposeInput = {
  name: z.string().min(1).max(200).describe("the change's name; its ID is the slug of it, e.g. add-refunds"),
  why: z.string().max(20_000).optional().describe("one-paragraph rationale"),
  capabilities: ids("capabilities to add a delta spec for"),
  modify: ids("requirement IDs to modify (copied into the delta, base recorded)"),
  remove: ids("requirement IDs to remove"),
  proposal: z
    .string()
    .min(1)
    .max(200_000)
    .optional()
    .describe("the whole proposal.md (## Why, ## What Changes); checked before anything is written"),
  deltas: z
    .array(
      z.strictObject({
        capability: z.string().min(1).max(200),
        markdown: z.string().min(1).max(200_000).describe("## ADDED|MODIFIED|REMOVED|RENAMED Requirements"),
      }),
    )
    .max(100)
    .optional()
    .describe("delta specs, one per capability; checked before anything is written"),
};

export type ProposeInput = z.infer<z.ZodObject<typeof proposeInput>>;

/** The options of proposeChange for a validated input. */
export function proposeOptions(
  input: ProposeInput,
): Omit<NewChangeOptions, "content"> & { content: ChangeContent } {
  return {
    name: input.name,
    why: input.why ?? null,
    capabilities: input.capabilities ?? [],
    modify: input.modify ?? [],
    remove: input.remove ?? [],
    content: {
      ...(input.proposal !== undefined ? { proposal: input.proposal } : {}),
      ...(input.deltas !== undefined ? { deltas: input.deltas } : {}),
    },
  };
}
