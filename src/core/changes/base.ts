// The base of a change: the living requirement as it was when the change was written. Recorded in
// change.yaml when Keel writes the delta; for a change written by hand it comes from git (the living spec as of
// the commit that first added the delta file), and failing that it is the living spec as it is now.
// @req CHG-2

import { parseSpec } from "../../format/spec.js";
import type { Requirement } from "../../model/types.js";
import { gitOutput } from "../../workspace/git.js";
import type { ProjectRoot } from "../../workspace/root.js";
import { type LoadedChange, livingSpecRel } from "./load.js";
import type { BaseEntry } from "./meta.js";
import { findTarget } from "./targets.js";

export type BaseSource = "recorded" | "git" | "current";

export interface BaseInfo extends BaseEntry {
  source: BaseSource;
  /** The commit the git base was read from. */
  commit?: string;
  /** Why the base is the current living requirement (no record, and git could not tell). */
  note?: string;
}

const git = gitOutput;

/** Resolves bases, asking git at most once per delta file and per (commit, spec). */
export class BaseResolver {
  private readonly added = new Map<string, { commit: string } | { note: string }>();
  private readonly specs = new Map<string, Requirement[] | null>();

  constructor(private readonly project: ProjectRoot) {}

  /** The commit that first added `deltaRel`, or why there is none. */
  addedIn(deltaRel: string): { commit: string } | { note: string } {
    let hit = this.added.get(deltaRel);
    if (!hit) {
      const out = git(this.project.root, ["log", "--diff-filter=A", "--format=%H", "--", deltaRel]);
      const commits = out === null ? null : out.split("\n").filter((l) => /^[0-9a-f]{7,64}$/.test(l));
      hit =
        commits === null
          ? { note: "not in a git repository (or git is unavailable)" }
          : commits.length === 0
            ? { note: `${deltaRel} is not committed` }
            : { commit: commits[commits.length - 1] as string };
      this.added.set(deltaRel, hit);
    }
    return hit;
  }

  private specAt(commit: string, rel: string, capability: string): Requirement[] | null {
    const key = `${commit}:${rel}`;
    if (!this.specs.has(key)) {
      const text = git(this.project.root, ["show", `${commit}:./${rel}`]);
      this.specs.set(key, text === null ? null : parseSpec(text, rel, capability).spec.requirements);
    }
    return this.specs.get(key) ?? null;
  }

  /**
   * The base of `living` (the living requirement a MODIFIED/REMOVED/RENAMED item of `lc` targets), named in the
   * delta by `title` / `id`.
   */
  resolve(
    lc: LoadedChange,
    capability: string,
    deltaRel: string,
    living: Requirement,
    title: string,
    id: string | null,
  ): BaseInfo {
    const recorded = lc.meta.base?.[capability]?.[living.id];
    if (recorded) return { ...recorded, source: "recorded" };
    const added = this.addedIn(deltaRel);
    if ("commit" in added) {
      const reqs = this.specAt(added.commit, livingSpecRel(this.project, lc.layout, capability), capability);
      const found = reqs
        ? findTarget({ requirements: reqs }, title, id ?? (living.explicitId ? living.id : null))
        : null;
      if (found && "req" in found) {
        return {
          fingerprint: found.req.fingerprint,
          block: found.req.raw,
          source: "git",
          commit: added.commit,
        };
      }
      return {
        fingerprint: living.fingerprint,
        block: living.raw,
        source: "current",
        note: `the requirement is not in ${livingSpecRel(this.project, lc.layout, capability)} at commit ${added.commit.slice(0, 10)}`,
      };
    }
    return { fingerprint: living.fingerprint, block: living.raw, source: "current", note: added.note };
  }
}
