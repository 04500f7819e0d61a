// The git merge driver (`keel merge-driver %O %A %B %P`, registered by `keel init`): merges a capability spec
// requirement by requirement. A clean merge is written to %A and the driver exits 0; when both branches
// changed one requirement in overlapping ways, that requirement alone is wrapped in conflict markers, a Keel
// conflict record is written (change "git-merge"), and the driver exits 1 so git stops for a human.
// @req CHG-10
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { appendEvent } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { actorLabel, resolveActor } from "../../workspace/actor.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { loadConfig } from "../../workspace/config.js";
import { decodeSource } from "../../workspace/read.js";
import { findProjectRoot, type ProjectRoot } from "../../workspace/root.js";
import { blockCore, lf } from "./blocks.js";
import { GIT_MERGE, listConflicts, recordConflict, setConflictStatus } from "./conflicts.js";
import { merge3, mergeSpec } from "./merge.js";

export interface DriverInput {
  base: string;
  ours: string;
  theirs: string;
  /** The path git is merging, relative to the repository's top (git runs drivers there). */
  path: string;
  cwd: string;
  markerSize?: number;
}

export interface DriverResult {
  clean: boolean;
  /** Requirements in conflict, and conflicting regions elsewhere in the file. */
  conflicts: Array<{ requirement: string; record: string | null; parts: string[] }>;
  otherConflicts: number;
  /** Why the structure-aware merge was not used (the file was merged line by line instead). */
  fallback: string | null;
  warnings: string[];
}

const SPEC_PATH = /^(?:(.*)\/)?(keel|openspec)\/specs\/(.+)\/spec\.md$/;

// An audit segment (store/anchor.ts) only ever grows, and a store brings a stale copy up to date on its next
// write, so two branches of one clone hold one log cut at two points: the longer one is the merge. Two copies
// where neither extends the other mean that history was rewritten on a branch; that is a conflict for a
// person, never a union of lines that would splice two chains into one.
const SEGMENT_PATH = /^(?:.*\/)?keel\/audit\/[^/]+\.jsonl$/;

function mergeSegment(input: DriverInput): DriverResult {
  const ours = read(input.ours);
  const theirs = read(input.theirs);
  const result = { conflicts: [], otherConflicts: 0, fallback: null, warnings: [] };
  if (ours !== null && theirs !== null) {
    if (ours.startsWith(theirs)) return { clean: true, ...result };
    if (theirs.startsWith(ours)) {
      writeFileAtomic(input.ours, theirs);
      return { clean: true, ...result };
    }
  }
  return {
    clean: false,
    ...result,
    otherConflicts: 1,
    warnings: [
      `${input.path}: neither branch's copy of the audit segment extends the other's, so one of them rewrote history; ours is kept: run \`keel audit verify\` on each branch`,
    ],
  };
}

function read(path: string): string | null {
  const r = decodeSource(readFileSync(path));
  return r.ok ? r.text : null;
}

export function runMergeDriver(input: DriverInput): DriverResult {
  const path = input.path.split("\\").join("/");
  if (SEGMENT_PATH.test(path)) return mergeSegment(input);
  const m = SPEC_PATH.exec(path);
  const capability = m ? (m[3] as string) : "spec";
  const warnings: string[] = [];
  const base = read(input.base);
  const ours = read(input.ours);
  const theirs = read(input.theirs);
  if (base === null || ours === null || theirs === null) {
    // Not text Keel can read: leave %A as ours and let git report the conflict.
    return {
      clean: false,
      conflicts: [],
      otherConflicts: 1,
      fallback: "a version is not UTF-8 text",
      warnings,
    };
  }
  let text: string;
  let result: DriverResult;
  try {
    const merged = mergeSpec(base, ours, theirs, capability, { ours: "ours", theirs: "theirs" });
    text = merged.text;
    result = {
      clean: merged.conflicts.length === 0 && merged.otherConflicts === 0,
      conflicts: merged.conflicts.map((c) => ({ requirement: c.id, record: null, parts: c.parts })),
      otherConflicts: merged.otherConflicts,
      fallback: null,
      warnings,
    };
    if (merged.conflicts.length > 0) {
      const recorded = recordMergeConflicts(
        input.cwd,
        m?.[1] ?? "",
        capability,
        path,
        merged.conflicts,
        warnings,
      );
      result.conflicts.forEach((c, k) => {
        c.record = recorded[k] ?? null;
      });
    }
  } catch (e) {
    // Never leave git without a result: merge line by line, as git itself would.
    const lines = (t: string) => lf(t).split(/(?<=\n)/);
    let out = "";
    let conflicts = 0;
    for (const region of merge3(lines(base), lines(ours), lines(theirs))) {
      if ("ok" in region) out += region.ok.join("");
      else {
        conflicts++;
        out += `<<<<<<< ours\n${region.conflict.a.join("")}=======\n${region.conflict.b.join("")}>>>>>>> theirs\n`;
      }
    }
    text = out;
    result = {
      clean: conflicts === 0,
      conflicts: [],
      otherConflicts: conflicts,
      fallback: (e as Error).message,
      warnings,
    };
  }
  writeFileAtomic(input.ours, text);
  return result;
}

