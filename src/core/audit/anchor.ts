// Verifying the audit log against its anchor in git: the local log (`.keel/state.db`) against this store's
// segment (`keel/audit/<store-id>.jsonl`), each segment's chain from the file alone, and each segment's
// committed history, which must only ever grow. Together they catch what the local chain alone cannot: the
// local state deleted or truncated, a segment line edited, and a committed segment rewritten in a later commit.
// What no check can catch is a rewrite of history that leaves no trace anywhere (a segment re-hashed and
// force-pushed, in a clone that never had the original): the other clones, and the remote, are its witnesses.
// @req TRU-4, TRU-5
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import {
  AUDIT_DIR,
  type EventRow,
  eventOfRow,
  parseSegment,
  readLocalStoreId,
  readSegment,
  type Segment,
  segmentIds,
  segmentLine,
  segmentPath,
  stateExisted,
  storeIdOf,
} from "../../store/anchor.js";
import { STORE_UNREADABLE } from "../../store/guard.js";
import { STATE_DIR } from "../../store/index-db.js";
import {
  type AuditEvent,
  rowOfEvent,
  type VerifyResult,
  verifyChain,
  walkChain,
} from "../../store/sqlite/audit-log.js";
import { STATE_FILE, StateDb } from "../../store/state-db.js";
import { KeelError, projectError } from "../../workspace/errors.js";
import { GIT_ENV, gitOutput } from "../../workspace/git.js";

export interface AnchorProblem {
  /** The segment concerned (project-relative), or null for the local log. */
  segment: string | null;
  /** The first event concerned, where one is. */
  seq: number | null;
  /** The commit that rewrote the segment, for a rewritten history. */
  commit: string | null;
  problem: string;
}

export interface SegmentReport {
  id: string;
  segment: string;
  /** Complete events in the working copy. */
  events: number;
  /** This clone's own store (the others are other clones' or worktrees'). */
  own: boolean;
  /** Commits that changed it. */
  commits: number;
  ok: boolean;
}

export type LocalState = "present" | "missing" | "unreadable" | "none";

export interface AuditReport extends VerifyResult {
  store: { id: string | null; segment: string | null; state: LocalState };
  segments: SegmentReport[];
  /** Every problem found, the local log's first; `firstBad` is the first that names an event. */
  problems: AnchorProblem[];
  /** What is worth knowing but is no fault: an append cut short by a crash. */
  notes: string[];
}

/**
 * Verifies everything the project holds of the audit trail. `state` is the local store, or null when there is
 * none to open: `unreadable` then says why it could not be opened, if it exists. A local store that is gone
 * where the repository says one existed is never reported as intact.
 */
