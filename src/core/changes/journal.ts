// The journal of a multi-file apply. `keel change apply` writes several files (the living specs, the change's
// change.yaml), moves the change into the archive and records audit events; a crash between two of those steps
// would leave specs applied and the change open. So, under the project's write lock and before the first file
// is touched, the apply writes `.keel/journal/apply-<change>.json` (atomically, flushed): every file with its
// bytes before and after, the archive move, the conflict records to close and the audit events to append.
// Then it does all that and removes the journal once the events are committed.
//
// A journal found later belongs to an apply that died (it is only ever written and run under the lock, and
// removed right after the commit), so the next apply, or any command that reads the specs, settles it under
// the lock:
// - FORWARD, as a rule: the change was approved and the journal holds every byte it was going to write, so
//   the files still as they were before are written, those already written are left, the change is archived
//   and the events are recorded, with one more saying who finished it.
// - BACK, only when finishing would overwrite someone: a file holding neither its old nor its new bytes was
//   edited since the crash. Then nothing of the change stays applied (a half-applied change is worse than none):
//   every file still holding the journal's bytes gets its old bytes back, the archive move is undone, the edited
//   file is left as it is, and the conflict is reported and audited. Applying the change again merges it with
//   the edit, or records a conflict, as any apply does.
// Either way the temporary files the killed writer left (workspace/atomic.ts) are removed. The journal lives
// in `.keel/`: losing that folder loses the journal too, but a store that vanished stops every command anyway.
// @req TRU-12
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { STATE_DIR } from "../../store/index-db.js";
import { type AuditInput, appendEvent, listEvents } from "../../store/sqlite/audit-log.js";
import { StateDb } from "../../store/state-db.js";
import { removeStaleTemps, syncDir, writeFileAtomic } from "../../workspace/atomic.js";
import { crashPoint } from "../../workspace/crash-point.js";
import { EXIT, KeelError, projectError } from "../../workspace/errors.js";
import { noteLocalWrite } from "../../workspace/freshness.js";
import type { ProjectRoot } from "../../workspace/root.js";
import type { AppliedResult } from "./apply.js";
import { setConflictStatus } from "./conflicts.js";
import { hasJournal, JOURNAL_DIR } from "./journal-dir.js";
import { CHANGE_ID } from "./load.js";

/** The scope of the apply's test-only crash points (workspace/crash-point.ts): KEEL_TEST_CRASH_AT=apply:<n>. */
const CRASH_SCOPE = "apply";
const VERSION = 1;

export interface JournalFile {
  /** Project-relative path; a file inside the change folder moves with it into the archive. */
  file: string;
  /** The whole text before the apply; null when the file did not exist. */
  before: string | null;
  after: string;
}

export interface ApplyJournal {
  version: typeof VERSION;
  /** Also in the data of the `change.apply` event, which is how a committed apply is recognised. */
  id: string;
  change: string;
  startedAt: string;
  by: string;
  /** The living specs, then the change's change.yaml (written before the move). */
  files: JournalFile[];
  archive: { from: string; to: string };
  conflicts: { applied: string[]; superseded: string[] };
  events: Array<{ at: string; input: AuditInput }>;
  /** What the apply answers, so an apply run again after the crash answers the same. */
  result: AppliedResult;
}

export type FileState = "written" | "pending" | "edited";

/** An apply a crash interrupted, as it was found, and what was done about it. */
export interface Interrupted {
  change: string;
  /** Project-relative path of the journal. */
  journal: string;
  startedAt: string | null;
  by: string | null;
  files: Array<{ file: string; state: FileState }>;
  archived: boolean;
  /** `pending`: not settled now (see `reason`); the next command tries again. */
  outcome: "finished" | "rolled-back" | "pending";
  /** For `rolled-back`: the files edited since the crash, left as they are. */
  edited: string[];
  reason: string | null;
  /** For `finished`: what the apply answers. */
  result: AppliedResult | null;
  /** Temporary files of the killed writer that were removed (project-relative). */
  removed: string[];
}

/** Who settles an interrupted apply: recorded in the audit event that says so. */
export interface Settler {
  actor: string;
  actorKind: AuditInput["actorKind"];
}

