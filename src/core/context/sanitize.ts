// The pack's text as an agent may receive it: every piece of repository text gathered for the pack (the task,
// its requirements, notes and findings, the constitution, guidance, design notes, referenced files and
// requirements, related tasks) goes through delivery (scan/deliver.ts), and the actions taken are returned for
// the pack to list. Text nothing was flagged in is kept exactly as gathered, so a clean pack is unchanged.
// @req TRU-2, TRU-3
import { REQUIREMENT_STATUSES, type RequirementStatus } from "../../model/types.js";
import { authorProvenance, type DeliveryLog, deliveryLog } from "../scan/deliver.js";
import type { SecurityPolicy } from "../scan/policy.js";
import type { SanitizeAction } from "../scan/types.js";
import type { ContextData, RequirementView, TaskRef } from "./gather.js";

export function sanitizeContext(
  data: ContextData,
  policy: SecurityPolicy,
): { data: ContextData; actions: SanitizeAction[] } {
  const log = deliveryLog(policy);
  const t = data.task;
  const taskTarget = `task ${t.key}`;
  const taskLine = (s: string) => log.inline(s, taskTarget);
  const out: ContextData = {
    ...data,
    task: {
      ...t,
      title: taskLine(t.title),
      details: t.details.map(taskLine),
      boundaries: t.boundaries.map(taskLine),
      verification: t.verification.map(taskLine),
      parents: t.parents.map((p) => ({ ...p, title: log.inline(p.title, `task ${p.key}`) })),
    },
    covered: data.covered.map((c) =>
      c.requirement ? { ...c, requirement: requirement(log, c.requirement) } : c,
    ),
    dependencies: data.dependencies.map((d) => taskRef(log, d)),
    notes: data.notes.map((n) => ({
      ...n,
      text: log.block(n.text, `note on ${t.key}`, authorProvenance(n.author)),
    })),
    findings: data.findings.map((f) => ({
      ...f,
      text: log.block(f.text, `finding on ${t.key}`, authorProvenance(f.author)),
    })),
    constitution: data.constitution && {
      ...data.constitution,
      principles: data.constitution.principles.map((p) => ({
        ...p,
        title: log.inline(p.title, `principle ${p.id}`),
        text: log.block(p.text, `principle ${p.id}`),
      })),
    },
    guidance: data.guidance.map((g) => file(log, g)),
    design: data.design.map((f) => file(log, f)),
    files: data.files.map((f) => file(log, f)),
    references: data.references.map((r) => requirement(log, r)),
    related: data.related.map((r) => taskRef(log, r)),
  };
  return { data: out, actions: log.actions() };
}

/**
 * A requirement's normative text and scenarios are delivered as one text, so that instruction-like content
 * anywhere in it fences the requirement as a whole; the title on its own line.
 */
function requirement(log: DeliveryLog, r: RequirementView): RequirementView {
  const target = `requirement ${r.id}`;
  const whole = [r.text, ...r.scenarios].join("\n\n");
  const status = knownStatus(r.status);
  const title = log.inline(r.title, target, r.provenance, status);
  const text = log.block(whole, target, r.provenance, status);
  if (text === whole) return title === r.title ? r : { ...r, title };
  return { ...r, title, text, scenarios: [] };
}

function knownStatus(s: string): RequirementStatus | null {
  return (REQUIREMENT_STATUSES as readonly string[]).includes(s) ? (s as RequirementStatus) : null;
}

function file<T extends { path: string; text: string }>(log: DeliveryLog, f: T): T {
  return { ...f, text: log.block(f.text, `file ${f.path}`) };
}

function taskRef(log: DeliveryLog, r: TaskRef): TaskRef {
  return r.known ? { ...r, title: log.inline(r.title, `task ${r.key}`) } : r;
}