function recordMergeConflicts(
  cwd: string,
  prefix: string,
  capability: string,
  path: string,
  conflicts: Array<{ id: string; base: string; ours: string; theirs: string; parts: string[] }>,
  warnings: string[],
): string[] {
  const root = join(cwd, prefix);
  let state: StateDb | null = null;
  try {
    // The spec merged is a Keel or OpenSpec one (SPEC_PATH): only such a layout records its conflicts.
    const project = nativeProject(root);
    if (!project) {
      warnings.push(`no Keel project at ${prefix || "."}: the conflicts are not recorded`);
      return [];
    }
    const config = loadConfig(project);
    const actor = resolveActor(config, { cwd: project.root });
    state = StateDb.open(project.root);
    const db = state;
    return state.exclusive(() => {
      const ids = conflicts.map(
        (c) =>
          recordConflict(db, {
            change: GIT_MERGE,
            capability,
            requirement: c.id,
            base: c.base,
            ours: c.ours,
            theirs: c.theirs,
          }).id,
      );
      appendEvent(db, project.root, {
        actor: actorLabel(actor),
        actorKind: actor.kind,
        action: "merge.conflict",
        target: path,
        reason: `git merge: ${conflicts.length} requirement(s) changed on both branches`,
        data: {
          capability,
          conflicts: conflicts.map((c, k) => ({ id: ids[k], requirement: c.id, parts: c.parts })),
        },
      });
      return ids;
    });
  } catch (e) {
    warnings.push(`the conflicts could not be recorded: ${(e as Error).message}`);
    return [];
  } finally {
    state?.close();
  }
}

/** The project at `root` when it holds Keel's or OpenSpec's layout, else null. */
function nativeProject(root: string): ProjectRoot | null {
  try {
    const project = findProjectRoot(root, true);
    return project.native.length > 0 ? project : null;
  } catch {
    return null;
  }
}

/**
 * Closes the records of git-merge conflicts whose spec no longer holds conflict markers (the human resolved
 * them in the file and the merge went on). Returns the IDs closed.
 */
export function closeSettledMergeConflicts(
  projectRoot: string,
  state: StateDb,
  by: string,
  kind: "human" | "agent" | "system",
): string[] {
  const open = listConflicts(state, { change: GIT_MERGE, status: ["open"] });
  if (open.length === 0) return [];
  const closed: string[] = [];
  state.exclusive(() => {
    for (const c of listConflicts(state, { change: GIT_MERGE, status: ["open"] })) {
      const files = ["keel", "openspec"].map((l) => join(projectRoot, l, "specs", c.capability, "spec.md"));
      const marked = files.some((f) => {
        if (!existsSync(f)) return false;
        const t = read(f);
        return (
          t !== null && /^<{7}( |$)/m.test(t) && t.includes(blockCore(c.ours).split("\n")[0] ?? "\u0000")
        );
      });
      if (marked) continue;
      setConflictStatus(state, c.id, "resolved");
      closed.push(c.id);
    }
    if (closed.length > 0) {
      appendEvent(state, projectRoot, {
        actor: by,
        actorKind: kind,
        action: "conflict.close",
        target: GIT_MERGE,
        reason: "the conflict markers are gone from the spec",
        data: { conflicts: closed },
      });
    }
  });
  return closed;
}