export function newJournalId(): string {
  return randomBytes(8).toString("hex");
}

function journalRel(change: string): string {
  return `${JOURNAL_DIR}/apply-${change}.json`;
}

/** Writes the journal, durably. Under the write lock, before the first file of the apply is written. */
export function writeJournal(root: string, journal: ApplyJournal): void {
  writeFileAtomic(join(root, journalRel(journal.change)), `${JSON.stringify(journal, null, 2)}\n`, {
    durable: true,
    crashScope: CRASH_SCOPE,
  });
}

/**
 * Does what the journal says, skipping what is done already: writes the files still `pending`, moves the
 * change into the archive, closes its conflict records and appends its events. Under the write lock; the
 * caller has checked (`inspect`) that no file is `edited`.
 */
export function rollForward(state: StateDb, root: string, journal: ApplyJournal, seen: Inspection): void {
  journal.files.forEach((f, i) => {
    const at = seen.files[i] as InspectedFile;
    if (at.state === "pending") writeFileAtomic(join(root, at.at), f.after, { crashScope: CRASH_SCOPE });
  });
  if (!seen.archived) {
    const to = join(root, journal.archive.to);
    mkdirSync(dirname(to), { recursive: true });
    noteLocalWrite(to);
    renameSync(join(root, journal.archive.from), to);
  }
  crashPoint(CRASH_SCOPE);
  for (const id of journal.conflicts.applied) setConflictStatus(state, id, "applied");
  for (const id of journal.conflicts.superseded) setConflictStatus(state, id, "superseded");
  for (const e of journal.events) appendEvent(state, root, e.input, new Date(e.at));
}

/**
 * Undoes what the journal wrote where it is still there: the archive move, then every file holding the
 * journal's bytes gets its old bytes back. Files edited since are left alone. Returns the files restored.
 */
export function rollBack(root: string, journal: ApplyJournal, seen: Inspection): string[] {
  noteLocalWrite(join(root, journal.archive.from));
  if (seen.archived && !existsSync(join(root, journal.archive.from))) {
    renameSync(join(root, journal.archive.to), join(root, journal.archive.from));
  }
  const restored: string[] = [];
  journal.files.forEach((f, i) => {
    if ((seen.files[i] as InspectedFile).state !== "written") return;
    const abs = join(root, f.file);
    if (f.before === null) {
      unlinkSync(abs);
      removeIfEmpty(dirname(abs)); // the folder of a capability the change created
    } else writeFileAtomic(abs, f.before);
    restored.push(f.file);
  });
  return restored;
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // Not empty (or gone): it stays as it is.
  }
}

