// Judging links: ok, suspect (the requirement changed since the link was made or last acknowledged), dangling
// (the link names an unknown or deprecated ID), or stale (the linked code changed after the evidence that last
// verified the requirement). The baseline of a link is in baseline.ts; acknowledgements in acks.ts.
// @req TRC-3, TRC-4
import type { RequirementStatus } from "../../model/types.js";
import { type Ack, linkIdentity } from "./acks.js";
import { linkCommits, PastFingerprints, type SpecRef } from "./baseline.js";
import type { RawLink } from "./types.js";

export type LinkState = "ok" | "suspect" | "dangling" | "stale";

export interface KnownRequirement {
  id: string;
  title: string;
  capability: string;
  fingerprint: string;
  status: RequirementStatus | null;
  spec: SpecRef;
  /** Line of the requirement's heading in its spec. */
  line: number;
}

export interface JudgedLink extends RawLink {
  /** `<target> <file> <kind>`: what `keel trace ack` names. */
  id: string;
  state: LinkState;
  /** Why the state is what it is, in a sentence an agent can act on. */
  reason: string;
  /** The commit that last touched the link's line (or the trailer's commit); null when not committed yet. */
  commit: string | null;
  /** The requirement's fingerprint when the link was made or last acknowledged; null when unknown. */
  baseline: string | null;
  /** The requirement's fingerprint now; null for a dangling link or a task link. */
  current: string | null;
}

export interface JudgeInput {
  root: string;
  links: readonly RawLink[];
  /** Living requirements by ID. */
  requirements: ReadonlyMap<string, KnownRequirement>;
  /** IDs that open changes add or rename to: known, not living yet, so never suspect. */
  pending: ReadonlySet<string>;
  /** Task keys and bare task IDs, for `@task` annotations and `Task:` trailers. */
  tasks: ReadonlySet<string>;
  acks: readonly Ack[];
  /**
   * For a requirement with passing evidence: the files changed since that evidence's commit (committed or
   * not). A link whose file is among them is stale. Null when the requirement has no evidence.
   */
  changedSinceEvidence?: (id: string) => ReadonlySet<string> | null;
}

export function judgeLinks(input: JudgeInput): JudgedLink[] {
  const commits = linkCommits(input.root, input.links);
  const past = PastFingerprints.open(input.root);
  // One git process per spec file: every commit any of its requirements' links was made at.
  const perSpec = new Map<string, { spec: SpecRef; commits: Set<string> }>();
  input.links.forEach((l, i) => {
    const req = l.targetType === "req" ? input.requirements.get(l.target) : undefined;
    const commit = commits[i];
    if (!req || !commit) return;
    const entry = perSpec.get(req.spec.file) ?? { spec: req.spec, commits: new Set<string>() };
    entry.commits.add(commit);
    perSpec.set(req.spec.file, entry);
  });
  for (const { spec, commits: set } of perSpec.values()) past.load(spec, set);
  past.save();
  const acks = new Map(input.acks.map((a) => [a.link, a]));

  return input.links.map((l, i) => {
    const commit = commits[i] ?? null;
    const id = linkIdentity(l);
    const base = { ...l, id, commit };
    if (l.targetType === "task") {
      const known = input.tasks.has(l.target);
      return {
        ...base,
        state: known ? "ok" : "dangling",
        reason: known ? "the task exists" : `no task ${l.target} in any tasks.md`,
        baseline: null,
        current: null,
      };
    }
    const req = input.requirements.get(l.target);
    if (!req) {
      const pending = input.pending.has(l.target);
      return {
        ...base,
        state: pending ? "ok" : "dangling",
        reason: pending
          ? `${l.target} is added by an open change`
          : `no requirement ${l.target}: fix the ID or remove the link`,
        baseline: null,
        current: null,
      };
    }
    if (req.status === "deprecated")
      return {
        ...base,
        state: "dangling",
        reason: `${l.target} is deprecated: link the requirement that replaces it`,
        baseline: null,
        current: req.fingerprint,
      };
    const made = commit === null ? req.fingerprint : past.at(req.spec, commit, req.id);
    const ack = acks.get(id);
    if (ack && ack.fingerprint === req.fingerprint)
      return judgeEvidence(input, { ...base, baseline: ack.fingerprint, current: req.fingerprint }, req.id, {
        state: "ok",
        reason: `acknowledged by ${ack.by}: ${ack.reason}`,
      });
    if (made !== req.fingerprint) {
      const since = commit === null ? "" : ` since commit ${commit.slice(0, 12)}`;
      return {
        ...base,
        state: "suspect",
        reason:
          made === null
            ? `${l.target} did not exist when this line was written${since}; review the link and \`keel trace ack\` it`
            : `${l.target} changed${since} (fingerprint ${made} → ${req.fingerprint}); review the link and \`keel trace ack\` it`,
        baseline: made,
        current: req.fingerprint,
      };
    }
    return judgeEvidence(input, { ...base, baseline: made, current: req.fingerprint }, req.id, {
      state: "ok",
      reason:
        commit === null
          ? "written against the current requirement"
          : "the requirement is as it was when linked",
    });
  });
}

/** An otherwise sound link whose file changed after the requirement's last passing evidence is stale. */
function judgeEvidence(
  input: JudgeInput,
  link: Omit<JudgedLink, "state" | "reason">,
  reqId: string,
  sound: { state: LinkState; reason: string },
): JudgedLink {
  const changed = input.changedSinceEvidence?.(reqId) ?? null;
  if (changed !== null && !link.file.startsWith("commit:") && changed.has(link.file))
    return {
      ...link,
      state: "stale",
      reason: `${link.file} changed after the last passing evidence for ${reqId}; run \`keel verify --req ${reqId}\``,
    };
  return { ...link, ...sound };
}
