// Delivery of the answer shapes the surfaces share (core/query/records.ts, core/tasks/view.ts): a requirement, a
// change and a task with every field of repository text delivered (deliver.ts), and the hits of a raw
// requirement with their offsets, for a surface that shows people the real text with the flags marked.
// @req TRU-2, TRU-3
import * as z from "zod";
import type { Provenance, RequirementStatus } from "../../model/types.js";
import type { ChangeRecord, RequirementRecord } from "../query/records.js";
import { authorProvenance, type DeliveryLog, FENCE_NOTE, summarizeActions } from "./deliver.js";
import { scanText } from "./index.js";
import { type SecurityPolicy, trustOf } from "./policy.js";
import { type SanitizeAction, SCAN_RULES, type ScanHit, type Trust } from "./types.js";

/** `sanitized` in an answer: what delivery did, by target, rule and action (surfaces' output schemas). */
export const SanitizedSchema = z
  .array(
    z.object({
      rule: z.enum(SCAN_RULES),
      action: z.enum(["escaped", "fenced", "redacted", "annotated"]),
      target: z.string(),
      count: z.number().int().min(1),
    }),
  )
  .describe("what Keel did to flagged text before delivering it (docs/security.md)");

/** The requirement as an agent may receive it: its normative text as a block, one-line fields inline. */
export function deliverRequirement(r: RequirementRecord, log: DeliveryLog): RequirementRecord {
  const target = `requirement ${r.id}`;
  const line = (s: string) => log.inline(s, target, r.provenance, r.status);
  return {
    ...r,
    title: line(r.title),
    text: log.block(r.text, target, r.provenance, r.status),
    scenarios: r.scenarios.map((s) => ({
      ...s,
      name: line(s.name),
      steps: s.steps.map((st) => ({ ...st, text: line(st.text) })),
    })),
  };
}

/**
 * A change's proposal text as an agent may receive it; `why` and `whatChanges` are prose its author (often an
 * agent) wrote, and are trusted as that author is.
 */
export function deliverProposal<T extends { why: string | null; whatChanges: string | null }>(
  p: T,
  change: string,
  log: DeliveryLog,
  author: string | null = null,
): T {
  const target = `change ${change}`;
  const provenance = author === null ? undefined : authorProvenance(author);
  const block = (s: string | null) => (s === null ? null : log.block(s, target, provenance));
  return { ...p, why: block(p.why), whatChanges: block(p.whatChanges) };
}

/** `keel change show`'s answer (core/api/changes.ts) with its prose delivered. */
export function deliverChangeAnswer<
  T extends {
    id: string;
    author: string | null;
    why: string | null;
    proposal: { why: string | null; whatChanges: string | null };
  },
>(a: T, log: DeliveryLog): T {
  const target = `change ${a.id}`;
  const why =
    a.why === null
      ? null
      : log.block(a.why, target, a.author === null ? undefined : authorProvenance(a.author));
  return { ...a, why, proposal: deliverProposal(a.proposal, a.id, log, a.author) };
}

/** What the scanner flags in a change's prose, by field (`why`, `proposal.whatChanges`). */
export function changeHits(
  a: { author: string | null; proposal: { why: string | null; whatChanges: string | null } },
  policy: SecurityPolicy,
): SecurityAnnotation {
  const provenance = a.author === null ? undefined : authorProvenance(a.author);
  const trust = trustOf(provenance ? { provenance } : {}, policy);
  const hits: FieldHit[] = [];
  for (const [field, text] of [
    ["proposal.why", a.proposal.why],
    ["proposal.whatChanges", a.proposal.whatChanges],
  ] as const)
    if (text !== null) for (const h of scanText(text, { trust, policy })) hits.push({ field, ...h });
  return { trust, hits };
}

/** The titles in a change record (its delta requirements, removals and renames). */
export function deliverChangeRecord(c: ChangeRecord, log: DeliveryLog): ChangeRecord {
  const line = (s: string) => log.inline(s, `change ${c.id}`);
  return {
    ...deliverProposal(c, c.id, log),
    deltas: c.deltas.map((d) => ({
      ...d,
      sections: d.sections.map((sec) => ({
        ...sec,
        requirements: sec.requirements.map((r) => ({ ...r, title: line(r.title) })),
        removed: sec.removed.map((r) => ({ ...r, title: line(r.title) })),
        renames: sec.renames.map((r) => ({ ...r, from: line(r.from), to: line(r.to) })),
      })),
    })),
  };
}

