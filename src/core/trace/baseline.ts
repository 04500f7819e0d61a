// The fingerprint a link was made against. A link is as old as the line that carries it: `git blame` names the
// commit that last touched that line, and the requirement's fingerprint at that commit is the link's baseline.
// A line not committed yet is being written now, against the requirement as it is now. A commit trailer's
// baseline is the requirement at that commit. Two git processes per spec file and one per linked file, whatever
// the number of links: `git blame -L` names every linked line of a file at once, and `git cat-file --batch`
// (history/git.ts) returns a spec at every commit needed.
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSpecOf } from "../../format/layouts/index.js";
import { contentHash } from "../../model/fingerprint.js";
import type { Layout } from "../../model/types.js";
import { BUILD_ID } from "../../model/version.js";
import { STATE_DIR } from "../../store/index-db.js";
import { writeFileAtomic } from "../../workspace/atomic.js";
import { gitOutput } from "../../workspace/git.js";
import { headCommit } from "../../workspace/git-tree.js";
import { fileAtRevisions } from "../history/git.js";
import type { RawLink } from "./types.js";

const BLAME_FILE = "trace-blame.json";
const FINGERPRINTS_FILE = "trace-fingerprints.json";

/** git's name for "not committed yet" in blame output. */
const UNCOMMITTED = /^0+$/;

/** Line → commit that last touched it, for the given lines of one file; uncommitted or unknown lines are absent. */
export function blameLines(root: string, file: string, lines: number[]): Map<number, string> {
  const out = new Map<number, string>();
  const wanted = [...new Set(lines.filter((l) => l > 0))].sort((a, b) => a - b);
  if (wanted.length === 0) return out;
  const ranges = wanted.flatMap((l) => ["-L", `${l},${l}`]);
  const blame = gitOutput(root, ["blame", "--porcelain", ...ranges, "--", file]);
  if (blame === null) return out; // untracked, or not in git: every line counts as new
  // Each group starts `<sha> <orig line> <final line> [<lines in group>]`.
  for (const m of blame.matchAll(/^([0-9a-f]{40,64}) \d+ (\d+)(?: \d+)?$/gm)) {
    const sha = m[1] as string;
    if (!UNCOMMITTED.test(sha)) out.set(Number(m[2]), sha);
  }
  return out;
}

/** The commit each link was made at, or null when it is not committed (made now). */
export function linkCommits(root: string, links: readonly RawLink[]): Array<string | null> {
  const byFile = new Map<string, number[]>();
  for (const l of links) {
    if (l.file.startsWith("commit:")) continue;
    const lines = byFile.get(l.file);
    if (lines) lines.push(l.line);
    else byFile.set(l.file, [l.line]);
  }
  const cache = BlameCache.open(root);
  const blamed = new Map<string, Map<number, string>>();
  for (const [file, lines] of byFile) blamed.set(file, cache.lines(file, lines));
  cache.save();
  return links.map((l) =>
    l.file.startsWith("commit:") ? l.file.slice("commit:".length) : (blamed.get(l.file)?.get(l.line) ?? null),
  );
}

/**
 * Blame answers kept in `.keel/trace-blame.json`: for a given HEAD, a file's blame depends only on its content,
 * so an answer is reused while HEAD and the file's bytes (by hash) are unchanged. Another HEAD starts afresh.
 */
class BlameCache {
  private dirty = false;

  private constructor(
    private readonly root: string,
    private readonly head: string | null,
    private readonly files: Record<string, { hash: string; lines: Record<string, string> }>,
  ) {}

  static open(root: string): BlameCache {
    const head = headCommit(root);
    let files: BlameCache["files"] = {};
    try {
      const saved = JSON.parse(readFileSync(join(root, STATE_DIR, BLAME_FILE), "utf8"));
      if (saved.build === BUILD_ID && saved.head === head && head !== null) files = saved.files;
    } catch {
      // no cache yet, or an unreadable one: blame afresh
    }
    return new BlameCache(root, head, files);
  }

