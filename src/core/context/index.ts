// `keel context`: the context pack for one task — gathered (gather.ts), laid out as items in order of relevance
// (render.ts), fitted into the token budget (trim.ts), counted with a real tokenizer (tokens.ts). Between
// gathering and layout, every text is delivered as an agent may receive it (sanitize.ts).
// @req TSK-12, TRU-2
import { loadConfig } from "../../workspace/config.js";
import { findProjectRoot } from "../../workspace/root.js";
import { securityPolicy } from "../scan/policy.js";
import type { SanitizeAction } from "../scan/types.js";
import { loadTaskGraph, lookupTask, type TaskLookup } from "../tasks/index.js";
import { type ContextData, type GatherOptions, gatherContext, type Omission } from "./gather.js";
import { contextItems, renderFooter, type SectionKind } from "./render.js";
import { sanitizeContext } from "./sanitize.js";
import { loadTokenizer } from "./tokens.js";
import { fitPack } from "./trim.js";

export type { GatherOptions, Omission, SectionKind };

/** Budget when none is given: room for a task, its requirements and the constitution, well inside any agent's window. */
export const DEFAULT_BUDGET = 8000;

export interface ContextPack {
  task: string;
  budget: number;
  tokenizer: string;
  /** The change whose delta requirements the task covers by default (it names no `covers`), else null. */
  coveredByDefault: string | null;
  sections: {
    kind: SectionKind;
    ref: string;
    /** Requirements (covered and referenced) only. */
    fingerprint?: string;
    tokens: number;
    truncated: boolean;
    text: string;
  }[];
  /** Everything left out: over the budget, or referenced but not includable. */
  omitted: Omission[];
  /** What delivery did to flagged text (escaped, fenced, redacted, annotated), by target; empty when nothing. */
  sanitized: SanitizeAction[];
  footer: string;
  /** The Markdown pack: the sections' texts and the footer, a blank line between each. */
  text: string;
  totals: { tokens: number; sections: number; omitted: number; omittedTokens: number; overBudget: boolean };
}

export type ContextResult = { pack: ContextPack } | { lookup: Exclude<TaskLookup, { found: string }> };

export async function buildContextPack(
  root: string,
  ref: string,
  budget: number,
  options: GatherOptions = {},
): Promise<ContextResult> {
  const graph = loadTaskGraph(root);
  const found = lookupTask(graph, ref);
  if (!("found" in found)) return { lookup: found };
  const gathered: ContextData = gatherContext(root, graph, found.found, options);
  const policy = securityPolicy(loadConfig(findProjectRoot(root, true)));
  const { data, actions } = sanitizeContext(gathered, policy);
  const tok = await loadTokenizer();
  const fitted = fitPack(contextItems(data, actions), budget, tok, (omitted, over) =>
    renderFooter(found.found, budget, tok.name, [...omitted, ...data.omitted], over),
  );
  const omitted = [...fitted.omitted, ...data.omitted];
  return {
    pack: {
      task: found.found,
      budget,
      tokenizer: tok.name,
      coveredByDefault: data.coveredByDefault,
      sections: fitted.sections.map((s) => ({
        kind: s.item.kind,
        ref: s.item.ref,
        ...(s.item.fingerprint ? { fingerprint: s.item.fingerprint } : {}),
        tokens: s.tokens,
        truncated: s.truncated,
        text: s.text,
      })),
      omitted,
      sanitized: actions,
      footer: fitted.footer,
      text: fitted.text,
      totals: {
        tokens: fitted.tokens,
        sections: fitted.sections.length,
        omitted: omitted.length,
        omittedTokens: omitted.reduce((n, o) => n + (o.tokens ?? 0), 0),
        overBudget: fitted.overBudget,
      },
    },
  };
}
