// Proposing a change with its content: the proposal and delta specs an agent wrote, checked with Keel's own
// change parser and change rules before anything is written, then scaffolded by `newChange` with that content
// in place of the templates — all or nothing. A MODIFIED or REMOVED requirement that names a living one has
// its base recorded, as `--modify` / `--remove` would.
// @req SRF-7, CHG-1
import { parseChange } from "../../format/change.js";
import { slug } from "../../model/ids.js";
import type { DeltaSpec, Finding, NativeLayout, Spec } from "../../model/types.js";
import type { Actor } from "../../workspace/actor.js";
import type { KeelConfig } from "../../workspace/config.js";
import { EXIT, KeelError, usageError } from "../../workspace/errors.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { fromDiagnostic } from "../validate/finding.js";
import { openspecChangeRules } from "../validate/openspec-rules.js";
import { LivingSpecs } from "./living.js";
import { changesDir } from "./load.js";
import { checkCapability, type NewChangeOptions, type NewChangeResult, newChange } from "./scaffold.js";

export interface ChangeContent {
  /** The whole proposal.md (## Why, ## What Changes, optional ## Impact). */
  proposal?: string;
  /** Delta specs, one per capability (## ADDED|MODIFIED|REMOVED|RENAMED Requirements). */
  deltas?: Array<{ capability: string; markdown: string }>;
}

export interface ProposeResult extends NewChangeResult {
  /** Warnings the content passed with (errors refuse it). */
  warnings: Finding[];
}

/** Proposal rules that are only informational for OpenSpec but that a proposal written in one go must meet. */
const REQUIRED_IN_PROPOSAL = new Set([
  "openspec/proposal-missing-why",
  "openspec/proposal-missing-what-changes",
]);

/** Error code of content that does not pass the change rules. */
export const INVALID_CONTENT = "invalid-change-content";

/**
 * Findings of the content, each at the file and line the change would have, and its parsed delta specs (in the
 * order given); only the living specs the deltas name are read, and nothing is written.
 */
function checkChangeContent(
  project: ProjectRoot,
  living: LivingSpecs,
  name: string,
  content: ChangeContent,
): { layout: NativeLayout; findings: Finding[]; deltas: DeltaSpec[] } {
  const id = slug(name);
  const layout: NativeLayout = project.native[0] ?? "keel";
  const dir = `${changesDir(project, layout)}/${id}`;
  const seen = new Set<string>();
  for (const d of content.deltas ?? []) {
    checkCapability(d.capability);
    if (seen.has(d.capability))
      throw usageError(`two delta specs for capability ${d.capability}`, "give one delta per capability");
    seen.add(d.capability);
  }
  const proposal =
    content.proposal === undefined ? null : { file: `${dir}/proposal.md`, text: content.proposal };
  const deltas = (content.deltas ?? []).map((d) => ({
    file: `${dir}/specs/${d.capability}/spec.md`,
    text: d.markdown,
    capability: d.capability,
  }));
  const { change, diagnostics } = parseChange({
    id,
    dir,
    archived: false,
    layout,
    proposal,
    tasks: null,
    meta: null,
    deltas,
  });
  const findings = diagnostics.map((d) => fromDiagnostic(d, id));
  const specs = new Map<string, Spec>();
  for (const d of deltas) {
    const spec = living.get(layout, d.capability).spec;
    if (spec) specs.set(d.capability, spec);
  }
  // The rules about the change as a whole (no deltas at all) are not the content's: the scaffold adds deltas.
  const written = new Set([...(proposal ? [proposal.file] : []), ...deltas.map((d) => d.file)]);
  for (const f of openspecChangeRules(change, specs)) {
    if (!written.has(f.file) || f.rule === "openspec/change-no-deltas") continue;
    findings.push(REQUIRED_IN_PROPOSAL.has(f.rule) ? { ...f, severity: "error" } : f);
  }
  findings.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.col - b.col);
  return { layout, findings, deltas: change.deltas };
}

/** `file:line:col: message (rule)`, one line per finding. */
function findingLines(findings: Finding[]): string {
  return findings.map((f) => `${f.file}:${f.line}:${f.col}: ${f.message} (${f.rule})`).join("\n");
}

/** Checks the content, then creates the change with it; refused (nothing written) when the content has errors. */
export function proposeChange(
  project: ProjectRoot,
  config: KeelConfig,
  actor: Actor,
  options: Omit<NewChangeOptions, "content"> & { content?: ChangeContent },
): ProposeResult {
  const content = options.content ?? {};
  const living = new LivingSpecs(project);
  const { layout, findings, deltas: parsed } = checkChangeContent(project, living, options.name, content);
  const errors = findings.filter((f) => f.severity === "error");
  if (errors.length > 0) {
    const first = errors[0] as Finding;
    throw new KeelError(
      `the change content has ${errors.length} error(s), nothing was written:\n${findingLines(errors)}`,
      EXIT.usage,
      first.hint ?? "fix the content and propose again",
      { file: first.file, line: first.line, col: first.col },
      INVALID_CONTENT,
    );
  }
  // Requirements the deltas modify or remove that exist in the living specs: record their base.
  const modify = [...(options.modify ?? [])];
  const remove = [...(options.remove ?? [])];
  const named = new Set([...modify, ...remove]);
  for (const d of parsed) {
    for (const sec of d.sections) {
      const ids =
        sec.op === "MODIFIED"
          ? sec.requirements.map((r) => r.id)
          : sec.op === "REMOVED"
            ? sec.removed.flatMap((r) => (r.id === null ? [] : [r.id]))
            : [];
      for (const reqId of ids) {
        if (named.has(reqId) || living.findRequirement(layout, reqId)?.capability !== d.capability) continue;
        named.add(reqId);
        (sec.op === "MODIFIED" ? modify : remove).push(reqId);
      }
    }
  }
  const deltas = Object.fromEntries((content.deltas ?? []).map((d) => [d.capability, d.markdown]));
  const result = newChange(project, config, actor, {
    ...options,
    modify,
    remove,
    content: {
      ...(content.proposal !== undefined ? { proposal: content.proposal } : {}),
      deltas,
    },
  });
  return { ...result, warnings: findings };
}