export function verifyAudit(root: string, state: StateDb | null, unreadable: string | null): AuditReport {
  const existed = state === null ? stateExisted(root) : null;
  const ownId =
    state !== null
      ? storeIdOf(state.db)
      : (readLocalStoreId(root) ?? existed?.segment.slice(AUDIT_DIR.length + 1, -".jsonl".length) ?? null);
  const ids = [...new Set([...segmentIds(root), ...(ownId === null ? [] : [ownId])])].sort();
  const problems: AnchorProblem[] = [];
  const notes: string[] = [];
  let local: VerifyResult = { ok: true, events: 0, firstBad: null };
  const localState: LocalState = state !== null ? "present" : unreadable !== null ? "unreadable" : "missing";
  const segments: SegmentReport[] = [];
  for (const id of ids) {
    const rel = `${AUDIT_DIR}/${id}.jsonl`;
    const own = id === ownId;
    const segment = readSegment(segmentPath(root, id));
    const found: AnchorProblem[] = [];
    if (own && state !== null) {
      local = verifyChain(state, root);
      if (local.firstBad)
        found.push({ segment: null, seq: local.firstBad.seq, commit: null, problem: local.firstBad.problem });
      const differs = firstDifference(state, segment, rel);
      if (differs) found.push(differs);
    }
    if (own && state === null && existed !== null) {
      const n = segment.entries.length;
      const why =
        unreadable === null
          ? "the local state in .keel/ is gone"
          : `the local state cannot be read (${unreadable})`;
      found.push({
        segment: rel,
        seq: 1,
        commit: null,
        problem: `${why} but ${rel} records ${n} event${n === 1 ? "" : "s"}`,
      });
    }
    const chain = segmentChainProblem(segment, rel);
    if (chain) found.push(chain);
    const history = segmentHistory(root, rel);
    if (history.problem) found.push(history.problem);
    if (segment.tornBytes > 0) {
      notes.push(
        `${rel} ends in an incomplete line (${segment.tornBytes} bytes, an append cut short by a crash); it is no event, and the next write cuts it off`,
      );
    }
    problems.push(...found);
    segments.push({
      id,
      segment: rel,
      events: segment.entries.length,
      own,
      commits: history.commits,
      ok: found.length === 0,
    });
  }
  if (state !== null && ownId !== null && !ids.includes(ownId)) local = verifyChain(state, root);
  const firstBad = local.firstBad ?? problems.find((p) => p.seq !== null) ?? null;
  return {
    ok: problems.length === 0,
    events: local.events,
    firstBad: firstBad === null ? null : { seq: firstBad.seq as number, problem: firstBad.problem },
    store: {
      id: ownId,
      segment: ownId === null ? null : `${AUDIT_DIR}/${ownId}.jsonl`,
      state: state === null && existed === null && unreadable === null ? "none" : localState,
    },
    segments,
    problems,
    notes,
  };
}

/** The first event where the local log and its segment disagree (the lengths are verifyChain's to compare). */
function firstDifference(state: StateDb, segment: Segment, rel: string): AnchorProblem | null {
  const rows = state.db
    .prepare("SELECT * FROM events ORDER BY seq LIMIT ?")
    .all(segment.entries.length) as EventRow[];
  for (let i = 0; i < rows.length; i++) {
    const entry = segment.entries[i];
    const row = rows[i] as EventRow;
    if (entry && `${entry.text}\n` !== segmentLine(eventOfRow(row))) {
      return {
        segment: rel,
        seq: row.seq,
        commit: null,
        problem: `event ${row.seq} differs between .keel/state.db and ${rel} (line ${entry.line}): one of them was rewritten`,
      };
    }
  }
  return null;
}

/** The first fault of a segment's own chain, read from the file alone. */
export function segmentChainProblem(segment: Segment, rel: string): AnchorProblem | null {
  const rows: EventRow[] = [];
  for (const entry of segment.entries) {
    if (entry.event === null) {
      return {
        segment: rel,
        seq: rows.length + 1,
        commit: null,
        problem: `${rel} line ${entry.line} is not an audit event`,
      };
    }
    rows.push(rowOfEvent(entry.event as AuditEvent));
  }
  const walked = walkChain(rows, null);
  return walked.firstBad === null
    ? null
    : { segment: rel, seq: walked.firstBad.seq, commit: null, problem: `${rel}: ${walked.firstBad.problem}` };
}

/**
 * Checks that a segment only ever grew across its committed history: each committed version, in commit order,
 * and the working copy, must agree with the one before it where they overlap (one a prefix of the other: a
 * branch may hold an older, shorter copy, never a different one).
 */