  lines(file: string, wanted: number[]): Map<number, string> {
    let hash: string;
    try {
      hash = contentHash(readFileSync(join(this.root, file)));
    } catch {
      return new Map();
    }
    const hit = this.files[file];
    if (hit && hit.hash === hash && wanted.every((l) => String(l) in hit.lines || hit.lines[`-${l}`] === ""))
      return new Map(wanted.filter((l) => hit.lines[l]).map((l) => [l, hit.lines[l] as string]));
    const found = blameLines(this.root, file, wanted);
    const lines: Record<string, string> = {};
    // An uncommitted line is kept as `-N`, so a second ask does not blame again.
    for (const l of wanted) {
      const sha = found.get(l);
      if (sha) lines[l] = sha;
      else lines[`-${l}`] = "";
    }
    this.files[file] = { hash, lines };
    this.dirty = true;
    return found;
  }

  save(): void {
    if (!this.dirty || this.head === null) return;
    try {
      mkdirSync(join(this.root, STATE_DIR), { recursive: true });
      writeFileAtomic(
        join(this.root, STATE_DIR, BLAME_FILE),
        JSON.stringify({ build: BUILD_ID, head: this.head, files: this.files }),
      );
    } catch {
      // a read-only checkout: the answers stand, only not cached
    }
  }
}

export interface SpecRef {
  file: string;
  capability: string;
  layout: Layout;
}

/**
 * Fingerprints of requirements at past commits, read from each requirement's spec file at those commits. A
 * requirement that did not exist there (or a spec file that did not) has no fingerprint: null. What a file
 * holds at a commit never changes, so the answers are kept in `.keel/trace-fingerprints.json` (per Keel build,
 * as fingerprints are Keel's) and a later trace spawns git only for commits it has not seen: a server answering
 * one requirement's trace at a time does not read every spec's history again each time.
 */
export class PastFingerprints {
  private readonly cache = new Map<string, Map<string, string>>();
  private dirty = false;

  private constructor(private readonly root: string) {}

  static open(root: string): PastFingerprints {
    const past = new PastFingerprints(root);
    try {
      const saved = JSON.parse(readFileSync(join(root, STATE_DIR, FINGERPRINTS_FILE), "utf8"));
      if (saved.build === BUILD_ID)
        for (const [key, ids] of Object.entries(saved.specs as Record<string, Record<string, string>>))
          past.cache.set(key, new Map(Object.entries(ids)));
    } catch {
      // no cache yet, or an unreadable one: read from git
    }
    return past;
  }

  /** Loads the spec file at every commit in one git process; call before `at` for the same spec. */
  load(spec: SpecRef, commits: Iterable<string>): void {
    const missing = [...new Set(commits)].filter((c) => !this.cache.has(`${c}:${spec.file}`));
    if (missing.length === 0) return;
    let blobs: ReturnType<typeof fileAtRevisions>;
    try {
      blobs = fileAtRevisions(this.root, spec.file, missing);
    } catch {
      // No git, or a commit git no longer has: nothing to compare with (`at` answers null), and nothing is
      // kept, so a later save does not write these commits down as holding no requirement.
      return;
    }
    const byOid = new Map<string, Map<string, string>>();
    missing.forEach((commit, i) => {
      const blob = blobs[i] ?? null;
      let ids = new Map<string, string>();
      if (blob) {
        const parsed = byOid.get(blob.oid);
        if (parsed) ids = parsed;
        else {
          for (const r of parseSpecOf(spec.layout, blob.text, spec.file, spec.capability).spec.requirements)
            if (!ids.has(r.id)) ids.set(r.id, r.fingerprint);
          byOid.set(blob.oid, ids);
        }
      }
      this.cache.set(`${commit}:${spec.file}`, ids);
      this.dirty = true;
    });
  }

  at(spec: SpecRef, commit: string, id: string): string | null {
    return this.cache.get(`${commit}:${spec.file}`)?.get(id) ?? null;
  }

  save(): void {
    if (!this.dirty) return;
    const specs: Record<string, Record<string, string>> = {};
    for (const [key, ids] of this.cache) specs[key] = Object.fromEntries(ids);
    try {
      mkdirSync(join(this.root, STATE_DIR), { recursive: true });
      writeFileAtomic(
        join(this.root, STATE_DIR, FINGERPRINTS_FILE),
        JSON.stringify({ build: BUILD_ID, specs }),
      );
      this.dirty = false;
    } catch {
      // a read-only checkout: the answers stand, only not cached
    }
  }
}