/** After the commit: removes the journal and the temporary files a killed writer left where it wrote. */
export function closeJournal(root: string, journal: ApplyJournal): string[] {
  crashPoint(CRASH_SCOPE);
  try {
    unlinkSync(join(root, journalRel(journal.change)));
    syncDir(join(root, JOURNAL_DIR));
  } catch (e) {
    // Another process settled it between our commit and now: it is gone, as it should be.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
  const dirs = new Set([JOURNAL_DIR, STATE_DIR, journal.archive.from, journal.archive.to]);
  for (const f of journal.files) dirs.add(dirname(f.file));
  return [...dirs].flatMap((d) => removeStaleTemps(join(root, d)).map((name) => `${d}/${name}`));
}

interface InspectedFile {
  file: string;
  /** Where the file is now: inside the archive once the change folder was moved. */
  at: string;
  state: FileState;
}

export interface Inspection {
  files: InspectedFile[];
  archived: boolean;
  /** The change folder is where neither the apply left it nor found it (both places, or neither). */
  folderMoved: boolean;
}

/** Where each step of the journal stands on disk now. */
export function inspect(root: string, journal: ApplyJournal): Inspection {
  const { from, to } = journal.archive;
  const atFrom = existsSync(join(root, from));
  const atTo = existsSync(join(root, to));
  const archived = !atFrom && atTo;
  const files = journal.files.map((f): InspectedFile => {
    const at = archived && f.file.startsWith(`${from}/`) ? `${to}${f.file.slice(from.length)}` : f.file;
    const now = bytesOrNull(join(root, at));
    const holds = (text: string | null) =>
      text === null ? now === null : now?.equals(Buffer.from(text, "utf8")) === true;
    const state = holds(f.after) ? "written" : holds(f.before) ? "pending" : "edited";
    return { file: f.file, at, state };
  });
  return { files, archived, folderMoved: atFrom === atTo };
}

function bytesOrNull(abs: string): Buffer | null {
  try {
    return readFileSync(abs);
  } catch {
    return null;
  }
}

/**
 * Settles every journal an interrupted apply left, under the write lock, and reports each. What cannot be
 * settled now (the store cannot be opened, a write fails, a journal Keel cannot read) is reported `pending`
 * with the reason, and left for the next command. With no journal this costs one readdir.
 */
export function finishInterruptedApplies(project: ProjectRoot, who: Settler): Interrupted[] {
  const root = project.root;
  if (!hasJournal(root)) return [];
  const settled: Array<{ report: Interrupted; journal: ApplyJournal | null }> = [];
  try {
    const state = StateDb.open(root);
    try {
      settled.push(...state.exclusive(() => readJournals(root).map((j) => settle(state, root, j, who))));
    } finally {
      state.close();
    }
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    return readJournals(root).map((j) => pendingReport(root, j, reason));
  }
  for (const s of settled) {
    if (s.report.outcome !== "pending" && s.journal) s.report.removed = closeJournal(root, s.journal);
  }
  // A crash while the journal itself was being written leaves only its temporary file.
  removeStaleTemps(join(root, JOURNAL_DIR));
  return settled.map((s) => s.report);
}

type ReadJournal = { rel: string; journal: ApplyJournal } | { rel: string; problem: string };

function readJournals(root: string): ReadJournal[] {
  let names: string[];
  try {
    names = readdirSync(join(root, JOURNAL_DIR)).filter((n) => /^apply-.+\.json$/.test(n));
  } catch {
    return [];
  }
  return names.sort().map((name) => {
    const rel = `${JOURNAL_DIR}/${name}`;
    try {
      const value = JSON.parse(readFileSync(join(root, rel), "utf8")) as unknown;
      const problem = journalProblem(value) ?? namedAfter(value as ApplyJournal, rel);
      return problem ? { rel, problem } : { rel, journal: value as ApplyJournal };
    } catch (e) {
      return { rel, problem: `it cannot be read (${(e as Error).message})` };
    }
  });
}

function settle(
  state: StateDb,
  root: string,
  read: ReadJournal,
  who: Settler,
): { report: Interrupted; journal: ApplyJournal | null } {
  if ("problem" in read) {
    return {
      report: pendingReport(root, read, `${read.rel} is not a journal this Keel wrote: ${read.problem}`),
      journal: null,
    };
  }
  const { journal } = read;
  const seen = inspect(root, journal);
  const report = (outcome: Interrupted["outcome"], edited: string[] = []): Interrupted => ({
    ...reportBase(read.rel, journal, seen),
    outcome,
    edited,
    result: outcome === "finished" ? journal.result : null,
  });
  const recorded = recordedOutcome(state, journal);
  if (recorded) return { report: report(recorded), journal };
  const edited = seen.files.filter((f) => f.state === "edited").map((f) => f.file);
  if (edited.length > 0 || seen.folderMoved) {
    const restored = rollBack(root, journal, seen);
    const what = seen.folderMoved ? [journal.archive.from, ...edited] : edited;
    appendEvent(state, root, {
      ...who,
      action: "change.apply.rolled-back",
      target: journal.change,
      reason: `the apply a crash interrupted was rolled back: ${what.join(", ")} changed since`,
      data: { journal: journal.id, edited, restored, folderMoved: seen.folderMoved },
    });
    return { report: report("rolled-back", what), journal };
  }
  rollForward(state, root, journal, seen);
  appendEvent(state, root, {
    ...who,
    action: "change.apply.recovered",
    target: journal.change,
    reason: "finished the apply a crash interrupted",
    data: {
      journal: journal.id,
      written: seen.files.filter((f) => f.state === "pending").map((f) => f.file),
      archived: !seen.archived,
    },
  });
  return { report: report("finished"), journal };
}

/** What the audit log already says about this journal: it settles once, even if its removal was cut short. */
function recordedOutcome(state: StateDb, journal: ApplyJournal): "finished" | "rolled-back" | null {
  for (const e of listEvents(state, { target: journal.change })) {
    if (e.target !== journal.change || e.data?.journal !== journal.id) continue;
    if (e.action === "change.apply") return "finished";
    if (e.action === "change.apply.rolled-back") return "rolled-back";
  }
  return null;
}

function reportBase(rel: string, journal: ApplyJournal, seen: Inspection) {
  return {
    change: journal.change,
    journal: rel,
    startedAt: journal.startedAt,
    by: journal.by,
    files: seen.files.map((f) => ({ file: f.file, state: f.state })),
    archived: seen.archived,
    reason: null,
    removed: [],
  };
}

function pendingReport(root: string, read: ReadJournal, reason: string): Interrupted {
  const found =
    "journal" in read
      ? reportBase(read.rel, read.journal, inspect(root, read.journal))
      : { ...UNKNOWN, change: changeOfJournal(read.rel), journal: read.rel };
  return { ...found, outcome: "pending", edited: [], reason, result: null };
}

/** What is known of a journal that cannot be read: its name. */
const UNKNOWN = { startedAt: null, by: null, files: [], archived: false, reason: null, removed: [] };

function changeOfJournal(rel: string): string {
  return rel.slice(`${JOURNAL_DIR}/apply-`.length, -".json".length);
}

/** The error an apply stops with while an interrupted apply cannot be settled. */
export function unsettledError(i: Interrupted): KeelError {
  return projectError(
    `the apply of "${i.change}" that a crash interrupted could not be finished: ${i.reason}`,
    `its specs may be half-applied; fix the cause and run any keel command, or inspect ${i.journal}`,
  );
}

/** The error an apply of the same change stops with when its interrupted apply was rolled back. */
export function rolledBackError(i: Interrupted): KeelError {
  return new KeelError(
    `the apply of "${i.change}" that a crash interrupted was rolled back: ${i.edited.join(", ")} changed since, and was left as it is; nothing of "${i.change}" is applied`,
    EXIT.conflict,
    `run \`keel change apply ${i.change}\` again: it merges the change with the edit, or records a conflict`,
    undefined,
    "conflict",
  );
}

/**
 * Why a parsed journal cannot be trusted, or null. It is Keel's own file, so this guards what acting on it
 * could harm (paths out of the project or out of the spec folders) and its shape, not a user-facing format.
 */
function journalProblem(v: unknown): string | null {
  const j = v as Partial<ApplyJournal> | null;
  if (!j || typeof j !== "object") return "not a JSON object";
  if (j.version !== VERSION) return `version ${String(j.version)} (this Keel writes ${VERSION})`;
  if (typeof j.id !== "string" || typeof j.change !== "string" || !CHANGE_ID.test(j.change))
    return "no change ID";
  if (!j.archive || !isSpecPath(j.archive.from) || !isSpecPath(j.archive.to)) return "bad archive paths";
  if (!Array.isArray(j.files) || !j.files.every(isJournalFile)) return "bad file entries";
  if (!Array.isArray(j.events) || !j.conflicts || !Array.isArray(j.conflicts.applied)) return "bad records";
  if (!Array.isArray(j.conflicts.superseded) || !j.result) return "bad records";
  return null;
}

function namedAfter(journal: ApplyJournal, rel: string): string | null {
  return changeOfJournal(rel) === journal.change
    ? null
    : `it is named after another change than "${journal.change}"`;
}

function isJournalFile(f: unknown): boolean {
  const x = f as Partial<JournalFile> | null;
  return (
    !!x &&
    isSpecPath(x.file) &&
    typeof x.after === "string" &&
    (x.before === null || typeof x.before === "string")
  );
}

/** A relative path inside Keel's or OpenSpec's folder, with no `..`: the only places an apply writes. */
function isSpecPath(p: unknown): p is string {
  if (typeof p !== "string") return false;
  const parts = p.split("/");
  return (
    (parts[0] === "keel" || parts[0] === "openspec") &&
    parts.every((s) => s !== "" && s !== "." && s !== "..") &&
    !p.includes("\\")
  );
}