function segmentHistory(root: string, rel: string): { commits: number; problem: AnchorProblem | null } {
  const log = gitOutput(root, ["log", "--format=%H", "--reverse", "--topo-order", "--", rel]);
  const commits = (log ?? "").split("\n").filter((c) => c !== "");
  if (commits.length === 0) return { commits: 0, problem: null };
  const versions = committedVersions(
    root,
    commits.map((c) => `${c}:./${rel}`),
  );
  let prev: { label: string; text: string } | null = null;
  const working = readSegmentText(root, rel);
  const all = [
    ...commits.map((c, i) => ({ label: `commit ${c.slice(0, 12)}`, commit: c, text: versions[i] ?? "" })),
    ...(working === null ? [] : [{ label: "the working copy", commit: null, text: working }]),
  ];
  for (const cur of all) {
    const seq = prev === null ? null : firstDivergentLine(prev.text, cur.text);
    if (prev !== null && seq !== null) {
      const problem =
        cur.text === ""
          ? `${rel} was deleted in ${cur.label}, after the version in ${prev.label}`
          : cur.commit === null
            ? `the working copy of ${rel} rewrites the version in ${prev.label}: its line ${seq} differs`
            : `${rel} was rewritten in ${cur.label}: its line ${seq} differs from the version in ${prev.label}`;
      return { commits: commits.length, problem: { segment: rel, seq, commit: cur.commit, problem } };
    }
    prev = cur;
  }
  return { commits: commits.length, problem: null };
}

/** The first line (1-based) where two versions disagree within their common length; null when one extends the other. */
function firstDivergentLine(a: string, b: string): number | null {
  const la = parseSegment(a).entries;
  const lb = parseSegment(b).entries;
  const n = Math.min(la.length, lb.length);
  for (let i = 0; i < n; i++) if (la[i]?.text !== lb[i]?.text) return i + 1;
  // A later version that is gone altogether (deleted or emptied) where the earlier one held events.
  return b === "" && la.length > 0 ? 1 : null;
}

function readSegmentText(root: string, rel: string): string | null {
  const seg = readSegment(`${root}/${rel}`);
  return seg.exists ? seg.entries.map((e) => `${e.text}\n`).join("") : null;
}

/** The content of each `<commit>:<path>` (an empty string where the commit does not hold the file), in one git run. */
function committedVersions(root: string, specs: string[]): string[] {
  let out: Buffer;
  try {
    out = execFileSync("git", ["cat-file", "--batch"], {
      cwd: root,
      env: GIT_ENV(),
      input: `${specs.join("\n")}\n`,
      stdio: ["pipe", "pipe", "ignore"],
      maxBuffer: 1024 * 1024 * 1024,
    });
  } catch {
    return specs.map(() => "");
  }
  const texts: string[] = [];
  let at = 0;
  while (at < out.length && texts.length < specs.length) {
    const nl = out.indexOf(10, at);
    const header = out.subarray(at, nl).toString("utf8");
    at = nl + 1;
    const m = /^\S+ blob (\d+)$/.exec(header);
    if (!m) {
      texts.push(""); // "<spec> missing": the commit deleted the file
      continue;
    }
    const size = Number(m[1]);
    texts.push(out.subarray(at, at + size).toString("utf8"));
    at += size + 1;
  }
  return texts;
}

/**
 * The project's state store for reading its audit log, or null when there is none: none is ever created here,
 * so a store that is gone stays gone for `verify` to report. A store Keel refuses to open (empty, foreign,
 * damaged) is an error, or, with `tolerant` (for `verify`, which reports it), `unreadable` says why.
 */
export function openAuditStore(
  root: string,
  tolerant = false,
): { state: StateDb | null; unreadable: string | null } {
  if (!existsSync(join(root, STATE_DIR, STATE_FILE))) return { state: null, unreadable: null };
  try {
    return { state: StateDb.open(root), unreadable: null };
  } catch (e) {
    if (e instanceof KeelError && e.code === STORE_UNREADABLE && tolerant)
      return { state: null, unreadable: e.message };
    if (e instanceof KeelError) throw e;
    throw projectError(
      `cannot open ${STATE_DIR}/${STATE_FILE}: ${(e as Error).message}`,
      "check the file's permissions; the audit log lives there",
    );
  }
}

/** `keel audit verify` on a project: its store opened tolerantly, the chain and segments verified. */
export function verifyProjectAudit(root: string): AuditReport {
  const { state, unreadable } = openAuditStore(root, true);
  try {
    return verifyAudit(root, state, unreadable);
  } finally {
    state?.close();
  }
}