/** A task's text fields (title, details, boundaries, verification commands), each one line. */
export function deliverTask<
  T extends { key: string; title: string; details: string[]; boundaries: string[]; verification: string[] },
>(t: T, log: DeliveryLog): T {
  const line = (s: string) => log.inline(s, `task ${t.key}`);
  return {
    ...t,
    title: line(t.title),
    details: t.details.map(line),
    boundaries: t.boundaries.map(line),
    verification: t.verification.map(line),
  };
}

/** `security` in a REST answer: how far the text is trusted and what is flagged in it, by field. */
export const SecurityAnnotationSchema = z
  .object({
    trust: z.enum(["trusted", "untrusted"]),
    hits: z.array(
      z.object({
        field: z.string().describe("the answer's field: text, title, scenarios.0.steps.1.text, proposal.why"),
        rule: z.enum(SCAN_RULES),
        start: z.number().int().min(0).describe("first flagged UTF-16 index into the raw field"),
        end: z.number().int().min(0).describe("UTF-16 index after the last flagged one"),
        message: z.string(),
        hint: z.string(),
      }),
    ),
  })
  .describe("what the untrusted-text scanner flags in the raw text (docs/security.md)");

/** A hit in one field of a raw answer, for a person's view: which field, where, what. */
export interface FieldHit extends ScanHit {
  /** `text`, `title`, `scenarios.0.name`, `scenarios.0.steps.1.text`. */
  field: string;
}

export interface SecurityAnnotation {
  trust: Trust;
  hits: FieldHit[];
}

/** What the scanner flags in a raw requirement, field by field, with UTF-16 offsets into each field. */
export function requirementHits(r: RequirementRecord, policy: SecurityPolicy): SecurityAnnotation {
  const trust = trustOf({ provenance: r.provenance, status: r.status }, policy);
  const hits: FieldHit[] = [];
  const scan = (field: string, text: string) => {
    for (const h of scanText(text, { trust, policy })) hits.push({ field, ...h });
  };
  scan("title", r.title);
  scan("text", r.text);
  r.scenarios.forEach((s, i) => {
    scan(`scenarios.${i}.name`, s.name);
    s.steps.forEach((st, j) => {
      scan(`scenarios.${i}.steps.${j}.text`, st.text);
    });
  });
  return { trust, hits };
}

/** The short note an answer's text carries when delivery changed something; null when nothing was. */
export function sanitizedNote(actions: readonly SanitizeAction[]): string | null {
  if (actions.length === 0) return null;
  return [
    `Keel flagged text in this answer and changed it: ${summarizeActions(actions).join(" · ")}.`,
    FENCE_NOTE,
  ].join("\n");
}

/** A stretch of a document with its own author: a requirement inside a spec file. */
export interface DocumentPart {
  start: number;
  end: number;
  target: string;
  provenance: Provenance;
  status: RequirementStatus | null;
}

/**
 * A whole document (a spec file) as an agent may receive it: each part delivered with its own provenance, the
 * text between them as the document's own (`target`). Parts that overlap or run outside the text are left to
 * the document's delivery, so no text is ever skipped. Line breaks at a part's end stay outside its fence.
 */
export function deliverDocument(
  text: string,
  parts: readonly DocumentPart[],
  target: string,
  log: DeliveryLog,
): string {
  const sorted = [...parts].sort((a, b) => a.start - b.start);
  let out = "";
  let at = 0;
  const piece = (from: number, to: number, deliverIt: (s: string) => string) => {
    const raw = text.slice(from, to);
    const body = raw.replace(/\s+$/u, "");
    out += (body === "" ? "" : deliverIt(body)) + raw.slice(body.length);
  };
  for (const p of sorted) {
    if (p.start < at || p.end > text.length || p.end <= p.start) continue;
    piece(at, p.start, (s) => log.block(s, target));
    piece(p.start, p.end, (s) => log.block(s, p.target, p.provenance, p.status));
    at = p.end;
  }
  piece(at, text.length, (s) => log.block(s, target));
  return out;
}
